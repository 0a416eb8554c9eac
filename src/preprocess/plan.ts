/**
 * The preprocessing plan: which steps run on which columns, and why. With plan "auto" the
 * steps are picked from the data: skewed columns are compressed (signed log1p when they
 * have no or few negative values, Yeo-Johnson otherwise), rare categories grouped, two-valued
 * categories kept as one column, near-duplicate numeric features dropped, and missing-value
 * indicators added where much is missing. A skewed column with a few negative values (net
 * spend after returns) gets the signed log1p, which compresses both tails alike; Yeo-Johnson
 * is kept for columns where negative values are common. Ids and unusable columns were already left out by
 * the feature choice.
 */
import { type Dataset, isNumericKind } from "../core/dataset.js";
import type { PreprocessOptions } from "./pipeline.js";
import { signedLog1p } from "./pipeline.js";

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

  if (auto) {
    const left: string[] = [];
    for (const c of numeric) {
      if (c.kind !== "numeric" || options.log1p!.includes(c.name) || options.power!.includes(c.name)) continue;
      const v = c.values as Float64Array;
      const skew = skewness(v);
      if (Math.abs(skew) <= SKEW_LIMIT) {
        left.push(`${c.name} (${f2(skew)})`);
        continue;
      }
      let min = Infinity;
      let negatives = 0;
      let present = 0;
      for (const x of v) if (!Number.isNaN(x)) {
        present++;
        if (x < 0) negatives++;
        if (x < min) min = x;
      }
      if (negatives === 0) {
        options.log1p!.push(c.name);
        steps.push({ step: "log1p", columns: [c.name], reason: `skewness ${f2(skew)} and no negative values: log1p compresses the long tail` });
      } else if (negatives <= FEW_NEGATIVES * present) {
        options.log1p!.push(c.name);
        steps.push({
          step: "signed log1p", columns: [c.name],
          reason: `skewness ${f2(skew)} with a few negative values (${negatives} of ${present}, min ${min}): sign(x)·log1p(|x|) compresses both tails`,
        });
      } else {
        options.power!.push(c.name);
        steps.push({
          step: "yeo-johnson", columns: [c.name],
          reason: `skewness ${f2(skew)} with many negative values (${negatives} of ${present}): a Yeo-Johnson power transform, λ by maximum likelihood`,
        });
      }
    }
    if (left.length) steps.push({ step: "no transform", columns: left.map((l) => l.split(" (")[0]), reason: `skewness within ±${SKEW_LIMIT}: ${left.join(", ")}` });

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
        return options.log1p!.includes(c.name) ? Float64Array.from(v, signedLog1p) : v;
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
