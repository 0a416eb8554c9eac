/**
 * A model file as one SELECT that scores every row of a table in the warehouse (segmenta sql):
 * the fitted preprocessing and the model, written out with the model's own numbers.
 *
 * The query is a chain of nested subqueries, one per step, each passing on the row's id:
 *   1. the input columns as the pipeline reads them: numbers (NaN and ±Infinity are missing),
 *      yes/no, true/false and 0/1 flags as 1/0, dates as epoch milliseconds turned into the
 *      time elapsed until the model's reference date, text trimmed with blanks missing;
 *   2. imputation (the fitted constants), missing-value indicators, ordinal codes (CASE);
 *   3. outlier bounds (clip, flag, or the `outlier` mark of a drop rule);
 *   4. the signed log and the power transforms (λ fixed);
 *   5. scaling, then one-hot columns (CASE, with the rare-category group and the dropped column);
 *   6. the feature selections and PCA (sums of products);
 *   7. the model's score of every segment: the squared distance to each centre (K-Means,
 *      mini-batch K-Means, agglomerative ward / centroid / median), or each component's
 *      weighted log-probability (Gaussian mixtures, through the upper-triangular factors of the
 *      precisions, so that it is sums of products);
 *   8. the segment (nearest centre, or most probable component; ties go to the one predict
 *      picks) and its name.
 * Every operation is the one predict does, in the same order, on the same doubles (literals
 * carry 17 significant digits), so that the labels are predict's. Where predict refuses a row
 * (a category unseen in training with handleUnknown "error", a value outside an ordinal
 * order, Box-Cox on a value ≤ 0), the query gives the row a NULL segment.
 *
 * Models that predict from rows kept in the model (DBSCAN: the nearest core row within eps;
 * OPTICS: the first of the minSamples nearest rows whose core distance reaches; agglomerative
 * linkages other than ward, centroid and median: the nearest training row) carry those rows in
 * the query as a literal table, with euclidean or manhattan distances: every row is compared
 * with every one of them, ranked by distance (ties: the lower row, as predict); outliers get
 * segment −1. HDBSCAN (whose predict walks the condensed tree) and cosine distances are
 * refused with a message naming the algorithm.
 */
import { InputError } from "../../core/errors.js";
import { AgglomerativeModel } from "../../cluster/agglomerative.js";
import { DBSCANModel } from "../../cluster/density/dbscan.js";
import { ReachModel } from "../../cluster/density/reach-model.js";
import { GaussianMixtureModel } from "../../cluster/mixture/gaussian-mixture.js";
import { KMeansModel } from "../../cluster/kmeans.js";
import type { LoadedModelFile } from "../model.js";
import type { Dialect } from "./dialect.js";

const DAY_MS = 86_400_000;
const YEAR_MS = 365.2425 * DAY_MS;
const EPS = 2.220446049250313e-16;
const TRUE_WORDS = ["yes", "y", "true", "t", "1", "1.0"];
const FALSE_WORDS = ["no", "n", "false", "f", "0", "0.0"];

export interface ModelSqlOptions {
  dialect: Dialect;
  /** The table to score (schema.table allowed). */
  table: string;
  /** The id column passed through; default: the model's id column; false: none (for aggregates over the scores). */
  id?: string | null | false;
  /** Add the squared distance to the nearest centre (`squared_distance`; centre models only), whose sum is the inertia. */
  distance?: boolean;
  /** Output column names (defaults: segment, segment_name, outlier). */
  segmentColumn?: string;
  nameColumn?: string;
}

/** Builds the chain of subqueries: `cols` are the next SELECT's columns (name → expression over the previous one). */
class Chain {
  private from: string;
  private depth = 0;
  cols = new Map<string, string>();

  constructor(table: string, private readonly fence: string) {
    this.from = table;
  }

  set(name: string, expr: string): void {
    this.cols.set(name, expr);
  }

  /** Closes the current SELECT; its columns are plain names in the next. */
  commit(): void {
    const list = [...this.cols].map(([k, e]) => (e === k ? k : `${e} AS ${k}`));
    this.from = `(\nSELECT\n  ${list.join(",\n  ")}\nFROM ${this.from}${this.depth ? ` AS l${this.depth}` : " AS t"}${this.fence}\n)`;
    this.depth++;
    this.cols = new Map([...this.cols.keys()].map((k) => [k, k]));
  }

