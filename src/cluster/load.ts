import { InputError } from "../core/errors.js";
import { type AgglomerativeJSON, AgglomerativeModel } from "./agglomerative.js";
import { centersFromJSON, type KMeansJSON, KMeansModel, showJSONValue } from "./kmeans.js";
import { type MiniBatchKMeansJSON, MiniBatchKMeansModel } from "./minibatch-kmeans.js";
import { type DBSCANJSON, DBSCANModel } from "./density/dbscan.js";
import { type ReachModelJSON, ReachModel } from "./density/reach-model.js";
import { type HDBSCANJSON, HDBSCANModel } from "./density/hdbscan.js";
import { type GaussianMixtureJSON, GaussianMixtureModel } from "./mixture/gaussian-mixture.js";

export type ModelJSON = KMeansJSON | MiniBatchKMeansJSON | AgglomerativeJSON | DBSCANJSON | HDBSCANJSON | ReachModelJSON | GaussianMixtureJSON;
export type FittedModel = KMeansModel | MiniBatchKMeansModel | AgglomerativeModel | DBSCANModel | HDBSCANModel | ReachModel | GaussianMixtureModel;

/**
 * Restores a fitted model from its `toJSON()` output. Every field the model relies on is
 * checked first (shapes, finite numbers, fields that must agree), so that an edited or
 * damaged JSON is refused with an InputError naming the field instead of scoring rows wrongly.
 */
export function loadModel(json: unknown): FittedModel {
  const t = (json as { type?: unknown } | null)?.type;
  switch (t) {
    case "KMeans":
      return KMeansModel.fromJSON(json as KMeansJSON);
    case "MiniBatchKMeans":
      return MiniBatchKMeansModel.fromJSON(json as MiniBatchKMeansJSON);
    case "AgglomerativeClustering":
      checkAgglomerativeJSON(json as AgglomerativeJSON);
      return AgglomerativeModel.fromJSON(json as AgglomerativeJSON);
    case "DBSCAN":
      return DBSCANModel.fromJSON(json as DBSCANJSON);
    case "HDBSCAN":
      return HDBSCANModel.fromJSON(json as HDBSCANJSON);
    case "GaussianMixture":
      return GaussianMixtureModel.fromJSON(json as GaussianMixtureJSON);
    case "OPTICS":
      return ReachModel.fromJSON(json as ReachModelJSON);
    default:
      throw new InputError(`unknown model type ${JSON.stringify(t)}; expected one of: KMeans, MiniBatchKMeans, AgglomerativeClustering, DBSCAN, HDBSCAN, OPTICS, GaussianMixture`);
  }
}

const AGG = "AgglomerativeClustering";
const CENTROID_LINKAGES = ["ward", "centroid", "median"];

/**
 * Checks an AgglomerativeClustering JSON: n labels numbered 0…k−1 (each used), an (n−1) × 4
 * linkage matrix of merges in scipy's format, and what predict uses: k cluster means of
 * nFeatures values (ward, centroid, median) or the n training rows (other linkages).
 */
export function checkAgglomerativeJSON(json: AgglomerativeJSON): void {
  const j = json as unknown as Record<string, unknown>;
  const labels = j.labels;
  if (!Array.isArray(labels) || labels.length === 0) throw new InputError(`${AGG} model: labels is ${showJSONValue(labels)}; expected one cluster number per training row`);
  const n = labels.length;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const l: unknown = labels[i];
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0 || l >= n) {
      throw new InputError(`${AGG} model: label ${i} is ${showJSONValue(l)}; expected a cluster number from 0 to ${n - 1}`);
    }
    if (l + 1 > k) k = l + 1;
  }
  const used = new Uint8Array(k);
  for (let i = 0; i < n; i++) used[labels[i] as number] = 1;
  const unused = used.indexOf(0);
  if (unused >= 0) throw new InputError(`${AGG} model: no training row has cluster ${unused} although the labels go up to ${k - 1}`);
  if (j.nSamples !== undefined && j.nSamples !== n) throw new InputError(`${AGG} model: nSamples is ${showJSONValue(j.nSamples)} but there are ${n} labels`);
  const d = j.nFeatures;
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new InputError(`${AGG} model: nFeatures is ${showJSONValue(d)}; expected a whole number ≥ 1`);
  const t = j.distanceThreshold;
  if (t !== undefined && t !== null && (typeof t !== "number" || !Number.isFinite(t))) {
    throw new InputError(`${AGG} model: distanceThreshold is ${showJSONValue(t)}; expected a finite number or null`);
  }
  const Z = j.linkageMatrix;
  if (!Array.isArray(Z) || Z.length !== n - 1) {
    throw new InputError(`${AGG} model: linkageMatrix has ${Array.isArray(Z) ? `${Z.length} ${Z.length === 1 ? "merge" : "merges"}` : showJSONValue(Z)} but ${n} training rows need ${n - 1}`);
  }
  for (let m = 0; m < n - 1; m++) {
    const row = numberRow(Z[m], 4, `linkageMatrix row ${m}`);
    const [a, b, h, size] = row;
    const isNode = (x: number) => Number.isInteger(x) && x >= 0 && x < n + m;
    if (!isNode(a) || !isNode(b) || a === b) {
      throw new InputError(`${AGG} model: linkageMatrix row ${m} merges ${a} and ${b}; expected two different earlier clusters (whole numbers below ${n + m})`);
    }
    if (h < 0) throw new InputError(`${AGG} model: linkageMatrix row ${m} has height ${h}; merge heights are ≥ 0`);
    if (!Number.isInteger(size) || size < 2 || size > n) throw new InputError(`${AGG} model: linkageMatrix row ${m} has size ${size}; expected a whole number from 2 to ${n}`);
  }
  if (CENTROID_LINKAGES.includes(String(j.linkage))) {
    if (j.clusterCenters === undefined) throw new InputError(`${AGG} model: clusterCenters is missing; ${String(j.linkage)} linkage predicts by the nearest cluster mean`);
    centersFromJSON({ nClusters: k, nFeatures: d, clusterCenters: j.clusterCenters }, AGG);
  } else if (j.metric !== "precomputed") {
    const T = j.trainingData;
    if (!Array.isArray(T) || T.length !== n) {
      throw new InputError(`${AGG} model: trainingData has ${Array.isArray(T) ? `${T.length} ${T.length === 1 ? "row" : "rows"}` : showJSONValue(T)} but there are ${n} labels; ${String(j.linkage)} linkage predicts by the nearest training row`);
    }
    for (let i = 0; i < n; i++) numberRow(T[i], d, `trainingData row ${i}`);
  }
}

/** A row of `width` finite numbers, or an InputError naming it. */
function numberRow(row: unknown, width: number, what: string): number[] {
  if (!Array.isArray(row) || row.length !== width) {
    throw new InputError(`${AGG} model: ${what} has ${Array.isArray(row) ? `${row.length} ${row.length === 1 ? "value" : "values"}` : showJSONValue(row)}; expected ${width} numbers`);
  }
  for (let c = 0; c < width; c++) {
    const v: unknown = row[c];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`${AGG} model: ${what}, value ${c} is ${showJSONValue(v)}; expected a finite number`);
  }
  return row as number[];
}
