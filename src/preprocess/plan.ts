/**
 * The preprocessing plan: which steps run on which columns, and why. With plan "auto" the
 * steps are picked from the data: dates become elapsed time (days since, age), skewed columns
 * are made more symmetric, rare categories grouped, two-valued categories kept as one column,
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
import { type Column, type Dataset, isNumericKind } from "../core/dataset.js";
import { OneHotEncoder, type OneHotEncoderModel } from "./encode.js";
import { count, dateFeatures, elapsed, isoDay, type PreprocessOptions, resolveAsOf, signedLog1p } from "./pipeline.js";
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
 * The one-hot encoding the pipeline will fit for a categorical column (missing values imputed
 * as it does), so that the plan can name the columns it drops and the categories it groups.
 */
function oneHotOf(c: Column, options: PreprocessOptions): OneHotEncoderModel {
  const v = c.kind === "categorical" || c.kind === "id" ? (c.values as (string | null)[]) : Array.from(c.values as Float64Array, (x) => (Number.isNaN(x) ? null : String(x)));
  let impute = "missing";
  if (options.categoricalImpute !== "constant") {
    const counts = new Map<string, number>();
    for (const x of v) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
    let best = 0;
    for (const [x, n] of counts) if (n > best || (n === best && x < impute)) [impute, best] = [x, n];
  }
  const oh = options.oneHot ?? {};
  return new OneHotEncoder({ handleUnknown: "ignore", minFrequency: oh.minFrequency ? oh.minFrequency : null, drop: oh.drop ?? null })
    .fitSync(v.map((x) => [x ?? impute]));
}

/** "Contract=Month-to-month" and the like: each column's dropped one-hot output. */
function droppedOutputs(text: Column[], encoders: Map<string, OneHotEncoderModel>): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const c of text) {
    const e = encoders.get(c.name)!;
    const gone = e.droppedOutput(0);
    if (gone === null) continue;
    const kept = e.getFeatureNamesOut([c.name]);
    out.push({ name: c.name, text: kept.length === 1 ? `${c.name}=${gone} dropped (${kept[0]} kept)` : `${c.name}=${gone} dropped` });
  }
  return out;
}