  /** The current FROM (the last SELECT, in parentheses) and its alias. */
  get source(): string {
    return `${this.from} AS l${this.depth}`;
  }

  /** Makes `select` (over this.source) the next SELECT, its columns `names`. */
  wrap(select: string, names: string[]): void {
    this.from = `(\n${select}${this.fence}\n)`;
    this.depth++;
    this.cols = new Map(names.map((k) => [k, k]));
  }

  final(list: string[]): string {
    return `SELECT\n  ${list.join(",\n  ")}\nFROM ${this.from} AS l${this.depth}`;
  }
}

/** What scores a row against each segment: centres (smallest squared distance wins) or a Gaussian mixture (largest weighted log-probability). */
type Scorer =
  | { kind: "centers"; centers: Float64Array; k: number; d: number; relabel: Int32Array | null }
  | { kind: "gmm"; model: GaussianMixtureModel; relabel: Int32Array | null }
  /** The label of the nearest reference row (ties: the lower row); with eps (DBSCAN's core rows), −1 beyond it. */
  | {
    kind: "nearest"; rows: Float64Array; labels: Int32Array; n: number; d: number; manhattan: boolean; eps: number | null; relabel: Int32Array | null;
    /** OPTICS: the first of the k nearest rows whose core distance reaches the row gives its segment, else −1. */
    reach?: { core: Float64Array; k: number };
  };

function scorerOf(m: LoadedModelFile): Scorer {
  const inner = m.model.inner;
  const relabel = m.model.relabel;
  if (inner instanceof KMeansModel) return { kind: "centers", centers: inner.clusterCenters.data, k: inner.clusterCenters.rows, d: inner.clusterCenters.cols, relabel };
  if (inner instanceof GaussianMixtureModel) return { kind: "gmm", model: inner, relabel };
  if (inner instanceof AgglomerativeModel && inner.clusterCenters) {
    return { kind: "centers", centers: inner.clusterCenters.data, k: inner.clusterCenters.rows, d: inner.clusterCenters.cols, relabel };
  }
  // Nearest training row (agglomerative) or nearest core row within eps (DBSCAN): the rows go into the query.
  if (inner instanceof AgglomerativeModel && inner.trainingData && (inner.metric === "euclidean" || inner.metric === "manhattan")) {
    const T = inner.trainingData;
    return { kind: "nearest", rows: T.data, labels: inner.labels, n: T.rows, d: T.cols, manhattan: inner.metric === "manhattan", eps: null, relabel };
  }
  if (inner instanceof DBSCANModel && (inner.metric === "euclidean" || inner.metric === "manhattan")) {
    const C = inner.components;
    return { kind: "nearest", rows: C.data, labels: inner.coreLabels, n: C.rows, d: C.cols, manhattan: inner.metric === "manhattan", eps: inner.eps, relabel };
  }
  if (inner instanceof ReachModel && (inner.metric === "euclidean" || inner.metric === "manhattan")) {
    const R = inner.rows;
    return {
      kind: "nearest", rows: R.data, labels: inner.labels, n: R.rows, d: R.cols, manhattan: inner.metric === "manhattan", eps: null, relabel,
      reach: { core: inner.coreDistances, k: Math.min(inner.minSamples, R.rows) },
    };
  }
  const why = inner instanceof AgglomerativeModel || inner instanceof DBSCANModel || inner instanceof ReachModel
    ? `${m.model.algorithmName} with the ${inner.metric} metric has no query here (the nearest-row rules are written for euclidean and manhattan distances)`
    : `${m.model.algorithmName} gives a new row its segment by ${m.model.predictRule ?? "its predict rule"}, which this version does not write as SQL`;
  throw new InputError(`segmenta sql: ${why}; score with segmenta predict, or fit a model that scores by centres (kmeans, minibatch-kmeans, agglomerative with ward linkage, gmm) or DBSCAN / OPTICS with a euclidean or manhattan metric`);
}

