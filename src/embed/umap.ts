/**
 * UMAP through umap-js, made reproducible: every random draw umap-js makes (random
 * projection trees and NN-descent for the neighbour graph, the random initial layout, the
 * negative samples) comes from a seeded Random (core/random.ts). Same data, options and
 * randomState → the identical embedding.
 *
 * Option names and defaults follow umap-learn (n_neighbors 15, min_dist 0.1, spread 1,
 * n_epochs by size) in camelCase. umap-js initialises the layout at random (umap-learn's
 * default is spectral), so embeddings differ from umap-learn's in layout, not in kind.
 */
import { UMAP as UmapJs } from "umap-js";
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../core/matrix.js";
import { makeRandom } from "../core/random.js";

export interface UMAPOptions {
  /** Dimension of the embedding. Default 2. */
  nComponents?: number;
  /** Size of the local neighbourhood (umap-learn's n_neighbors). Default 15; must be less than the number of rows. */
  nNeighbors?: number;
  /** Minimum distance between embedded points. Default 0.1. */
  minDist?: number;
  /** Scale of the embedded points (with minDist, the shape of the low-dimensional kernel). Default 1. */
  spread?: number;
  /** Optimisation epochs; undefined: umap-js's choice by size (500 up to 2,500 rows, down to 200 above 10,000). */
  nEpochs?: number;
  /** Initial learning rate of the layout optimisation. Default 1. */
  learningRate?: number;
  /** Negative samples per positive sample. Default 5. */
  negativeSampleRate?: number;
  /** Seed of every random draw; undefined means a different run every time. */
  randomState?: number | null;
}

export interface UMAPFitOptions {
  /** Aborts the fit between epochs (the event loop is given a turn every 10 epochs). */
  signal?: AbortSignal;
  /** Called every 10 epochs and after the last. */
  onProgress?: (p: { epoch: number; nEpochs: number }) => void;
}

/** A fitted UMAP: the embedding of the training rows. */
export class UMAPModel {
  constructor(
    /** n × nComponents. */
    readonly embedding: Matrix,
    /** Epochs run. */
    readonly nEpochs: number,
  ) {}
}

function check(name: string, v: number | undefined, ok: (v: number) => boolean, what: string): void {
  if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || !ok(v))) throw new InputError(`${name} must be ${what}; got ${v}`);
}

/**
 * UMAP (uniform manifold approximation and projection) with a seeded random source.
 *
 *     const { embedding } = await new UMAP({ randomState: 0 }).fit(X);
 */
export class UMAP {
  constructor(readonly options: UMAPOptions = {}) {
    const o = options;
    check("nComponents", o.nComponents, (v) => Number.isInteger(v) && v >= 1, "a whole number ≥ 1");
    check("nNeighbors", o.nNeighbors, (v) => Number.isInteger(v) && v >= 2, "a whole number ≥ 2");
    check("minDist", o.minDist, (v) => v >= 0, "a number ≥ 0");
    check("spread", o.spread, (v) => v > 0, "a number > 0");
    check("nEpochs", o.nEpochs, (v) => Number.isInteger(v) && v >= 1, "a whole number ≥ 1");
    check("learningRate", o.learningRate, (v) => v > 0, "a number > 0");
    check("negativeSampleRate", o.negativeSampleRate, (v) => Number.isInteger(v) && v >= 1, "a whole number ≥ 1");
    if ((o.minDist ?? 0.1) > (o.spread ?? 1)) throw new InputError(`minDist (${o.minDist}) must be at most spread (${o.spread ?? 1})`);
  }

  /** Fits and returns the embedding (n × nComponents). */
  async fitTransform(X: MatrixLike, fitOptions: UMAPFitOptions = {}): Promise<Matrix> {
    return (await this.fit(X, fitOptions)).embedding;
  }

  async fit(Xin: MatrixLike, fitOptions: UMAPFitOptions = {}): Promise<UMAPModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const nNeighbors = o.nNeighbors ?? 15;
    const dim = o.nComponents ?? 2;
    if (X.rows <= nNeighbors) {
      throw new InputError(`UMAP needs more rows (${X.rows}) than nNeighbors (${nNeighbors}); lower nNeighbors or add rows`);
    }
    const { signal, onProgress } = fitOptions;
    if (signal?.aborted) throw new AbortError("UMAP was aborted");
    const rng = makeRandom(o.randomState);
    const umap = new UmapJs({
      nComponents: dim,
      nNeighbors,
      minDist: o.minDist ?? 0.1,
      spread: o.spread ?? 1,
      nEpochs: o.nEpochs ?? 0,
      learningRate: o.learningRate ?? 1,
      negativeSampleRate: o.negativeSampleRate ?? 5,
      random: () => rng.random(),
    });
    const nEpochs = umap.initializeFit(toArrays(X));
    for (let epoch = 0; epoch < nEpochs; ) {
      umap.step();
      epoch++;
      if (epoch % 10 === 0 || epoch === nEpochs) {
        onProgress?.({ epoch, nEpochs });
        if (signal) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (signal.aborted) throw new AbortError("UMAP was aborted");
        }
      }
    }
    const rows = umap.getEmbedding();
    const data = new Float64Array(X.rows * dim);
    for (let i = 0; i < X.rows; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = rows[i][j];
    return new UMAPModel({ data, rows: X.rows, cols: dim }, nEpochs);
  }
}
