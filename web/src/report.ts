/**
 * A run's report (GET /api/v1/runs/:id/report), read as data: the HTML report is the API's
 * account of a run — each segment's description, its numbers against the population, its
 * rules and their SQL, and every chart as a compiled Vega specification (the Vega-Lite
 * specifications of src/charts) with its title, text alternative and numbers. DOMParser
 * parses the page without running its scripts; the specifications are read from its JSON
 * script element, never evaluated.
 */

export interface Table {
  caption: string;
  head: string[];
  rows: string[][];
  numeric: boolean[];
}

export interface ChartInfo {
  id: string;
  title: string;
  description: string;
  section: string;
  spec: unknown;
  table: Table | null;
  /** The report's specifications are compiled Vega; the dashboard's own are Vega-Lite. */
  mode?: "vega" | "vega-lite";
}

export interface SegmentDetail {
  id: number;
  name: string;
  summary: string;
  /** The numbers against the population (the profile tables) and any other table of the card. */
  tables: Table[];
  rules: Table | null;
  sql: string | null;
  notes: string[];
}

export interface ReportData {
  title: string;
  subtitle: string;
  sections: { id: string; title: string }[];
  segments: SegmentDetail[];
  charts: ChartInfo[];
  /** The SQL expression that gives every customer's segment by the rules, when there is one. */
  rulesSql: string | null;
  warnings: string[];
}

function text(el: Element | null | undefined): string {
  return (el?.textContent ?? "").replace(/\s+/g, " ").trim();
}

function readTable(t: HTMLTableElement): Table {
  const head = Array.from(t.querySelectorAll("thead th"), (th) => text(th));
  const numeric = Array.from(t.querySelectorAll("thead th"), (th) => th.classList.contains("num"));
  const rows = Array.from(t.querySelectorAll("tbody tr"), (tr) => Array.from(tr.children, (td) => text(td)));
  return { caption: text(t.querySelector("caption")), head, rows, numeric };
}

export function parseReport(html: string): ReportData {
  // The report's own style sheet and Vega runtime are left out before parsing: not needed here,
  // and a parsed <style> would be checked against this page's Content-Security-Policy. (Text from
  // the data is escaped in the report, "<" included inside its JSON, so these patterns match only the report's own elements.)
  const stripped = html.replace(/<style>[\s\S]*?<\/style>/g, "").replace(/<script>[\s\S]*?<\/script>/g, "");
  const doc = new DOMParser().parseFromString(stripped, "text/html");
  const specsEl = doc.getElementById("segmenta-specs");
  const specs = specsEl ? (JSON.parse(specsEl.textContent ?? "{}") as Record<string, unknown>) : {};
  const sections = Array.from(doc.querySelectorAll("main > section"), (s) => ({ id: s.id, title: text(s.querySelector("h2")) }));
  const charts: ChartInfo[] = [];
  for (const fig of Array.from(doc.querySelectorAll("figure.chart"))) {
    const id = fig.id.replace(/^fig-/, "");
    const cap = fig.querySelector("figcaption");
    const title = text(cap?.querySelector("strong")).replace(/\.$/, "");
    const description = fig.querySelector(".view")?.getAttribute("aria-label") ?? "";
    const table = fig.querySelector("details table") as HTMLTableElement | null;
    const section = text(fig.closest("section")?.querySelector("h2"));
    if (specs[id] !== undefined) charts.push({ id, title, description, section, spec: specs[id], table: table ? readTable(table) : null });
  }
  const segments: SegmentDetail[] = [];
  for (const art of Array.from(doc.querySelectorAll("article.segment"))) {
    const id = Number(art.id.replace(/^segment-/, ""));
    const h3 = art.querySelector("h3");
    const name = text(h3).replace(/^(−1|-?\d+)\s+/, "");
    const tables: Table[] = [];
    let rules: Table | null = null;
    for (const t of Array.from(art.querySelectorAll(":scope > table"))) {
      const table = readTable(t as HTMLTableElement);
      if (table.head[0] === "rule") rules = table;
      else tables.push(table);
    }
    const sql = art.querySelector("figure.code pre code")?.textContent ?? null;
    const notes = Array.from(art.querySelectorAll(":scope > p:not(.summary)"), (p) => text(p));
    segments.push({ id, name, summary: text(art.querySelector("p.summary")), tables, rules, sql, notes });
  }
  let rulesSql: string | null = null;
  for (const code of Array.from(doc.querySelectorAll("section > figure.code"))) {
    if (code.closest("article")) continue;
    if (/segment by the rules/i.test(text(code.querySelector("figcaption")))) rulesSql = code.querySelector("pre code")?.textContent ?? null;
  }
  const warnings = Array.from(doc.querySelectorAll(".warnings li"), (li) => text(li));
  return { title: text(doc.querySelector("header h1")), subtitle: text(doc.querySelector("header p")), sections, segments, charts, rulesSql, warnings };
}
