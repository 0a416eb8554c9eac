/**
 * Step 4: a succeeded run's segments as cards (name and size from the run's summary; the
 * description, the numbers against the population, the rules and their SQL from its report),
 * one segment's customers as a sortable, paged table, the report's charts, the downloads, and
 * publishing the model as a version with its scoring endpoint.
 */
import { useEffect, useMemo, useState } from "react";
import { ApiError, type DatasetInfo, download, getJson, request, type RunInfo } from "./api";
import { Chart, loadVega } from "./Chart";
import { DataTable } from "./DataTable";
import { parseReport, type ReportData, type SegmentDetail } from "./report";

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

export function Results({ token, run, dataset, datasets }: { token: string; run: RunInfo; dataset: DatasetInfo | null; datasets: DatasetInfo[] }) {
  const [report, setReport] = useState<ReportData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const summary = run.summary;

  useEffect(() => {
    let cancelled = false;
    // The Vega runtime downloads while the report is read.
    void loadVega().catch(() => undefined);
    setReport(null);
    setError(null);
    request(token, `/api/v1/runs/${run.id}/report`)
      .then((r) => r.text())
      .then((html) => {
        performance.mark("segmenta:report-read");
        if (cancelled) return;
        const parsed = parseReport(html);
        performance.mark("segmenta:report-parsed");
        setReport(parsed);
      })
      .catch((e) => !cancelled && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      cancelled = true;
    };
  }, [token, run.id]);

  // The first paint of the cards (for the benchmark): marked in the frame after they were committed.
  useEffect(() => {
    if (!summary) return;
    const id = requestAnimationFrame(() => performance.mark("segmenta:cards"));
    return () => cancelAnimationFrame(id);
  }, [summary]);

  if (!summary) return <p>This run has no results.</p>;
  const cards = [...summary.segments.map((s) => ({ ...s, outliers: false })), ...(summary.outliers ? [{ segment: -1, name: summary.outliers.name, size: summary.outliers.size, share: summary.outliers.size / summary.rows, outliers: true }] : [])];
  const detail = (id: number): SegmentDetail | undefined => report?.segments.find((s) => s.id === id);
  const opened = open === null ? null : cards.find((c) => c.segment === open) ?? null;

  return (
    <section aria-labelledby="h-results">
      <h2 id="h-results" tabIndex={-1}>4. Results</h2>
      <p className="lead" data-testid="results-summary">
        {summary.rows.toLocaleString("en-US")} customers{dataset ? ` of ${dataset.name}` : ""} in {summary.k} segments by {summary.algorithm}
        {summary.silhouette !== null ? `; silhouette ${summary.silhouette.toFixed(3)}` : ""}.
      </p>
      {summary.warnings.length > 0 && (
        <div className="warnings" role="note"><strong>Warnings</strong><ul>{summary.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul></div>
      )}

      <h3>Segments</h3>
      <ul className="cards" aria-label="Segments">
        {cards.map((c) => {
          const d = detail(c.segment);
          return (
            <li key={c.segment} className={`card${c.outliers ? " outliers" : ""}${open === c.segment ? " selected" : ""}`} data-segment={c.segment}>
              <h4 className="segment-name">{c.name}</h4>
              <p className="size"><strong>{c.size.toLocaleString("en-US")}</strong> customers · {pct(c.share)}</p>
              <div className="bar" aria-hidden="true"><span style={{ width: pct(c.share).replace(" ", "") }} /></div>
              {d && <p className="small">{d.summary.replace(/^[\d,]+ customers \([^)]*\)\.\s*/, "")}</p>}
              <button type="button" aria-expanded={open === c.segment} aria-controls="segment-detail" onClick={() => setOpen(open === c.segment ? null : c.segment)}>
                {open === c.segment ? "Close" : "Open"} {c.name}
              </button>
            </li>
          );
        })}
      </ul>
      {error && <p className="error" role="alert">The report could not be read: {error}</p>}
      {opened && <SegmentPanel token={token} runId={run.id} id={opened.segment} name={opened.name} size={opened.size} detail={detail(opened.segment)} />}

      <Downloads token={token} runId={run.id} dataset={dataset} datasets={datasets} />
      <Publish token={token} run={run} dataset={dataset} />

      {report && report.charts.length > 0 && (
        <>
          <h3>Charts</h3>
          <p className="muted small">The report's charts; each has a text alternative and the numbers behind it.</p>
          {report.sections.filter((s) => report.charts.some((c) => c.section === s.title)).map((s) => (
            <section key={s.id} aria-label={s.title} className="chart-section">
              <h4>{s.title}</h4>
              {report.charts.filter((c) => c.section === s.title).map((c) => <Chart key={c.id} chart={c} />)}
            </section>
          ))}
        </>
      )}
      {report?.rulesSql && (
        <>
          <h3>Every customer's segment by the rules, as SQL</h3>
          <CodeWithCopy text={report.rulesSql} label="the SQL of every segment" />
        </>
      )}
      <p><a href={`#/report/${run.id}`} onClick={(e) => {
        e.preventDefault();
        void download(token, `/api/v1/runs/${run.id}/report`, `report-${run.id.slice(0, 8)}.html`);
      }}>Download the full HTML report</a> (self-contained, works offline).</p>
    </section>
  );
}

