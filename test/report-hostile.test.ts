/**
 * The report on degenerate segmentations (issue #12.6): fewer distinct rows than k (empty
 * segments), one segment holding every row, a segment of one row, k = rows − 1, a constant
 * feature, a described column with no values. The report must be written (exit 0), show every
 * segment (the empty ones as empty), and leave out, with a sentence saying why, the charts
 * that need two segments or more. Each case is also opened in Chromium when it is available:
 * no console error, every chart drawn.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { datasetFromRecords } from "../src/core/dataset.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { buildSegmentationReport } from "../src/report/segmentation.js";
import { closeBrowser, hasChromium, openReport } from "./helpers/browser.js";
import { runMain } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-report-hostile-"));
let count = 0;

afterAll(async () => {
  await closeBrowser();
  rmSync(dir, { recursive: true, force: true });
});

function csv(lines: string[]): string {
  const p = join(dir, `t${++count}.csv`);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
}

/** The visible text of the report (tags dropped, entities of the escaper undone). */
function text(html: string): string {
  const body = html.slice(html.indexOf("<main>"), html.indexOf("</main>"));
  return body.replace(/<[^>]+>/g, " ").replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/\s+/g, " ");
}

interface Report {
  html: string;
  text: string;
  stderr: string;
  path: string;
  charts: string[];
}

