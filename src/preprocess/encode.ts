import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";

/** A count with its noun, singular for one: "1 feature", "3 features". */
const nOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** Rows of category values, one per row, a value per column. */
export type CategoryRows = ArrayLike<ArrayLike<string | null>>;

function shape(X: CategoryRows, what: string): { n: number; d: number } {
  const n = X.length;
  const d = n ? X[0].length : 0;
  for (let i = 0; i < n; i++) {
    if (X[i].length !== d) throw new InputError(`${what}: row ${i} has ${nOf(X[i].length, "value")}, expected ${d} like row 0`);
    for (let j = 0; j < d; j++) {
      if (X[i][j] === null || X[i][j] === undefined) throw new InputError(`${what}: row ${i}, column ${j} is missing; impute categories first`);
    }
  }
  return { n, d };
}

function sortedCategories(X: CategoryRows, j: number): { cats: string[]; counts: number[] } {
  const counts = new Map<string, number>();
  for (let i = 0; i < X.length; i++) counts.set(X[i][j] as string, (counts.get(X[i][j] as string) ?? 0) + 1);
  const cats = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { cats, counts: cats.map((c) => counts.get(c)!) };
}

export interface OneHotEncoderOptions {
  /** "error" rejects a category unseen at fit; "ignore" encodes it as all zeros; "infrequent_if_exist" puts it in the infrequent column when there is one. */
  handleUnknown?: "error" | "ignore" | "infrequent_if_exist";
  /** Categories seen fewer times than this (a count, or a share of rows when below 1) are grouped as infrequent. */
  minFrequency?: number | null;
  /** At most this many output columns per feature, the infrequent one included. */
  maxCategories?: number | null;
  /** "first" drops each feature's first category; "if_binary" only for features with two. */
  drop?: "first" | "if_binary" | null;
}

export interface OneHotEncoderJSON {
  type: "OneHotEncoder";
  options: OneHotEncoderOptions;
  categories: string[][];
  infrequent: (string[] | null)[];
  dropped: (number | null)[];
}

/**
 * A fitted one-hot encoder. Output columns per feature: its frequent categories in sorted
 * order (less the dropped one), then an infrequent column when rare categories were grouped.
 */
export class OneHotEncoderModel {
  constructor(
    readonly options: OneHotEncoderOptions,
    /** All categories seen at fit, sorted. */
    readonly categories: string[][],
    /** Per feature, the categories grouped as infrequent (null: none). */
    readonly infrequent: (string[] | null)[],
    /** Per feature, the index of the dropped output column (frequent categories, then "infrequent"). */
    readonly dropped: (number | null)[],
  ) {}

  /** The output columns of feature j: its frequent categories, then "infrequent", less the dropped one. */
  private outputs(j: number): string[] {
    const inf = new Set(this.infrequent[j] ?? []);
    const all = this.categories[j].filter((c) => !inf.has(c));
    if (this.infrequent[j]) all.push("infrequent");
    return all.filter((_, t) => t !== this.dropped[j]);
  }

  /** The output column dropped from feature j (a category, or "infrequent"), or null. */
  droppedOutput(j: number): string | null {
    const d = this.dropped[j];
    if (d === null) return null;
    const inf = new Set(this.infrequent[j] ?? []);
    const all = this.categories[j].filter((c) => !inf.has(c));
    if (this.infrequent[j]) all.push("infrequent");
    return all[d] ?? null;
  }

  getFeatureNamesOut(inputNames: string[]): string[] {
    return this.categories.flatMap((_, j) => this.outputs(j).map((c) => `${inputNames[j]}=${c}`));
  }

  transform(X: CategoryRows): Matrix {
    const { n, d } = shape(X, "X");
    if (d !== this.categories.length) throw new InputError(`X has ${nOf(d, "feature")} but the encoder was fitted with ${this.categories.length}`);
    const maps = this.categories.map((_, j) => new Map(this.outputs(j).map((c, t) => [c, t])));
    const widths = maps.map((m) => m.size);
    const offsets = widths.map((_, j) => widths.slice(0, j).reduce((a, b) => a + b, 0));
    const w = widths.reduce((a, b) => a + b, 0);
    const out = new Float64Array(n * w);
    const handle = this.options.handleUnknown ?? "error";
    for (let j = 0; j < d; j++) {
      const inf = new Set(this.infrequent[j] ?? []);
      const known = new Set(this.categories[j]);
      for (let i = 0; i < n; i++) {
        const v = X[i][j] as string;
        let key: string | null = v;
        if (!known.has(v)) {
          if (handle === "error") {
            throw new InputError(`column ${j}: category "${v}" was not seen at fit time; use handleUnknown "ignore" or refit`);
          }
          key = handle === "infrequent_if_exist" && this.infrequent[j] ? "infrequent" : null;
        } else if (inf.has(v)) key = "infrequent";
        if (key === null) continue;
        const t = maps[j].get(key);
        if (t !== undefined) out[i * w + offsets[j] + t] = 1; // undefined: the dropped category
      }
    }
    return { data: out, rows: n, cols: w };
  }

