/**
 * The preprocessing plan: which steps run on which columns, and why. With plan "auto" the
 * steps are picked from the data: skewed columns are made more symmetric, rare categories grouped, two-valued categories kept as one column,
 * near-duplicate numeric features dropped, and missing-value indicators added where much is
 * missing. Ids and unusable columns were already left out by the feature choice.
 *
 * Skew: a long tail of large values is compressed with log1p when the column has no negative
 * values, with the signed log1p sign(x)·log1p(|x|) when it has a few (net spend after returns),
 * and with Yeo-Johnson when negatives are common. A long tail of small values (left skew) gets
 * Yeo-Johnson, whose λ above 1 pulls that tail in (a log would lengthen it). Each choice is
 * checked on the training values: a transform is kept only when it cuts |skewness| by at least
 * a tenth (or brings it within the limit); otherwise the next one is tried, and a column no
 * transform helps (typically one value in most rows, such as a sentinel 999) is left as it is,
 * and the plan says why.
 */
import { type Dataset, isNumericKind } from "../core/dataset.js";
import type { PreprocessOptions } from "./pipeline.js";
import { signedLog1p } from "./pipeline.js";
import { fitLambda, yeoJohnson } from "./power.js";
export interface PlanStep {
  step: string;
  columns: string[];
  reason: string;
}

export interface PreprocessPlan {
  options: PreprocessOptions;
  steps: PlanStep[];
}

/** Above this |skewness| a numeric column is compressed. */
export const SKEW_LIMIT = 1;
/** Categories under this share of rows are grouped as infrequent. */
export const RARE_SHARE = 0.01;
/** Up to this share of negative values, a skewed column gets the signed log1p rather than Yeo-Johnson. */
export const FEW_NEGATIVES = 0.05;
/** Numeric columns missing in at least this share of rows get a missing-value indicator. */
export const MISSING_SHARE = 0.05;
/** Of two numeric features correlated above this, the later one is dropped. */
export const CORRELATION_LIMIT = 0.95;
/** A transform against skew is kept only when it cuts |skewness| by at least this share (or brings it within SKEW_LIMIT). */
export const MIN_SKEW_GAIN = 0.1;

