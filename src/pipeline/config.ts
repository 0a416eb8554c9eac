import { z } from "zod";
import { type ColumnKind, COLUMN_KINDS } from "../core/dataset.js";
import { InputError } from "../core/errors.js";

export const ALGORITHMS = ["kmeans", "minibatch-kmeans", "agglomerative", "dbscan", "hdbscan", "optics", "gmm"] as const;
export const AVAILABLE_ALGORITHMS = ["kmeans", "minibatch-kmeans", "agglomerative", "dbscan", "hdbscan", "optics", "gmm"] as const;
/** The algorithms that find the number of segments from the density of the data and set outliers apart (label −1). */
export const DENSITY_ALGORITHMS = ["dbscan", "hdbscan", "optics"] as const;

export function isDensityAlgorithm(a: string): a is (typeof DENSITY_ALGORITHMS)[number] {
  return (DENSITY_ALGORITHMS as readonly string[]).includes(a);
}

/**
 * The one configuration of a segmentation run. CLI flags map onto it, the API takes it as
 * a body, and every model file records it. Each field carries its description (`.describe`), so
 * that the JSON Schema of /openapi.json, and the dashboard's form generated from it, document
 * every option from here.
 */
export const SegmentationConfig = z
  .object({
    features: z.array(z.string().min(1)).min(1).optional()
      .describe("Feature columns; default: every usable numeric, boolean and categorical column except ids."),
    profile: z.array(z.string().min(1)).default([])
      .describe("Columns described in each segment's profile without being clustered on (an outcome such as churn, or spend when segmenting on behaviour). They are not needed at predict time."),
    id: z.string().min(1).optional()
      .describe("Column that identifies a row (a customer); default: the first id-like column, else the row number."),
    types: z.record(z.string(), z.enum(COLUMN_KINDS as [ColumnKind, ...ColumnKind[]])).default({})
      .describe("Forced column kinds, overriding inference."),
    algorithm: z.enum(ALGORITHMS).default("kmeans")
      .describe("The clustering algorithm: K-Means, mini-batch K-Means, agglomerative (a tree of merges), DBSCAN, HDBSCAN and OPTICS (density: they find the number of segments and set outliers apart), or Gaussian mixtures (soft segments)."),
    linkage: z.enum(["ward", "complete", "average", "single", "centroid", "median", "weighted"]).default("ward")
      .describe("Agglomerative clustering: how the distance between two clusters is measured."),
    eps: z.union([z.number().positive(), z.literal("auto")]).default("auto")
      .describe("DBSCAN (and OPTICS with opticsMethod \"dbscan\"): the radius of a customer's neighbourhood, in the preprocessed (scaled) units, or \"auto\": the knee of the k-distance curve (the sorted distance of every customer to its minSamples-th neighbour)."),
    minSamples: z.number().int().min(1).optional()
      .describe("DBSCAN, OPTICS: customers (the customer itself counted) within eps that make a customer a core of a segment; default twice the number of features, at least 5. HDBSCAN: the neighbours of its core distance; default the same, at most minClusterSize (scikit-learn's default, minClusterSize itself, is more conservative: more outliers)."),
    minClusterSize: z.number().int().min(2).optional()
      .describe("HDBSCAN (and OPTICS's xi method): the smallest group that counts as a segment; default 1 % of the rows, at least 5."),
    clusterSelectionMethod: z.enum(["eom", "leaf"]).default("eom")
      .describe("HDBSCAN: \"eom\" (excess of mass: the most persistent groups) or \"leaf\" (the finest, most homogeneous groups)."),
    clusterSelectionEpsilon: z.number().nonnegative().default(0)
      .describe("HDBSCAN: groups closer than this (preprocessed units) are not split further."),
    allowSingleCluster: z.boolean().default(false)
      .describe("HDBSCAN: allow the whole table as one segment (with its outliers) when nothing splits it."),
    metric: z.enum(["euclidean", "manhattan", "cosine"]).default("euclidean")
      .describe("Density-based algorithms: how the distance between two customers is measured."),
    covarianceType: z.enum(["full", "tied", "diag", "spherical"]).optional()
      .describe("Gaussian mixtures: the shape of the segments: \"full\" (each its own size, shape and orientation), \"tied\" (one shared shape), \"diag\" (axis-aligned ellipses), \"spherical\". Unset: \"full\", or with k \"auto\" all four compared by BIC."),
    regCovar: z.number().nonnegative().default(1e-6)
      .describe("Gaussian mixtures: added to the covariances' diagonals so that they stay invertible (scikit-learn's reg_covar)."),
    opticsMethod: z.enum(["xi", "dbscan"]).default("xi")
      .describe("OPTICS: \"xi\" (segments where the reachability drops steeply by xi) or \"dbscan\" (a cut at eps)."),
    xi: z.number().gt(0).lt(1).default(0.05)
      .describe("OPTICS: the steepness that starts and ends a segment in the reachability plot."),
    maxEps: z.number().positive().optional()
      .describe("OPTICS: the largest neighbourhood radius searched (default: unbounded)."),
    // k = "auto": see chooseK (indices, elbow, gap statistic, stability) and recommendK.
    k: z.union([z.number().int().min(2), z.literal("auto")]).default(4)
      .describe("Number of segments, or \"auto\" to choose it over kRange (indices, elbow, gap statistic, stability)."),
    kRange: z
      .object({
        min: z.number().int().min(2).default(2).describe("The smallest k tried."),
        max: z.number().int().min(2).default(8).describe("The largest k tried."),
      })
      .strict()
      .refine((r) => r.min <= r.max, { message: "the smallest k must not exceed the largest" })
      .default({ min: 2, max: 8 })
      .describe("The range of k that k = \"auto\" (and segmenta tune) evaluates."),
    kChoice: z
      .object({
        gapReferences: z.number().int().nonnegative().default(10)
          .describe("Uniform reference sets of the gap statistic (its B); 0 leaves it out."),
        stabilityResamples: z.number().int().nonnegative().default(20)
          .describe("Bootstrap resamples for the stability of each k; 0 leaves stability out."),
        stabilityThreshold: z.number().min(0).max(1).default(0.75)
          .describe("Mean clusterwise Jaccard from which a k counts as stable."),
        resampleNInit: z.number().int().positive().default(3)
          .describe("K-Means initialisations of each fit on a reference set or resample (at most nInit)."),
      })
      .strict()
      .default({ gapReferences: 10, stabilityResamples: 20, stabilityThreshold: 0.75, resampleNInit: 3 })
      .describe("How k = \"auto\" weighs the evidence."),
    seed: z.number().int().nonnegative().default(42)
      .describe("Seed of every random choice; the same seed gives the same segments."),
    nInit: z.number().int().positive().default(10)
      .describe("K-Means restarts; the lowest inertia wins."),
    maxIter: z.number().int().positive().default(300)
      .describe("K-Means iterations per initialisation; for minibatch-kmeans, passes over the data."),
    batchSize: z.number().int().positive().default(1024)
      .describe("Rows per mini-batch (minibatch-kmeans)."),
    tol: z.number().nonnegative().default(1e-4)
      .describe("Convergence tolerance: the fit stops when the centers move less than this."),
    preprocessing: z
      .object({
        plan: z.enum(["standard", "auto"]).default("standard")
          .describe("\"standard\": the steps below as given. \"auto\": also picks steps from the data and says why (skewed columns get log1p or Yeo-Johnson, rare categories are grouped, two-valued categories keep one column, near-duplicate features are dropped)."),
        numericImpute: z.enum(["median", "mean", "most_frequent", "constant"]).default("median")
          .describe("How a missing number is filled in."),
        fillValue: z.number().default(0)
          .describe("The value of numericImpute \"constant\"."),
        categoricalImpute: z.enum(["most_frequent", "constant"]).default("most_frequent")
          .describe("How a missing category is filled in."),
        missingIndicator: z.boolean().default(false)
          .describe("A 0/1 column name_missing for each numeric column with missing values."),
        scale: z.enum(["standard", "minmax", "robust", "maxabs", "none"]).default("standard")
          .describe("How numeric columns are scaled so that no column dominates by its units."),
        maxCategories: z.number().int().positive().default(50)
          .describe("Categorical columns with more distinct values than this are left out of the default features."),
        log1p: z.array(z.string().min(1)).default([])
          .describe("Numeric columns compressed with a signed log1p before scaling (skewed money and counts)."),
        power: z.array(z.string().min(1)).default([])
          .describe("Numeric columns given a power transform with λ fitted by maximum likelihood."),
        powerMethod: z.enum(["yeo-johnson", "box-cox"]).default("yeo-johnson")
          .describe("The power transform of the power columns."),
        outliers: z
          .object({
            method: z.enum(["none", "iqr", "zscore", "mad"]).default("none")
              .describe("How an extreme value is found: none, IQR fences, z-scores or the median absolute deviation."),
            action: z.enum(["clip", "drop", "flag"]).default("clip")
              .describe("What is done with an extreme value: clipped to the bound, the row dropped, or flagged."),
            k: z.number().positive().optional()
              .describe("The multiplier of the bound (the method's usual one when unset)."),
            columns: z.array(z.string().min(1)).optional()
              .describe("The columns checked (default: every numeric feature)."),
          })
          .strict()
          .default({ method: "none", action: "clip" })
          .describe("Extreme values of numeric columns: how they are found and what is done with them."),
        oneHot: z
          .object({
            handleUnknown: z.enum(["ignore", "error"]).default("ignore")
              .describe("A category unseen in training, when scoring: ignored (all zeros) or an error."),
            minFrequency: z.number().positive().nullable().default(null)
              .describe("Categories rarer than this (a count ≥ 1, or a share of rows below 1) are grouped as infrequent."),
            drop: z.enum(["first", "if_binary"]).nullable().default(null)
              .describe("Drop one column of each category (\"first\") or of two-valued ones only (\"if_binary\")."),
          })
          .strict()
          .default({ handleUnknown: "ignore", minFrequency: null, drop: null })
          .describe("How categorical columns become 0/1 columns."),
        ordinal: z.record(z.string(), z.array(z.string())).default({})
          .describe("Categorical columns encoded as ordered codes: the categories in order (empty: sorted). JSON: { \"column\": [\"low\", \"mid\", \"high\"] }."),
        varianceThreshold: z.number().nonnegative().nullable().default(null)
          .describe("Features whose variance is at most this are dropped."),
        correlationThreshold: z.number().gt(0).max(1).nullable().default(null)
          .describe("Of two features correlated above this, one is dropped."),
        pca: z
          .object({
            nComponents: z.number().positive().refine((x) => Number.isInteger(x) || x < 1, { message: "a whole number of components, or a share of variance below 1" })
              .describe("A whole number of components, or a share of variance below 1."),
            whiten: z.boolean().default(false)
              .describe("Scale the components to unit variance."),
          })
          .strict()
          .nullable()
          .default(null)
          .describe("Principal components in place of the features."),
        dates: z.enum(["drop", "days-since"]).optional()
          .describe("Date columns as features: \"days-since\" turns each into the time elapsed until asOf (days; years for birth dates and birth years); \"drop\" leaves dates out. Unset: dates are left out of the default features, except that plan \"auto\" converts them."),
        asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "write the reference date as YYYY-MM-DD" }).nullable().optional()
          .describe("The reference date of \"days-since\" (YYYY-MM-DD); default the day of the run. The model keeps it."),
      })
      .strict()
      .default({
        plan: "standard", numericImpute: "median", fillValue: 0, categoricalImpute: "most_frequent", missingIndicator: false, scale: "standard",
        maxCategories: 50, log1p: [], power: [], powerMethod: "yeo-johnson", outliers: { method: "none", action: "clip" },
        oneHot: { handleUnknown: "ignore", minFrequency: null, drop: null }, ordinal: {}, varianceThreshold: null, correlationThreshold: null, pca: null,
      })
      .describe("How the columns are turned into the numbers the algorithm compares."),
    silhouetteSampleSize: z.number().int().min(100).default(10000)
      .describe("Rows above which the silhouette is computed on a sample of this many rows."),
  })
  .strict();

