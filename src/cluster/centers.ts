import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";
import { assignLabels, sqDist } from "./kernels/lloyd.js";

/**
 * What every model that assigns rows to their nearest center can do (K-Means and
 * mini-batch K-Means): predict, distances to every center or to the own center, score.
 */
export abstract class NearestCenterModel {
  abstract readonly clusterCenters: Matrix;

  get nClusters(): number {
    return this.clusterCenters.rows;
  }

  get nFeatures(): number {
    return this.clusterCenters.cols;
  }

  /** The nearest center of each row of Y (ties: the lower index). */
  predict(Y: MatrixLike): Int32Array {
    const m = this.checkInput(Y);
    const labels = new Int32Array(m.rows);
    assignLabels(m.data, m.rows, m.cols, this.clusterCenters.data, this.nClusters, labels, null, null);
    return labels;
  }

  /** Euclidean distance of each row of Y to every center (n × k). */
  transform(Y: MatrixLike): Matrix {
    const m = this.checkInput(Y);
    const k = this.nClusters;
    const out = new Float64Array(m.rows * k);
    for (let i = 0; i < m.rows; i++) {
      for (let c = 0; c < k; c++) out[i * k + c] = Math.sqrt(sqDist(m.data, i, this.clusterCenters.data, c, m.cols));
    }
    return { data: out, rows: m.rows, cols: k };
  }

  /** Euclidean distance of each row of Y to the nearest center (its own segment's center). */
  distanceToCenter(Y: MatrixLike): Float64Array {
    const m = this.checkInput(Y);
    const labels = new Int32Array(m.rows);
    const dist = new Float64Array(m.rows);
    assignLabels(m.data, m.rows, m.cols, this.clusterCenters.data, this.nClusters, labels, dist, null);
    for (let i = 0; i < dist.length; i++) dist[i] = Math.sqrt(dist[i]);
    return dist;
  }

  /** Minus the (weighted) sum of squared distances of Y's rows to their nearest center (scikit-learn's score). */
  score(Y: MatrixLike, sampleWeight?: ArrayLike<number>): number {
    const m = this.checkInput(Y);
    let w: Float64Array | null = null;
    if (sampleWeight !== undefined) {
      if (sampleWeight.length !== m.rows) throw new InputError(`sampleWeight has ${sampleWeight.length} values but X has ${m.rows} rows`);
      w = Float64Array.from(sampleWeight);
    }
    const labels = new Int32Array(m.rows);
    return -assignLabels(m.data, m.rows, m.cols, this.clusterCenters.data, this.nClusters, labels, null, w);
  }

  protected checkInput(Y: MatrixLike): Matrix {
    const m = toMatrix(Y, "X");
    if (m.cols !== this.nFeatures) {
      throw new InputError(`X has ${m.cols} features but the model was fitted with ${this.nFeatures}`);
    }
    return m;
  }
}
