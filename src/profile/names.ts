/**
 * Segment names and one-sentence descriptions in plain language, from a profile.
 *
 * Names (deterministic; unique within a segmentation):
 * - RFM naming (the profile's `naming` is "rfm": recency_days and frequency were profiled):
 *   the named RFM segment of the segment's (R, F) scores — the quintile scores of its median
 *   recency and frequency within the population (see profiles.ts and RFM_GRID in
 *   rfm-scores.ts): Champions, Loyal Customers, ..., Lost.
 * - Otherwise, from the top 1–2 distinguishing features: "High monthly charges, low tenure",
 *   "Mostly Month-to-month contract". The second feature is added when its |effect size| is
 *   at least 0.3 and at least half the first's. A segment whose top |effect size| is below
 *   0.2 standard units is "Close to average".
 * - Names come first from what the segments were clustered on (the profile's `clustered`
 *   features, when given): the features described without being clustered on (an outcome,
 *   a column kept for the profile) name a segment only when no clustered feature sets it
 *   apart (|effect size| ≥ 0.2). The same order holds for the description and for the
 *   qualifiers of equal names. RFM names need recency and frequency among the clustered.
 * - Words: numeric features "High"/"Low" + the humanised name (`MonthlyCharges` → "monthly
 *   charges", `tenure_days` → "tenure", `MntWines` → "amount spent on wines"), "Many"/"Few"
 *   for counts (`NumStorePurchases` → "Many store purchases"), with a small vocabulary for
 *   the RFM features ("Recent", "Lapsed", "Frequent", "Big spenders", ...); datetimes
 *   "Later"/"Earlier"; booleans "Mostly X" (share ≥ 50 %), "More X", "Fewer X", "No X"
 *   (share ≤ 5 %); categorical features likewise with the category: "Mostly Month-to-month
 *   contract".
 * - Duplicates: the segments of a group (2 or 3) sharing a generated name get a qualifier in
 *   parentheses from the numeric feature whose standardized means spread most (≥ 0.2) across
 *   the group: "Champions (more frequent)", "Champions (less frequent)"; names still equal then
 *   get " 2", " 3", ... in order of segment id. Names given by the user are kept as they are
 *   and the generated names avoid them.
 *
 * Outliers (the profile's `outliers`: rows labelled −1, customers who fit no segment): named by
 * nameOutliers, "Outliers: " and what sets them apart, from the same distinguishing features
 * in the same order as a segment's generic name (in the words of featureLabel, so the RFM
 * vocabulary for RFM features: "Outliers: big spenders, frequent"; "very high"/"very low" at
 * 2 standard units or more), never the RFM segment's name. When no feature sets them apart
 * on average, the feature they are most spread out on (standard deviation at least 1.5× the
 * population's): "Outliers: widely spread monthly charges"; else "Outliers: no common trait".
 * Their description says they fit no segment: "312 customers (4.1%) fit no segment: spent
 * 5,400, 9× the population's 600, …". The segments' names do not depend on them, and
 * the outliers' name never equals a segment's (" 2", " 3", ... otherwise).
 *
 * Descriptions: "<name>: <phrase>, <phrase>, <phrase>." with the segment's mean against the
 * population's for the top distinguishing features (RFM naming: recency, frequency,
 * monetary), e.g. "Champions: bought 9 days ago on average (population: 92), 14 orders
 * (population: 4), spent 2,310 (population: 640)." Numbers are rounded by `formatNumber`;
 * features named *_days carry "days"; rates and booleans are percentages.
 */
import type {
  DistinguishingFeature, FeatureStats, NumericStats, ProfileResult, SegmentCategoricalFeature, SegmentFeature, SegmentNumericFeature, SegmentProfile,
} from "./profiles.js";

export interface NamedSegment {
  name: string;
  description: string;
}

export interface NamingOptions {
  /** Names given by the user, by segment id. */
  segmentNames?: Record<number, string>;
}