export function CodeWithCopy({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <div className="code">
      <pre><code>{text}</code></pre>
      <button type="button" onClick={() => {
        navigator.clipboard.writeText(text).then(() => setCopied("Copied."), () => setCopied("The browser did not allow copying; select the text instead."));
      }}>Copy {label}</button>
      <span aria-live="polite" className="small">{copied}</span>
    </div>
  );
}

function SegmentPanel({ token, runId, id, name, size, detail }: { token: string; runId: string; id: number; name: string; size: number; detail: SegmentDetail | undefined }) {
  return (
    <article id="segment-detail" className="detail" aria-labelledby="h-detail" tabIndex={-1}>
      <h3 id="h-detail">{name}</h3>
      {detail ? <p>{detail.summary}</p> : <p className="muted">{size.toLocaleString("en-US")} customers.</p>}
      {detail?.notes.map((n, i) => <p key={i}>{n}</p>)}
      {detail?.tables.map((t, i) => <DataTable key={i} table={t} />)}
      {detail?.rules && (
        <>
          <h4>Rules</h4>
          <DataTable table={detail.rules} />
        </>
      )}
      {detail?.sql && (
        <>
          <h4>The rules as SQL</h4>
          <CodeWithCopy text={detail.sql} label={`the SQL of ${name}`} />
        </>
      )}
      <Customers token={token} runId={runId} segment={id} name={name} />
    </article>
  );
}

type Row = Record<string, string | number | boolean | null>;
const rowsCache = new Map<string, Promise<Row[]>>();

function segmentRows(token: string, runId: string): Promise<Row[]> {
  let p = rowsCache.get(runId);
  if (!p) {
    p = getJson<Row[]>(token, `/api/v1/runs/${runId}/segments?format=json`);
    p.catch(() => rowsCache.delete(runId));
    rowsCache.set(runId, p);
  }
  return p;
}

const PAGE = 25;