/** The SELECT scoring every row of `table` with the model. */
export function modelSql(m: LoadedModelFile, o: ModelSqlOptions): string {
  const dl = o.dialect;
  const scorer = scorerOf(m);
  const id = o.id === false ? null : o.id ?? m.file.idColumn;
  if (!id && o.id !== false) {
    throw new InputError("segmenta sql: the model has no id column; name the table's id column with --id COLUMN so that each score can be joined back to its row");
  }
  const P = m.pipeline.toJSON();
  const num = dl.num;
  const one = num(1);
  const zero = num(0);
  const q = new Chain(dl.table(o.table), dl.fence);
  if (id) q.set("sg_id", dl.ident(id));

  // 1. Inputs as the pipeline reads them.
  const names = P.numeric.names;
  const dates = P.dates ? { asOf: Date.parse(P.dates.asOf), columns: P.dates.columns } : null;
  const text = (name: string): string => `NULLIF(TRIM(${dl.toText(dl.ident(name))}), '')`;
  names.forEach((name, j) => {
    const c = dl.ident(name);
    const kind = P.numeric.kinds[j];
    let x = kind === "datetime" ? dl.epochMs(c)
      : kind === "boolean" ? `CASE WHEN LOWER(TRIM(${dl.toText(c)})) IN (${TRUE_WORDS.map(dl.str).join(", ")}) THEN ${one} WHEN LOWER(TRIM(${dl.toText(c)})) IN (${FALSE_WORDS.map(dl.str).join(", ")}) THEN ${zero} END`
      : dl.finite(dl.toDouble(c));
    const date = dates?.columns.find((d) => d.name === name);
    if (date && dates) {
      x = date.from === "year" ? `${num(new Date(dates.asOf).getUTCFullYear())} - ${x}` : `(${num(dates.asOf)} - ${x}) / ${num(date.unit === "years" ? YEAR_MS : DAY_MS)}`;
    }
    q.set(`sg_r${j}`, x);
  });
  P.ordinal.forEach((c, t) => q.set(`sg_o${t}`, text(c.name)));
  P.categorical.forEach((c, t) => q.set(`sg_c${t}`, text(c.name)));
  q.commit();

  // 2. Imputation, indicators, ordinal codes.
  const imp = P.numeric.imputer;
  names.forEach((name, j) => {
    const s = imp ? imp.statistics[j] : undefined;
    if (s === null) throw new InputError(`segmenta sql: the model's imputer drops the column "${name}" (no value at fit); fit the model again without it`);
    q.set(`sg_v${j}`, s === undefined ? `sg_r${j}` : `COALESCE(sg_r${j}, ${num(s)})`);
  });
  for (const j of imp?.indicatorFeatures ?? []) q.set(`sg_m${j}`, `CASE WHEN sg_r${j} IS NULL THEN ${one} ELSE ${zero} END`);
  names.forEach((_, j) => q.cols.delete(`sg_r${j}`));
  P.ordinal.forEach((c, t) => {
    const v = `COALESCE(sg_o${t}, ${dl.str(c.impute)})`;
    q.set(`sg_o${t}`, `CASE ${v} ${c.categories.map((x, i) => `WHEN ${dl.str(x)} THEN ${num(i)}`).join(" ")} END`);
  });
  P.categorical.forEach((c, t) => q.set(`sg_c${t}`, `COALESCE(sg_c${t}, ${dl.str(c.impute)})`));
  q.commit();

  // 3. Outliers (on the imputed values).
  let flag = false;
  let dropMark = false;
  if (P.outliers) {
    const { columns, model } = P.outliers;
    const idx = columns.map((c) => names.indexOf(c));
    const outside = idx.map((j, t) => `sg_v${j} < ${num(model.lower[t])} OR sg_v${j} > ${num(model.upper[t])}`).join(" OR ");
    if (model.action === "clip") {
      idx.forEach((j, t) => q.set(`sg_v${j}`, `CASE WHEN sg_v${j} < ${num(model.lower[t])} THEN ${num(model.lower[t])} WHEN sg_v${j} > ${num(model.upper[t])} THEN ${num(model.upper[t])} ELSE sg_v${j} END`));
    } else if (model.action === "flag") {
      q.set("sg_flag", `CASE WHEN ${outside} THEN ${one} ELSE ${zero} END`);
      flag = true;
    } else {
      q.set("sg_outlier", `CASE WHEN ${outside} THEN 1 ELSE 0 END`);
      dropMark = true;
    }
    q.commit();
  }

  // 4. Signed log, power transforms.
  const log1p = (x: string): string => dl.ln(`1 + ${x}`);
  let transformed = false;
  for (const name of P.options.log1p) {
    const j = names.indexOf(name);
    q.set(`sg_v${j}`, `CASE WHEN sg_v${j} < 0 THEN -${dl.ln(`1 - sg_v${j}`)} ELSE ${log1p(`sg_v${j}`)} END`);
    transformed = true;
  }
  if (P.power) {
    const pm = P.power.model;
    P.power.columns.forEach((name, t) => {
      const j = names.indexOf(name);
      const v = `sg_v${j}`;
      const l = pm.lambdas[t];
      let y: string;
      if (pm.method === "yeo-johnson") {
        const pos = Math.abs(l) < EPS ? log1p(v) : `(${dl.pow(`${v} + 1`, num(l))} - 1) / ${num(l)}`;
        const neg = Math.abs(l - 2) > EPS ? `-(${dl.pow(`-${v} + 1`, num(2 - l))} - 1) / ${num(2 - l)}` : `-${dl.ln(`1 - ${v}`)}`;
        y = `CASE WHEN ${v} >= 0 THEN ${pos} ELSE ${neg} END`;
      } else {
        y = `CASE WHEN ${v} > 0 THEN ${Math.abs(l) < EPS ? dl.ln(v) : `(${dl.pow(v, num(l))} - 1) / ${num(l)}`} END`;
      }
      if (pm.mean && pm.scale) y = `(${y} - ${num(pm.mean[t])}) / ${num(pm.scale[t])}`;
      q.set(`sg_v${j}`, y);
    });
    transformed = true;
  }
  if (transformed) q.commit();

  // 5. Scaling, then the encoded features in the pipeline's order.
  const scaled = [...names.map((_, j) => `sg_v${j}`), ...P.ordinal.map((_, t) => `sg_o${t}`)];
  const encoded: string[] = [];
  scaled.forEach((col, j) => {
    encoded.push(P.scaler ? `(${col} - ${num(P.scaler.center[j])}) / ${num(P.scaler.scale[j])}` : col);
  });
  for (const j of imp?.indicatorFeatures ?? []) encoded.push(`sg_m${j}`);
  if (flag) encoded.push("sg_flag");
  P.categorical.forEach((c, t) => {
    const e = c.encoder;
    const v = `sg_c${t}`;
    const cats = e.categories[0];
    const inf = e.infrequent[0] ?? [];
    const handle = e.options.handleUnknown ?? "error";
    const frequent = cats.filter((x) => !inf.includes(x));
    const outputs: { label: string; when: string }[] = frequent.map((x) => ({ label: x, when: `${v} = ${dl.str(x)}` }));
    if (inf.length) {
      const unknown = handle === "infrequent_if_exist" ? ` OR ${v} NOT IN (${cats.map(dl.str).join(", ")})` : "";
      outputs.push({ label: "infrequent", when: `${v} IN (${inf.map(dl.str).join(", ")})${unknown}` });
    }
    const dropped = e.dropped[0];
    const refuse = handle === "error" ? `WHEN ${v} NOT IN (${cats.map(dl.str).join(", ")}) THEN NULL ` : "";
    outputs.forEach((out, i) => {
      if (i !== dropped) encoded.push(`CASE ${refuse}WHEN ${out.when} THEN ${one} ELSE ${zero} END`);
    });
  });
  const keep = new Set([...(id ? ["sg_id"] : []), ...(dropMark ? ["sg_outlier"] : [])]);
  for (const k of [...q.cols.keys()]) if (!keep.has(k)) q.cols.delete(k);
  encoded.forEach((e, i) => q.set(`sg_e${i}`, e));
  q.commit();

  // 6. Feature selections and PCA.
  let features = encoded.map((_, i) => `sg_e${i}`);
  for (const f of P.selection) features = features.filter((_, i) => f.support[i]);
  if (P.pca) {
    const pca = P.pca;
    const out = pca.components.map((row, c) => {
      const s = row.map((w, j) => `(${features[j]} - ${num(pca.mean[j])}) * ${num(w)}`).join(" + ");
      return pca.whiten ? `(${s}) / ${num(Math.sqrt(pca.explainedVariance[c]))}` : s;
    });
    for (const k of [...q.cols.keys()]) if (!keep.has(k)) q.cols.delete(k);
    out.forEach((e, c) => q.set(`sg_f${c}`, e));
    q.commit();
    features = out.map((_, c) => `sg_f${c}`);
  }
  const d = features.length;
  if (d !== m.model.nFeatures) throw new InputError(`segmenta sql: the preprocessing makes ${d} features but the model takes ${m.model.nFeatures}; fit the model again`);

  // 7. Scores, and 8. the segment.
  for (const k of [...q.cols.keys()]) if (!keep.has(k)) q.cols.delete(k);
  if (scorer.kind === "nearest") return nearestSql(q, scorer, features, m, dl, id, o, dropMark);
  let order: { col: string; segment: number }[];
  let best: "LEAST" | "GREATEST";
  if (scorer.kind === "centers") {
    const { centers: C, k, relabel } = scorer;
    for (let c = 0; c < k; c++) {
      q.set(`sg_s${c}`, features.map((f, j) => `(${f} - ${num(C[c * d + j])}) * (${f} - ${num(C[c * d + j])})`).join(" + "));
    }
    // predict: the lowest centre index among the nearest, then its segment number.
    order = Array.from({ length: k }, (_, c) => ({ col: `sg_s${c}`, segment: relabel ? relabel[c] : c }));
    best = "LEAST";
  } else if (scorer.kind === "gmm") {
    const g = scorer.model;
    const k = g.nComponents;
    const { kprec, bias, muU } = g as unknown as { kprec: Float64Array; bias: Float64Array; muU: Float64Array };
    const mu = g.means.data;
    const t = g.covarianceType;
    const m2 = (d * (d + 1)) / 2;
    const z = (c: number, j: number): string => `(${features[j]} - ${num(mu[c * d + j])})`;
    if (t === "tied") {
      // x U once (U: the shared upper factor), then ‖x U − μₖ U‖² per component.
      let p = 0;
      for (let j = 0; j < d; j++) {
        const terms: string[] = [];
        for (let i = 0; i <= j; i++) terms.push(`${features[i]} * ${num(kprec[p++])}`);
        q.set(`sg_u${j}`, terms.join(" + "));
      }
      q.commit();
      for (let j = 0; j < d; j++) q.cols.delete(`sg_u${j}`);
      for (let c = 0; c < k; c++) {
        const qsum = Array.from({ length: d }, (_, j) => `(sg_u${j} - ${num(muU[c * d + j])}) * (sg_u${j} - ${num(muU[c * d + j])})`).join(" + ");
        q.set(`sg_s${c}`, `${num(bias[c])} - ${num(0.5)} * (${qsum})`);
      }
    } else if (t === "full") {
      // y = (x − μₖ) Uₖ per component, then ‖y‖².
      for (let c = 0; c < k; c++) {
        let p = c * m2;
        for (let j = 0; j < d; j++) {
          const terms: string[] = [];
          for (let i = 0; i <= j; i++) terms.push(`${z(c, i)} * ${num(kprec[p++])}`);
          q.set(`sg_y${c}_${j}`, terms.join(" + "));
        }
      }
      q.commit();
      for (const key of [...q.cols.keys()]) if (key.startsWith("sg_y")) q.cols.delete(key);
      for (let c = 0; c < k; c++) {
        const qsum = Array.from({ length: d }, (_, j) => `sg_y${c}_${j} * sg_y${c}_${j}`).join(" + ");
        q.set(`sg_s${c}`, `${num(bias[c])} - ${num(0.5)} * (${qsum})`);
      }
    } else if (t === "diag") {
      for (let c = 0; c < k; c++) {
        const qsum = Array.from({ length: d }, (_, j) => `${z(c, j)} * ${z(c, j)} * ${num(kprec[c * d + j])}`).join(" + ");
        q.set(`sg_s${c}`, `${num(bias[c])} - ${num(0.5)} * (${qsum})`);
      }
    } else {
      for (let c = 0; c < k; c++) {
        const qsum = Array.from({ length: d }, (_, j) => `${z(c, j)} * ${z(c, j)}`).join(" + ");
        q.set(`sg_s${c}`, `${num(bias[c])} - ${num(0.5)} * ((${qsum}) * ${num(kprec[c])})`);
      }
    }
    // predict: the most probable segment, the lowest segment number on ties.
    const r = scorer.relabel;
    order = Array.from({ length: k }, (_, s) => {
      const c = r ? r.indexOf(s) : s;
      return { col: `sg_s${c}`, segment: s };
    });
    best = "GREATEST";
  } else throw new Error("unreachable");
  q.commit();
  if (order.length > 1) {
    q.set("sg_best", `${best}(${order.map((x) => x.col).join(", ")})`);
    q.commit();
  }
  const label = order.length > 1
    ? `CASE ${order.map((x) => `WHEN ${x.col} = sg_best THEN ${x.segment}`).join(" ")} END`
    : `CASE WHEN ${order[0].col} IS NOT NULL THEN 0 END`;
  if (o.distance && scorer.kind !== "centers") throw new InputError("segmenta sql: distances to a centre are for models with centres (K-Means, ward); this model is a Gaussian mixture");
  const dist = order.length > 1 ? "sg_best" : order[0].col;
  for (const k of [...q.cols.keys()]) if (!keep.has(k) && !(o.distance && k === dist)) q.cols.delete(k);
  q.set("sg_label", label);
  // Gaussian mixtures: the probability of the segment given, 1 / Σ exp(wₖ − w_best) (the components in their own order, as predict
  // sums them). Terms below e^−700 add nothing to a sum ≥ 1 and are 0 here (PostgreSQL's exp fails on underflow).
  const gmmK = scorer.kind === "gmm" ? scorer.model.nComponents : 0;
  const term = (c: number): string => `CASE WHEN sg_s${c} - sg_best < -700 THEN 0 ELSE EXP(sg_s${c} - sg_best) END`;
  if (gmmK > 1) q.set("sg_prob", `1 / (${Array.from({ length: gmmK }, (_, c) => term(c)).join(" + ")})`);
  q.commit();
  const k = m.model.nClusters;
  const segNames = Array.from({ length: k }, (_, c) => m.file.segments?.[c]?.name || `Segment ${c}`);
  const nameCase = `CASE sg_label ${segNames.map((n, c) => `WHEN ${c} THEN ${dl.str(n)}`).join(" ")} END`;
  return q.final([
    ...(id ? [`sg_id AS ${dl.ident(id)}`] : []),
    `sg_label AS ${dl.ident(o.segmentColumn ?? "segment")}`,
    `${nameCase} AS ${dl.ident(o.nameColumn ?? "segment_name")}`,
    ...(dropMark ? [`sg_outlier AS ${dl.ident("outlier")}`] : []),
    ...(o.distance ? [`${dist} AS ${dl.ident("squared_distance")}`] : []),
    ...(gmmK > 1 ? [`sg_prob AS ${dl.ident("probability")}`] : []),
  ]);
}