/** Sample skewness (the biased Fisher–Pearson coefficient, as scipy.stats.skew) of the non-missing values. */
export function skewness(v: Float64Array): number {
  let n = 0;
  let mean = 0;
  for (const x of v) if (!Number.isNaN(x)) {
    n++;
    mean += x;
  }
  if (n < 3) return 0;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  for (const x of v) if (!Number.isNaN(x)) {
    const t = x - mean;
    m2 += t * t;
    m3 += t * t * t;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 ? m3 / m2 ** 1.5 : 0;
}

function pearson(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) {
    n++;
    ma += a[i];
    mb += b[i];
  }
  if (n < 3) return 0;
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

const f2 = (x: number): string => x.toFixed(2).replace("-", "−");

/** A transform against skew, tried on a column's present values. */
interface SkewTry {
  step: "log1p" | "signed log1p" | "yeo-johnson";
  /** Why this transform, for the plan. */
  why: string;
}

/** The skewness after a transform, and the transformed values (λ for Yeo-Johnson). */
function tryTransform(present: Float64Array, t: SkewTry): { skew: number; values: Float64Array; lambda: number | null } {
  if (t.step === "yeo-johnson") {
    const lambda = fitLambda(present, "yeo-johnson");
    const values = Float64Array.from(present, (x) => yeoJohnson(x, lambda));
    return { skew: values.every(Number.isFinite) ? skewness(values) : NaN, values, lambda };
  }
  const values = Float64Array.from(present, signedLog1p);
  return { skew: skewness(values), values, lambda: null };
}

/** Whether a transform helped enough to keep: |skewness| down by a tenth, or within the limit. */
function helps(before: number, after: number): boolean {
  if (!Number.isFinite(after)) return false;
  const a = Math.abs(after);
  return a < Math.abs(before) && (a <= SKEW_LIMIT || a <= (1 - MIN_SKEW_GAIN) * Math.abs(before));
}

/** The most common value of a column and its share of the present values. */
function mode(present: Float64Array): { value: number; share: number } {
  const counts = new Map<number, number>();
  let best = NaN;
  let bestCount = 0;
  for (const x of present) {
    const c = (counts.get(x) ?? 0) + 1;
    counts.set(x, c);
    if (c > bestCount) {
      best = x;
      bestCount = c;
    }
  }
  return { value: best, share: present.length ? bestCount / present.length : 0 };
}

const pct = (x: number): string => `${Math.round(100 * x)} %`;


/**
 * The plan for the given features. `prep` is the configuration's preprocessing; with plan
 * "standard" it is returned as is, with its steps explained.
 */
export function planPreprocessing(ds: Dataset, features: string[], prep: PreprocessOptions & { plan?: "standard" | "auto" }): PreprocessPlan {
  const options: PreprocessOptions = { ...prep, log1p: [...(prep.log1p ?? [])], power: [...(prep.power ?? [])] };
  const steps: PlanStep[] = [];
  const cols = features.map((f) => ds.columns.find((c) => c.name === f)!).filter(Boolean);
  const numeric = cols.filter((c) => isNumericKind(c.kind));
  const text = cols.filter((c) => !isNumericKind(c.kind) && !(c.name in (prep.ordinal ?? {})));
  const auto = prep.plan === "auto";

  const lambdas = new Map<string, number>();
  if (auto) {
    const symmetric: string[] = [];
    const kept: { name: string; text: string }[] = [];
    for (const c of numeric) {
      if (c.kind !== "numeric" || options.log1p!.includes(c.name) || options.power!.includes(c.name)) continue;
      const v = c.values as Float64Array;
      const skew = skewness(v);
      if (Math.abs(skew) <= SKEW_LIMIT) {
        symmetric.push(`${c.name} (${f2(skew)})`);
        continue;
      }
      let min = Infinity;
      let negatives = 0;
      const present = v.filter((x) => !Number.isNaN(x));
      for (const x of present) {
        if (x < 0) negatives++;
        if (x < min) min = x;
      }
      const right = skew > 0;
      const head = `skewness ${f2(skew)} (a long tail of ${right ? "large" : "small"} values)`;
      const first = `skewness ${f2(skew)}`;
      const tries: SkewTry[] = [];
      if (right && negatives === 0) tries.push({ step: "log1p", why: " and no negative values: log1p compresses the long tail of large values" });
      else if (right && negatives <= FEW_NEGATIVES * present.length) {
        tries.push({ step: "signed log1p", why: ` with a few negative values (${negatives} of ${present.length}, min ${min}): sign(x)·log1p(|x|) compresses both tails` });
      }
      tries.push({
        step: "yeo-johnson",
        why: !right ? ": a log would lengthen that tail; a Yeo-Johnson power transform, λ by maximum likelihood, pulls it in"
          : tries.length === 0 ? ` with many negative values (${negatives} of ${present.length}): a Yeo-Johnson power transform, λ by maximum likelihood`
          : " a Yeo-Johnson power transform instead, λ by maximum likelihood",
      });
      const failed: string[] = [];
      let chosen = false;
      for (const t of tries) {
        const r = tryTransform(present, t);
        if (!helps(skew, r.skew)) {
          failed.push(`${t.step === "yeo-johnson" ? "Yeo-Johnson" : t.step} would leave it at ${Number.isFinite(r.skew) ? f2(r.skew) : "a non-finite value"}`);
          continue;
        }
        const lam = r.lambda === null ? "" : ` (λ ${Number(r.lambda.toPrecision(3))})`;
        const tried = failed.length ? `; ${failed.join(", ")}, so` : "";
        if (t.step === "yeo-johnson") {
          options.power!.push(c.name);
          lambdas.set(c.name, r.lambda!);
        } else options.log1p!.push(c.name);
        // On the right, the first choice's reason reads as it always has ("skewness 3.20 and no negative values: …").
        const lead = right && !failed.length ? first : head;
        steps.push({ step: t.step, columns: [c.name], reason: `${lead}${tried}${t.why}; skewness after: ${f2(r.skew)}${lam}` });
        chosen = true;
        break;
      }
      if (!chosen) {
        const m = mode(present);
        const lopsided = m.share >= 0.5
          ? `; ${pct(m.share)} of its values are ${m.value}, and no transform that keeps the order spreads one value out (if ${m.value} is a code for "none", recode it or leave the column out)`
          : "";
        kept.push({ name: c.name, text: `${c.name}: ${head}; ${failed.join(", ")}${lopsided}` });
      }
    }
    if (symmetric.length) steps.push({ step: "no transform", columns: symmetric.map((l) => l.split(" (")[0]), reason: `skewness within ±${SKEW_LIMIT}: ${symmetric.join(", ")}` });
    if (kept.length) {
      steps.push({
        step: "skewed, left as is", columns: kept.map((k) => k.name),
        reason: `no transform cuts |skewness| by a tenth on the training values: ${kept.map((k) => k.text).join("; ")}`,
      });
    }


    const missing = numeric.filter((c) => {
      const v = c.values as Float64Array;
      let m = 0;
      for (const x of v) if (Number.isNaN(x)) m++;
      return m >= MISSING_SHARE * ds.rows;
    });
    if (missing.length && !prep.missingIndicator) {
      options.missingIndicator = true;
      steps.push({ step: "missing indicator", columns: missing.map((c) => c.name), reason: `missing in ${Math.round(MISSING_SHARE * 100)} % of rows or more: whether a value is missing may itself say something` });
    }

    const oneHot = { ...(prep.oneHot ?? {}) };
    const binary = text.filter((c) => new Set((c.values as (string | null)[]).filter((x) => x !== null)).size === 2);
    if (binary.length && !oneHot.drop) {
      oneHot.drop = "if_binary";
      steps.push({ step: "one column for two values", columns: binary.map((c) => c.name), reason: "two-valued categories need one 0/1 column, not two that say the same" });
    }
    const rare: string[] = [];
    for (const c of text) {
      const counts = new Map<string, number>();
      for (const x of c.values as (string | null)[]) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
      const few = [...counts].filter(([, n]) => n < RARE_SHARE * ds.rows);
      if (few.length && counts.size > 2) rare.push(`${c.name} (${few.length} of ${counts.size}, e.g. "${few[0][0]}" ${few[0][1]} rows)`);
    }
    if (rare.length && !oneHot.minFrequency) {
      oneHot.minFrequency = RARE_SHARE;
      steps.push({ step: "group rare categories", columns: rare.map((r) => r.split(" (")[0]), reason: `categories in under ${RARE_SHARE * 100} % of rows become "infrequent": ${rare.join("; ")}` });
    }
    options.oneHot = oneHot;

    if (prep.correlationThreshold == null && numeric.length >= 2) {
      const transformed = numeric.map((c) => {
        const v = c.values as Float64Array;
        if (options.log1p!.includes(c.name)) return Float64Array.from(v, signedLog1p);
        const lam = lambdas.get(c.name);
        return lam === undefined ? v : Float64Array.from(v, (x) => yeoJohnson(x, lam));
      });
      const pairs: string[] = [];
      for (let j = 1; j < numeric.length; j++) {
        for (let i = 0; i < j; i++) {
          const r = pearson(transformed[i], transformed[j]);
          if (Math.abs(r) > CORRELATION_LIMIT) pairs.push(`${numeric[j].name} ~ ${numeric[i].name} (r = ${f2(r)})`);
        }
      }
      if (pairs.length) {
        options.correlationThreshold = CORRELATION_LIMIT;
        steps.push({ step: "drop near-duplicates", columns: [], reason: `|correlation| above ${CORRELATION_LIMIT}: ${pairs.join("; ")}; the later feature of each pair is dropped` });
      }
    }
  } else {
    if (options.log1p!.length) steps.push({ step: "log1p", columns: options.log1p!, reason: "as configured" });
    if (options.power!.length) steps.push({ step: prep.powerMethod ?? "yeo-johnson", columns: options.power!, reason: "as configured" });
  }
  const scale = prep.scale ?? "standard";
  if (scale !== "none" && numeric.length) {
    steps.push({
      step: `${scale} scaling`, columns: numeric.map((c) => c.name),
      reason: "clustering measures distances: numeric features are put on one scale so that none dominates by its units",
    });
  }
  if (text.length) {
    steps.push({ step: "one-hot", columns: text.map((c) => c.name), reason: "categories become 0/1 columns; a category unseen in training is scored as none of them" });
  }
  return { options, steps };
}