function Customers({ token, runId, segment, name }: { token: string; runId: string; segment: number; name: string }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<{ column: string; dir: 1 | -1 } | null>(null);
  const [page, setPage] = useState(0);
  useEffect(() => {
    let cancelled = false;
    setRows(null);
    setPage(0);
    segmentRows(token, runId)
      .then((all) => !cancelled && setRows(all.filter((r) => Number(r.segment) === segment)))
      .catch((e) => !cancelled && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      cancelled = true;
    };
  }, [token, runId, segment]);
  const sorted = useMemo(() => {
    if (!rows || !sort) return rows;
    const { column, dir } = sort;
    return [...rows].sort((a, b) => {
      const x = a[column], y = b[column];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "en", { numeric: true })) * dir;
    });
  }, [rows, sort]);
  if (error) return <p className="error" role="alert">The customers could not be read: {error}</p>;
  if (!sorted) return <p className="muted" aria-live="polite">Reading the customers…</p>;
  const columns = sorted.length ? Object.keys(sorted[0]) : [];
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE));
  const shown = sorted.slice(page * PAGE, page * PAGE + PAGE);
  return (
    <div className="customers">
      <h4 id="h-customers">Customers of {name}</h4>
      <div className="table-wrap">
        <table aria-labelledby="h-customers" data-testid="customers">
          <thead>
            <tr>
              {columns.map((c) => {
                const dir = sort?.column === c ? sort.dir : 0;
                return (
                  <th key={c} scope="col" aria-sort={dir === 1 ? "ascending" : dir === -1 ? "descending" : "none"}>
                    <button type="button" className="sort" onClick={() => setSort({ column: c, dir: dir === 1 ? -1 : 1 })}>
                      {c} <span aria-hidden="true">{dir === 1 ? "▲" : dir === -1 ? "▼" : "↕"}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr key={i}>{columns.map((c) => <td key={c} className={typeof r[c] === "number" ? "num" : undefined}>{r[c] === null ? "—" : String(r[c])}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label={`pages of the customers of ${name}`}>
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous page</button>
        <span aria-live="polite">Page {page + 1} of {pages} ({sorted.length.toLocaleString("en-US")} customers)</span>
        <button type="button" disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>Next page</button>
      </nav>
    </div>
  );
}

function Downloads({ token, runId, dataset, datasets }: { token: string; runId: string; dataset: DatasetInfo | null; datasets: DatasetInfo[] }) {
  const [error, setError] = useState<string | null>(null);
  const short = runId.slice(0, 8);
  const files: [string, string, string][] = [
    ["Segments (CSV)", `/api/v1/runs/${runId}/segments?format=csv`, `segments-${short}.csv`],
    ["Segments (Parquet)", `/api/v1/runs/${runId}/segments?format=parquet`, `segments-${short}.parquet`],
    ["Segments (JSON)", `/api/v1/runs/${runId}/segments?format=json`, `segments-${short}.json`],
    ["Model file", `/api/v1/runs/${runId}/model`, `model-${short}.json`],
  ];
  return (
    <div className="downloads">
      <h3>Downloads</h3>
      <ul className="inline-list">
        {files.map(([label, path, name]) => (
          <li key={path}>
            <button type="button" onClick={() => {
              setError(null);
              download(token, path, name).catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
            }}>{label}</button>
          </li>
        ))}
      </ul>
      {error && <p className="error" role="alert">{error}</p>}
      <CrmExport token={token} runId={runId} dataset={dataset} datasets={datasets} />
    </div>
  );
}

const CRM_FORMATS = ["hubspot", "mailchimp", "klaviyo", "salesforce"];

/** A CRM import file of the run's segments (POST /api/v1/runs/:id/export { format, email, contacts? }). */
function CrmExport({ token, runId, dataset, datasets }: { token: string; runId: string; dataset: DatasetInfo | null; datasets: DatasetInfo[] }) {
  const [format, setFormat] = useState("hubspot");
  const [contacts, setContacts] = useState("");
  const source = contacts ? datasets.find((d) => d.id === contacts) ?? null : dataset;
  const columns = (source?.columns ?? []).map((c) => c.name);
  const guess = columns.find((c) => /e-?mail/i.test(c)) ?? "";
  const [email, setEmail] = useState("");
  const chosen = email && columns.includes(email) ? email : guess;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form className="crm" aria-labelledby="h-crm" onSubmit={(e) => {
      e.preventDefault();
      setError(null);
      setBusy(true);
      download(token, `/api/v1/runs/${runId}/export`, `${runId.slice(0, 8)}-{name}`, { format, email: chosen, ...(contacts ? { contacts } : {}) })
        .catch((x) => setError(x instanceof ApiError ? x.message : String(x)))
        .finally(() => setBusy(false));
    }}>
      <h4 id="h-crm">A CRM import file</h4>
      <div className="inline">
        <label htmlFor="crm-format">Format</label>
        <select id="crm-format" value={format} onChange={(e) => setFormat(e.target.value)}>
          {CRM_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
        </select>
        <label htmlFor="crm-contacts">Emails from</label>
        <select id="crm-contacts" value={contacts} onChange={(e) => setContacts(e.target.value)}>
          <option value="">the run's dataset{dataset ? ` (${dataset.name})` : ""}</option>
          {datasets.filter((d) => d.id !== dataset?.id).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
        <label htmlFor="crm-email">Email column</label>
        <select id="crm-email" value={chosen} onChange={(e) => setEmail(e.target.value)}>
          <option value="">—</option>
          {columns.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        <button type="submit" disabled={busy}>Download the CRM file</button>
      </div>
      <p className="help">Each customer's email is matched on the id column; customers without one are left out (the file says how many in its headers).</p>
      {error && <p className="error" role="alert" data-testid="crm-error">{error}</p>}
    </form>
  );
}

interface ModelFileView {
  columns: { name: string; kind: string }[];
  idColumn: string | null;
}

function exampleRow(model: ModelFileView, dataset: DatasetInfo | null): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const info = (n: string) => dataset?.columns?.find((c) => c.name === n);
  if (model.idColumn) row[model.idColumn] = info(model.idColumn)?.top?.[0]?.value ?? "C001";
  for (const c of model.columns) {
    const i = info(c.name);
    if (c.kind === "numeric") row[c.name] = i?.numeric ? Number(i.numeric.median.toPrecision(4)) : 0;
    else if (c.kind === "boolean") row[c.name] = i?.top?.[0]?.value === "true" ? true : i?.top?.[0]?.value === "false" ? false : i?.top?.[0]?.value ?? false;
    else row[c.name] = i?.top?.[0]?.value ?? "";
  }
  return row;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function Publish({ token, run, dataset }: { token: string; run: RunInfo; dataset: DatasetInfo | null }) {
  const suggested = (dataset?.name ?? "segments").replace(/\.[a-z0-9.]+$/i, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100) || "segments";
  const [name, setName] = useState(suggested);
  const [error, setError] = useState<{ message: string } | null>(null);
  const [published, setPublished] = useState<{ name: string; version: number; assignments: number; curl: string } | null>(null);
  const [busy, setBusy] = useState(false);
  async function publish() {
    setBusy(true);
    setError(null);
    try {
      const r = await getJson<{ name: string; version: number; assignments: number }>(token, "/api/v1/models", { json: { name, runId: run.id } });
      const model = await getJson<ModelFileView>(token, `/api/v1/runs/${run.id}/model`);
      const body = JSON.stringify({ rows: [exampleRow(model, dataset)] });
      const curl = `curl -H "Authorization: Bearer $SEGMENTA_TOKEN" -H 'content-type: application/json' \\\n  -d ${shellQuote(body)} \\\n  ${location.origin}/api/v1/models/${encodeURIComponent(r.name)}/score`;
      setPublished({ ...r, curl });
    } catch (e) {
      setError({ message: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="publish">
      <h3>Publish as a model version</h3>
      <form className="inline" onSubmit={(e) => {
        e.preventDefault();
        void publish();
      }}>
        <label htmlFor="model-name">Model name</label>
        <input id="model-name" value={name} onChange={(e) => setName(e.target.value)} aria-describedby="model-name-help" aria-invalid={!!error || undefined} />
        <button type="submit" className="primary" disabled={busy}>Publish</button>
      </form>
      <p className="help" id="model-name-help">Publishing makes this run's model the name's next, active version and records every customer's segment in the history.</p>
      {error && <p className="error" role="alert" data-testid="publish-error">{error.message}</p>}
      {published && (
        <div role="status" data-testid="published">
          <p>Published <strong>{published.name}</strong> version {published.version} ({published.assignments.toLocaleString("en-US")} customers recorded). Score customers with a token of scope “score”:</p>
          <CodeWithCopy text={published.curl} label="the curl command" />
        </div>
      )}
    </div>
  );
}
