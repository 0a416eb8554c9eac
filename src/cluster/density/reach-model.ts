/**
 * Scoring new customers with an OPTICS segmentation. OPTICS (like scikit-learn's) has no
 * predict of its own; this model gives a new row the segment of the first of its minSamples
 * nearest training rows (nearest first) that lies in a segment and whose dense neighbourhood
 * reaches the new row (distance ≤ that row's core distance), else −1 (noise). It is DBSCAN's
 * rule ("within eps of a core row") with each row's own radius in place of one eps.
 */
import { InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../../core/matrix.js";
import { NeighborIndex, type NeighborMetric } from "../../neighbors/index.js";

export interface ReachModelJSON {
  type: "OPTICS";
  version: 1;
  metric: NeighborMetric;
  nFeatures: number;
  minSamples: number;
  nClusters: number;
  /** The training rows that are in a segment, with their segment and core distance. */
  rows: number[][];
  labels: number[];
  coreDistances: number[];
}

const METRICS: readonly NeighborMetric[] = ["euclidean", "manhattan", "cosine"];

export class ReachModel {
  private index: NeighborIndex | null = null;

  constructor(
    /** Training rows in a segment. */
    readonly rows: Matrix,
    /** Their segments (0 … nClusters − 1). */
    readonly labels: Int32Array,
    /** Their core distances (the radius of their dense neighbourhood; −Infinity for rows that reach nobody). */
    readonly coreDistances: Float64Array,
    readonly minSamples: number,
    readonly metric: NeighborMetric,
    readonly nClusters: number,
  ) {}

  /** The rows of X in a segment (labels ≥ 0) with their labels and core distances. */
  static fromFit(X: Matrix, labels: Int32Array, coreDistances: Float64Array, minSamples: number, metric: NeighborMetric): ReachModel {
    const d = X.cols;
    let m = 0;
    let k = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] >= 0) m++;
      if (labels[i] + 1 > k) k = labels[i] + 1;
    }
    const data = new Float64Array(m * d);
    const L = new Int32Array(m);
    const C = new Float64Array(m);
    let r = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0) continue;
      data.set(X.data.subarray(i * d, i * d + d), r * d);
      L[r] = labels[i];
      // A row without a core distance (beyond maxEps) reaches nobody.
      C[r] = Number.isFinite(coreDistances[i]) ? coreDistances[i] : -Infinity;
      r++;
    }
    return new ReachModel({ data, rows: m, cols: d }, L, C, minSamples, metric, k);
  }

  get nFeatures(): number {
    return this.rows.cols;
  }

  predict(Yin: MatrixLike): Int32Array {
    const Y = toMatrix(Yin, "Y");
    const d = this.nFeatures;
    if (Y.rows > 0 && Y.cols !== d) throw new InputError(`Y has ${Y.cols} columns but the model was fitted on ${d}; give the same features in the same order`);
    const out = new Int32Array(Y.rows).fill(-1);
    const m = this.rows.rows;
    if (m === 0 || Y.rows === 0) return out;
    this.index ??= NeighborIndex.build(this.rows.data, m, d, { metric: this.metric, expectedK: this.minSamples });
    const k = Math.min(this.minSamples, m);
    const { distances, indices } = this.index.kNearest(Y.data, Y.rows, k);
    for (let r = 0; r < Y.rows; r++) {
      for (let j = 0; j < k; j++) {
        const t = indices[r * k + j];
        if (distances[r * k + j] <= this.coreDistances[t]) {
          out[r] = this.labels[t];
          break;
        }
      }
    }
    return out;
  }

  toJSON(): ReachModelJSON {
    return {
      type: "OPTICS", version: 1, metric: this.metric, nFeatures: this.nFeatures, minSamples: this.minSamples, nClusters: this.nClusters,
      rows: toArrays(this.rows), labels: Array.from(this.labels), coreDistances: Array.from(this.coreDistances, (x) => (Number.isFinite(x) ? x : -1)),
    };
  }

  /** Restores a model from `toJSON()`, checking every field (an InputError names the first bad one). */
  static fromJSON(json: ReachModelJSON): ReachModel {
    const j = json as unknown as Record<string, unknown> | null;
    const T = "OPTICS model";
    if (!j || typeof j !== "object" || j.type !== "OPTICS") throw new InputError("not an OPTICS model: expected { type: \"OPTICS\", rows, labels, coreDistances, ... }");
    if (j.version !== 1) throw new InputError(`${T}: version is ${show(j.version)}; this version of segmenta reads version 1`);
    const metric = j.metric as NeighborMetric;
    if (!METRICS.includes(metric)) throw new InputError(`${T}: metric is ${show(metric)}; expected one of ${METRICS.join(", ")}`);
    const d = j.nFeatures;
    if (!isWhole(d, 1)) throw new InputError(`${T}: nFeatures is ${show(d)}; expected a whole number ≥ 1`);
    const ms = j.minSamples;
    if (!isWhole(ms, 1)) throw new InputError(`${T}: minSamples is ${show(ms)}; expected a whole number ≥ 1`);
    const k = j.nClusters;
    if (!isWhole(k, 0)) throw new InputError(`${T}: nClusters is ${show(k)}; expected a whole number ≥ 0`);
    const rows = j.rows;
    if (!Array.isArray(rows)) throw new InputError(`${T}: rows is ${show(rows)}; expected the training rows in segments`);
    const m = rows.length;
    const data = new Float64Array(m * d);
    for (let i = 0; i < m; i++) {
      const row: unknown = rows[i];
      if (!Array.isArray(row) || row.length !== d) throw new InputError(`${T}: rows[${i}] has ${Array.isArray(row) ? `${row.length} values` : show(row)}; expected ${d} numbers (nFeatures)`);
      for (let c = 0; c < d; c++) {
        const v: unknown = row[c];
        if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`${T}: rows[${i}], value ${c} is ${show(v)}; expected a finite number`);
        data[i * d + c] = v;
      }
    }
    const L = j.labels;
    const C = j.coreDistances;
    if (!Array.isArray(L) || L.length !== m) throw new InputError(`${T}: labels has ${Array.isArray(L) ? `${L.length} values` : show(L)}; expected one segment per row (${m})`);
    if (!Array.isArray(C) || C.length !== m) throw new InputError(`${T}: coreDistances has ${Array.isArray(C) ? `${C.length} values` : show(C)}; expected one per row (${m})`);
    const labels = new Int32Array(m);
    const core = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const l: unknown = L[i];
      if (!isWhole(l, 0) || l >= k) throw new InputError(`${T}: labels[${i}] is ${show(l)}; expected a segment number from 0 to ${k - 1}`);
      labels[i] = l;
      const c: unknown = C[i];
      if (typeof c !== "number" || !Number.isFinite(c)) throw new InputError(`${T}: coreDistances[${i}] is ${show(c)}; expected a number (−1 for none)`);
      core[i] = c < 0 ? -Infinity : c;
    }
    return new ReachModel({ data, rows: m, cols: d }, labels, core, ms, metric, k);
  }
}

function isWhole(v: unknown, min: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min;
}

function show(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
