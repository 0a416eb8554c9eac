/**
 * Choosing a Gaussian mixture as R's mclust does: fit every number of components k in a range
 * with every covariance type, tabulate BIC and AIC, and recommend the lowest BIC (scikit-learn's
 * sign: lower is better; mclust plots −BIC, where higher is better). The reason says how strong
 * the evidence is on Kass & Raftery's scale of BIC differences (0–2 weak, 2–6 positive, 6–10
 * strong, more than 10 very strong) and notes the simpler models that are about as good.
 * A combination whose covariance becomes singular is recorded with its error and skipped, as
 * mclust leaves such a cell of its table empty.
 */
import { AbortError, InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../../core/matrix.js";
import {
  COVARIANCE_TYPES, type CovarianceType, GaussianMixture, type GaussianMixtureModel, mixtureParameterCount,
} from "./gaussian-mixture.js";

export type Criterion = "bic" | "aic";

export interface SelectMixtureOptions {
  /** The smallest number of components (default 1). */
  kMin?: number;
  /** The largest number of components (default 9, mclust's 1..9). */
  kMax?: number;
  /** The covariance types tried (default all four, in the order full, tied, diag, spherical). */
  covarianceTypes?: readonly CovarianceType[];
  /** GaussianMixture's options, the same for every fit. */
  nInit?: number;
  randomState?: number;
  initParams?: "kmeans" | "k-means++" | "random" | "random_from_data";
  regCovar?: number;
  tol?: number;
  maxIter?: number;
  signal?: AbortSignal;
  /** Called after every fit: fits done, fits in all, and what was fitted. */
  onProgress?: (done: number, total: number, message: string) => void;
}

/** One cell of the table: one number of components with one covariance type. */
export interface MixtureCandidate {
  k: number;
  covarianceType: CovarianceType;
  /** BIC and AIC on the data (lower is better); null when the fit failed. */
  bic: number | null;
  aic: number | null;
  /** The fit's lower bound (mean log-likelihood per row); null when it failed. */
  lowerBound: number | null;
  converged: boolean | null;
  /** Free parameters of the model (scikit-learn's _n_parameters). */
  nParameters: number;
  /** Why the fit failed (a singular covariance, more components than rows); absent when it did not. */
  error?: string;
}

/** Kass & Raftery's scale of evidence for a difference of BIC (≈ 2 ln of the Bayes factor). */
export type EvidenceStrength = "weak" | "positive" | "strong" | "very strong";

export interface MixtureChoice {
  criterion: Criterion;
  k: number;
  covarianceType: CovarianceType;
  /** The criterion's value for the choice (its BIC for `best`, its AIC for `byAic`). */
  value: number;
  bic: number;
  aic: number;
  nParameters: number;
  converged: boolean;
  /** The second lowest value of the criterion, over every other cell; null when no other cell was fitted. */
  runnerUp: { k: number; covarianceType: CovarianceType; value: number; difference: number; evidence: EvidenceStrength } | null;
  /** The other cells within 2 of the choice (weak evidence between them), lowest first. */
  withinTwo: { k: number; covarianceType: CovarianceType; value: number; nParameters: number }[];
  /** The recommendation in words. */
  reason: string;
}

export interface MixtureSelection {
  /** Every (k, covariance type) tried, k increasing then in the order of covarianceTypes. */
  table: MixtureCandidate[];
  kMin: number;
  kMax: number;
  covarianceTypes: CovarianceType[];
  rows: number;
  features: number;
  /** The recommendation: lowest BIC. */
  best: MixtureChoice;
  /** The lowest AIC, for comparison (AIC penalises parameters less, so it often picks more components). */
  byAic: MixtureChoice;
  /** The fitted model of the best cell (lowest BIC). */
  model: GaussianMixtureModel;
}

/** Kass & Raftery's words for a difference of BIC (or AIC) between two models. */
export function evidenceStrength(difference: number): EvidenceStrength {
  const d = Math.abs(difference);
  if (d <= 2) return "weak";
  if (d <= 6) return "positive";
  if (d <= 10) return "strong";
  return "very strong";
}

const EVIDENCE_RANGE: Record<EvidenceStrength, string> = {
  weak: "0–2", positive: "2–6", strong: "6–10", "very strong": "> 10",
};

const TYPE_WORDS: Record<CovarianceType, string> = {
  full: "full covariances: each segment has its own size, shape and orientation",
  tied: "tied covariances: all segments share one shape and orientation",
  diag: "diagonal covariances: each segment has its own size and shape, along the features' axes",
  spherical: "spherical covariances: each segment is round, with its own size",
};

function segments(k: number): string {
  return `${k} segment${k === 1 ? "" : "s"}`;
}

/** "1,234.5": one decimal with thousands separators, the same in every locale. */
function fmt(x: number): string {
  const s = Math.abs(x).toFixed(1);
  const [int, dec] = s.split(".");
  return (x < 0 ? "−" : "") + int.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + dec;
}

/** Ascending by value; ties by fewer parameters, then table order (kept by a stable sort). */
function ranked(table: readonly MixtureCandidate[], criterion: Criterion): MixtureCandidate[] {
  return table
    .filter((c) => c[criterion] !== null && Number.isFinite(c[criterion]))
    .slice()
    .sort((a, b) => a[criterion]! - b[criterion]! || a.nParameters - b.nParameters);
}

/**
 * The recommendation from a table of fits: the lowest value of the criterion, the runner-up
 * and how strong the evidence between them is, and the cells within 2 of it. Throws an
 * InputError when no cell was fitted.
 */
export function chooseMixture(table: readonly MixtureCandidate[], criterion: Criterion = "bic"): MixtureChoice {
  const order = ranked(table, criterion);
  const name = criterion.toUpperCase();
  if (order.length === 0) {
    const first = table.find((c) => c.error)?.error;
    throw new InputError(
      `no Gaussian mixture could be fitted for any number of segments and covariance type${first ? ` (e.g. ${first})` : ""}; `
      + "increase regCovar, lower kMax, or remove duplicate or constant features",
    );
  }
  const best = order[0];
  const value = best[criterion]!;
  const runner = order[1];
  const runnerUp = runner
    ? {
      k: runner.k, covarianceType: runner.covarianceType, value: runner[criterion]!,
      difference: runner[criterion]! - value, evidence: evidenceStrength(runner[criterion]! - value),
    }
    : null;
  const withinTwo = order.slice(1)
    .filter((c) => c[criterion]! - value <= 2)
    .map((c) => ({ k: c.k, covarianceType: c.covarianceType, value: c[criterion]!, nParameters: c.nParameters }));
  let reason = `${name} is lowest for ${segments(best.k)} with ${TYPE_WORDS[best.covarianceType]} (${name} ${fmt(value)}, ${best.nParameters} parameters)`;
  if (runnerUp) {
    const e = runnerUp.evidence;
    reason += `; the next best, ${runnerUp.k} ${runnerUp.covarianceType}, is ${fmt(runnerUp.difference)} higher: `
      + `${e} evidence by Kass & Raftery's scale (${EVIDENCE_RANGE[e]})`;
  } else {
    reason += "; it is the only combination that could be fitted";
  }
  reason += ".";
  if (withinTwo.length > 0) {
    const simplest = withinTwo.reduce((s, c) => (c.nParameters < s.nParameters ? c : s), withinTwo[0]);
    reason += ` ${withinTwo.length === 1 ? "One other model is" : `${withinTwo.length} other models are`} within 2 of it, where the data cannot tell them apart: `
      + withinTwo.map((c) => `${c.k} ${c.covarianceType} (+${fmt(c.value - value)})`).join(", ") + ".";
    if (simplest.nParameters < best.nParameters) {
      reason += ` The simplest of them, ${segments(simplest.k)} with ${simplest.covarianceType} covariances (${simplest.nParameters} parameters against ${best.nParameters}), is as good a choice if fewer parameters are preferred.`;
    }
  }
  const kMax = Math.max(...table.map((c) => c.k));
  if (best.k === kMax && table.some((c) => c.k < kMax)) {
    reason += ` It is the largest number of segments tried (${kMax}): raise kMax to see whether more segments do better.`;
  }
  const failed = table.filter((c) => c.error).length;
  if (failed > 0) reason += ` ${failed} combination${failed === 1 ? " was" : "s were"} skipped: the fit failed (see the table).`;
  if (best.converged === false) reason += " The chosen fit did not converge within maxIter: increase maxIter or tol and check again.";
  return {
    criterion, k: best.k, covarianceType: best.covarianceType, value, bic: best.bic!, aic: best.aic!,
    nParameters: best.nParameters, converged: best.converged === true, runnerUp, withinTwo, reason,
  };
}

function checkInt(name: string, v: number, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) throw new InputError(`${name} must be a whole number ≥ ${min}, got ${v}`);
}

