import { describe, expect, it } from "vitest";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { nearestNeighbors, trustworthiness } from "../src/embed/tsne.js";
import { UMAP } from "../src/embed/umap.js";

function blobs(n: number, d: number, seed: number): { X: Matrix; labels: number[] } {
  const rng = new Random(seed);
  const centers = Array.from({ length: 4 }, () => Array.from({ length: d }, () => rng.uniform(-20, 20)));
  const data = new Float64Array(n * d);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels.push(c);
    for (let j = 0; j < d; j++) data[i * d + j] = centers[c][j] + rng.normal();
  }
  return { X: { data, rows: n, cols: d }, labels };
}

describe("UMAP through umap-js with a seeded random source", () => {
  const { X, labels } = blobs(240, 8, 11);

  it("the same seed gives the identical embedding; another seed a different one", async () => {
    const a = await new UMAP({ randomState: 7, nEpochs: 100 }).fit(X);
    const b = await new UMAP({ randomState: 7, nEpochs: 100 }).fit(X);
    expect(a.embedding.rows).toBe(240);
    expect(a.embedding.cols).toBe(2);
    expect(a.nEpochs).toBe(100);
    expect(Array.from(a.embedding.data)).toEqual(Array.from(b.embedding.data));
    const c = await new UMAP({ randomState: 8, nEpochs: 100 }).fit(X);
    expect(Array.from(c.embedding.data)).not.toEqual(Array.from(a.embedding.data));
  });

  it("well-separated blobs separate, with high trustworthiness", async () => {
    const model = await new UMAP({ randomState: 0 }).fit(X);
    expect(model.nEpochs).toBe(500);
    expect(trustworthiness(X, model.embedding, 5)).toBeGreaterThan(0.9);
    const { indices } = nearestNeighbors(model.embedding, 10);
    let same = 0;
    for (let i = 0; i < 240; i++) for (let m = 0; m < 10; m++) if (labels[indices[i * 10 + m]] === labels[i]) same++;
    expect(same / 2400).toBeGreaterThan(0.99);
    for (const v of model.embedding.data) expect(Number.isFinite(v)).toBe(true);
  });

  it("options: nComponents, nNeighbors and minDist are passed through", async () => {
    const m3 = await new UMAP({ randomState: 1, nComponents: 3, nNeighbors: 5, nEpochs: 50 }).fitTransform(X);
    expect(m3.cols).toBe(3);
    // A larger minDist spreads each blob out: mean distance to the nearest embedded neighbour grows.
    const spread = async (minDist: number): Promise<number> => {
      const Y = await new UMAP({ randomState: 2, minDist, nEpochs: 200 }).fitTransform(X);
      const { distances } = nearestNeighbors(Y, 1);
      return distances.reduce((s, v) => s + Math.sqrt(v), 0) / 240;
    };
    expect(await spread(0.9)).toBeGreaterThan(await spread(0.0));
  });

  it("reports progress, stops on abort, and rejects bad options", async () => {
    const epochs: number[] = [];
    await new UMAP({ randomState: 0, nEpochs: 25 }).fit(X, { onProgress: (p) => epochs.push(p.epoch) });
    expect(epochs).toEqual([10, 20, 25]);
    const ac = new AbortController();
    await expect(
      new UMAP({ randomState: 0, nEpochs: 200 }).fit(X, { signal: ac.signal, onProgress: (p) => p.epoch === 20 && ac.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
    await expect(new UMAP({ nNeighbors: 15 }).fit([[1, 2], [3, 4]])).rejects.toThrow(
      /UMAP needs more rows \(2\) than nNeighbors \(15\)/,
    );
    expect(() => new UMAP({ minDist: -1 })).toThrow(InputError);
    expect(() => new UMAP({ minDist: 2 })).toThrow(/minDist \(2\) must be at most spread/);
    expect(() => new UMAP({ nNeighbors: 1.5 })).toThrow(/nNeighbors must be a whole number/);
  });
});