const RFM_FEATURES = ["recency_days", "frequency", "monetary"];

const HUMAN: Record<string, string> = {
  recency_days: "recency",
  frequency: "frequency",
  monetary: "spend",
  tenure_days: "tenure",
  avg_order_value: "average order value",
  mean_days_between_purchases: "days between purchases",
  distinct_products: "distinct products",
  return_rate: "return rate",
};

/** Words for high and low values of well-known features. */
const VOCABULARY: Record<string, { high: string; low: string }> = {
  recency_days: { high: "lapsed", low: "recent" },
  frequency: { high: "frequent", low: "infrequent" },
  monetary: { high: "big spenders", low: "low spenders" },
  tenure_days: { high: "long tenure", low: "short tenure" },
  mean_days_between_purchases: { high: "rare orders", low: "regular orders" },
};

/** The table's own entry for a column name (never an inherited one such as "constructor"). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/**
 * Common abbreviations in column names, each a whole word of the name, and their words.
 * `lead` is used when the word starts a name of several words ("MntWines" → "amount spent on
 * wines", "NumVisits" → "number of visits", "n_orders" → "number of orders").
 */
const ABBREVIATIONS: Record<string, { word: string; lead?: string }> = {
  mnt: { word: "amount spent", lead: "amount spent on" },
  num: { word: "number", lead: "number of" },
  nbr: { word: "number", lead: "number of" },
  n: { word: "n", lead: "number of" },
  cnt: { word: "count", lead: "number of" },
  amt: { word: "amount" },
  avg: { word: "average" },
  qty: { word: "quantity" },
  freq: { word: "frequency" },
  pct: { word: "percent" },
  perc: { word: "percent" },
  prc: { word: "percent" },
  yr: { word: "year" },
  yrs: { word: "years" },
  txn: { word: "transaction" },
  txns: { word: "transactions" },
  trx: { word: "transactions" },
  acct: { word: "account" },
  cust: { word: "customer" },
  bal: { word: "balance" },
  prev: { word: "previous" },
  prod: { word: "product" },
  prods: { word: "products" },
  idx: { word: "index" },
  dt: { word: "date" },
};

/**
 * A column name in plain words: camelCase, snake_case and dotted names split, lower case
 * (acronyms kept, except in a name written all in capitals), common abbreviations expanded
 * (see ABBREVIATIONS; unknown words are kept), a trailing "days" unit dropped:
 * `MonthlyCharges` → "monthly charges", `tenure_days` → "tenure", `NPSScore` → "NPS score",
 * `MntWines` → "amount spent on wines", `NumStorePurchases` → "number of store purchases",
 * `CASH_ADVANCE_TRX` → "cash advance transactions". Known RFM features have fixed names
 * (monetary → "spend").
 */
