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
 * a body, and every model file records it.
 */
export const SegmentationConfig = z
  .object({
    /** Feature columns; default: every usable numeric, boolean and categorical column except ids. */
    features: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Columns described in each segment's profile without being clustered on (an outcome
     * such as churn, or spend when segmenting on behaviour). They are not needed at predict time.
     */
    profile: z.array(z.string().min(1)).default([]),
    /** Column that identifies a row (a customer); default: the first id-like column, else the row number. */
    id: z.string().min(1).optional(),
    /** Forced column kinds, overriding inference. */
    types: z.record(z.string(), z.enum(COLUMN_KINDS as [ColumnKind, ...ColumnKind[]])).default({}),
    algorithm: z.enum(ALGORITHMS).default("kmeans"),
    /** Agglomerative clustering: how the distance between two clusters is measured. */
    linkage: z.enum(["ward", "complete", "average", "single", "centroid", "median", "weighted"]).default("ward"),
    /**
     * DBSCAN (and OPTICS with opticsMethod "dbscan"): the radius of a customer's neighbourhood,
     * in the preprocessed (scaled) units, or "auto": the knee of the k-distance curve (the
     * sorted distance of every customer to its minSamples-th neighbour).
     */
    eps: z.union([z.number().positive(), z.literal("auto")]).default("auto"),
    /**
     * DBSCAN, OPTICS: customers (the customer itself counted) within eps that make a customer a
     * core of a segment; default twice the number of features, at least 5. HDBSCAN: the
     * neighbours of its core distance; default the same, at most minClusterSize (scikit-learn's
     * default, minClusterSize itself, is more conservative: more outliers).
     */
    minSamples: z.number().int().min(1).optional(),
    /** HDBSCAN (and OPTICS's xi method): the smallest group that counts as a segment; default 1 % of the rows, at least 5. */
    minClusterSize: z.number().int().min(2).optional(),
    /** HDBSCAN: "eom" (excess of mass: the most persistent groups) or "leaf" (the finest, most homogeneous groups). */
    clusterSelectionMethod: z.enum(["eom", "leaf"]).default("eom"),
    /** HDBSCAN: groups closer than this (preprocessed units) are not split further. */
    clusterSelectionEpsilon: z.number().nonnegative().default(0),
    /** HDBSCAN: allow the whole table as one segment (with its outliers) when nothing splits it. */
    allowSingleCluster: z.boolean().default(false),
    /** Density-based algorithms: how the distance between two customers is measured. */
    metric: z.enum(["euclidean", "manhattan", "cosine"]).default("euclidean"),
    /**
     * Gaussian mixtures: the shape of the segments: "full" (each its own size, shape and
     * orientation), "tied" (one shared shape), "diag" (axis-aligned ellipses), "spherical".
     * Unset: "full", or with k "auto" all four compared by BIC.
     */
    covarianceType: z.enum(["full", "tied", "diag", "spherical"]).optional(),
    /** Gaussian mixtures: added to the covariances' diagonals so that they stay invertible (scikit-learn's reg_covar). */
    regCovar: z.number().nonnegative().default(1e-6),
    /** OPTICS: "xi" (segments where the reachability drops steeply by xi) or "dbscan" (a cut at eps). */
    opticsMethod: z.enum(["xi", "dbscan"]).default("xi"),
    /** OPTICS: the steepness that starts and ends a segment in the reachability plot. */
    xi: z.number().gt(0).lt(1).default(0.05),
    /** OPTICS: the largest neighbourhood radius searched (default: unbounded). */
    maxEps: z.number().positive().optional(),
    /** Number of segments, or "auto" to choose it over kRange (see chooseK: indices, elbow, gap statistic, stability). */
    k: z.union([z.number().int().min(2), z.literal("auto")]).default(4),
    /** The range of k that k = "auto" (and `segmenta tune`) evaluates. */
    kRange: z
      .object({ min: z.number().int().min(2).default(2), max: z.number().int().min(2).default(8) })
      .strict()
      .refine((r) => r.min <= r.max, { message: "the smallest k must not exceed the largest" })
      .default({ min: 2, max: 8 }),
    /** How k = "auto" weighs the evidence (see chooseK and recommendK). */
    kChoice: z
      .object({
        /** Uniform reference sets of the gap statistic (its B); 0 leaves it out. */
        gapReferences: z.number().int().nonnegative().default(10),
        /** Bootstrap resamples for the stability of each k; 0 leaves stability out. */
        stabilityResamples: z.number().int().nonnegative().default(20),
        /** Mean clusterwise Jaccard from which a k counts as stable. */
        stabilityThreshold: z.number().min(0).max(1).default(0.75),
        /** K-Means initialisations of each fit on a reference set or resample (at most nInit). */
        resampleNInit: z.number().int().positive().default(3),
      })
      .strict()
      .default({ gapReferences: 10, stabilityResamples: 20, stabilityThreshold: 0.75, resampleNInit: 3 }),
    /** Seed of every random choice; the same seed gives the same segments. */
    seed: z.number().int().nonnegative().default(42),
    /** K-Means restarts; the lowest inertia wins. */
    nInit: z.number().int().positive().default(10),
    /** K-Means iterations per initialisation; for minibatch-kmeans, passes over the data (scikit-learn's 100 when not set). */
    maxIter: z.number().int().positive().default(300),
    /** Rows per mini-batch (minibatch-kmeans). */
    batchSize: z.number().int().positive().default(1024),
    tol: z.number().nonnegative().default(1e-4),
    preprocessing: z
      .object({
        /**
         * "standard": the steps below as given. "auto": also picks steps from the data and
         * says why (skewed columns get log1p or Yeo-Johnson, rare categories are grouped,
         * two-valued categories keep one column, near-duplicate features are dropped).
         */
        plan: z.enum(["standard", "auto"]).default("standard"),
        numericImpute: z.enum(["median", "mean", "most_frequent", "constant"]).default("median"),
        /** The value of numericImpute "constant". */
        fillValue: z.number().default(0),
        categoricalImpute: z.enum(["most_frequent", "constant"]).default("most_frequent"),
        /** A 0/1 column name_missing for each numeric column with missing values. */
        missingIndicator: z.boolean().default(false),
        scale: z.enum(["standard", "minmax", "robust", "maxabs", "none"]).default("standard"),
        /** Categorical columns with more distinct values than this are left out of the default features. */
        maxCategories: z.number().int().positive().default(50),
        /** Numeric columns compressed with a signed log1p before scaling (skewed money and counts). */
        log1p: z.array(z.string().min(1)).default([]),
        /** Numeric columns given a power transform with λ fitted by maximum likelihood. */
        power: z.array(z.string().min(1)).default([]),
        powerMethod: z.enum(["yeo-johnson", "box-cox"]).default("yeo-johnson"),
        outliers: z
          .object({
            method: z.enum(["none", "iqr", "zscore", "mad"]).default("none"),
            action: z.enum(["clip", "drop", "flag"]).default("clip"),
            k: z.number().positive().optional(),
            columns: z.array(z.string().min(1)).optional(),
          })
          .strict()
          .default({ method: "none", action: "clip" }),
        oneHot: z
          .object({
            handleUnknown: z.enum(["ignore", "error"]).default("ignore"),
            /** Categories rarer than this (a count ≥ 1, or a share of rows below 1) are grouped as infrequent. */
            minFrequency: z.number().positive().nullable().default(null),
            drop: z.enum(["first", "if_binary"]).nullable().default(null),
          })
          .strict()
          .default({ handleUnknown: "ignore", minFrequency: null, drop: null }),
        /** Categorical columns encoded as ordered codes: the categories in order (empty: sorted). */
        ordinal: z.record(z.string(), z.array(z.string())).default({}),
        varianceThreshold: z.number().nonnegative().nullable().default(null),
        correlationThreshold: z.number().gt(0).max(1).nullable().default(null),
        pca: z
          .object({
            nComponents: z.number().positive().refine((x) => Number.isInteger(x) || x < 1, { message: "a whole number of components, or a share of variance below 1" }),
            whiten: z.boolean().default(false),
          })
          .strict()
          .nullable()
          .default(null),
        /**
         * Date columns as features: "days-since" turns each into the time elapsed until asOf
         * (days; years for birth dates and birth years); "drop" leaves dates out. Unset: dates
         * are left out of the default features, except that plan "auto" converts them.
         */
        dates: z.enum(["drop", "days-since"]).optional(),
        /** The reference date of "days-since" (YYYY-MM-DD); default the day of the run. The model keeps it. */
        asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "write the reference date as YYYY-MM-DD" }).nullable().optional(),
      })
      .strict()
      .default({
        plan: "standard", numericImpute: "median", fillValue: 0, categoricalImpute: "most_frequent", missingIndicator: false, scale: "standard",
        maxCategories: 50, log1p: [], power: [], powerMethod: "yeo-johnson", outliers: { method: "none", action: "clip" },
        oneHot: { handleUnknown: "ignore", minFrequency: null, drop: null }, ordinal: {}, varianceThreshold: null, correlationThreshold: null, pca: null,
      }),
    /** Rows above which the silhouette is computed on a sample of this many rows. */
    silhouetteSampleSize: z.number().int().min(100).default(10000),
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
