import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";
import { columnMeanStd } from "./scaler.js";

/** A count with its noun, singular for one: "1 feature", "3 features". */
const nOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

export type PowerMethod = "yeo-johnson" | "box-cox";

export interface PowerTransformerOptions {
  method?: PowerMethod;
  /** Standardise the transformed columns to zero mean and unit variance (default true). */
  standardize?: boolean;
}

export interface PowerTransformerJSON {
  type: "PowerTransformer";
  method: PowerMethod;
  lambdas: number[];
  mean: number[] | null;
  scale: number[] | null;
}

const EPS = 2.220446049250313e-16;

/** Yeo-Johnson transform of one value. */
export function yeoJohnson(x: number, l: number): number {
  if (x >= 0) return Math.abs(l) < EPS ? Math.log1p(x) : (Math.pow(x + 1, l) - 1) / l;
  return Math.abs(l - 2) > EPS ? -(Math.pow(-x + 1, 2 - l) - 1) / (2 - l) : -Math.log1p(-x);
}

/** Box-Cox transform of one (positive) value. */
export function boxCox(x: number, l: number): number {
  return Math.abs(l) < EPS ? Math.log(x) : (Math.pow(x, l) - 1) / l;
}

function variance(v: Float64Array): number {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) * (x - m);
  return s / v.length;
}

/** Negative log-likelihood of λ for a column, as scikit-learn (Yeo-Johnson) and scipy (Box-Cox) define it. */
function negLogLikelihood(x: Float64Array, l: number, method: PowerMethod, buf: Float64Array): number {
  const n = x.length;
  let jac = 0;
  for (let i = 0; i < n; i++) {
    if (method === "yeo-johnson") {
      buf[i] = yeoJohnson(x[i], l);
      jac += Math.sign(x[i]) * Math.log1p(Math.abs(x[i]));
    } else {
      buf[i] = boxCox(x[i], l);
      jac += Math.log(x[i]);
    }
  }
  return (n / 2) * Math.log(variance(buf)) - (l - 1) * jac;
}

/**
 * Minimises f from the bracket (a, b) as scipy's `optimize.brent(brack=(a, b))` does: the
 * bracket is first expanded downhill by the golden ratio until it encloses a minimum, then
 * Brent's parabolic / golden-section search narrows it to a relative tolerance of 1e-12.
 */
export function brentMinimize(f: (x: number) => number, a: number, b: number): number {
  const G = 1.618033988749895;
  const fa = f(a);
  let fb = f(b);
  if (fa < fb) {
    [a, b] = [b, a];
    fb = fa;
  }
  let c = b + G * (b - a);
  let fc = f(c);
  for (let iter = 0; fc < fb && iter < 100; iter++) {
    a = b;
    b = c;
    fb = fc;
    c = b + G * (b - a);
    fc = f(c);
  }
  // Brent's method on [min(a, c), max(a, c)] starting from b.
  let lo = Math.min(a, c);
  let hi = Math.max(a, c);
  let x = b;
  let w = b;
  let v = b;
  let fx = fb;
  let fw = fb;
  let fv = fb;
  let d = 0;
  let e = 0;
  const CG = 0.3819660112501051;
  for (let iter = 0; iter < 500; iter++) {
    const xm = 0.5 * (lo + hi);
    const tol1 = 1e-12 * Math.abs(x) + 1e-15;
    const tol2 = 2 * tol1;
    if (Math.abs(x - xm) <= tol2 - 0.5 * (hi - lo)) break;
    let golden = true;
    if (Math.abs(e) > tol1) {
      const r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = Math.abs(q);
      if (Math.abs(p) < Math.abs(0.5 * q * e) && p > q * (lo - x) && p < q * (hi - x)) {
        e = d;
        d = p / q;
        const u = x + d;
        if (u - lo < tol2 || hi - u < tol2) d = xm >= x ? tol1 : -tol1;
        golden = false;
      }
    }
    if (golden) {
      e = x >= xm ? lo - x : hi - x;
      d = CG * e;
    }
    const u = Math.abs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const fu = f(u);
    if (fu <= fx) {
      if (u >= x) lo = x;
      else hi = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) lo = u;
      else hi = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
  }
  return x;
}

