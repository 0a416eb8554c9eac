/**
 * The fitted clustering of a segmentation, whatever the algorithm: K-Means (its centers are
 * already numbered from the largest segment down), agglomerative clustering or a
 * density-based model (whose own cluster numbers are mapped to segment numbers by size;
 * noise, −1, stays −1). `predict` gives segment numbers.
 */
import { AgglomerativeModel } from "../cluster/agglomerative.js";
import { DBSCANModel } from "../cluster/density/dbscan.js";
import { HDBSCANModel } from "../cluster/density/hdbscan.js";
import { GaussianMixtureModel } from "../cluster/mixture/gaussian-mixture.js";
import { ReachModel } from "../cluster/density/reach-model.js";
import { KMeansModel } from "../cluster/kmeans.js";
import { MiniBatchKMeansModel } from "../cluster/minibatch-kmeans.js";
import { type FittedModel, loadModel, type ModelJSON } from "../cluster/load.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";

export class Segmenter {
  constructor(
    readonly inner: SegmenterModel,
    /** relabel[c] is the segment of the model's cluster c; null: the same numbers. */
    readonly relabel: Int32Array | null = null,
  ) {}

  get nClusters(): number {
    return this.inner instanceof GaussianMixtureModel ? this.inner.nComponents : this.inner.nClusters;
  }

  get nFeatures(): number {
    return this.inner.nFeatures;
  }