export type SegmentationConfig = z.output<typeof SegmentationConfig>;
export type SegmentationConfigInput = z.input<typeof SegmentationConfig>;

/**
 * Validates a configuration, turning the first problem into one clear message. Messages name
 * the configuration's fields (`k`, `preprocessing.scale`); with `names: "cli"` they name the
 * command-line flags instead (`--k`, `--scale`).
 */
export function parseConfig(input: unknown, names: "library" | "cli" = "library"): SegmentationConfig {
  const r = SegmentationConfig.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.join(".") || "(config)";
    if (names === "library") {
      const hint = FIELD_HINT[path] ?? FIELD_HINT[String(issue.path[0])];
      throw new InputError(`config.${path}: ${issue.message}${hint ? ` (${hint})` : ""}`);
    }
    const flag = FLAG_OF[path] ?? (issue.path[0] === "preprocessing" ? path : FLAG_OF[String(issue.path[0])] ?? path);
    throw new InputError(`${flag}: ${issue.message}`);
  }
  return r.data;
}

/** What a field takes, for the library's messages. */
const FIELD_HINT: Record<string, string> = {
  k: "a whole number of segments ≥ 2, or \"auto\"",
  seed: "a whole number ≥ 0",
  algorithm: `one of ${ALGORITHMS.map((a) => `"${a}"`).join(", ")}`,
  kRange: "{ min, max } with 2 ≤ min ≤ max",
  eps: "a radius > 0 in the preprocessed units, or \"auto\"",
};

