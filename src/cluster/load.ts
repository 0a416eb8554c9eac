import { InputError } from "../core/errors.js";
import { type KMeansJSON, KMeansModel } from "./kmeans.js";

export type ModelJSON = KMeansJSON;
export type FittedModel = KMeansModel;

/** Restores a fitted model from its `toJSON()` output. */
export function loadModel(json: unknown): FittedModel {
  const t = (json as { type?: unknown } | null)?.type;
  switch (t) {
    case "KMeans":
      return KMeansModel.fromJSON(json as KMeansJSON);
    default:
      throw new InputError(`unknown model type ${JSON.stringify(t)}; expected one of: KMeans`);
  }
}
