/**
 * The HTML report opened in headless Chromium: no console errors, no network request, every
 * chart drawn, and values from the data shown as text, never as markup. Needs Chromium
 * (`apt-get install -y chromium`, which .ci/run does); skipped with a message without it.
 * The Telco and Online Retail reports need ../shared/data (skipped without it).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { closeBrowser, CHROMIUM, hasChromium, openReport } from "./helpers/browser.js";
import { run } from "./helpers/cli.js";

if (!hasChromium) console.warn(`report browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const hasData = existsSync(DATA);
if (!hasData) console.warn(`Telco and Online Retail report tests skipped: ${DATA} does not exist`);

const dir = mkdtempSync(join(tmpdir(), "segmenta-report-"));
const EVIL = "<img src=x onerror=alert(1)>";

afterAll(async () => {
  await closeBrowser();
});

describe.skipIf(!hasChromium)("the HTML report in Chromium", () => {
  it("shows a column and a category named like markup as text, and runs no script from the data", async () => {
    const csv = join(dir, "evil.csv");
    const rows = [`id,spend,"${EVIL}",plan`];
    for (let i = 0; i < 120; i++) {
      rows.push(`C${i},${(i % 3) * 100 + (i % 7)},${(i % 3) * 5 + (i % 2)},${i % 3 === 0 ? `"${EVIL}"` : i % 3 === 1 ? "O'Brien \"quoted\"" : "</script><b>bold</b>"}`);
    }
    writeFileSync(csv, rows.join("\n") + "\n");
    const report = join(dir, "evil.html");
    const r = await run(["cluster", csv, "--k", "3", "--report", report]);
    expect(r.code, r.err).toBe(0);
    const html = readFileSync(report, "utf8");
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain("<b>bold</b>");
    const v = await openReport(report);
    try {
      expect(v.errors).toEqual([]);
      expect(v.requests).toEqual([]);
      expect(v.dialogs).toEqual([]);
      expect(v.charts).toBeGreaterThanOrEqual(5);
      expect(v.rendered).toBe(v.charts);
      expect(await v.page.locator("main img, main b").count()).toBe(0);
      const text = await v.page.locator("main").innerText();
      expect(text).toContain(EVIL);
      expect(text).toContain(`O'Brien "quoted"`);
      expect(text).toContain("</script><b>bold</b>");
      // Chart text is SVG text: the names appear as text nodes there too.
      const svgText = await v.page.locator(".view svg").allTextContents();
      expect(svgText.join(" ")).toContain(EVIL);
    } finally {
      await v.close();
    }
  });

  it("with --k auto: the elbow, indices and gap charts of the choice of k are drawn too", async () => {
    const csv = join(dir, "auto.csv");
    const rows = ["id,spend,visits,plan"];
    for (let i = 0; i < 150; i++) rows.push(`C${i},${(i % 3) * 100 + (i % 7)},${(i % 3) * 5 + (i % 2)},${["a", "b", "c"][i % 3]}`);
    writeFileSync(csv, rows.join("\n") + "\n");
    const report = join(dir, "auto.html");
    const r = await run(["cluster", csv, "--k", "auto", "--report", report]);
    expect(r.code, r.err).toBe(0);
    const v = await openReport(report);
    try {
      expect(v.errors).toEqual([]);
      expect(v.requests).toEqual([]);
      expect(v.charts).toBe(9);
      expect(v.rendered).toBe(9);
      expect(await v.page.locator("section#choice-of-k .view svg").count()).toBe(3);
      expect(await v.page.locator("section#choice-of-k").innerText()).toMatch(/k = 3 was chosen from 2 to 8/);
    } finally {
      await v.close();
    }
  });

  describe.skipIf(!hasData)("the worked examples", () => {
    it("Telco, agglomerative (ward, k = 3): every chart drawn with the dendrogram, offline, with text alternatives", async () => {
      const report = join(dir, "telco.html");
      const r = await run(["cluster", join(DATA, "WA_Fn-UseC_-Telco-Customer-Churn.csv"), "--algorithm", "agglomerative", "--linkage", "ward", "--k", "3", "--report", report]);
      expect(r.code, r.err).toBe(0);
      const v = await openReport(report, { screenshot: process.env.SEGMENTA_SCREENSHOTS ? join(process.env.SEGMENTA_SCREENSHOTS, "report-telco.png") : undefined });
      try {
        expect(v.errors).toEqual([]);
        expect(v.requests).toEqual([]);
        // sizes, heatmap, snake plot, dendrogram, PCA map, t-SNE map, silhouette plot.
        expect(v.charts).toBe(7);
        expect(v.rendered).toBe(7);
        expect(await v.page.locator("section#dendrogram .view svg").count()).toBe(1);
        const labels = await v.page.locator(".view[role=img]").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
        for (const l of labels) expect(l.length).toBeGreaterThan(20);
        expect(await v.page.locator("section#segments article.segment").count()).toBe(3);
      } finally {
        await v.close();
      }
    });

    it("Online Retail, DBSCAN with eps at the knee: the outliers' grey card, the k-distance curve, every chart drawn", async () => {
      const report = join(dir, "retail-dbscan.html");
      const r = await run([
        "cluster", join(DATA, "online_retail.parquet"), "--transactions", "--customer", "CustomerID", "--date", "InvoiceDate",
        "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo", "--algorithm", "dbscan", "--eps", "auto", "--map", "pca", "--report", report,
      ]);
      expect(r.code, r.err).toBe(0);
      const v = await openReport(report);
      try {
        expect(v.errors).toEqual([]);
        expect(v.requests).toEqual([]);
        expect(v.rendered).toBe(v.charts);
        const card = v.page.locator("article.segment.outliers#segment--1");
        expect(await card.count()).toBe(1);
        expect(await card.locator("h3").innerText()).toMatch(/Outliers: /);
        // The card is grey: its border is the noise grey, not a segment colour.
        // (In the page: the DOM's getComputedStyle, which this project's Node types do not declare.)
        const style = (e: unknown): string => (globalThis as unknown as { getComputedStyle(x: unknown): { borderTopStyle: string } }).getComputedStyle(e).borderTopStyle;
        expect(await card.evaluate(style)).toBe("dashed");
        expect(await v.page.locator(".view[aria-label*='nearest neighbour']").count()).toBe(1);
        expect(await v.page.locator("main").innerText()).toMatch(/counting the outliers as one more group/);
      } finally {
        await v.close();
      }
    });

    it("Mall, Gaussian mixture with k by BIC: the BIC chart, the certainty of the assignment, ellipses on the PCA map", async () => {
      const report = join(dir, "mall-gmm.html");
      const r = await run([
        "cluster", join(DATA, "Mall_Customers.csv"), "--features", "Annual Income (k$),Spending Score (1-100)", "--algorithm", "gmm", "--k", "auto", "--map", "pca", "--report", report,
      ]);
      expect(r.code, r.err).toBe(0);
      const v = await openReport(report);
      try {
        expect(v.errors).toEqual([]);
        expect(v.requests).toEqual([]);
        expect(v.rendered).toBe(v.charts);
        expect(await v.page.locator("section#choice-of-k .view svg").count()).toBe(1);
        expect(await v.page.locator("section#certainty .view svg").count()).toBe(1);
        expect(await v.page.locator("section#choice-of-k").innerText()).toMatch(/BIC is lowest for \d+ segments/);
        // The PCA map draws each segment's ellipses: more closed lines than the legend's symbols, in the segments' colours.
        const mapPaths = await v.page.locator("[aria-label*='PCA'] svg path[stroke-dasharray]").count();
        expect(mapPaths).toBeGreaterThan(0);
      } finally {
        await v.close();
      }
    });

    it("Online Retail from the transaction log: RFM names and the RFM grid", async () => {
      const report = join(dir, "retail.html");
      const r = await run([
        "cluster", join(DATA, "online_retail.parquet"), "--transactions", "--customer", "CustomerID", "--date", "InvoiceDate",
        "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo", "--k", "4", "--report", report,
      ]);
      expect(r.code, r.err).toBe(0);
      const v = await openReport(report, { screenshot: process.env.SEGMENTA_SCREENSHOTS ? join(process.env.SEGMENTA_SCREENSHOTS, "report-online-retail.png") : undefined });
      try {
        expect(v.errors).toEqual([]);
        expect(v.requests).toEqual([]);
        expect(v.rendered).toBe(v.charts);
        expect(v.charts).toBe(7); // sizes, heatmap, snake plot, RFM grid, PCA and t-SNE maps, silhouette plot
        const names = await v.page.locator("article.segment h3").allInnerTexts();
        expect(names.join(" | ")).toMatch(/Champions/);
        expect(await v.page.locator("section#rfm .view svg").count()).toBe(1);
      } finally {
        await v.close();
      }
    });
  });
});