/** Each column's categories grouped as infrequent, with their row counts. */
function groupedCategories(text: Column[], encoders: Map<string, OneHotEncoderModel>): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const c of text) {
    const e = encoders.get(c.name)!;
    const inf = e.infrequent[0];
    if (!inf) continue;
    const counts = new Map<string, number>();
    for (const x of c.values as (string | null)[]) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
    const shown = inf.slice(0, 20).map((x) => `"${x}" ${count(counts.get(x) ?? 0, "row")}`);
    const more = inf.length > 20 ? `, … (${inf.length} in all)` : "";
    out.push({ name: c.name, text: `${c.name} (${inf.length} of ${e.categories[0].length}: ${shown.join(", ")}${more})` });
  }
  return out;
}

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

  // Dates: elapsed time until the reference date, on request or in the auto plan (unless dates: "drop").
  const values = new Map(numeric.map((c) => [c.name, c.values as Float64Array]));
  const converted = new Set<string>();
  if (prep.dates === "days-since" || (auto && prep.dates !== "drop")) {
    const asOf = resolveAsOf(prep.asOf);
    const found = dateFeatures(ds, numeric.map((c) => c.name), asOf);
    if (found.length) {
      options.dates = "days-since";
      options.asOf = isoDay(asOf);
      const year = new Date(asOf).getUTCFullYear();
      for (const f of found) {
        converted.add(f.name);
        const v = values.get(f.name)!;
        values.set(f.name, Float64Array.from(v, (x) => elapsed(x, f, asOf)));
      }
      const what = found.map((f) => (f.from === "year" ? `${f.name} → age in years (${year} − birth year)` : `${f.name} → ${f.unit === "years" ? "age in years" : "days since"}`));
      const when = prep.asOf != null && prep.asOf !== "" ? `${options.asOf}, the configured asOf` : `${options.asOf}, the day of this run (set asOf to fix it)`;
      steps.push({
        step: "time since", columns: found.map((f) => f.name),
        reason: `a date means something as the time elapsed until a reference date: ${what.join(", ")}, as of ${when}; the model keeps that date, so predict measures from the same day`,
      });
    }
  }

  const lambdas = new Map<string, number>();
  if (auto) {
    const symmetric: string[] = [];
    const kept: { name: string; text: string }[] = [];
    for (const c of numeric) {
      if (!(c.kind === "numeric" || converted.has(c.name)) || options.log1p!.includes(c.name) || options.power!.includes(c.name)) continue;
      const v = values.get(c.name)!;
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

    const sparse = numeric.filter((c) => {
      const v = c.values as Float64Array;
      let m = 0;
      for (const x of v) if (Number.isNaN(x)) m++;
      return m >= MISSING_SHARE * ds.rows;
    });
    if (sparse.length && !prep.missingIndicator) {
      options.missingIndicator = true;
      steps.push({ step: "missing indicator", columns: sparse.map((c) => c.name), reason: `missing in ${Math.round(MISSING_SHARE * 100)} % of rows or more: whether a value is missing may itself say something` });
    }
  }

  // Categories: the encoders the pipeline will fit, so that the plan names what they drop and group.
  const oneHot = { ...(prep.oneHot ?? {}) };
  let autoDrop = false;
  let autoRare = false;
  if (auto) {
    const binary = text.filter((c) => new Set((c.values as (string | null)[]).filter((x) => x !== null)).size === 2);
    if (binary.length && !oneHot.drop) {
      oneHot.drop = "if_binary";
      autoDrop = true;
    }
    const rare = text.some((c) => {
      const counts = new Map<string, number>();
      for (const x of c.values as (string | null)[]) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
      return counts.size > 2 && [...counts.values()].some((n) => n < RARE_SHARE * ds.rows);
    });
    if (rare && !oneHot.minFrequency) {
      oneHot.minFrequency = RARE_SHARE;
      autoRare = true;
    }
    options.oneHot = oneHot;
  }
  const encoders = new Map(text.map((c) => [c.name, oneHotOf(c, { ...options, oneHot })]));
  const dropped = droppedOutputs(text, encoders);
  const grouped = groupedCategories(text, encoders);
  if (autoDrop && dropped.length) {
    steps.push({
      step: "one column for two values", columns: dropped.map((d) => d.name),
      reason: `two-valued categories need one 0/1 column, not two that say the same: ${dropped.map((d) => d.text).join(", ")}`,
    });
  }
  if (autoRare && grouped.length) {
    steps.push({
      step: "group rare categories", columns: grouped.map((g) => g.name),
      reason: `categories in under ${RARE_SHARE * 100} % of rows become "infrequent": ${grouped.map((g) => g.text).join("; ")}`,
    });
  }

  if (auto && prep.correlationThreshold == null && numeric.length >= 2) {
    const transformed = numeric.map((c) => {
      const v = values.get(c.name)!;
      if (options.log1p!.includes(c.name)) return Float64Array.from(v, signedLog1p);
      const lam = lambdas.get(c.name);
      return lam === undefined ? v : Float64Array.from(v, (x) => yeoJohnson(x, lam));
    });
    const pairs: string[] = [];
    const later = new Set<string>();
    for (let j = 1; j < numeric.length; j++) {
      for (let i = 0; i < j; i++) {
        const r = pearson(transformed[i], transformed[j]);
        if (Math.abs(r) > CORRELATION_LIMIT) {
          pairs.push(`${numeric[j].name} ~ ${numeric[i].name} (r = ${f2(r)})`);
          later.add(numeric[j].name);
        }
      }
    }
    if (pairs.length) {
      options.correlationThreshold = CORRELATION_LIMIT;
      steps.push({
        step: "drop near-duplicates", columns: [...later],
        reason: `|correlation| above ${CORRELATION_LIMIT}: ${pairs.join("; ")}; the later feature of each pair is dropped ` +
          "(the filter looks at every encoded feature, one-hot columns included: the fitted steps name each one it drops)",
      });
    }
  }
  if (!auto) {
    if (options.log1p!.length) {
      // A log given by hand to a column whose long tail is of small values makes it worse: say so.
      const worse: string[] = [];
      for (const name of options.log1p!) {
        const v = values.get(name);
        if (!v) continue;
        const before = skewness(v);
        const after = skewness(Float64Array.from(v, signedLog1p));
        if (Math.abs(before) > SKEW_LIMIT && Math.abs(after) > Math.abs(before)) worse.push(`${name} (skewness ${f2(before)} → ${f2(after)})`);
      }
      const note = worse.length
        ? `; it makes the skew worse for ${worse.join(", ")}: for a long tail of small values use a Yeo-Johnson power transform (--power, or preprocessing.power) instead`
        : "";
      steps.push({ step: "log1p", columns: options.log1p!, reason: `as configured${note}` });
    }
    if (options.power!.length) steps.push({ step: prep.powerMethod ?? "yeo-johnson", columns: options.power!, reason: "as configured" });
  }
  // Missing values: only the columns that have some are named.
  const missing: { name: string; text: string; numeric: boolean }[] = [];
  let complete = 0;
  for (const c of cols) {
    let m = 0;
    if (isNumericKind(c.kind)) {
      for (const x of c.values as Float64Array) if (Number.isNaN(x)) m++;
    } else for (const x of c.values as (string | null)[]) if (x === null) m++;
    if (m) missing.push({ name: c.name, text: `${c.name} (${count(m, "row")})`, numeric: isNumericKind(c.kind) });
    else complete++;
  }
  if (missing.length) {
    const num = prep.numericImpute ?? "median";
    const numFill = num === "constant" ? `the constant ${prep.fillValue ?? 0}` : num === "most_frequent" ? "the most frequent value" : `the ${num}`;
    const catFill = prep.categoricalImpute === "constant" ? `"missing" as a category` : "the most frequent category";
    const fills = [missing.some((m) => m.numeric) ? `${numFill} for numbers` : "", missing.some((m) => !m.numeric) ? `${catFill} for categories` : ""].filter(Boolean).join(", ");
    steps.push({
      step: "impute missing", columns: missing.map((m) => m.name),
      reason: `missing values are replaced by ${fills}: ${missing.map((m) => m.text).join(", ")}` +
        (complete ? `; the other ${count(complete, "feature")} ${complete === 1 ? "has" : "have"} none, and ${complete === 1 ? "its" : "their"} fitted value is kept for rows scored later` : ""),
    });
  }

  const scale = prep.scale ?? "standard";
  if (scale !== "none" && numeric.length) {
    steps.push({
      step: `${scale} scaling`, columns: numeric.map((c) => c.name),
      reason: "clustering measures distances: numeric features are put on one scale so that none dominates by its units",
    });
  }
  if (text.length) {
    const extra: string[] = [];
    if (!autoDrop && dropped.length) extra.push(`drop ${oneHot.drop}: ${dropped.map((d) => d.text).join(", ")}`);
    if (!autoRare && grouped.length) extra.push(`grouped as "infrequent" (under ${oneHot.minFrequency! < 1 ? `${oneHot.minFrequency! * 100} % of rows` : count(oneHot.minFrequency!, "row")}): ${grouped.map((g) => g.text).join("; ")}`);
    steps.push({
      step: "one-hot", columns: text.map((c) => c.name),
      reason: `categories become 0/1 columns; a category unseen in training is scored as none of them${extra.length ? `; ${extra.join("; ")}` : ""}`,
    });
  }
  // Filters given in the configuration: they act on the encoded features, so the fitted steps name what they drop.
  if (prep.varianceThreshold != null) {
    steps.push({
      step: "variance filter", columns: [],
      reason: `as configured: encoded features with variance ≤ ${prep.varianceThreshold} are dropped (the fitted steps name each one with its variance)`,
    });
  }
  if (prep.correlationThreshold != null) {
    steps.push({
      step: "drop near-duplicates", columns: [],
      reason: `as configured: of two encoded features with |correlation| above ${prep.correlationThreshold} the later is dropped (the fitted steps name each one with the feature it duplicates)`,
    });
  }
  return { options, steps };
}
