/** Segmenta's library: every name here is public and stable. Isomorphic (no Node built-ins). */
export { KMeans, KMeansModel, type KMeansOptions, type KMeansFitOptions, type KMeansJSON } from "./cluster/kmeans.js";
export {
  MiniBatchKMeans, MiniBatchKMeansModel, type MiniBatchKMeansOptions, type MiniBatchKMeansFitOptions, type MiniBatchKMeansJSON,
} from "./cluster/minibatch-kmeans.js";
export {
  AgglomerativeClustering, AgglomerativeModel, dendrogram, type AgglomerativeProgress,
  type AgglomerativeOptions, type AgglomerativeFitOptions, type AgglomerativeJSON, type Linkage, type AgglomerativeMetric, type DendrogramData, type DendrogramOptions,
} from "./cluster/agglomerative.js";
export {
  DBSCAN, DBSCANModel, type DBSCANOptions, type DBSCANFitOptions, type DBSCANJSON, type DBSCANMetric,
} from "./cluster/density/dbscan.js";
export {
  HDBSCAN, HDBSCANModel, type HDBSCANOptions, type HDBSCANFitOptions, type HDBSCANJSON, type HDBSCANMetric, type HDBSCANPrediction, type HDBSCANPhase,
} from "./cluster/density/hdbscan.js";
export { type CondensedTree, type ClusterSelectionMethod } from "./cluster/density/hdbscan-tree.js";
export { OPTICS, OPTICSModel, type OPTICSOptions, type OPTICSFitOptions } from "./cluster/density/optics.js";
export { ReachModel, type ReachModelJSON } from "./cluster/density/reach-model.js";
export { kDistanceCurve, suggestEps, type KDistanceCurve, type KDistanceKnee, type KDistanceOptions } from "./cluster/density/eps.js";
export {
  NeighborIndex, buildKDTree, autoAlgorithm, type KDTree, type NeighborMetric, type NeighborAlgorithm, type IndexBuffer,
} from "./neighbors/index.js";
export {
  GaussianMixture, GaussianMixtureModel, COVARIANCE_TYPES, mixtureParameterCount,
  type GaussianMixtureOptions, type GaussianMixtureFitOptions, type GaussianMixtureJSON, type GaussianMixtureProgress,
  type CovarianceType, type MixtureInitParams, type MixtureMatrices,
} from "./cluster/mixture/gaussian-mixture.js";
export {
  selectMixture, chooseMixture, evidenceStrength, selectionSummary, type SelectMixtureOptions, type MixtureSelection, type MixtureSelectionSummary,
  type MixtureCandidate, type MixtureChoice, type EvidenceStrength, type Criterion,
} from "./cluster/mixture/select.js";
export { betweenSegments, topProbabilities, BETWEEN_THRESHOLD, type BetweenSegments, type BetweenSegmentsPair, type TopProbabilities } from "./cluster/mixture/uncertainty.js";
export { loadModel, type ModelJSON, type FittedModel } from "./cluster/load.js";
export { estimateAgglomerative, formatBytes, formatDuration } from "./core/budget.js";
export {
  silhouetteScore, silhouetteSamples, silhouetteScores, silhouetteSamplesOfMany, type SilhouetteOptions, type SilhouetteManyOptions,
} from "./metrics/silhouette.js";
export { daviesBouldinScore } from "./metrics/davies-bouldin.js";
export { calinskiHarabaszScore } from "./metrics/calinski-harabasz.js";
export { inertiaScore } from "./metrics/inertia.js";
export {
  psi, psiTerm, psiReading, quantileEdges, binCounts, categoryCounts, PSI_WATCH, PSI_RETRAIN, PSI_EPSILON, PSI_BINS, type PsiReading,
} from "./metrics/psi.js";
export {
  chooseK, recommendK, recommendBeyondTwo, kneedle, type KAlternative,
  type ChooseKOptions, type ChooseKProgress, type ChooseKResult, type KEvaluation, type KRecommendation, type KVoter,
  type KneedleOptions, type KneeResult, type RecommendOptions,
} from "./metrics/choose-k.js";
export { elbowChart, indicesChart, gapChart, type ChartOptions } from "./charts/choose-k.js";
export { dendrogramChart, type DendrogramChartOptions } from "./charts/dendrogram.js";
export { segmentMapChart, type SegmentMapInput, type MapMethod } from "./charts/map.js";
export { silhouettePlotChart, type SilhouettePlotInput } from "./charts/silhouette-plot.js";
export { kDistanceChart, reachabilityChart, type KDistanceChartInput, type ReachabilityChartInput } from "./charts/density.js";
export { membershipChart, type MembershipChartInput } from "./charts/membership.js";
export {
  bicChart, aicChart, assignmentCertaintyChart, mixtureEllipses, ellipseLayer, withEllipses, componentCovariance, selectionTable, betweenSegmentsTable,
  COVARIANCE_COLORS, type MixtureEllipse, type AssignmentCertaintyInput, type SelectionChartOptions, type MixtureTable,
} from "./charts/mixture.js";
export { profileHeatmapChart, snakePlotChart, type ProfileChartInput } from "./charts/profile.js";
export { segmentSizesChart, type SegmentSizesInput } from "./charts/sizes.js";
export { rfmGridChart, type RfmGridInput } from "./charts/rfm-grid.js";
export {
  segmentSizesOverTimeChart, segmentFlowChart, migrationHeatmap, psiChart,
  type SegmentSizeAt, type SizesOverTimeInput, type FlowChartInput, type MigrationInput, type PsiChartInput, type PsiRow,
} from "./charts/over-time.js";
export { stratifiedSample, allocateSample, quantilePositions, type StratifiedSampleOptions } from "./charts/sample.js";
export {
  SEGMENT_PALETTE, NOISE_COLOR, OUTLIERS_NAME, segmentColor, segmentDisplayNames, noiseDisplayName, type BaseChartOptions, type NoiseNameOption,
} from "./charts/theme.js";
export {
  adjustedRandScore, normalizedMutualInfoScore, adjustedMutualInfoScore, mutualInfoScore,
  homogeneityCompletenessVMeasure, fowlkesMallowsScore, contingencyMatrix,
  type AverageMethod, type ContingencyMatrix, type HomogeneityCompletenessVMeasure,
} from "./metrics/external.js";
export {
  TSNE, TSNEModel, trustworthiness, type TSNEOptions, type TSNEFitOptions, type TSNEProgress,
} from "./embed/tsne.js";
export { UMAP, UMAPModel, type UMAPOptions, type UMAPFitOptions } from "./embed/umap.js";
export { StandardScaler, StandardScalerModel } from "./preprocess/scaler.js";
export { PCA, PCAModel, type PCAOptions, type PCAJSON } from "./preprocess/pca.js";
export { MinMaxScaler, RobustScaler, MaxAbsScaler, AffineScalerModel } from "./preprocess/scalers.js";
export { SimpleImputer, SimpleImputerModel, type SimpleImputerOptions, type ImputeStrategy } from "./preprocess/impute.js";
export { OutlierHandler, OutlierModel, type OutlierOptions, type OutlierMethod, type OutlierAction } from "./preprocess/outliers.js";
export { VarianceThreshold, CorrelationFilter, FeatureSelectionModel } from "./preprocess/filters.js";
export {
  OneHotEncoder, OneHotEncoderModel, OrdinalEncoder, OrdinalEncoderModel, type OneHotEncoderOptions, type OrdinalEncoderOptions, type CategoryRows,
} from "./preprocess/encode.js";
export { PowerTransformer, PowerTransformerModel, type PowerTransformerOptions, type PowerMethod } from "./preprocess/power.js";
export {
  FittedPipeline, fitPipeline, type PipelineJSON, type PreprocessOptions, type OutlierRule, type OneHotOptions, type ScaleMethod,
} from "./preprocess/pipeline.js";
export { planPreprocessing, skewness, type PlanStep, type PreprocessPlan } from "./preprocess/plan.js";
export {
  profileSegments, rfmScoreOfValue,
  type ProfileOptions, type ProfileResult, type SegmentProfile, type FeatureStats, type NumericStats, type CategoricalStats, type CategoryShare,
  type SegmentFeature, type SegmentNumericFeature, type SegmentCategoricalFeature, type SegmentCategoryShare, type DistinguishingFeature, type RfmProfile,
} from "./profile/profiles.js";
export { nameOutliers, OUTLIERS_PREFIX } from "./profile/names.js";
export { nameSegments, humanizeFeatureName, formatNumber, formatPercent, formatFeatureValue, type NamedSegment, type NamingOptions } from "./profile/names.js";
export { fitDecisionTree, applyTree, predictTree, presortFeatures, type DecisionTree, type TreeNode, type TreeOptions, type Presorted } from "./profile/tree.js";
export {
  segmentRules, evaluateRules, conditionsSql, rulesToSql, sqlIdentifier, sqlString, sqlNumber,
  type Condition, type Rule, type SegmentRules, type RulesResult, type RuleOptions,
} from "./profile/rules.js";
export { SegmentationConfig, parseConfig, type SegmentationConfigInput } from "./pipeline/config.js";
export { runSegmentation, type KSearchRow, type SegmentationResult, type SegmentSummary, type FeatureChoice, type DensityInfo } from "./pipeline/run.js";
export { epsSweep, epsCandidates, defaultMinSamples, defaultMinClusterSize, type EpsCandidate } from "./pipeline/density.js";
export { type MixtureInfo } from "./pipeline/mixture.js";
export { buildModelFile, parseModelFile, predictWithModel, type ModelFile } from "./pipeline/model.js";
export {
  driftReport, driftWarnings, trainingDistribution, type DriftReport, type FeatureDrift, type DriftBin, type TrainingDistribution, type FeatureDistribution,
} from "./pipeline/drift.js";
export { previousFromModel, modelSegmentIds } from "./pipeline/model.js";
export {
  matchSegments, hungarian, segmentCentres,
  type StableIds, type SegmentMatch, type PreviousSegment, type PreviousSegmentation, type PreviousRun, type CurrentSegmentation, type MatchOptions,
} from "./pipeline/stable.js";
export { compareAssignments, type Comparison, type CompareOptions, type MigrationMatrix, type Flow, type SideSummary } from "./pipeline/compare.js";
export {
  segmentChanges, changesToRows, changesFromRecords, CHANGE_COLUMNS, type SegmentChange, type SegmentMember, type ChangeCell,
} from "./pipeline/changes.js";
export { type Matrix, type MatrixLike, toMatrix, toArrays } from "./core/matrix.js";
export { type Dataset, type Column, type ColumnKind, datasetFromRecords } from "./core/dataset.js";
export { InputError, AbortError } from "./core/errors.js";
export { modelSql, type ModelSqlOptions } from "./pipeline/sql/model-sql.js";
export { rfmSql, rfmTotalsSql, type RfmSqlOptions } from "./pipeline/sql/rfm-sql.js";
export { dialect, DIALECTS, type Dialect, type DialectName } from "./pipeline/sql/dialect.js";
export { Random } from "./core/random.js";