export function humanizeFeatureName(name: string): string {
  const known = own(HUMAN, name);
  if (known) return known;
  const raw = name
    .replace(/([A-Za-z])\.(?=[A-Za-z])/g, "$1 ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_]+/)
    .filter((w) => w.length > 0);
  // A name in capitals (CREDIT_LIMIT) is shouted, not a row of acronyms; a short one (NPS) is an acronym.
  const shouted = !/[a-z]/.test(name) && (raw.length > 1 || name.length > 4);
  const words = raw.map((w, i) => {
    const lower = w.toLowerCase();
    const abbr = own(ABBREVIATIONS, lower);
    const leads = i === 0 && raw.length > 1;
    if (abbr && (lower !== "n" || leads)) return leads && abbr.lead ? abbr.lead : abbr.word;
    return !shouted && w.length > 1 && w === w.toUpperCase() && /[A-Z]/.test(w) ? w : lower;
  });
  if (words.length > 1 && words[words.length - 1] === "days") words.pop();
  return words.length ? words.join(" ") : name;
}

/**
 * A number rounded for reading: |x| ≥ 10 to a whole number (thousands separated by commas),
 * 1 ≤ |x| < 10 to one decimal, smaller to two significant digits; trailing zeros dropped.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "n/a" : x > 0 ? "∞" : "−∞";
  const a = Math.abs(x);
  let s: string;
  if (a >= 10) {
    s = String(Math.round(a)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  } else if (a >= 1) {
    s = a.toFixed(1).replace(/\.0$/, "");
  } else if (a === 0) {
    s = "0";
  } else {
    s = String(Number(a.toPrecision(2)));
    if (s.includes("e")) s = a.toPrecision(2);
  }
  return x < 0 && s !== "0" ? `−${s}` : s;
}

/** A share 0–1 as a percentage: "42%", "4.5%", "0.12%". */
export function formatPercent(p: number): string {
  return `${formatNumber(p * 100)}%`;
}

function isRate(name: string): boolean {
  return /(^|[_\s])(rate|share|ratio|pct|percent|proportion)$/i.test(name) || /(Rate|Share|Ratio|Pct|Percent)$/.test(name);
}

function isDays(name: string): boolean {
  return /(^|[_\s])days?$/i.test(name) || /Days$/.test(name) || /(^|_)days_/i.test(name);
}

/** A feature's value in words with its unit: "9 days", "42%", "2011-05-03", "1,234". */
export function formatFeatureValue(feature: string, kind: string, value: number, withUnit = true): string {
  if (kind === "boolean") return formatPercent(value);
  if (kind === "datetime") return Number.isFinite(value) ? new Date(value).toISOString().slice(0, 10) : "n/a";
  if (isRate(feature) && Math.abs(value) <= 1.5) return formatPercent(value);
  const s = formatNumber(value);
  if (withUnit && isDays(feature)) return `${s} ${s === "1" ? "day" : "days"}`;
  return s;
}

/**
 * A category of a feature in words: "Month-to-month contract"; a yes/no category as the
 * feature ("device protection", "no device protection"); a value that already names the
 * feature as it is ("No internet service"); a long value with the feature in parentheses.
 */
export function categoryWords(value: string, human: string): string {
  const v = value.trim().toLowerCase();
  if (v === "yes" || v === "true") return human;
  if (v === "no" || v === "false") return `no ${human}`;
  if (v.includes(human.toLowerCase())) return value;
  if (value.trim().split(/\s+/).length >= 3) return `${value} (${human})`;
  return `${value} ${human}`;
}

/**
 * The distinguishing features without near-copies: a feature whose |effect size| equals that
 * of one kept before it (to 1e-9, relative) is nearly always another encoding of the same
 * split (PhoneService = No and MultipleLines = "No phone service") and is skipped.
 */
function distinct(ds: DistinguishingFeature[]): DistinguishingFeature[] {
  const out: DistinguishingFeature[] = [];
  for (const d of ds) {
    const a = Math.abs(d.effectSize);
    if (!out.some((o) => Math.abs(Math.abs(o.effectSize) - a) <= 1e-9 * Math.max(a, 1))) out.push(d);
  }
  return out;
}

function capitalize(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}

/** A short label for a distinguishing feature: "high monthly charges", "mostly Month-to-month contract". */
export function featureLabel(d: DistinguishingFeature): string {
  const human = humanizeFeatureName(d.feature);
  const up = d.direction === "higher";
  if (d.kind === "categorical" || d.kind === "boolean") {
    const what = d.kind === "categorical" ? categoryWords(d.category!, human) : human;
    // "Mostly no phone service", not "Mostly No phone service": a leading "No" is a word of the phrase.
    if (up) return `${d.segmentValue >= 0.5 ? "mostly" : "more"} ${what.replace(/^No(?=\s)/, "no")}`;
    // A category that is itself a negation ("no internet service"): say what the segment has.
    const negated = /^no\s+/i.exec(what);
    if (negated) {
      const rest = what.slice(negated[0].length);
      return d.segmentValue <= 0.05 ? `with ${rest}` : `fewer without ${rest}`;
    }
    return `${d.segmentValue <= 0.05 ? "no" : "fewer"} ${what}`;
  }
  const vocab = own(VOCABULARY, d.feature);
  if (vocab) return up ? vocab.high : vocab.low;
  if (d.kind === "datetime") return `${up ? "later" : "earlier"} ${human}`;
  if (human.startsWith("number of ")) return `${up ? "many" : "few"} ${human.slice("number of ".length)}`;
  return `${up ? "high" : "low"} ${human}`;
}

/** One phrase of a description: the segment's value against the population's. */
export function featurePhrase(d: DistinguishingFeature): string {
  const human = humanizeFeatureName(d.feature);
  const seg = d.segmentValue;
  const pop = d.populationValue;
  if (d.kind === "categorical") return `${formatPercent(seg)} ${categoryWords(d.category!, human)} (population: ${formatPercent(pop)})`;
  const v = formatFeatureValue(d.feature, d.kind, seg);
  const p = formatFeatureValue(d.feature, d.kind, pop, false);
  switch (d.feature) {
    case "recency_days":
      return `bought ${v} ago on average (population: ${p})`;
    case "frequency":
      return `${v} ${v === "1" ? "order" : "orders"} (population: ${p})`;
    case "monetary":
      return `spent ${v} (population: ${p})`;
    case "tenure_days":
      return `customers for ${v} (population: ${p})`;
    case "avg_order_value":
      return `${v} per order (population: ${p})`;
    case "mean_days_between_purchases":
      return `an order every ${v} (population: ${p})`;
    case "distinct_products":
      return `${v} distinct products (population: ${p})`;
    case "return_rate":
      return `returned ${v} of purchases (population: ${p})`;
  }
  if (d.kind === "boolean") return `${v} ${human} (population: ${p})`;
  return `${human} ${v} on average (population: ${p})`;
}

/** The distinguishing-feature record of one profiled feature of a segment (for RFM descriptions). */
function asDistinguishing(s: SegmentProfile, pop: ProfileResult["population"], feature: string): DistinguishingFeature | null {
  const idx = s.features.findIndex((f) => f.name === feature);
  if (idx < 0) return null;
  const f = s.features[idx] as SegmentNumericFeature | SegmentCategoricalFeature;
  if (f.kind === "categorical" || f.effectSize === null || f.mean === null) return null;
  const p = pop.features[idx] as NumericStats;
  return { feature, kind: f.kind, effectSize: f.effectSize, direction: f.effectSize >= 0 ? "higher" : "lower", segmentValue: f.mean, populationValue: p.mean! };
}

/**
 * The features of a segment as distinguishing features, by decreasing |effect size| (ties:
 * the order of the features); features without an effect size are left out.
 */
export function rankDistinguishing(features: SegmentFeature[], pop: FeatureStats[]): DistinguishingFeature[] {
  const out: DistinguishingFeature[] = [];
  features.forEach((f, idx) => {
    if (f.effectSize === null) return;
    if (f.kind === "categorical") {
      out.push({
        feature: f.name, kind: "categorical", effectSize: f.effectSize, direction: f.effectSize >= 0 ? "higher" : "lower",
        category: f.topCategory!, segmentValue: f.topCategoryShare!, populationValue: f.topCategoryPopulationShare!,
      });
    } else {
      const p = pop[idx] as NumericStats;
      out.push({
        feature: f.name, kind: f.kind, effectSize: f.effectSize, direction: f.effectSize >= 0 ? "higher" : "lower",
        segmentValue: f.mean!, populationValue: p.mean!,
      });
    }
  });
  // Stable sort keeps the order of the features on equal |effect size|.
  out.sort((a, b) => Math.abs(b.effectSize) - Math.abs(a.effectSize));
  return out;
}

/** The clustered features of a profile, when it names some (null: every feature counts as clustered). */
function clusteredOf(profile: ProfileResult): Set<string> | null {
  return profile.clustered?.length ? new Set(profile.clustered) : null;
}

/**
 * A segment's distinguishing features in the order names use them: the clustered features
 * (by |effect size|, near-copies dropped), then the others; one group when the profile names
 * no clustered features.
 */
function namingGroups(profile: ProfileResult, s: SegmentProfile): DistinguishingFeature[][] {
  const all = rankDistinguishing(s.features, profile.population.features);
  const clustered = clusteredOf(profile);
  if (!clustered) return [distinct(all)];
  return [distinct(all.filter((d) => clustered.has(d.feature))), distinct(all.filter((d) => !clustered.has(d.feature)))];
}

/** Names and descriptions of the profile's segments, in the order of `profile.segments`. */
export function nameSegments(profile: ProfileResult, options: NamingOptions = {}): NamedSegment[] {
  const given = options.segmentNames ?? {};
  const ordered: DistinguishingFeature[][] = [];
  const base: { name: string; used: Set<string>; user: boolean }[] = profile.segments.map((s, j) => {
    const g = genericName(namingGroups(profile, s));
    ordered[j] = g.ordered;
    const user = given[s.id];
    if (user !== undefined) return { name: user, used: new Set<string>(), user: true };
    if (profile.naming === "rfm" && s.rfm) return { name: s.rfm.segment, used: new Set(RFM_FEATURES), user: false };
    return g;
  });

  // Disambiguation of each group of equal generated names: by the numeric feature whose
  // standardized means differ most within the group ("higher spend" / "lower spend").
  const names = base.map((b) => b.name);
  const groups = new Map<string, number[]>();
  names.forEach((nm, j) => {
    if (!base[j].user) groups.set(nm, [...(groups.get(nm) ?? []), j]);
  });
  for (const [nm, members] of groups) {
    if (members.length < 2) continue;
    const q = contrast(profile, members);
    if (q) members.forEach((j, r) => (names[j] = `${nm} (${q[r]})`));
  }
  // Still equal (or equal to a user's name): " 2", " 3", ... in order of segment id.
  const used = new Set(names.filter((_, j) => base[j].user));
  names.forEach((nm, j) => {
    if (base[j].user) return;
    let name = nm;
    for (let c = 2; used.has(name); c++) name = `${nm} ${c}`;
    used.add(name);
    names[j] = name;
  });

  return profile.segments.map((s, j) => ({ name: names[j], description: describe(profile, s, names[j], ordered[j]) }));
}

const COMPARATIVE: Record<string, { higher: string; lower: string }> = {
  recency_days: { higher: "less recent", lower: "more recent" },
  frequency: { higher: "more frequent", lower: "less frequent" },
  monetary: { higher: "higher spend", lower: "lower spend" },
};

/**
 * Qualifiers that tell apart the members of a group of segments with the same name (2 or 3
 * of them): the numeric feature whose standardized difference spreads most across the
 * group, as "higher X" / "lower X" (and "middle X"); null when none differs by at least 0.2
 * standard units or the group is larger than 3.
 */
function contrast(profile: ProfileResult, members: number[]): string[] | null {
  if (members.length > 3) return null;
  const segs = members.map((j) => profile.segments[j]);
  const clustered = clusteredOf(profile);
  // The clustered features first; the others only when no clustered feature tells them apart.
  for (const pass of clustered ? [true, false] : [true]) {
    let best = -1;
    let bestSpread = 0;
    segs[0].features.forEach((f, idx) => {
      if (f.kind === "categorical" || (clustered && clustered.has(f.name) !== pass)) return;
      const v = segs.map((s) => (s.features[idx] as SegmentNumericFeature).standardizedDifference);
      if (v.some((x) => x === null)) return;
      const spread = Math.max(...(v as number[])) - Math.min(...(v as number[]));
      if (spread > bestSpread) {
        bestSpread = spread;
        best = idx;
      }
    });
    if (best < 0 || bestSpread < 0.2) continue;
    const f = segs[0].features[best];
    const values = segs.map((s) => (s.features[best] as SegmentNumericFeature).standardizedDifference!);
    if (new Set(values).size < values.length) return null;
    const human = humanizeFeatureName(f.name);
    const count = human.startsWith("number of ") ? human.slice("number of ".length) : null;
    const words = own(COMPARATIVE, f.name) ?? (count ? { higher: `more ${count}`, lower: `fewer ${count}` } : { higher: `higher ${human}`, lower: `lower ${human}` });
    const hi = Math.max(...values);
    const lo = Math.min(...values);
    return values.map((v) => (v === hi ? words.higher : v === lo ? words.lower : `middle ${human}`));
  }
  return null;
}

/**
 * The generic name from the first group whose top feature sets the segment apart (|effect
 * size| ≥ 0.2), else "Close to average"; `ordered` is the features in the order the
 * description takes them (that group first).
 */
function genericName(groups: DistinguishingFeature[][]): { name: string; used: Set<string>; user: boolean; ordered: DistinguishingFeature[] } {
  const picked = nameParts(groups);
  if (!picked) return { name: "Close to average", used: new Set(), user: false, ordered: groups.flat() };
  const { parts, ordered } = picked;
  return { name: capitalize(parts.map(featureLabel).join(", ")), used: new Set(parts.map((p) => p.feature)), user: false, ordered };
}

/**
 * The 1–2 features a generic name is made of: the top feature of the first group whose top
 * feature sets the segment apart (|effect size| ≥ 0.2), and its second when that is at least
 * 0.3 and half the first; null when no group's top feature does. `ordered` as genericName's.
 */
function nameParts(groups: DistinguishingFeature[][]): { parts: DistinguishingFeature[]; ordered: DistinguishingFeature[] } | null {
  const g = groups.findIndex((d) => d.length > 0 && Math.abs(d[0].effectSize) >= 0.2);
  if (g < 0) return null;
  const d = groups[g];
  const parts = [d[0]];
  if (d.length > 1 && Math.abs(d[1].effectSize) >= 0.3 && Math.abs(d[1].effectSize) >= 0.5 * Math.abs(d[0].effectSize)) parts.push(d[1]);
  return { parts, ordered: [...d, ...groups.filter((_, i) => i !== g).flat()] };
}

/** The prefix of the outliers' name. */
export const OUTLIERS_PREFIX = "Outliers: ";

/** featureLabel, with "very high" / "very low" at 2 standard units or more (outliers lie far out). */
function outlierLabel(d: DistinguishingFeature): string {
  const label = featureLabel(d);
  return Math.abs(d.effectSize) >= 2 && /^(high|low) /.test(label) ? `very ${label}` : label;
}

/**
 * One phrase of the outliers' description: a positive mean at least twice the population's
 * with the ratio ("spent 5,400, 9× the population's 600", "14 orders, 3.5× the population's
 * 4", "monthly charges 80 on average, 4× the population's 20"); otherwise as featurePhrase.
 */
function outlierPhrase(d: DistinguishingFeature): string {
  const ratio = d.segmentValue / d.populationValue;
  if (d.kind === "numeric" && d.populationValue > 0 && ratio >= 2 && !isDays(d.feature) && !isRate(d.feature)) {
    const v = formatFeatureValue(d.feature, d.kind, d.segmentValue);
    const times = `${formatNumber(ratio)}× the population's ${formatFeatureValue(d.feature, d.kind, d.populationValue, false)}`;
    if (d.feature === "frequency") return `${v} orders, ${times}`;
    if (d.feature === "monetary") return `spent ${v}, ${times}`;
    return `${humanizeFeatureName(d.feature)} ${v} on average, ${times}`;
  }
  return featurePhrase(d);
}

/**
 * The numeric feature on which a group is most spread out against the population: the
 * largest ratio of standard deviations (the clustered features first when the profile names
 * them); null when no ratio reaches `min`.
 */
function widestSpread(profile: ProfileResult, s: SegmentProfile, min: number): { feature: string; kind: string; ratio: number; std: number; populationStd: number } | null {
  const clustered = clusteredOf(profile);
  for (const pass of clustered ? [true, false] : [true]) {
    let best: { feature: string; kind: string; ratio: number; std: number; populationStd: number } | null = null;
    for (let idx = 0; idx < s.features.length; idx++) {
      const f = s.features[idx];
      if (f.kind !== "numeric" || f.std === null || (clustered && clustered.has(f.name) !== pass)) continue;
      const p = profile.population.features[idx] as NumericStats;
      if (!(p.std !== null && p.std > 0)) continue;
      const ratio = f.std / p.std;
      if (ratio >= min && (best === null || ratio > best.ratio)) best = { feature: f.name, kind: f.kind, ratio, std: f.std, populationStd: p.std };
    }
    if (best !== null) return best;
  }
  return null;
}

/**
 * The name and description of the profile's outliers (rows labelled −1: customers who fit no
 * segment), or null when it has none; see the module notes. A name given by the user for
 * segment −1 replaces the generated one. The name is made different from every segment's
 * name in `profile.segments` (name them first).
 */
export function nameOutliers(profile: ProfileResult, options: NamingOptions = {}): NamedSegment | null {
  const o = profile.outliers;
  if (!o) return null;
  const picked = nameParts(namingGroups(profile, o));
  const spread = picked ? null : widestSpread(profile, o, 1.5);
  const what = picked ? picked.parts.map(outlierLabel).join(", ") : spread ? `widely spread ${humanizeFeatureName(spread.feature)}` : "no common trait";
  const base = options.segmentNames?.[-1] ?? `${OUTLIERS_PREFIX}${what}`;
  const taken = new Set(profile.segments.map((s) => s.name));
  let name = base;
  for (let c = 2; taken.has(name); c++) name = `${base} ${c}`;

  const who = `${formatNumber(o.size)} ${o.size === 1 ? "customer" : "customers"} (${formatPercent(o.share)}) ${o.size === 1 ? "fits" : "fit"} no segment`;
  let items: DistinguishingFeature[] = [];
  if (profile.naming === "rfm" && o.rfm) {
    items = RFM_FEATURES.map((f) => asDistinguishing(o, profile.population, f)).filter((x): x is DistinguishingFeature => x !== null);
  } else if (picked) {
    items = picked.ordered.filter((d) => Math.abs(d.effectSize) >= 0.2).slice(0, 3);
  }
  if (items.length) return { name, description: `${who}: ${items.map(outlierPhrase).join(", ")}.` };
  if (spread) {
    const human = humanizeFeatureName(spread.feature);
    return {
      name,
      description: `${who}: on average they are close to the population, but their ${human} is spread ${formatNumber(spread.ratio)}× as widely ` +
        `(standard deviation ${formatFeatureValue(spread.feature, spread.kind, spread.std, false)} against ${formatFeatureValue(spread.feature, spread.kind, spread.populationStd, false)}).`,
    };
  }
  return { name, description: `${who}: on average they are close to the population on every feature.` };
}

function describe(profile: ProfileResult, s: SegmentProfile, name: string, ordered: DistinguishingFeature[]): string {
  let items: DistinguishingFeature[];
  if (profile.naming === "rfm" && s.rfm) {
    items = RFM_FEATURES.map((f) => asDistinguishing(s, profile.population, f)).filter((x): x is DistinguishingFeature => x !== null);
  } else {
    items = ordered.filter((d) => Math.abs(d.effectSize) >= 0.2).slice(0, 3);
    if (!items.length) items = ordered.slice(0, 1);
  }
  if (!items.length) return `${name}: ${formatPercent(s.share)} of customers.`;
  return `${name}: ${items.map(featurePhrase).join(", ")}.`;
}