  toJSON(): OneHotEncoderJSON {
    return { type: "OneHotEncoder", options: this.options, categories: this.categories, infrequent: this.infrequent, dropped: this.dropped };
  }

  static fromJSON(j: OneHotEncoderJSON): OneHotEncoderModel {
    if (j?.type !== "OneHotEncoder") throw new InputError('not a OneHotEncoder model: expected { type: "OneHotEncoder", ... }');
    return new OneHotEncoderModel(j.options, j.categories, j.infrequent, j.dropped);
  }
}

/** scikit-learn's OneHotEncoder on category values (strings), with its infrequent-category rules. */
export class OneHotEncoder {
  constructor(readonly options: OneHotEncoderOptions = {}) {
    const h = options.handleUnknown ?? "error";
    if (!["error", "ignore", "infrequent_if_exist"].includes(h)) throw new InputError(`handleUnknown must be error, ignore or infrequent_if_exist, got "${h}"`);
    if (options.drop != null && !["first", "if_binary"].includes(options.drop)) throw new InputError(`drop must be "first", "if_binary" or null, got "${options.drop}"`);
    if (options.maxCategories != null && !(Number.isInteger(options.maxCategories) && options.maxCategories >= 2)) {
      throw new InputError(`maxCategories must be a whole number ≥ 2, got ${options.maxCategories}`);
    }
  }

  async fit(X: CategoryRows): Promise<OneHotEncoderModel> {
    return this.fitSync(X);
  }

  /** The same fit, synchronous (the preprocessing plan uses it to name the columns a fit will drop). */
  fitSync(X: CategoryRows): OneHotEncoderModel {
    const { n, d } = shape(X, "X");
    const { minFrequency, maxCategories, drop } = this.options;
    const categories: string[][] = [];
    const infrequent: (string[] | null)[] = [];
    const dropped: (number | null)[] = [];
    for (let j = 0; j < d; j++) {
      const { cats, counts } = sortedCategories(X, j);
      categories.push(cats);
      const mask = cats.map(() => false);
      if (minFrequency != null) {
        const min = minFrequency >= 1 ? minFrequency : minFrequency * n;
        counts.forEach((c, t) => (mask[t] = c < min));
      }
      const current = cats.length - mask.filter(Boolean).length + 1;
      if (maxCategories != null && maxCategories < current) {
        // The least frequent categories (a stable sort by count, ties in sorted order) beyond maxCategories − 1 kept.
        const order = cats.map((_, t) => t).sort((a, b) => counts[a] - counts[b] || a - b);
        for (const t of order.slice(0, order.length - maxCategories + 1)) mask[t] = true;
      }
      const inf = cats.filter((_, t) => mask[t]);
      infrequent.push(inf.length ? inf : null);
      // As scikit-learn: the first output column goes (the first frequent category, or the
      // infrequent column when every category is rare); "if_binary" counts columns after grouping.
      const columns = cats.length - inf.length + (inf.length ? 1 : 0);
      dropped.push(drop === "first" || (drop === "if_binary" && columns === 2) ? 0 : null);
    }
    return new OneHotEncoderModel({ ...this.options }, categories, infrequent, dropped);
  }
}

export interface OrdinalEncoderOptions {
  handleUnknown?: "error" | "use_encoded_value";
  /** The code of unseen categories with "use_encoded_value" (e.g. −1 or NaN). */
  unknownValue?: number;
}

/** A fitted ordinal encoder: each category's index in its feature's sorted categories. */
export class OrdinalEncoderModel {
  constructor(readonly options: OrdinalEncoderOptions, readonly categories: string[][]) {}

  transform(X: CategoryRows): Matrix {
    const { n, d } = shape(X, "X");
    if (d !== this.categories.length) throw new InputError(`X has ${nOf(d, "feature")} but the encoder was fitted with ${this.categories.length}`);
    const maps = this.categories.map((cats) => new Map(cats.map((c, t) => [c, t])));
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const code = maps[j].get(X[i][j] as string);
        if (code === undefined) {
          if (this.options.handleUnknown !== "use_encoded_value") {
            throw new InputError(`column ${j}: category "${X[i][j]}" was not seen at fit time; use handleUnknown "use_encoded_value" or refit`);
          }
          out[i * d + j] = this.options.unknownValue as number;
        } else out[i * d + j] = code;
      }
    }
    return { data: out, rows: n, cols: d };
  }

  toJSON(): { type: "OrdinalEncoder"; options: OrdinalEncoderOptions; categories: string[][] } {
    return { type: "OrdinalEncoder", options: this.options, categories: this.categories };
  }
}

/** scikit-learn's OrdinalEncoder on category values (strings). */
export class OrdinalEncoder {
  constructor(readonly options: OrdinalEncoderOptions = {}) {
    if (options.handleUnknown === "use_encoded_value" && options.unknownValue === undefined) {
      throw new InputError('handleUnknown "use_encoded_value" needs an unknownValue (e.g. -1)');
    }
  }

  async fit(X: CategoryRows): Promise<OrdinalEncoderModel> {
    const { d } = shape(X, "X");
    return new OrdinalEncoderModel({ ...this.options }, Array.from({ length: d }, (_, j) => sortedCategories(X, j).cats));
  }
}
