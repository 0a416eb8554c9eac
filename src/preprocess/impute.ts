import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { median } from "../core/stats.js";

/** A count with its noun, singular for one: "1 feature", "3 features". */
const nOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** A Matrix with NaN for missing values, or rows of numbers with null (or NaN) for missing. */
export type MatrixWithMissing = Matrix | ArrayLike<ArrayLike<number | null>>;

export type ImputeStrategy = "mean" | "median" | "most_frequent" | "constant";

export interface SimpleImputerOptions {
  strategy?: ImputeStrategy;
  /** The value of the "constant" strategy (default 0). */
  fillValue?: number;
  /** Add a 0/1 column per feature that had missing values at fit time (scikit-learn's add_indicator). */
  addIndicator?: boolean;
}

export interface SimpleImputerJSON {
  type: "SimpleImputer";
  strategy: ImputeStrategy;
  statistics: (number | null)[];
  indicatorFeatures: number[];
}

/** A matrix that may hold NaN for missing values (toMatrix rejects them, so it is read here). */
function readWithNaN(Xin: MatrixWithMissing): Matrix {
  if ((Xin as Matrix).data instanceof Float64Array) return Xin as Matrix;
  const rows = Xin as ArrayLike<ArrayLike<number | null>>;
  const n = rows.length;
  const d = n ? rows[0].length : 0;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    if (rows[i].length !== d) throw new InputError(`X: row ${i} has ${nOf(rows[i].length, "value")}, expected ${d} like row 0`);
    for (let j = 0; j < d; j++) {
      const v = rows[i][j];
      data[i * d + j] = v === null || v === undefined ? NaN : v;
    }
  }
  return { data, rows: n, cols: d };
}

/** A fitted imputer: the value that replaces NaN in each column (null: the column had no values and is dropped). */
export class SimpleImputerModel {
  constructor(
    readonly strategy: ImputeStrategy,
    readonly statistics: (number | null)[],
    /** Columns that get a missing-value indicator. */
    readonly indicatorFeatures: number[],
  ) {}

  /** Output names: the kept columns, then `name_missing` for each indicator. */
  getFeatureNamesOut(inputNames: string[]): string[] {
    return [
      ...inputNames.filter((_, j) => this.statistics[j] !== null),
      ...this.indicatorFeatures.map((j) => `${inputNames[j]}_missing`),
    ];
  }

  transform(Xin: MatrixWithMissing): Matrix {
    const X = readWithNaN(Xin);
    const d = this.statistics.length;
    if (X.cols !== d) throw new InputError(`X has ${nOf(X.cols, "feature")} but the imputer was fitted with ${d}`);
    const kept = this.statistics.map((s, j) => (s === null ? -1 : j)).filter((j) => j >= 0);
    const w = kept.length + this.indicatorFeatures.length;
    const out = new Float64Array(X.rows * w);
    for (let i = 0; i < X.rows; i++) {
      let o = i * w;
      for (const j of kept) {
        const v = X.data[i * d + j];
        out[o++] = Number.isNaN(v) ? (this.statistics[j] as number) : v;
      }
      for (const j of this.indicatorFeatures) out[o++] = Number.isNaN(X.data[i * d + j]) ? 1 : 0;
    }
    return { data: out, rows: X.rows, cols: w };
  }

  toJSON(): SimpleImputerJSON {
    return { type: "SimpleImputer", strategy: this.strategy, statistics: this.statistics, indicatorFeatures: this.indicatorFeatures };
  }

  static fromJSON(j: SimpleImputerJSON): SimpleImputerModel {
    if (j?.type !== "SimpleImputer") throw new InputError('not a SimpleImputer model: expected { type: "SimpleImputer", ... }');
    return new SimpleImputerModel(j.strategy, j.statistics, j.indicatorFeatures);
  }
}

/**
 * scikit-learn's SimpleImputer on numbers (NaN or null is missing): mean, median (numpy's,
 * the mean of the two middle values), most frequent (ties: the smallest value) or a constant;
 * a column with no value at all is dropped (scikit-learn's keep_empty_features=False), except
 * with "constant".
 */
export class SimpleImputer {
  constructor(readonly options: SimpleImputerOptions = {}) {
    const s = options.strategy ?? "mean";
    if (!["mean", "median", "most_frequent", "constant"].includes(s)) {
      throw new InputError(`strategy must be mean, median, most_frequent or constant, got "${s}"`);
    }
  }

  async fit(Xin: MatrixWithMissing): Promise<SimpleImputerModel> {
    const X = readWithNaN(Xin);
    const { rows: n, cols: d, data } = X;
    const strategy = this.options.strategy ?? "mean";
    const statistics: (number | null)[] = [];
    const indicator: number[] = [];
    // One buffer for a column's present values (the median reorders it: linear-time selection).
    const buf = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) {
        const v = data[i * d + j];
        if (Number.isNaN(v)) continue;
        if (!Number.isFinite(v)) throw new InputError(`X: row ${i}, column ${j} is ${v}; only NaN or null mark missing values`);
        buf[m++] = v;
      }
      const present = buf.subarray(0, m);
      if (m < n && this.options.addIndicator) indicator.push(j);
      if (strategy === "constant") {
        statistics.push(this.options.fillValue ?? 0);
        continue;
      }
      if (m === 0) {
        statistics.push(null);
        continue;
      }
      if (strategy === "mean") {
        // Summed as multiples of a power of two near the largest |x| (exact scaling), so that
        // values near the largest double (1e308) do not overflow the sum.
        let big = 0;
        for (let t = 0; t < m; t++) big = Math.max(big, Math.abs(present[t]));
        const scale = big > 1e300 ? 2 ** Math.floor(Math.log2(big)) : 1;
        let total = 0;
        for (let t = 0; t < m; t++) total += present[t] / scale;
        statistics.push((total / m) * scale);
      } else if (strategy === "median") {
        statistics.push(median(present));
      } else {
        const counts = new Map<number, number>();
        for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
        let best = NaN;
        let bestCount = 0;
        for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
        statistics.push(best);
      }
    }
    return new SimpleImputerModel(strategy, statistics, indicator);
  }
}
