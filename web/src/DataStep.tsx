/** Step 1: upload a file (drag and drop or the picker, with progress) or pick an earlier dataset; the inspect view. */
import { useRef, useState } from "react";
import { ApiError, type ColumnInfo, type DatasetInfo, getJson, normaliseDataset, uploadDataset } from "./api";
import { columnSummary, KINDS } from "./columns";

export function DataStep(props: {
  token: string;
  datasets: DatasetInfo[];
  dataset: DatasetInfo | null;
  kinds: Record<string, string>;
  onKinds: (kinds: Record<string, string>) => void;
  onDataset: (d: DatasetInfo) => void;
  onUploaded: (d: DatasetInfo) => void;
  onNext: () => void;
}) {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  async function upload(file: File) {
    setError(null);
    setProgress(0);
    try {
      const d = await uploadDataset(props.token, file, setProgress).promise;
      props.onUploaded(d);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setProgress(null);
    }
  }

  return (
    <section aria-labelledby="h-data">
      <h2 id="h-data" tabIndex={-1}>1. Data</h2>
      <div
        className={`drop${over ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const f = e.dataTransfer.files[0];
          if (f) void upload(f);
        }}
      >
        <p>Drop a customer table here (CSV, Parquet, JSON or Excel), or</p>
        <label htmlFor="file" className="button">Choose a file…</label>
        <input id="file" ref={input} className="visually-hidden" type="file" accept=".csv,.tsv,.txt,.gz,.parquet,.json,.ndjson,.xlsx"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void upload(f);
            e.target.value = "";
          }} />
        {progress !== null && (
          <div className="progress-line">
            <label htmlFor="upload-progress">Uploading</label>
            <progress id="upload-progress" max={1} value={progress} /> <span aria-live="polite">{Math.round(progress * 100)} %</span>
          </div>
        )}
        {error && <p className="error" role="alert" data-testid="upload-error">Upload refused: {error}</p>}
      </div>

      {props.datasets.length > 0 && (
        <div className="field">
          <label htmlFor="dataset-pick">Or pick an earlier dataset</label>
          <select id="dataset-pick" value={props.dataset?.id ?? ""} onChange={(e) => {
            const d = props.datasets.find((x) => x.id === e.target.value);
            if (d) props.onDataset(d);
          }}>
            <option value="">—</option>
            {props.datasets.map((d) => (
              <option key={d.id} value={d.id}>{d.name} ({d.rows.toLocaleString("en-US")} rows, {d.createdAt?.slice(0, 16).replace("T", " ")})</option>
            ))}
          </select>
        </div>
      )}

      {props.dataset && <Inspect dataset={props.dataset} kinds={props.kinds} onKinds={props.onKinds} />}
      {props.dataset && <Transactions key={props.dataset.id} token={props.token} dataset={props.dataset} onRfm={props.onUploaded} />}
      {props.dataset && <p><button type="button" className="primary" onClick={props.onNext}>Next: set up the segmentation</button></p>}
    </section>
  );
}

function Inspect({ dataset, kinds, onKinds }: { dataset: DatasetInfo; kinds: Record<string, string>; onKinds: (k: Record<string, string>) => void }) {
  const columns: ColumnInfo[] = dataset.columns ?? [];
  return (
    <div className="inspect">
      <h3 id="h-inspect">{dataset.name}: {dataset.rows.toLocaleString("en-US")} rows, {columns.length} columns</h3>
      <div className="table-wrap">
        <table aria-labelledby="h-inspect">
          <thead>
            <tr><th scope="col">column</th><th scope="col">kind</th><th scope="col" className="num">missing</th><th scope="col" className="num">distinct</th><th scope="col">values</th><th scope="col">hints</th></tr>
          </thead>
          <tbody>
            {columns.map((c) => {
              const kind = kinds[c.name] ?? c.kind;
              return (
                <tr key={c.name}>
                  <th scope="row">{c.name}</th>
                  <td>
                    <select aria-label={`kind of ${c.name}`} value={kind} onChange={(e) => {
                      const next = { ...kinds };
                      if (e.target.value === c.kind) delete next[c.name];
                      else next[c.name] = e.target.value;
                      onKinds(next);
                    }}>
                      {KINDS.map((k) => <option key={k} value={k}>{k}{k === c.kind ? " (detected)" : ""}</option>)}
                    </select>
                    {c.reason && <div className="muted small">{c.reason}</div>}
                  </td>
                  <td className="num">{c.missing.toLocaleString("en-US")}</td>
                  <td className="num">{c.distinct?.toLocaleString("en-US") ?? ""}</td>
                  <td>{columnSummary(c)}</td>
                  <td>{c.hints.length ? <ul className="hints">{c.hints.map((h, i) => <li key={i}>{h}</li>)}</ul> : null}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const ROLES: { key: string; label: string; guess: RegExp; optional: boolean }[] = [
  { key: "customer", label: "Customer id", guess: /customer|client|member|user/i, optional: false },
  { key: "date", label: "Date", guess: /date|time|day/i, optional: false },
  { key: "amount", label: "Amount", guess: /^(amount|total|revenue|sales|value|spend)/i, optional: true },
  { key: "quantity", label: "Quantity (with a price)", guess: /quantity|qty|units/i, optional: true },
  { key: "price", label: "Unit price (with a quantity)", guess: /price/i, optional: true },
  { key: "invoice", label: "Invoice (cancellations)", guess: /invoice|order/i, optional: true },
];

/** A transaction log → a dataset of RFM features per customer (POST /api/v1/datasets/:id/rfm), to segment like a customer table. */
function Transactions({ token, dataset, onRfm }: { token: string; dataset: DatasetInfo; onRfm: (d: DatasetInfo) => void }) {
  const columns = dataset.columns ?? [];
  const [map, setMap] = useState<Record<string, string>>(() => {
    const m: Record<string, string> = {};
    for (const r of ROLES) {
      const c = columns.find((x) => r.guess.test(x.name) && !Object.values(m).includes(x.name) && (r.key !== "date" || x.kind === "datetime"));
      if (c) m[r.key] = c.name;
    }
    if (m.amount && m.quantity && m.price) delete m.amount;
    return m;
  });
  const [asOf, setAsOf] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const looksLikeLog = columns.some((c) => c.kind === "datetime") && dataset.rows > 0;
  return (
    <details className="transactions" open={false}>
      <summary>{looksLikeLog ? "This looks like a transaction log: compute RFM features per customer" : "A transaction log? Compute RFM features per customer"}</summary>
      <form onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        getJson<unknown>(token, `/api/v1/datasets/${dataset.id}/rfm`, { json: { ...map, ...(asOf ? { asOf } : {}) } })
          .then((d) => onRfm(normaliseDataset(d)))
          .catch((x) => setError(x instanceof ApiError ? x.message : String(x)))
          .finally(() => setBusy(false));
      }}>
        <p className="help">Each customer's recency (days since the last purchase), frequency (orders) and monetary value (spend), from the columns below, become a new dataset to segment.</p>
        <div className="inline wrap">
          {ROLES.map((r) => (
            <span key={r.key} className="field">
              <label htmlFor={`rfm-${r.key}`}>{r.label}</label>
              <select id={`rfm-${r.key}`} value={map[r.key] ?? ""} onChange={(e) => setMap({ ...map, [r.key]: e.target.value })}>
                <option value="">{r.optional ? "none" : "—"}</option>
                {columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
              </select>
            </span>
          ))}
          <span className="field">
            <label htmlFor="rfm-asof">As of</label>
            <input id="rfm-asof" type="date" value={asOf} onChange={(e) => setAsOf(e.target.value)} aria-describedby="rfm-asof-help" />
          </span>
        </div>
        <p className="help" id="rfm-asof-help">As of: the day recency is counted to (default: the day after the last transaction).</p>
        <button type="submit" disabled={busy}>Compute RFM features</button>
        {busy && <span aria-live="polite"> computing…</span>}
        {error && <p className="error" role="alert" data-testid="rfm-error">{error}</p>}
      </form>
    </details>
  );
}
