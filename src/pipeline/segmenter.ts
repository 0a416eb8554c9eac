/**
 * The fitted clustering of a segmentation, whatever the algorithm: K-Means (its centers are
 * already numbered from the largest segment down) or agglomerative clustering (whose own
 * cluster numbers are mapped to segment numbers by size). `predict` gives segment numbers.
 */
import { AgglomerativeModel } from "../cluster/agglomerative.js";
import { KMeansModel } from "../cluster/kmeans.js";
import { type FittedModel, loadModel, type ModelJSON } from "../cluster/load.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";

export class Segmenter {
  constructor(
    readonly inner: KMeansModel | AgglomerativeModel,
    /** relabel[c] is the segment of the model's cluster c; null: the same numbers. */
    readonly relabel: Int32Array | null = null,
  ) {}

  get nClusters(): number {
    return this.inner.nClusters;
  }

  get nFeatures(): number {
    return this.inner.nFeatures;
  }

  /** The segment of each row of X (preprocessed features). */
  predict(X: Matrix): Int32Array {
    const labels = this.inner.predict(X);
    const r = this.relabel;
    if (r) for (let i = 0; i < labels.length; i++) labels[i] = r[labels[i]];
    return labels;
  }

  toJSON(): ModelJSON {
    return this.inner instanceof KMeansModel ? this.inner.toJSON({ includeLabels: false }) : this.inner.toJSON();
  }

  static fromJSON(json: unknown, relabel?: number[] | null): Segmenter {
    const m: FittedModel = loadModel(json);
    if (!(m instanceof KMeansModel) && !(m instanceof AgglomerativeModel)) {
      // A MiniBatchKMeans model scores as K-Means does: nearest center.
      return new Segmenter(new KMeansModel(m.clusterCenters, m.labels, m.inertia, m.nIter), relabel ? Int32Array.from(relabel) : null);
    }
    if (relabel && relabel.length !== m.nClusters) throw new InputError(`the model file's segment numbering has ${relabel.length} entries for ${m.nClusters} clusters; fit the model again`);
    return new Segmenter(m, relabel ? Int32Array.from(relabel) : null);
  }
}
