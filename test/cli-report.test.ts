import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveFonts } from "../src/report/render.js";
import { run } from "./helpers/cli.js";

function hasFont(): boolean {
  try {
    resolveFonts();
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "segmenta-cli-report-"));
const csv = join(dir, "c.csv");
const rows = ["id,spend,visits,plan"];
for (let i = 0; i < 90; i++) rows.push(`C${i},${(i % 3) * 100 + (i % 7)},${(i % 3) * 5 + (i % 2)},${["a", "b", "c"][i % 3]}`);
writeFileSync(csv, rows.join("\n") + "\n");

describe("segmenta cluster --report / --charts / --map", () => {
  it("writes the report and every chart as SVG and PNG, with all three maps", async () => {
    const charts = join(dir, "charts");
    mkdirSync(charts);
    const report = join(dir, "r.html");
    const r = await run(["cluster", csv, "--k", "3", "--report", report, "--charts", charts, "--map", "pca,tsne,umap", "--json"]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.outputs.report).toBe(report);
    const files = readdirSync(charts).sort();
    // PNG needs a font (resvg draws no text without one); without any, SVG only and a warning.
    const png = hasFont();
    if (!png) expect(r.err).toMatch(/no font for PNG charts .* SVG only/);
    expect(files).toEqual(["map-pca", "map-tsne", "map-umap", "profile-heatmap", "silhouette", "sizes", "snake-plot"].flatMap((n) => (png ? [`${n}.png`, `${n}.svg`] : [`${n}.svg`])));
    for (const f of files.filter((x) => x.endsWith(".png"))) {
      expect(Array.from(readFileSync(join(charts, f)).subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    }
    const html = readFileSync(report, "utf8");
    // Self-contained: no external script, style, image or font; a CSP that forbids fetching anything.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(html).toMatch(/id="view-map-umap"/);
  }, 60_000);

  it("checks its outputs before any work, and rejects bad maps", async () => {
    const cases: [string[], RegExp][] = [
      [["--report", join(dir, "nodir", "r.html")], /--report .*: the folder .* does not exist/],
      [["--charts", join(dir, "absent")], /--charts .*: the folder does not exist; create it first/],
      [["--charts", csv], /--charts .* is a file, not a folder/],
      [["--report", join(dir, "x.html"), "--map", "pca,mds"], /--map pca,mds: expected a list of pca, tsne and umap/],
      [["--map", "pca"], /--map chooses the maps of the report: add --report/],
      [["--report", join(dir, "same.csv"), "--out", join(dir, "same.csv")], /--out and --report both name/],
    ];
    for (const [flags, message] of cases) {
      const r = await run(["cluster", csv, "--k", "3", ...flags]);
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.err, flags.join(" ")).toMatch(message);
    }
    expect(existsSync(join(dir, "x.html"))).toBe(false);
  });
});
