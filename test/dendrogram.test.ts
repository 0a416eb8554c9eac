import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AgglomerativeClustering, dendrogram } from "../src/cluster/agglomerative.js";
import { dendrogramChart } from "../src/charts/dendrogram.js";
import { renderSvg } from "../src/report/render.js";

const fixtures = JSON.parse(readFileSync(new URL("./fixtures/hierarchical.json", import.meta.url), "utf8")) as {
  datasets: { name: string; X: number[][]; cases: { method: string; metric: string; lastp: { ivl: string[]; leaves: number[]; icoord: number[][]; dcoord: number[][] } }[] }[];
};

describe("dendrogram data", () => {
  // Points 0, 1, 3, 7 and Ward's linkage: {0,1} at 1, then 3 joins, then 7.
  const h2 = Math.sqrt(4 / 3) * 2.5;
  const h3 = Math.sqrt(6 / 4) * (7 - 4 / 3);

  it("the full tree: scipy's layout, worked out by hand", async () => {
    const m = await new AgglomerativeClustering({ linkage: "ward" }).fit([[0], [1], [3], [7]]);
    const d = m.dendrogram();
    expect(d.leaves).toEqual([3, 2, 0, 1]);
    expect(d.ivl).toEqual(["3", "2", "0", "1"]);
    expect(d.leafCounts).toEqual([1, 1, 1, 1]);
    // Post-order: the pair {0,1} first, the root last; each U from the children's tops to the merge height.
    expect(d.icoord).toEqual([[25, 25, 35, 35], [15, 15, 30, 30], [5, 5, 22.5, 22.5]]);
    const expected = [[0, 1, 1, 0], [0, h2, h2, 1], [0, h3, h3, h2]];
    d.dcoord.forEach((q, i) => q.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 12)));
    expect(m.dendrogram({ labels: ["a", "b", "c", "d"] }).ivl).toEqual(["d", "c", "a", "b"]);
  });

  it("truncated to the last p merges: merged clusters become leaves labelled with their size", async () => {
    const m = await new AgglomerativeClustering({ linkage: "ward" }).fit([[0], [1], [3], [7]]);
    const d = m.dendrogram({ p: 2 });
    expect(d.leaves).toEqual([3, 5]);
    expect(d.ivl).toEqual(["3", "(3)"]);
    expect(d.leafCounts).toEqual([1, 3]);
    expect(d.icoord).toEqual([[5, 5, 15, 15]]);
    expect(d.dcoord[0][1]).toBeCloseTo(h3, 12);
    expect(d.dcoord[0][3]).toBe(0);
  });

  it("lastp with p = 12 on 300 rows equals scipy's (the ward case of the fixtures)", async () => {
    const ds = fixtures.datasets.find((x) => x.name === "blobs300x8")!;
    const c = ds.cases.find((x) => x.method === "ward")!;
    const m = await new AgglomerativeClustering({ linkage: "ward" }).fit(ds.X);
    const d = m.dendrogram({ p: 12 });
    expect(d.ivl).toEqual(c.lastp.ivl);
    expect(d.leaves).toEqual(c.lastp.leaves);
    expect(d.icoord).toEqual(c.lastp.icoord);
    d.dcoord.forEach((q, i) => q.forEach((v, j) => expect(Math.abs(v - c.lastp.dcoord[i][j])).toBeLessThan(1e-9 * Math.max(1, v))));
    expect(d.leaves.length).toBe(12);
    expect(d.leafCounts.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it("a chain of 3,000 single-linkage merges does not overflow the stack", async () => {
    const X = Array.from({ length: 3000 }, (_, i) => [i * i * 1e-3]);
    const m = await new AgglomerativeClustering({ linkage: "single" }).fit(X);
    const d = dendrogram(m.linkageMatrix);
    expect(d.leaves.length).toBe(3000);
    expect(d.icoord.length).toBe(2999);
  });
});

describe("dendrogram chart", () => {
  it("draws every link as three rules, the leaves, and the dashed cut line for k; renders to SVG", async () => {
    const ds = fixtures.datasets.find((x) => x.name === "blobs60x3")!;
    const m = await new AgglomerativeClustering({ linkage: "ward", nClusters: 4 }).fit(ds.X);
    const height = m.cutHeight(4)!;
    expect(new Set(m.cutAtHeight(height)).size).toBe(4);
    const data = m.dendrogram({ p: 20 });
    const spec = dendrogramChart(data, { cut: { k: 4, height }, title: "Blobs" }) as unknown as {
      layer: { data?: { values: Record<string, number | string>[] }; mark: { type: string; strokeDash?: number[] }; encoding: Record<string, { datum?: number }> }[];
    };
    const [links, labels, cutRule, cutText] = spec.layer;
    expect(links.mark.type).toBe("rule");
    expect(links.data!.values.length).toBe(3 * 19);
    // The horizontal bar of each U sits at its merge height.
    const tops = links.data!.values.filter((s) => s.y === s.y2 && s.y !== 0).map((s) => s.y as number);
    expect(tops.length).toBe(19);
    expect(Math.max(...tops)).toBeCloseTo(m.linkageMatrix.data[(60 - 2) * 4 + 2], 12);
    expect(labels.data!.values.map((v) => v.label)).toEqual(data.ivl);
    expect(cutRule.mark.strokeDash).toBeDefined();
    expect(cutRule.encoding.y.datum).toBe(height);
    expect(cutText.mark.type).toBe("text");

    const svg = await renderSvg(spec as never);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain(`k = 4 (height ${Number(height.toPrecision(4))})`);
    expect(svg).toContain(data.ivl.find((l) => l.startsWith("("))!);
    expect(svg).toContain("merge height");
    // Vega draws rules as <line> elements: the links' 57 and the cut line.
    expect((svg.match(/<line /g) ?? []).length).toBeGreaterThanOrEqual(3 * 19 + 1);
  });

  it("without a cut: no cut layers, and no leaf labels when there are many leaves", async () => {
    const ds = fixtures.datasets.find((x) => x.name === "blobs300x8")!;
    const m = await new AgglomerativeClustering({ linkage: "average" }).fit(ds.X);
    const spec = dendrogramChart(m.dendrogram()) as unknown as { layer: unknown[] };
    expect(spec.layer.length).toBe(1);
    const svg = await renderSvg(spec as never);
    expect((svg.match(/<line /g) ?? []).length).toBeGreaterThanOrEqual(3 * 299);
  });
});