/**
 * The tail of a nearest-row model: every row against every reference row (a literal table in
 * the query), ranked by distance (squared for euclidean, as predict ranks them; ties: the lower
 * reference row), the first kept; DBSCAN's eps compares the distance itself.
 */
function nearestSql(
  q: Chain, s: Extract<Scorer, { kind: "nearest" }>, features: string[], m: LoadedModelFile, dl: Dialect, id: string | null, o: ModelSqlOptions, dropMark: boolean,
): string {
  if (o.distance) throw new InputError("segmenta sql: distances to a centre are for models with centres (K-Means, ward)");
  const { rows, labels, n, d } = s;
  for (const f of features) q.set(f, f);
  q.set("sg_row", "ROW_NUMBER() OVER ()");
  q.commit();
  const pnames = Array.from({ length: d }, (_, j) => `sg_p${j}`);
  const reach = s.reach;
  const core = (i: number): string => dl.num(Number.isFinite(reach!.core[i]) ? reach!.core[i] : -1);
  const extra = reach ? ["sg_core"] : [];
  const table = dl.values(
    Array.from({ length: n }, (_, i) => [String(i), String(labels[i]), ...(reach ? [core(i)] : []), ...Array.from({ length: d }, (_, j) => dl.num(rows[i * d + j]))]),
    ["sg_i", "sg_lab", ...extra, ...pnames], "r",
  );
  const dist = features.map((f, j) => (s.manhattan ? `abs(${f} - sg_p${j})` : `(${f} - sg_p${j}) * (${f} - sg_p${j})`)).join(" + ");
  const carry = [...(id ? ["sg_id"] : []), ...(dropMark ? ["sg_outlier"] : []), "sg_row"];
  q.wrap(`SELECT\n  ${[...carry, "sg_lab", "sg_i", ...extra, `${dist} AS sg_dist`].join(",\n  ")}\nFROM ${q.source} CROSS JOIN ${table}`, [...carry, "sg_lab", "sg_i", ...extra, "sg_dist"]);
  q.wrap(`SELECT\n  ${[...carry, "sg_lab", ...extra, "sg_dist", "ROW_NUMBER() OVER (PARTITION BY sg_row ORDER BY sg_dist, sg_i) AS sg_rank"].join(",\n  ")}\nFROM ${q.source}`, [...carry, "sg_lab", ...extra, "sg_dist", "sg_rank"]);
  const r = s.relabel;
  const seg = r ? `CASE sg_lab ${Array.from(r, (x, c) => `WHEN ${c} THEN ${x}`).join(" ")} END` : "sg_lab";
  const measured = s.manhattan ? "sg_dist" : "sqrt(sg_dist)";
  let label: string;
  if (reach) {
    // predict: the first of the k nearest rows (by distance, then row) whose core distance reaches.
    q.wrap(`SELECT\n  ${[...carry, "sg_lab", `CASE WHEN sg_rank <= ${reach.k} AND ${measured} <= sg_core THEN 0 ELSE 1 END AS sg_miss`, "sg_rank"].join(",\n  ")}\nFROM ${q.source}`, [...carry, "sg_lab", "sg_miss", "sg_rank"]);
    q.wrap(`SELECT\n  ${[...carry, "sg_lab", "sg_miss", "ROW_NUMBER() OVER (PARTITION BY sg_row ORDER BY sg_miss, sg_rank) AS sg_rank"].join(",\n  ")}\nFROM ${q.source}`, [...carry, "sg_lab", "sg_miss", "sg_rank"]);
    label = `CASE WHEN sg_miss = 0 THEN ${seg} ELSE -1 END`;
  } else {
    const within = s.eps === null ? null : `${measured} <= ${dl.num(s.eps)}`;
    label = within ? `CASE WHEN ${within} THEN ${seg} ELSE -1 END` : seg;
  }
  q.wrap(`SELECT\n  ${[...carry.filter((c) => c !== "sg_row"), `${label} AS sg_label`].join(",\n  ")}\nFROM ${q.source}\nWHERE sg_rank = 1`, [...carry.filter((c) => c !== "sg_row"), "sg_label"]);
  const k = m.model.nClusters;
  const segNames = Array.from({ length: k }, (_, c) => m.file.segments?.[c]?.name || `Segment ${c}`);
  const noise = m.model.hasNoise ? ` WHEN -1 THEN ${dl.str(m.file.noise?.name ?? "Outliers")}` : "";
  const nameCase = `CASE sg_label ${segNames.map((nm, c) => `WHEN ${c} THEN ${dl.str(nm)}`).join(" ")}${noise} END`;
  return q.final([
    ...(id ? [`sg_id AS ${dl.ident(id)}`] : []),
    `sg_label AS ${dl.ident(o.segmentColumn ?? "segment")}`,
    `${nameCase} AS ${dl.ident(o.nameColumn ?? "segment_name")}`,
    ...(dropMark ? [`sg_outlier AS ${dl.ident("outlier")}`] : []),
  ]);
}
