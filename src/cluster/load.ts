import { InputError } from "../core/errors.js";
import { type AgglomerativeJSON, AgglomerativeModel } from "./agglomerative.js";
import { type KMeansJSON, KMeansModel } from "./kmeans.js";
import { type MiniBatchKMeansJSON, MiniBatchKMeansModel } from "./minibatch-kmeans.js";

export type ModelJSON = KMeansJSON | MiniBatchKMeansJSON | AgglomerativeJSON;
export type FittedModel = KMeansModel | MiniBatchKMeansModel | AgglomerativeModel;

/** Restores a fitted model from its `toJSON()` output. */
export function loadModel(json: unknown): FittedModel {
  const t = (json as { type?: unknown } | null)?.type;
  switch (t) {
    case "KMeans":
      return KMeansModel.fromJSON(json as KMeansJSON);
    case "MiniBatchKMeans":
      return MiniBatchKMeansModel.fromJSON(json as MiniBatchKMeansJSON);
    case "AgglomerativeClustering":
      return AgglomerativeModel.fromJSON(json as AgglomerativeJSON);
    default:
      throw new InputError(`unknown model type ${JSON.stringify(t)}; expected one of: KMeans, MiniBatchKMeans, AgglomerativeClustering`);
  }
}
