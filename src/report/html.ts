/**
 * The HTML report: one self-contained file. Charts are Vega-Lite specifications compiled
 * here to Vega and drawn in the page by the Vega runtime, which is inlined, so the file
 * opens offline and makes no network request (a Content-Security-Policy forbids any).
 * Every chart has a text alternative (its description and its numbers in a table), and every
 * value that comes from the user's data is escaped, in the HTML and in the embedded JSON.
 * Node only (reads the Vega runtime from node_modules).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

export interface ReportTable {
  caption?: string;
  head: string[];
  rows: (string | number | null)[][];
  /** Columns to right-align (numbers). */
  numeric?: boolean[];
}

export interface ReportChart {
  id: string;
  title: string;
  spec: TopLevelSpec;
  /** The text alternative: what the chart shows, in a sentence or two. */
  description: string;
  /** The chart's numbers, shown under it in a collapsible table. */
  table?: ReportTable;
}

export type ReportBlock =
  | { type: "text"; text: string }
  | { type: "list"; items: string[] }
  | { type: "table"; table: ReportTable }
  | { type: "chart"; chart: ReportChart }
  | { type: "code"; text: string; caption?: string }
  | { type: "segment"; name: string; id: number; summary: string; blocks: ReportBlock[] }
  | { type: "warnings"; items: string[] };

export interface ReportSection {
  id: string;
  title: string;
  blocks: ReportBlock[];
}

