/**
 * Charts of the choice of k (src/charts/choose-k.ts) as Vega-Lite JSON, and their rendering
 * to SVG in Node (src/report/render.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elbowChart, gapChart, indicesChart } from "../src/charts/choose-k.js";
import { Random } from "../src/core/random.js";
import { chooseK, type ChooseKResult } from "../src/metrics/choose-k.js";
import { renderSvg, writeSvg } from "../src/report/render.js";

let result: ChooseKResult;
let dir: string;

beforeAll(async () => {
  const rng = new Random(9);
  const centers = [[0, 0], [8, 0], [0, 8]];
  const rows = Array.from({ length: 150 }, (_, i) => centers[i % 3].map((c) => c + rng.normal()));
  result = await chooseK(rows, { kMin: 2, kMax: 6, randomState: 9, gapReferences: 3, stabilityResamples: 3 });
  dir = mkdtempSync(join(tmpdir(), "segmenta-charts-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every data value in a spec (top level, layers and vconcat panels). */
function values(spec: unknown): Record<string, unknown>[][] {
  const out: Record<string, unknown>[][] = [];
  const walk = (s: Record<string, unknown>): void => {
    const data = s.data as { values?: Record<string, unknown>[] } | undefined;
    if (data?.values) out.push(data.values);
    for (const key of ["layer", "vconcat"]) for (const sub of (s[key] as Record<string, unknown>[] | undefined) ?? []) walk(sub);
  };
  walk(spec as Record<string, unknown>);
  return out;
}

function expectSvg(svg: string): void {
  expect(svg.trimStart()).toMatch(/^<svg[\s>]/);
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
}

describe("chart specifications", () => {
  it("elbow: inertia from k=1 with the knee marked", () => {
    expect(result.recommendation.k).toBe(3);
    const spec = elbowChart(result) as unknown as Record<string, unknown>;
    expect(spec.$schema).toMatch(/vega-lite\/v6/);
    const [rows] = values(spec);
    expect(rows.map((r) => r.k)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[0].inertia).toBeCloseTo(result.kOne!.inertia, 9);
    expect(JSON.stringify(spec)).toContain(`"datum":${result.elbow.knee}`);
    expect(JSON.stringify(spec)).toContain(`elbow k=${result.elbow.knee}`);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec); // plain JSON
  });

  it("indices: one panel per index, stability included, the recommended k marked in each", () => {
    const spec = indicesChart(result) as unknown as { vconcat: Record<string, unknown>[] };
    expect(spec.vconcat).toHaveLength(4);
    const titles = spec.vconcat.map((p) => (p.title as { text: string }).text);
    expect(titles).toEqual([
      "silhouette (higher is better)", "Davies–Bouldin (lower is better)", "Calinski–Harabasz (higher is better)",
      "stability: mean bootstrap Jaccard (higher is better)",
    ]);
    for (const p of spec.vconcat) expect(JSON.stringify(p)).toContain(`"datum":${result.recommendation.k}`);
    const sil = values(spec.vconcat[0])[0];
    expect(sil.map((r) => r.value)).toEqual(result.evaluations.map((e) => e.silhouette));
  });

  it("gap: Gap(k) from k=1 with ±s(k) error bars; null without the gap statistic", () => {
    const spec = gapChart(result)!;
    const [rows] = values(spec);
    expect(rows[0]).toMatchObject({ k: 1, gap: result.kOne!.gap });
    for (const r of rows) {
      expect(r.lo as number).toBeCloseTo((r.gap as number) - (r.se as number), 12);
      expect(r.hi as number).toBeCloseTo((r.gap as number) + (r.se as number), 12);
    }
    expect(gapChart({ ...result, gap: null })).toBeNull();
  });

  it("say so when there is no elbow", () => {
    const spec = elbowChart({ ...result, elbow: { ...result.elbow, knee: null, index: -1, reason: "the curve is flat" } });
    expect(JSON.stringify(spec)).toContain("no elbow: the curve is flat");
    expect(JSON.stringify(spec)).not.toContain("elbow k=");
  });
});

describe("rendering to SVG", () => {
  it("renders every chart to an SVG document headless", async () => {
    for (const spec of [elbowChart(result), indicesChart(result), gapChart(result)!]) {
      const svg = await renderSvg(spec);
      expectSvg(svg);
      expect(svg).toContain("k (number of segments)");
    }
  });

  it("writes the SVG atomically, leaving no temporary file", async () => {
    const path = join(dir, "elbow.svg");
    await writeSvg(path, elbowChart(result));
    expectSvg(readFileSync(path, "utf8"));
    expect(readdirSync(dir)).toEqual(["elbow.svg"]);
  });
});
