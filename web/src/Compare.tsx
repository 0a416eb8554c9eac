/**
 * Two succeeded runs compared (GET /api/v1/compare?before=&after=): who moved where — the
 * migration matrix, the flows, the agreement of the two segmentations — with the over-time
 * report's own charts (src/charts/over-time.ts: the migration heatmap and the flow diagram),
 * compiled from Vega-Lite by vega-embed.
 */
import { useState } from "react";
import { migrationHeatmap, segmentFlowChart } from "../../src/charts/over-time";
import { ApiError, getJson, type RunInfo } from "./api";
import { Chart } from "./Chart";
import type { ChartInfo, Table } from "./report";

interface Comparison {
  before: { customers: number; segments: { segment: number; name: string; size: number }[] };
  after: { customers: number; segments: { segment: number; name: string; size: number }[] };
  common: number;
  onlyBefore: number;
  onlyAfter: number;
  stayed: number;
  moved: number;
  matrix: { rows: number[]; cols: number[]; rowNames: string[]; colNames: string[]; counts: number[][]; shares: number[][] };
  flows: { from: number; fromName: string; to: number; toName: string; count: number; share: number }[];
  adjustedRand: number | null;
  nmi: number | null;
  summary: string;
  warnings: string[];
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? "—" : x.toFixed(3));

function byLabel(labels: number[], names: string[]): (string | null)[] {
  const out: (string | null)[] = [];
  labels.forEach((l, i) => {
    if (l >= 0) out[l] = names[i];
  });
  return Array.from(out, (x) => x ?? null);
}

function charts(c: Comparison, before: string, after: string): ChartInfo[] {
  const m = c.matrix;
  const names = byLabel(m.rows, m.rowNames);
  const afterNames = byLabel(m.cols, m.colNames);
  const table: Table = {
    caption: `Customers by their segment in run ${before} (rows) and in run ${after} (columns)`,
    head: ["before \\ after", ...m.colNames],
    rows: m.counts.map((r, i) => [m.rowNames[i], ...r.map((n, j) => `${n.toLocaleString("en-US")} (${(100 * m.shares[i][j]).toFixed(1)} %)`)]),
    numeric: [false, ...m.cols.map(() => true)],
  };
  const flows = m.counts.flatMap((r, i) => r.map((n, j) => ({ from: m.rows[i], to: m.cols[j], customers: n }))).filter((f) => f.customers > 0);
  return [
    {
      id: "migration", title: "Migration matrix", section: "compare", mode: "vega-lite", table,
      description: `Where the customers of each segment of run ${before} are in run ${after}: each cell's count and its share of the row; ${c.stayed.toLocaleString("en-US")} stayed, ${c.moved.toLocaleString("en-US")} moved.`,
      spec: migrationHeatmap({ counts: m.counts, beforeLabels: m.rows, afterLabels: m.cols, names, afterNames, before: `run ${before}`, after: `run ${after}`, noiseName: true }),
    },
    {
      id: "flows", title: "Flows", section: "compare", mode: "vega-lite", table: null,
      description: `The segments of run ${before} on the left and of run ${after} on the right, with a band for each move as wide as its customers.`,
      spec: segmentFlowChart({ flows, names, afterNames, before: `run ${before}`, after: `run ${after}`, noiseName: true }),
    },
  ];
}

export function Compare({ token, runs }: { token: string; runs: RunInfo[] }) {
  const done = runs.filter((r) => r.status === "succeeded");
  const [before, setBefore] = useState(done[1]?.id ?? "");
  const [after, setAfter] = useState(done[0]?.id ?? "");
  const [result, setResult] = useState<{ c: Comparison; before: string; after: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (done.length < 2) return <p className="muted">Two succeeded runs are needed to compare.</p>;
  const label = (r: RunInfo) => `${r.id.slice(0, 8)} — ${r.createdAt.slice(0, 16).replace("T", " ")}${r.summary ? `, ${r.summary.k} segments` : ""}`;
  return (
    <div className="compare">
      <form className="inline" onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        getJson<Comparison>(token, `/api/v1/compare?before=${encodeURIComponent(before)}&after=${encodeURIComponent(after)}`)
          .then((c) => setResult({ c, before: before.slice(0, 8), after: after.slice(0, 8) }))
          .catch((x) => setError(x instanceof ApiError ? x.message : String(x)));
      }}>
        <label htmlFor="compare-before">Before</label>
        <select id="compare-before" value={before} onChange={(e) => setBefore(e.target.value)}>
          {done.map((r) => <option key={r.id} value={r.id}>{label(r)}</option>)}
        </select>
        <label htmlFor="compare-after">After</label>
        <select id="compare-after" value={after} onChange={(e) => setAfter(e.target.value)}>
          {done.map((r) => <option key={r.id} value={r.id}>{label(r)}</option>)}
        </select>
        <button type="submit">Compare the two runs</button>
      </form>
      {error && <p className="error" role="alert" data-testid="compare-error">{error}</p>}
      {result && (
        <div data-testid="comparison">
          <p>{result.c.summary}</p>
          <ul className="inline-list small">
            <li>{result.c.common.toLocaleString("en-US")} customers in both</li>
            <li>{result.c.stayed.toLocaleString("en-US")} stayed</li>
            <li>{result.c.moved.toLocaleString("en-US")} moved</li>
            <li>{result.c.onlyBefore.toLocaleString("en-US")} only before</li>
            <li>{result.c.onlyAfter.toLocaleString("en-US")} only after</li>
            <li>adjusted Rand index {fmt(result.c.adjustedRand)}</li>
            <li>NMI {fmt(result.c.nmi)}</li>
          </ul>
          {result.c.warnings.length > 0 && <div className="warnings" role="note"><ul>{result.c.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul></div>}
          {charts(result.c, result.before, result.after).map((ch) => <Chart key={`${result.before}-${result.after}-${ch.id}`} chart={ch} />)}
        </div>
      )}
    </div>
  );
}