  /** The segment of each row of X (preprocessed features). */
  predict(X: Matrix): Int32Array {
    const labels = this.inner.predict(X);
    const r = this.relabel;
    if (r) for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) labels[i] = r[labels[i]];
    return labels;
  }

  /** The segment of each row (−1: an outlier) and, for models that have them (HDBSCAN), how strongly it belongs there. */
  predictWithProbabilities(X: Matrix): { labels: Int32Array; probabilities: Float64Array | null } {
    if (this.inner instanceof GaussianMixtureModel) {
      const P = this.predictProba(X)!;
      const k = P.cols;
      const labels = this.predict(X);
      return { labels, probabilities: Float64Array.from(labels, (l, i) => P.data[i * k + l]) };
    }
    if (!(this.inner instanceof HDBSCANModel)) return { labels: this.predict(X), probabilities: null };
    const { labels, probabilities } = this.inner.approximatePredict(X);
    const r = this.relabel;
    if (r) for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) labels[i] = r[labels[i]];
    return { labels, probabilities };
  }

  /** Gaussian mixtures: every row's probability of every segment (rows × k, segment numbering); null for other models. */
  predictProba(X: Matrix): Matrix | null {
    if (!(this.inner instanceof GaussianMixtureModel)) return null;
    const P = this.inner.predictProba(X);
    const r = this.relabel;
    if (!r) return P;
    const out = new Float64Array(P.data.length);
    const k = P.cols;
    for (let i = 0; i < P.rows; i++) for (let c = 0; c < k; c++) out[i * k + r[c]] = P.data[i * k + c];
    return { data: out, rows: P.rows, cols: k };
  }

  /** Whether the model sets outliers apart (segment −1): the density-based models. */
  get hasNoise(): boolean {
    return this.inner instanceof DBSCANModel || this.inner instanceof HDBSCANModel || this.inner instanceof ReachModel;
  }

  /** The algorithm's name, for messages. */
  get algorithmName(): string {
    return this.inner instanceof DBSCANModel ? "DBSCAN" : this.inner instanceof HDBSCANModel ? "HDBSCAN" : this.inner instanceof GaussianMixtureModel ? "Gaussian mixture" : this.inner instanceof ReachModel ? "OPTICS" : this.inner instanceof AgglomerativeModel ? "agglomerative clustering" : "K-Means";
  }

  /** DBSCAN's eps (the radius of predict's rule); null for the other models. */
  get eps(): number | null {
    return this.inner instanceof DBSCANModel ? this.inner.eps : null;
  }

  /**
   * How new rows get a segment when that is not how the training rows got theirs: for
   * agglomerative clustering, "nearest segment mean" (ward, centroid, median) or "nearest
   * training row" (other linkages). Null for K-Means, whose rule is the fit's own.
   */
  get predictRule(): PredictRule | null {
    if (this.inner instanceof DBSCANModel) return "nearest core customer within eps";
    if (this.inner instanceof ReachModel) return "nearest customer whose neighbourhood reaches it";
    if (this.inner instanceof HDBSCANModel) return "approximate prediction of the hdbscan library (nearest neighbours in mutual reachability, placed in the condensed tree)";
    if (!(this.inner instanceof AgglomerativeModel)) return null;
    return this.inner.clusterCenters ? "nearest segment mean" : "nearest training row";
  }

  /**
   * How often `predict` gives the training rows the segments of the fit: `rows` of X (all of
   * them, or an evenly spaced sample of at most `maxRows` when the rule compares with every
   * training row) are scored and compared with `labels` (segment numbers). Rows with
   * `exclude[i]` = 1 (left out of the fit) are not counted.
   */
  agreement(X: Matrix, labels: Int32Array, exclude: Uint8Array | null = null, maxRows = 2000): { share: number; rows: number; trainingRows: number } {
    const d = X.cols;
    const idx: number[] = [];
    for (let i = 0; i < X.rows; i++) if (!exclude || !exclude[i]) idx.push(i);
    const trainingRows = idx.length;
    const limit = this.predictRule === null || this.predictRule === "nearest segment mean" ? Infinity : maxRows;
    const step = trainingRows > limit ? trainingRows / limit : 1;
    const pick: number[] = [];
    for (let t = 0; Math.floor(t) < trainingRows; t += step) pick.push(idx[Math.floor(t)]);
    const sub = new Float64Array(pick.length * d);
    pick.forEach((i, r) => sub.set(X.data.subarray(i * d, (i + 1) * d), r * d));
    const got = pick.length ? this.predict({ data: sub, rows: pick.length, cols: d }) : new Int32Array(0);
    let same = 0;
    pick.forEach((i, r) => {
      if (got[r] === labels[i]) same++;
    });
    return { share: pick.length ? same / pick.length : 1, rows: pick.length, trainingRows };
  }

  toJSON(): ModelJSON {
    const m = this.inner;
    return m instanceof KMeansModel || m instanceof DBSCANModel || m instanceof GaussianMixtureModel ? m.toJSON({ includeLabels: false }) : m.toJSON();
  }

  /**
   * Restores the clustering of a model file (checked by loadModel), with its segment
   * numbering: `relabel`, when given, must number the k clusters 0…k−1, each once.
   */
  static fromJSON(json: unknown, relabel?: unknown): Segmenter {
    const m: FittedModel = loadModel(json);
    const r = relabel === undefined || relabel === null ? null : checkRelabel(relabel, m instanceof GaussianMixtureModel ? m.nComponents : m.nClusters);
    // A MiniBatchKMeans model scores as K-Means does: nearest center.
    const inner = m instanceof MiniBatchKMeansModel ? new KMeansModel(m.clusterCenters, m.labels, m.inertia, m.nIter) : m;
    return new Segmenter(inner, r);
  }
}

export type SegmenterModel = KMeansModel | AgglomerativeModel | DBSCANModel | HDBSCANModel | ReachModel | GaussianMixtureModel;

export type PredictRule =
  | "nearest segment mean" | "nearest training row" | "nearest core customer within eps" | "nearest customer whose neighbourhood reaches it"
  | "approximate prediction of the hdbscan library (nearest neighbours in mutual reachability, placed in the condensed tree)";

function checkRelabel(relabel: unknown, k: number): Int32Array {
  if (!Array.isArray(relabel) || relabel.length !== k) {
    throw new InputError(`the segment numbering (relabel) has ${Array.isArray(relabel) ? `${relabel.length} ${relabel.length === 1 ? "entry" : "entries"}` : "no list"} for the model's ${k} clusters`);
  }
  const out = new Int32Array(k);
  const seen = new Uint8Array(k);
  for (let c = 0; c < k; c++) {
    const v: unknown = relabel[c];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= k || seen[v]) {
      throw new InputError(`the segment numbering (relabel) gives cluster ${c} the segment ${JSON.stringify(v) ?? "missing"}; expected each segment from 0 to ${k - 1} once`);
    }
    seen[v] = 1;
    out[c] = v;
  }
  return out;
}
