import { InputError } from "./errors.js";
import { allocF64, sharedMemoryAvailable } from "./parallel.js";

/** A dense row-major matrix of doubles. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export type MatrixLike = Matrix | ArrayLike<ArrayLike<number>>;

export function isMatrix(x: unknown): x is Matrix {
  return (
    typeof x === "object" && x !== null && (x as Matrix).data instanceof Float64Array &&
    Number.isInteger((x as Matrix).rows) && Number.isInteger((x as Matrix).cols)
  );
}

/** Values from which a new matrix is put in shared memory (where there is any). */
const SHARED_MIN_VALUES = 1 << 18;

/**
 * Storage for a new matrix of `length` values: in shared memory when it is big (and shared
 * memory exists), so that worker threads read it in place instead of the fit copying it.
 */
export function matrixData(length: number): Float64Array {
  return allocF64(length, length >= SHARED_MIN_VALUES && sharedMemoryAvailable());
}

export function zeros(rows: number, cols: number): Matrix {
  return { data: new Float64Array(rows * cols), rows, cols };
}

/**
 * Converts `number[][]` (or a Matrix) to a Matrix and checks that every value is finite.
 * A Matrix is returned as is, without copying; nested arrays are copied.
 */
export function toMatrix(x: MatrixLike, what = "X"): Matrix {
  let m: Matrix;
  if (isMatrix(x)) {
    if (x.data.length !== x.rows * x.cols) {
      throw new InputError(`${what}: data has ${x.data.length} values but rows × cols = ${x.rows * x.cols}`);
    }
    m = x;
  } else {
    if (!x || typeof (x as ArrayLike<unknown>).length !== "number") {
      throw new InputError(`${what} must be a Matrix or an array of rows (number[][])`);
    }
    const rows = x.length;
    const cols = rows > 0 ? x[0].length : 0;
    const data = matrixData(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = x[i];
      if (!row || row.length !== cols) {
        throw new InputError(`${what}: row ${i} has ${row ? row.length : 0} values, expected ${cols} like row 0`);
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = row[j];
    }
    m = { data, rows, cols };
  }
  assertFinite(m, what);
  return m;
}

export function assertFinite(m: Matrix, what = "X"): void {
  const { data, cols } = m;
  // v × 0 is 0 for every finite v and NaN otherwise: four values per test (twice as fast as
  // Number.isFinite on each), then the offending value is looked for one by one.
  const n = data.length;
  let start = 0;
  for (; start + 4 <= n; start += 4) {
    if (data[start] * 0 + data[start + 1] * 0 + data[start + 2] * 0 + data[start + 3] * 0 !== 0) break;
  }
  for (let i = start; i < n; i++) {
    if (!Number.isFinite(data[i])) {
      const r = Math.floor(i / Math.max(cols, 1));
      throw new InputError(
        `${what}: row ${r}, column ${i - r * cols} is ${data[i]}; impute or drop missing and infinite values first`,
      );
    }
  }
}

/** The rows idx[0], idx[1], … of X, copied into a new matrix. */
export function takeRows(X: Matrix, idx: ArrayLike<number>): Matrix {
  const d = X.cols;
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) out.set(X.data.subarray(idx[r] * d, idx[r] * d + d), r * d);
  return { data: out, rows: idx.length, cols: d };
}

/** The rows of X whose entry in `keep` is not 0, in order, copied into a new matrix. */
export function rowsWhere(X: Matrix, keep: ArrayLike<number>): Matrix {
  const idx: number[] = [];
  for (let i = 0; i < X.rows; i++) if (keep[i]) idx.push(i);
  return takeRows(X, idx);
}

/** Copies the matrix to `number[][]` (for JSON and for tests). */
export function toArrays(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function fromArrays(rows: number[][]): Matrix {
  return toMatrix(rows);
}

export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}