const FLAG_OF: Record<string, string> = {
  k: "--k (a whole number of segments ≥ 2, or auto)",
  seed: "--seed (a whole number ≥ 0)",
  features: "--features",
  profile: "--profile",
  id: "--id",
  algorithm: "--algorithm",
  linkage: "--linkage",
  eps: "--eps (a radius > 0 in the scaled units, or auto)",
  minSamples: "--min-samples (a whole number ≥ 1)",
  minClusterSize: "--min-cluster-size (a whole number ≥ 2)",
  clusterSelectionMethod: "--cluster-selection (eom or leaf)",
  clusterSelectionEpsilon: "--cluster-selection-epsilon (a number ≥ 0)",
  allowSingleCluster: "--allow-single-cluster",
  metric: "--metric (euclidean, manhattan or cosine)",
  opticsMethod: "--optics-method (xi or dbscan)",
  covarianceType: "--covariance (full, tied, diag or spherical)",
  regCovar: "--reg-covar (a number ≥ 0)",
  xi: "--xi (a number between 0 and 1)",
  maxEps: "--max-eps (a radius > 0)",
  nInit: "--n-init",
  maxIter: "--max-iter",
  batchSize: "--batch-size",
  types: "--type",
  "preprocessing.plan": "--prep",
  "preprocessing.numericImpute": "--impute",
  "preprocessing.scale": "--scale",
  "preprocessing.powerMethod": "--power-method",
  "preprocessing.outliers.method": "--outliers (iqr, zscore or mad, optionally :clip, :drop or :flag)",
  "preprocessing.outliers.action": "--outliers (iqr, zscore or mad, optionally :clip, :drop or :flag)",
  "preprocessing.oneHot.minFrequency": "--min-frequency",
  "preprocessing.oneHot.drop": "--drop",
  "preprocessing.oneHot.handleUnknown": "--unknown-categories",
  "preprocessing.varianceThreshold": "--variance-threshold",
  "preprocessing.correlationThreshold": "--correlation-threshold",
  "preprocessing.pca.nComponents": "--pca",
  "preprocessing.dates": "--dates (days-since or drop)",
  "preprocessing.asOf": "--as-of (YYYY-MM-DD)",
  kRange: "--k (a range A..B of whole numbers with 2 ≤ A ≤ B)",
  kChoice: "kChoice (gapReferences and stabilityResamples ≥ 0, stabilityThreshold between 0 and 1)",
};