export interface ReportDocument {
  title: string;
  subtitle: string;
  sections: ReportSection[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

let vegaSource: string | null = null;
function vegaRuntime(): string {
  if (vegaSource === null) {
    const require = createRequire(import.meta.url);
    // vega's package "exports" do not list its browser build: find it beside the Node entry.
    const path = join(dirname(require.resolve("vega")), "vega.min.js");
    // Inline in a <script>: a "</script" inside the library would end the element early.
    vegaSource = readFileSync(path, "utf8").replace(/<\/script/gi, "<\\/script");
  }
  return vegaSource;
}

function tableHtml(t: ReportTable): string {
  const align = (j: number): string => (t.numeric?.[j] ? ' class="num"' : "");
  const cell = (v: string | number | null): string => (v === null ? "—" : escapeHtml(v));
  return (
    `<table>${t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : ""}` +
    `<thead><tr>${t.head.map((h, j) => `<th scope="col"${align(j)}>${escapeHtml(h)}</th>`).join("")}</tr></thead>` +
    `<tbody>${t.rows.map((r) => `<tr>${r.map((v, j) => `<td${align(j)}>${cell(v)}</td>`).join("")}</tr>`).join("")}</tbody></table>`
  );
}

/**
 * Vega-Lite's compiler, loaded by renderReportHtml on first use: vega-lite imports vega,
 * whose canvas module waits at the top level, which would keep `require("segmenta")` from
 * working and slow every start-up.
 */
let compileSpec: ((spec: TopLevelSpec) => { spec: unknown }) | null = null;

function chartHtml(c: ReportChart, specs: Record<string, unknown>): string {
  specs[c.id] = compileSpec!(c.spec).spec;
  const id = escapeHtml(c.id);
  return (
    `<figure class="chart" id="fig-${id}" aria-labelledby="cap-${id}">` +
    `<div class="view" id="view-${id}" role="img" aria-label="${escapeHtml(c.description)}"><noscript>Charts need JavaScript; the numbers are in the table below.</noscript></div>` +
    `<figcaption id="cap-${id}"><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.description)}</figcaption>` +
    (c.table ? `<details><summary>The numbers behind this chart</summary>${tableHtml(c.table)}</details>` : "") +
    `</figure>`
  );
}

function blockHtml(b: ReportBlock, specs: Record<string, unknown>): string {
  switch (b.type) {
    case "text":
      return `<p>${escapeHtml(b.text)}</p>`;
    case "list":
      return `<ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
    case "table":
      return tableHtml(b.table);
    case "chart":
      return chartHtml(b.chart, specs);
    case "code":
      return `<figure class="code">${b.caption ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : ""}<pre><code>${escapeHtml(b.text)}</code></pre></figure>`;
    case "warnings":
      return b.items.length ? `<div class="warnings" role="note"><strong>Warnings</strong><ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul></div>` : "";
    case "segment":
      // The outliers (segment −1: the customers who fit no segment) are grey, as in every chart.
      return (
        `<article class="segment${b.id < 0 ? " outliers" : ""}" id="segment-${b.id}"><h3><span class="badge">${b.id < 0 ? "−1" : b.id}</span> ${escapeHtml(b.name)}</h3>` +
        `<p class="summary">${escapeHtml(b.summary)}</p>${b.blocks.map((x) => blockHtml(x, specs)).join("")}</article>`
      );
  }
}

const STYLE = `
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--accent:#2f6fb0;--bg:#fff;--soft:#f5f7fa}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{padding:28px 40px 18px;border-bottom:1px solid var(--line);background:var(--soft)}
header h1{margin:0 0 4px;font-size:26px}header p{margin:0;color:var(--muted)}
nav{padding:8px 40px;border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--bg);z-index:2}
nav a{margin-right:18px;color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
main{padding:8px 40px 60px;max-width:1200px}section{margin-top:28px}h2{border-bottom:2px solid var(--line);padding-bottom:4px}
table{border-collapse:collapse;margin:10px 0;font-size:13px}caption{text-align:left;color:var(--muted);padding-bottom:4px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}th{background:var(--soft)}
.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:16px 0}figure.chart .view{min-height:40px;overflow-x:auto}figcaption{color:var(--muted);font-size:13px;max-width:900px}
details{margin-top:6px;font-size:13px}summary{cursor:pointer;color:var(--accent)}
pre{background:var(--soft);border:1px solid var(--line);padding:10px;overflow-x:auto;font-size:12.5px;white-space:pre-wrap}
.segment{border:1px solid var(--line);border-radius:8px;padding:6px 18px 12px;margin:16px 0}
.segment h3{margin:10px 0 2px}.badge{display:inline-block;min-width:26px;text-align:center;background:var(--accent);color:#fff;border-radius:13px;padding:0 8px;font-size:14px}
.segment.outliers{border:1px dashed #b0b0b0;background:#fafafa}.segment.outliers .badge{background:#b0b0b0;color:#1f2933}
.summary{font-size:16px}.warnings{background:#fff8e6;border:1px solid #f0d48a;border-radius:6px;padding:8px 14px;margin:12px 0}
.error{color:#b42318}
`;

const BOOT = `
(function(){
  var specs = JSON.parse(document.getElementById("segmenta-specs").textContent);
  var failed = 0;
  Object.keys(specs).forEach(function(id){
    var el = document.getElementById("view-" + id);
    try {
      var view = new vega.View(vega.parse(specs[id]), { renderer: "svg", container: el, hover: true });
      view.runAsync().then(function(){ el.setAttribute("data-rendered", "true"); }, function(e){ failed++; el.innerHTML = '<p class="error">This chart could not be drawn.</p>'; console.error(e); });
    } catch (e) { failed++; el.innerHTML = '<p class="error">This chart could not be drawn.</p>'; console.error(e); }
  });
  window.segmentaCharts = Object.keys(specs).length;
})();
`;

/** The whole report as one HTML document. */
export async function renderReportHtml(doc: ReportDocument): Promise<string> {
  compileSpec ??= (await import("vega-lite")).compile;
  const specs: Record<string, unknown> = {};
  const body = doc.sections
    .map((s) => `<section id="${escapeHtml(s.id)}" aria-labelledby="h-${escapeHtml(s.id)}"><h2 id="h-${escapeHtml(s.id)}">${escapeHtml(s.title)}</h2>${s.blocks.map((b) => blockHtml(b, specs)).join("")}</section>`)
    .join("\n");
  const csp = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Segmenta">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(doc.title)}</h1><p>${escapeHtml(doc.subtitle)}</p></header>
<nav aria-label="Sections">${doc.sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join("")}</nav>
<main>
${body}
</main>
<script type="application/json" id="segmenta-specs">${scriptJson(specs)}</script>
<script>${vegaRuntime()}</script>
<script>${BOOT}</script>
</body>
</html>
`;
}