/**
 * λ of one column by maximum likelihood (Brent's method from the bracket (−2, 2), as
 * scikit-learn). Synchronous, for callers that only need λ (the preprocessing plan checks
 * what a transform would do before choosing it). `buf` is scratch space of the column's length.
 */
export function fitLambda(col: Float64Array, method: PowerMethod = "yeo-johnson", buf = new Float64Array(col.length)): number {
  return brentMinimize((l) => negLogLikelihood(col, l, method, buf), -2, 2);
}

/** A fitted power transform: λ per column, then optional standardisation. */
export class PowerTransformerModel {
  constructor(
    readonly method: PowerMethod,
    readonly lambdas: Float64Array,
    readonly mean: Float64Array | null,
    readonly scale: Float64Array | null,
  ) {}

  transform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.lambdas.length;
    if (X.cols !== d) throw new InputError(`X has ${nOf(X.cols, "feature")} but the PowerTransformer was fitted with ${d}`);
    const out = new Float64Array(X.data.length);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < d; j++) {
        const x = X.data[i * d + j];
        if (this.method === "box-cox" && !(x > 0)) {
          throw new InputError(`Box-Cox needs strictly positive values; row ${i}, column ${j} is ${x}: use method "yeo-johnson"`);
        }
        let y = this.method === "yeo-johnson" ? yeoJohnson(x, this.lambdas[j]) : boxCox(x, this.lambdas[j]);
        if (this.mean && this.scale) y = (y - this.mean[j]) / this.scale[j];
        out[i * d + j] = y;
      }
    }
    return { data: out, rows: X.rows, cols: d };
  }

  /** Output feature names: the input names, one output per input column. */
  getFeatureNamesOut(inputNames: string[]): string[] {
    return [...inputNames];
  }

  toJSON(): PowerTransformerJSON {
    return {
      type: "PowerTransformer", method: this.method, lambdas: Array.from(this.lambdas),
      mean: this.mean ? Array.from(this.mean) : null, scale: this.scale ? Array.from(this.scale) : null,
    };
  }

  static fromJSON(j: PowerTransformerJSON): PowerTransformerModel {
    if (j?.type !== "PowerTransformer") throw new InputError('not a PowerTransformer model: expected { type: "PowerTransformer", ... }');
    return new PowerTransformerModel(j.method, Float64Array.from(j.lambdas), j.mean ? Float64Array.from(j.mean) : null, j.scale ? Float64Array.from(j.scale) : null);
  }
}

/**
 * Yeo-Johnson or Box-Cox power transforms with λ fitted per column by maximum likelihood, as
 * scikit-learn's PowerTransformer (Brent's method from the bracket (−2, 2)), then by default
 * standardised.
 */
export class PowerTransformer {
  constructor(readonly options: PowerTransformerOptions = {}) {
    const m = options.method ?? "yeo-johnson";
    if (m !== "yeo-johnson" && m !== "box-cox") throw new InputError(`method must be "yeo-johnson" or "box-cox", got "${m}"`);
  }

  async fit(Xin: MatrixLike): Promise<PowerTransformerModel> {
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d } = X;
    if (n < 2) throw new InputError("PowerTransformer needs at least 2 rows");
    const method = this.options.method ?? "yeo-johnson";
    const lambdas = new Float64Array(d);
    const col = new Float64Array(n);
    const buf = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < n; i++) col[i] = X.data[i * d + j];
      if (method === "box-cox") {
        for (let i = 0; i < n; i++) {
          if (!(col[i] > 0)) throw new InputError(`Box-Cox needs strictly positive values; column ${j} has ${col[i]} in row ${i}: use method "yeo-johnson"`);
        }
      }
      lambdas[j] = fitLambda(col, method, buf);
    }
    const model = new PowerTransformerModel(method, lambdas, null, null);
    if (this.options.standardize === false) return model;
    const T = model.transform(X);
    const { mean, std } = columnMeanStd(T.data, n, d);
    return new PowerTransformerModel(method, lambdas, mean, Float64Array.from(std, (s) => (s > 0 ? s : 1)));
  }
}