/** Runs `cluster FILE --k K --report OUT --charts DIR ...extra`, expects exit 0 and returns the report. */
async function report(file: string, k: number, extra: string[] = []): Promise<Report> {
  const out = join(dir, `r${++count}.html`);
  const charts = join(dir, `charts${count}`);
  mkdirSync(charts);
  const r = await runMain(["cluster", file, "--k", String(k), "--report", out, "--charts", charts, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  expect(existsSync(out)).toBe(true);
  const html = readFileSync(out, "utf8");
  return { html, text: text(html), stderr: r.stderr, path: out, charts: readdirSync(charts).filter((f) => f.endsWith(".svg")).map((f) => f.slice(0, -4)).sort() };
}

/** Every segment 0..k−1 has its article in the report. */
function expectSegments(rep: Report, k: number): void {
  for (let s = 0; s < k; s++) expect(rep.html).toContain(`id="segment-${s}"`);
  expect(rep.html).not.toContain(`id="segment-${k}"`);
}

async function expectDrawn(rep: Report): Promise<void> {
  if (!hasChromium) return;
  const v = await openReport(rep.path);
  try {
    expect(v.errors).toEqual([]);
    expect(v.charts).toBeGreaterThan(0);
    expect(v.rendered).toBe(v.charts);
  } finally {
    await v.close();
  }
}

describe("the report on degenerate segmentations", () => {
  it("3 distinct rows and --k 5: two empty segments, shown as empty, the report written", async () => {
    const f = csv(["id,a,b", "1,1,2", "2,1,2", "3,5,6", "4,5,6", "5,9,1", "6,9,1", "7,1,2"]);
    const rep = await report(f, 5, ["--id", "id"]);
    expectSegments(rep, 5);
    // The three groups have 3, 2 and 2 rows; segments 3 and 4 are empty.
    expect(rep.text).toMatch(/Segment 3 0 customers \(0\.0\s%\)/);
    // Shown as empty in the summary table and in their own articles.
    expect((rep.text.match(/0 customers \(0\.0\s%\)\. No customer fell in this segment/g) ?? []).length).toBe(2);
    expect((rep.text.match(/No customer fell in this segment/g) ?? []).length).toBe(4);
    // The profiles have one row per non-empty segment, and the snake plot is drawn for them.
    expect(rep.charts).toEqual(expect.arrayContaining(["sizes", "profile-heatmap", "snake-plot", "map-pca", "silhouette"]));
    expect(rep.stderr).toMatch(/only 3 distinct rows/);
    await expectDrawn(rep);
  });

  it("one segment holding every row (--k 2 on identical rows): the charts that need two segments are left out, with the reason", async () => {
    const f = csv(["id,a,b", ...Array.from({ length: 12 }, (_, i) => `${i + 1},1,2`)]);
    const rep = await report(f, 2, ["--id", "id", "--features", "a,b"]);
    expectSegments(rep, 2);
    expect(rep.text).toMatch(/12 customers \(100\.0\s%\)/);
    expect(rep.text).toContain("No customer fell in this segment");
    // No silhouette (it needs two non-empty segments), no PCA map (all rows are one point).
    expect(rep.charts).not.toContain("silhouette");
    expect(rep.text).toMatch(/silhouette plot is left out: it needs customers in at least two segments/i);
    expect(rep.charts).toContain("sizes");
    // Every customer is one point: no map, and the reason.
    expect(rep.charts.filter((c) => c.startsWith("map-"))).toEqual([]);
    expect(rep.text).toContain("The maps are left out: all 12 customers have the same preprocessed features");
    expect(rep.text).not.toContain("NaN");
    await expectDrawn(rep);
  });

  it("a segment of one row, and k = rows − 1", async () => {
    const rows = ["id,a,b"];
    for (let i = 1; i <= 30; i++) rows.push(`${i},${i % 3},${i % 5}`);
    rows.push("31,1000,1000");
    const rep = await report(csv(rows), 3, ["--id", "id"]);
    expectSegments(rep, 3);
    expect(rep.text).toMatch(/1 customers? \(3\.2\s%\)/);
    await expectDrawn(rep);

    const six = csv(["id,a,b", "1,1,2", "2,3,2", "3,5,6", "4,5,8", "5,9,1", "6,9,4"]);
    const rep6 = await report(six, 5, ["--id", "id", "--map", "pca,tsne,umap"]);
    expectSegments(rep6, 5);
    await expectDrawn(rep6);
  });

  it("a constant feature forced in with --features, and a described column with no values", async () => {
    const rows = ["id,a,b,c,z"];
    for (let i = 1; i <= 30; i++) rows.push(`${i},${i % 3},${(i * 7) % 5},7,`);
    const rep = await report(csv(rows), 3, ["--id", "id", "--features", "a,b,c", "--profile", "z", "--map", "pca,tsne,umap"]);
    expectSegments(rep, 3);
    expect(rep.charts).toEqual(expect.arrayContaining(["map-pca", "map-tsne", "map-umap", "snake-plot", "profile-heatmap"]));
    await expectDrawn(rep);
  });

  it("a wide table (80 × 600): the PCA map, t-SNE and UMAP on the first 50 principal components, said in their captions", async () => {
    const rows = ["id," + Array.from({ length: 600 }, (_, j) => `f${j}`).join(",")];
    for (let i = 0; i < 80; i++) {
      const g = i % 3;
      rows.push(`c${i},` + Array.from({ length: 600 }, (_, j) => ((g * 7 + j * 13 + i * i) % 17) / 4 + (j % 3 === g ? 5 : 0)).join(","));
    }
    const rep = await report(csv(rows), 3, ["--id", "id", "--map", "pca,tsne,umap"]);
    expectSegments(rep, 3);
    expect(rep.charts).toEqual(expect.arrayContaining(["map-pca", "map-tsne", "map-umap"]));
    expect(rep.text).toMatch(/A t-SNE map \(perplexity 26\) of all 80 customers: [^.]*\. The 600 preprocessed features were first reduced to their 50 principal components \(\d+\.\d\s% of the variance\)/);
    expect(rep.text).toMatch(/A UMAP map [^.]*\. The 600 preprocessed features were first reduced to their 50 principal components/);
    expect(rep.text).not.toContain("NaN");
  });

  it("a huge table: the PCA map's axes are found on a stratified sample (pcaFitValues), and the caption says so", async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ a: (i % 3) * 10 + (i % 7), b: (i % 5) - (i % 3) * 4, c: i % 11, d: (i * i) % 13 }));
    const ds = datasetFromRecords(records, { a: "numeric", b: "numeric", c: "numeric", d: "numeric" }, "big");
    const r = await runSegmentation({ k: 3, seed: 1 }, ds);
    const caption = async (pcaFitValues?: number): Promise<string> => {
      const rep = await buildSegmentationReport(r, ds, { source: "big", maps: ["pca"], pcaFitValues });
      const maps = rep.document.sections.find((x) => x.id === "maps")!;
      const block = maps.blocks.find((b) => b.type === "chart" && b.chart.id === "map-pca");
      return block && block.type === "chart" ? block.chart.description : "";
    };
    expect(await caption()).toMatch(/^The customers on the first two principal components of the preprocessed features \(\d+\.\d\s% of the variance\)/);
    // 3,000 × 4 = 12,000 values above 2,000: the axes from max(1,000, 2,000 / 4) rows.
    expect(await caption(2000)).toMatch(/features \(\d+\.\d\s% of the variance; the axes found on a stratified sample of 1,000 customers\), coloured/);
  });

  it.skipIf(!hasChromium)("30 features: the snake plot and the profile heatmap fit the page width in Chromium (no sideways scrolling), drawing the 12 most distinguishing", async () => {
    const rows = ["id," + Array.from({ length: 30 }, (_, j) => `spend_in_category_${j}`).join(",")];
    for (let i = 0; i < 90; i++) rows.push(`c${i},` + Array.from({ length: 30 }, (_, j) => ((i % 3) * (j % 4) + ((i * 7 + j) % 5)) / 2).join(","));
    const rep = await report(csv(rows), 3, ["--id", "id", "--map", "pca"]);
    expect(rep.text).toContain("across the 12 features on which some segment differs most from the population (of 30;");
    const v = await openReport(rep.path);
    try {
      expect(v.errors).toEqual([]);
      expect(v.rendered).toBe(v.charts);
      for (const id of ["snake-plot", "profile-heatmap"]) {
        const [scroll, client, svg] = (await v.page.evaluate(
          `(() => { const el = document.getElementById("view-${id}"); return [el.scrollWidth, el.clientWidth, el.querySelector("svg").getBoundingClientRect().width]; })()`,
        )) as [number, number, number];
        expect(svg, id).toBeGreaterThan(300);
        expect(scroll, id).toBeLessThanOrEqual(client);
      }
    } finally {
      await v.close();
    }
  });
});