/**
 * Fits a Gaussian mixture for every k in kMin..kMax with every covariance type, and
 * recommends the lowest BIC. Every fit uses the same options (and the same randomState).
 */
export async function selectMixture(Xin: MatrixLike, options: SelectMixtureOptions = {}): Promise<MixtureSelection> {
  const X: Matrix = toMatrix(Xin, "X");
  const kMin = options.kMin ?? 1;
  const kMax = options.kMax ?? 9;
  checkInt("kMin", kMin, 1);
  checkInt("kMax", kMax, 1);
  if (kMax < kMin) throw new InputError(`kMax (${kMax}) must be at least kMin (${kMin})`);
  if (X.rows < 2) throw new InputError(`X has ${X.rows} row${X.rows === 1 ? "" : "s"}; choosing a mixture needs at least 2`);
  const types = [...(options.covarianceTypes ?? COVARIANCE_TYPES)];
  if (types.length === 0) throw new InputError(`covarianceTypes is empty; give one or more of ${COVARIANCE_TYPES.join(", ")}`);
  for (const t of types) {
    if (!COVARIANCE_TYPES.includes(t)) throw new InputError(`covarianceTypes: unknown type "${String(t)}"; use ${COVARIANCE_TYPES.join(", ")}`);
  }
  if (new Set(types).size !== types.length) throw new InputError(`covarianceTypes lists a type twice: ${types.join(", ")}`);
  const d = X.cols;
  const total = (kMax - kMin + 1) * types.length;
  const table: MixtureCandidate[] = [];
  let bestModel: GaussianMixtureModel | null = null;
  let bestBic = Infinity;
  let bestParams = Infinity;
  let done = 0;
  for (let k = kMin; k <= kMax; k++) {
    for (const covarianceType of types) {
      if (options.signal?.aborted) throw new AbortError("the choice of the mixture was aborted");
      const nParameters = mixtureParameterCount(k, d, covarianceType);
      const cell: MixtureCandidate = { k, covarianceType, bic: null, aic: null, lowerBound: null, converged: null, nParameters };
      if (k > X.rows) {
        cell.error = `${k} components need at least ${k} rows; X has ${X.rows}`;
      } else {
        // Constructed outside the try: a bad option is the caller's mistake for every cell, not a failed fit.
        const estimator = new GaussianMixture({
          nComponents: k, covarianceType,
          ...(options.nInit !== undefined ? { nInit: options.nInit } : {}),
          ...(options.randomState !== undefined ? { randomState: options.randomState } : {}),
          ...(options.initParams !== undefined ? { initParams: options.initParams } : {}),
          ...(options.regCovar !== undefined ? { regCovar: options.regCovar } : {}),
          ...(options.tol !== undefined ? { tol: options.tol } : {}),
          ...(options.maxIter !== undefined ? { maxIter: options.maxIter } : {}),
        });
        try {
          const model = await estimator.fit(X, { signal: options.signal, onWarning: () => {} });
          const bic = model.bic(X);
          if (!Number.isFinite(bic)) throw new InputError(`the fit's BIC is ${bic}; increase regCovar`);
          cell.bic = bic;
          cell.aic = model.aic(X);
          cell.lowerBound = model.lowerBound;
          cell.converged = model.converged;
          if (bic < bestBic || (bic === bestBic && nParameters < bestParams)) {
            bestBic = bic;
            bestParams = nParameters;
            bestModel = model;
          }
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          cell.bic = cell.aic = cell.lowerBound = null;
          cell.converged = null;
          cell.error = e.message;
        }
      }
      table.push(cell);
      done++;
      options.onProgress?.(done, total, `Gaussian mixture: ${segments(k)}, ${covarianceType} covariances${cell.error ? " (failed)" : ""}`);
    }
  }
  const best = chooseMixture(table, "bic");
  const byAic = chooseMixture(table, "aic");
  return {
    table, kMin, kMax, covarianceTypes: types, rows: X.rows, features: d, best, byAic, model: bestModel!,
  };
}

/** The selection without its fitted model: plain JSON for `--json` output, the API and model files. */
export type MixtureSelectionSummary = Omit<MixtureSelection, "model">;

/** The selection as plain JSON (the table and the choices; the fitted model left out). */
export function selectionSummary(selection: MixtureSelection): MixtureSelectionSummary {
  const { model: _model, ...rest } = selection;
  return JSON.parse(JSON.stringify(rest)) as MixtureSelectionSummary;
}
