/**
 * The Gaussian-mixture step of a segmentation: the number of segments and the covariance
 * type given, or chosen by BIC over kRange × the four types (as R's mclust does), the fit,
 * and what soft segments need downstream: every customer's probability of every segment
 * (in segment numbering, segments numbered from the largest), the probability of the
 * assigned one, and the customers between segments.
 */
import { COVARIANCE_TYPES, type CovarianceType, GaussianMixture, type GaussianMixtureModel } from "../cluster/mixture/gaussian-mixture.js";
import { selectionSummary, selectMixture, type MixtureSelectionSummary } from "../cluster/mixture/select.js";
import { type BetweenSegments, betweenSegments } from "../cluster/mixture/uncertainty.js";
import type { Matrix } from "../core/matrix.js";
import type { SegmentationConfig } from "./config.js";
import { InputError } from "../core/errors.js";
import type { OptionNames } from "./run.js";
import { bySize } from "./density.js";
import { Segmenter } from "./segmenter.js";

export interface MixtureInfo {
  covarianceType: CovarianceType;
  converged: boolean;
  nIter: number;
  /** Mean log-likelihood per row of the best initialisation (scikit-learn's lower_bound_). */
  lowerBound: number;
  bic: number;
  aic: number;
  nParameters: number;
  /** Every row's probability of every segment (rows × k, segment numbering). */
  probabilities: Matrix;
  /** Every row's probability of its assigned segment. */
  maxProbability: Float64Array;
  /** The customers whose top probability is below 0.6, by the pair of segments they sit between (segment numbering). */
  between: BetweenSegments;
  /** With k "auto": BIC and AIC of every k × covariance type tried, and the choice with its reason. */
  selection: MixtureSelectionSummary | null;
}

export interface MixtureFit {
  model: Segmenter;
  labels: Int32Array;
  k: number;
  info: MixtureInfo;
}

export interface MixtureHooks {
  onProgress?: (message: string, fraction?: number) => void;
  signal?: AbortSignal;
  optionNames?: OptionNames;
}

/** Initialisations of the final fit: the configuration's nInit, at most 5 (each is a K-Means run and an EM). */
export function mixtureNInit(config: SegmentationConfig): number {
  return Math.min(config.nInit, 5);
}

export async function fitMixture(
  X: Matrix, config: SegmentationConfig, kRange: { min: number; max: number } | null, hooks: MixtureHooks, warn: (m: string) => void,
): Promise<MixtureFit> {
  let k: number;
  let type: CovarianceType;
  let selection: MixtureSelectionSummary | null = null;
  if (kRange) {
    const sel = await selectMixture(X, {
      kMin: kRange.min, kMax: kRange.max, covarianceTypes: config.covarianceType ? [config.covarianceType] : COVARIANCE_TYPES,
      randomState: config.seed, tol: config.tol, regCovar: config.regCovar, nInit: mixtureNInit(config), signal: hooks.signal,
      onProgress: (done, total, message) => hooks.onProgress?.(`choosing the mixture by BIC: ${message}`, done / total),
    });
    selection = selectionSummary(sel);
    k = sel.best.k;
    type = sel.best.covarianceType;
  } else {
    k = config.k as number;
    type = config.covarianceType ?? "full";
  }
  const nInit = mixtureNInit(config);
  const gm: GaussianMixtureModel = await fitOne(X, config, k, type, nInit, hooks, warn);
  const { labels, relabel } = bySize(gm.labels);
  const raw = gm.predictProba(X);
  const probabilities = permuteColumns(raw, relabel);
  const maxProbability = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) maxProbability[i] = probabilities.data[i * k + labels[i]];
  let segments = 0;
  for (const l of labels) if (l + 1 > segments) segments = l + 1;
  if (segments < k) warn(`the mixture has ${k} components but only ${segments} are the most probable for some customer: ${k - segments} segments are empty`);
  return {
    model: new Segmenter(gm, relabel),
    labels,
    k,
    info: {
      covarianceType: type, converged: gm.converged, nIter: gm.nIter, lowerBound: gm.lowerBound, bic: gm.bic(X), aic: gm.aic(X), nParameters: gm.nParameters,
      probabilities, maxProbability, between: betweenSegments(probabilities), selection,
    },
  };
}

/** P with column c moved to relabel[c]. */
export function permuteColumns(P: Matrix, relabel: Int32Array): Matrix {
  const { rows, cols } = P;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) out[i * cols + relabel[c]] = P.data[i * cols + c];
  return { data: out, rows, cols };
}

/** The final fit; a singular covariance's message names the caller's options (--reg-covar, --k on the command line). */
async function fitOne(
  X: Matrix, config: SegmentationConfig, k: number, type: CovarianceType, nInit: number, hooks: MixtureHooks, warn: (m: string) => void,
): Promise<GaussianMixtureModel> {
  try {
    return await new GaussianMixture({
      nComponents: k, covarianceType: type, nInit, randomState: config.seed, tol: config.tol, regCovar: config.regCovar,
      maxIter: config.maxIter === 300 ? 100 : config.maxIter,
    }).fit(X, {
      signal: hooks.signal, onWarning: warn,
      onProgress: (p) => hooks.onProgress?.(
        `Gaussian mixture (${k} segments, ${type} covariances): initialisation ${p.init + 1}/${p.nInit}, iteration ${p.iteration}`, (p.init + Math.min(1, p.iteration / 100)) / p.nInit,
      ),
    });
  } catch (e) {
    if (!(e instanceof InputError) || hooks.optionNames !== "cli") throw e;
    throw new InputError(e.message.replace(/\bregCovar\b/g, "--reg-covar").replace(/\bnComponents\b/g, "--k"));
  }
}
