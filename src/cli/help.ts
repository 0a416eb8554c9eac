/**
 * The help of every command, kept apart from the commands so that `segmenta --help` and
 * `segmenta <command> --help` load nothing else.
 */

/** The end of every command's help. */
const COMMON_TAIL = `Every command takes --json (one JSON document on stdout, nothing else there) and --debug
(the stack trace of an error). Exit status: 0 done, 2 bad input or usage (one line on stderr
saying what to do), 1 internal error.`;

/** --memory of cluster (predict has its own line). */
const MEMORY = `Bigger than memory:
  --memory SIZE          the memory the run may use: 2GB, 512MB, 1.5GB (default: half of the
                         memory available when the command starts). A table whose in-memory run
                         would need more (its rows × columns × the copies the run makes) is
                         streamed from DuckDB: the preprocessing (and k, with --k auto) fitted on a
                         uniform sample of up to 200,000 rows; kmeans refined by full Lloyd passes
                         over every row (until the centers move less than the tolerance, at most
                         --max-iter), minibatch-kmeans by mini-batches over the rows in a random
                         order; every row labelled in a second pass exactly as predict labels it
                         with the model written; sizes and means from streamed totals; names, rules,
                         silhouette and report from a stratified sample. stderr and --json say so
                         ("streamed: …"). Other algorithms need every row: over the budget they are
                         refused (cluster a sample, use minibatch-kmeans or kmeans, or raise --memory)`;

/** --source, --query, --table (inspect, cluster, predict). */
const SOURCE = `A database as the source, instead of a file:
  --source URL           a PostgreSQL database, postgres://user:password@host:5432/database
                         (the password is never shown: messages and outputs print ***)
  --query "SELECT …"     the rows of this query, or
  --table T              the rows of this table (schema.table or table)
The rows are read with a server-side cursor, FETCH by FETCH (10,000 rows each), into DuckDB,
inside a READ ONLY transaction: a statement that writes fails and changes nothing.`;

export const inspectHelp = `usage: segmenta inspect <file> [--type COL=KIND] [--sheet NAME] [--json] [--debug]
       segmenta inspect --source postgres://… (--query "SELECT …" | --table T) [--type COL=KIND] [--json] [--debug]

Reads a CSV/TSV/semicolon/whitespace text file (also gzip-compressed, .csv.gz), Parquet,
JSON/NDJSON or XLSX file and shows its rows and columns: each column's inferred kind
(numeric, categorical, boolean, datetime, id), missing and distinct counts, statistics or top
values, and hints (ids, outcomes, coded categories, implausible values, skew).
  --type COL=KIND        read a column as numeric, categorical, boolean, datetime or id
  --sheet NAME           the worksheet of an .xlsx file (default: the first)

${SOURCE}

${COMMON_TAIL}`;

export const rfmHelp = `usage: segmenta rfm <transactions> --customer C --date D (--amount A | --quantity Q --price P)
                    [--invoice I] [--product P] [--as-of YYYY-MM-DD] [--cancellations net|exclude]
                    [--cancel-prefix C] [--scores] [--type COL=KIND] [--sheet NAME] [--memory SIZE]
                    --out rfm.csv [--raw-csv] [--json] [--debug]
       segmenta rfm --sql --dialect D [--table T] --customer C --date D ... [--out query.sql]
       segmenta rfm --source postgres://… --table T --customer C --date D ... --out rfm.csv

Turns a transaction log into one row per customer:
  recency_days     days from the last purchase to the as-of date
  frequency        distinct invoices bought (without --invoice: distinct purchase times)
  monetary         net spend: purchases minus cancellations (--cancellations exclude: purchases only)
  tenure_days      days from the first purchase to the as-of date
  avg_order_value  monetary / frequency
  mean_days_between_purchases   (last − first purchase day) / (frequency − 1); empty if one order
  distinct_products             distinct --product values bought (only with --product)
  return_rate      cancelled value / purchased value (0 when nothing was cancelled)
--scores adds r_score, f_score, m_score (1–5 by quintiles of the customers' ranks, cut as
pandas qcut cuts the ranks 1..n; r 5 = most recent) and rfm_segment (Champions, Loyal
Customers, ..., Lost, from the R and F scores). Equal values get equal scores: tied customers
share the smallest rank of their group (pandas rank(method="min")), so every one-time buyer
scores F = 1, and a large group of equal values lands in one quintile.

Rows without a customer id, or without a usable date or value, are dropped and counted.
Cancellations are invoices starting with --cancel-prefix (default C, any case; needs
--invoice) and rows with a negative quantity or amount. Rows with a price of 0 or less (free
items, write-offs such as "Adjust bad debt") are neither purchases nor returns. The as-of
date defaults to the day after the last transaction; rows on or after it are left out.
Customers with no purchase (only cancellations) are left out and counted. --out is written
as for cluster (CSV, Parquet or JSON; .gz compresses; --raw-csv). --memory SIZE (2GB, 512MB)
bounds the memory: DuckDB, which does the work, holds at most three quarters of it and spills
to a temporary folder beyond (default: DuckDB's own limit, 80 % of the machine's memory).

In the warehouse (the transactions stay where they are):
  --sql --dialect D      print the one query that computes this table in D (duckdb, postgres,
                         bigquery, snowflake or spark) from --table T (default transactions),
                         with the same rules and column names; the date a DATE or TIMESTAMP,
                         values numbers; --type C=numeric when the customer id is a number
                         (17850.0 is written 17850). BigQuery, Snowflake and Spark SQL are
                         generated, not run by the tests. --out FILE writes it there.
  --source postgres://… --table T   run that query in PostgreSQL: only the per-customer rows
                         come back (through a cursor), then --scores and --out as above; says
                         how many rows were pulled out of the database

${COMMON_TAIL}`;

/** The preprocessing flags, shared by cluster and tune. */
const PREPROCESSING = `Preprocessing (printed as a plan with a reason for each step):
  --prep standard|auto   auto picks steps from the data: log1p / Yeo-Johnson for skewed
                         columns, rare categories grouped, one column for two-valued
                         categories, near-duplicate features dropped, indicators where much is missing
  --impute median|mean|most_frequent|constant   numeric imputation (--fill-value X for constant)
  --missing-indicator    a 0/1 column per numeric column with missing values
  --scale standard|minmax|robust|maxabs|none
  --log a,b              signed log1p;  --power a,b [--power-method yeo-johnson|box-cox]
  --outliers iqr|zscore|mad[:clip|drop|flag]    dropped rows are left out of the fit but still
                         get a segment, marked in the outlier column
  --min-frequency X      group categories rarer than X (a count, or a share below 1)
  --drop first|if_binary --unknown-categories ignore|error
  --ordinal COL=low<mid<high   ordered codes instead of one-hot
  --variance-threshold X --correlation-threshold R --pca N|share [--whiten]
  --dates days-since|drop   date columns as features: the time elapsed until --as-of YYYY-MM-DD
                         (default the day of the run; years for birth dates and birth years),
                         or left out; --prep auto converts them unless --dates drop`;

/** Choosing the columns, shared by cluster and tune. */
const COLUMNS = `Columns:
  --id COL               the column that names a customer, read as text verbatim (default:
                         the first id-like column, else the row number)
  --features a,b,c       the columns to cluster on (default: every usable numeric, boolean and
                         categorical column except ids, dates, constants and categoricals with
                         more than 50 values)
  --profile a,b          columns that describe the segments without being clustered on (an
                         outcome such as Churn)
  --type COL=KIND        read a column as numeric, categorical, boolean, datetime or id
  --sheet NAME           the worksheet of an .xlsx file (default: the first)`;

/** The column mapping of a transaction log, shared by cluster and tune. */
const TRANSACTIONS = `--transactions: <file> is a transaction log. Give the column mapping of segmenta rfm
(--customer, --date, --amount | --quantity and --price, and optionally --invoice, --product,
--as-of, --cancellations net|exclude, --cancel-prefix): the RFM features are computed first
(one row per customer), then used with the id customer_id and, by default, the features
recency_days, frequency and monetary, each through a signed log1p before scaling. --type
then applies to the transaction log.`;

/** The density-based algorithms' flags, shared by cluster and tune. */
const DENSITY = `Density-based segments (--algorithm dbscan, hdbscan or optics): the number of segments is found
from the data, not given (--k is refused), and customers who fit no segment are outliers: segment
-1, outlier 1 in the segments file, a group of their own ("Outliers: …") in the profiles and report.
  --eps X|auto           dbscan: the radius of a customer's neighbourhood in the scaled features;
                         auto (default): the knee of the k-distance curve, with the reason printed
                         (segmenta tune --algorithm dbscan shows the curve and eps from half to twice it)
  --min-samples N        dbscan, optics: customers within eps (itself counted) that make a customer a
                         core of a segment (default twice the number of features, at least 5);
                         hdbscan: the neighbours of its core distance (default the same, at most
                         --min-cluster-size; scikit-learn's default, --min-cluster-size itself,
                         is more conservative: more outliers)
  --min-cluster-size N   hdbscan, optics: the smallest segment (default 1 % of the rows, at least 5)
  --cluster-selection eom|leaf   hdbscan: the most persistent groups (eom, default) or the finest (leaf)
  --cluster-selection-epsilon X  hdbscan: do not split groups closer than X
  --allow-single-cluster         hdbscan: keep the whole table as one segment (with its outliers)
                                 when nothing splits it (default: such a table is all outliers)
  --metric euclidean|manhattan|cosine   the distance between customers (default euclidean)
  --optics-method xi|dbscan      optics: segments where reachability drops steeply (xi, default) or a cut at --eps
  --xi X                 optics: the steepness that bounds a segment (default 0.05)
  --max-eps X            optics: the largest radius searched (default unbounded)
The silhouette is computed over the customers in segments (outliers left out) and, beside it,
with the outliers as one more group. predict: dbscan gives a new customer the segment of the
nearest core customer within eps, else -1; hdbscan uses the hdbscan library's approximate
prediction and adds a probability column; optics gives the segment of the nearest customer whose
core distance reaches the new one, else -1.`;

/** Gaussian mixtures' flags, shared by cluster and tune. */
const MIXTURE = `Gaussian mixtures (--algorithm gmm): soft segments. Each customer gets a probability for every
segment and goes to the most probable; segments may be elliptical and of different sizes.
  --covariance full|tied|diag|spherical   the segments' shape: each its own size, shape and
                         orientation (full, the default with a given k), one shared shape (tied),
                         axis-aligned ellipses (diag), round (spherical); with --k auto, unset
                         compares all four
  --k N|auto             auto: the number of segments and the covariance type with the lowest BIC
                         over 2..8 (as R's mclust; segmenta tune --algorithm gmm shows the table)
  --reg-covar X          added to the covariances' diagonals so that they stay invertible
                         (default 1e-6; raise it when a fit reports a singular covariance)
  --probabilities        cluster, predict: a probability_<segment> column per segment in the
                         segments file (the probability of the assigned segment is always there)
Customers whose most probable segment has a probability below 0.6 sit between segments: the
console, --json and the report count them and say which segments they sit between.`;

export const clusterHelp = `usage: segmenta cluster <file> [--id COL] [--features a,b,c] [--profile a,b] [--type COL=KIND] [--sheet NAME]
                        [--algorithm kmeans|minibatch-kmeans|agglomerative|dbscan|hdbscan|optics|gmm] [--linkage ward|complete|average|single|centroid|median|weighted]
                        [--k N|auto] [--seed N] [--n-init N] [--max-iter N] [--batch-size N] [density flags] [mixture flags]
                        [preprocessing flags]
                        [--out segments.csv] [--raw-csv] [--model model.json] [--report report.html] [--map pca,tsne,umap]
                        [--previous old_model.json] [--previous old_segments.csv]
                        [--charts DIR] [--wide] [--memory 2GB] [--json] [--debug]
       segmenta cluster --source postgres://… (--query "SELECT …" | --table T) [the flags above]
       segmenta cluster <transactions> --transactions --customer C --date D (--amount A | --quantity Q --price P) ...

Segments the rows of a customer table: picks the features, imputes missing values (median /
most frequent), one-hot encodes categories, standardises numbers, runs K-Means (k-means++,
--n-init initialisations, default 10; --seed, default 42) or the chosen algorithm, and
reports each segment's name, size, profile, a rule that picks it out, and the silhouette.
Segments are numbered from the largest (0) down. --k auto chooses k over 2..8 as segmenta tune does.

Outputs (written together, each to a temporary file first: a failed run changes none of them):
  --out FILE             id, segment, segment_name (and outlier with --outliers …:drop or a density-
                         based algorithm; probability with hdbscan and gmm), as CSV,
                         Parquet or JSON by extension; .csv.gz / .json.gz compress. Text cells
                         that a spreadsheet would run as a formula (=, +, -, @ …) get a leading
                         apostrophe; --raw-csv writes them as they are (for machine imports)
  --model FILE           the fitted preprocessing, model and segment names, for segmenta predict
                         (agglomerative: new rows go to the nearest segment mean for ward,
                         centroid and median linkage, else to the segment of the nearest training row)
  --report FILE          the HTML report (--map pca,tsne,umap chooses its maps; default pca,tsne)
  --charts DIR           the report's charts as SVG and PNG files
  --wide                 the console's segment table with every feature (default: the 8 that set
                         the segments apart most)
  --previous FILE        keep the segment ids and names of a previous run: its model file, its
                         segments file, or both (--previous twice). Each new segment that matches a
                         previous one keeps its id and name; the others get new ids (the largest
                         previous id + 1, ...) and names; previous segments left unmatched are listed
                         as vanished. With the model file the segment centres decide, in the
                         previous model's preprocessed space (a pair matches when the new centre is
                         within half the distance from the previous centre to its nearest other
                         one); with the segments file alone, shared customers do when at least 50 %
                         of this run's customers are in it (a pair matches with a Jaccard of at
                         least 0.5). One optimal one-to-one assignment (Hungarian). The output says
                         which decided; the segments file, the model (with its lineage) and --json
                         use the ids.
                         With --report (and --charts): an Over time section, the moves from the
                         previous segments of the same customers (its segments file, else its
                         model's prediction) as an alluvial diagram and a migration matrix, and
                         the drift of this data from the previous model's training data (PSI)

${MEMORY}

${SOURCE}

${COLUMNS}

${DENSITY}

${MIXTURE}

${PREPROCESSING}

${TRANSACTIONS}

${COMMON_TAIL}`;

export const tuneHelp = `usage: segmenta tune <file> [--algorithm kmeans|minibatch-kmeans|agglomerative|dbscan|gmm] [--linkage ward|…] [--k 2..10] [--seed N] [--n-init N] [--max-iter N]
                     [--batch-size N] [--gap-references B] [--bootstrap B] [--charts DIR] [--json] [--debug]
                     [--id COL] [--features a,b,c] [--profile a,b] [--type COL=KIND] [--sheet NAME] [preprocessing flags]
       segmenta tune <transactions> --transactions --customer C --date D (--amount A | --quantity Q --price P) ...

Evaluates every k of a range to help choose the number of segments. The file is read and
preprocessed as by segmenta cluster (the plan is printed); for each k, K-Means gives the
inertia, the silhouette (on a sample of 10,000 rows above that), Davies–Bouldin and
Calinski–Harabasz; then come the elbow of the inertia curve (Kneedle), the gap statistic
(--gap-references uniform reference sets, default 10; 0 leaves it out) and the stability of
each k's segments over bootstrap resamples (--bootstrap, default 20; 0 leaves it out). The
recommended k is the one most methods point to among the stable ones, with the reasons;
when that is 2, the best k of 3 and more is shown too. --charts DIR writes tune-elbow.svg,
tune-indices.svg and, with the gap statistic, tune-gap.svg (nothing is written without it).
segmenta cluster --k auto makes the same choice over 2..8.

With --algorithm dbscan there is no k to choose: tune shows the k-distance curve (each
customer's distance to its --min-samples-th neighbour, sorted), the eps at its knee with the
reason, and DBSCAN at eps from half to twice that (segments, outliers, the largest segment's
share, silhouette); --charts DIR writes tune-k-distance.svg.

With --algorithm gmm, tune fits a Gaussian mixture for every k of the range (default 2..9)
and every covariance type (or the one of --covariance), prints the BIC of each (lower is
better), the recommendation with its reason on Kass & Raftery's scale and AIC's choice, and
--charts DIR writes tune-bic.svg (one line per covariance type, as mclust draws it).

${COLUMNS}

${DENSITY}

${MIXTURE}

${PREPROCESSING}

${TRANSACTIONS}

${COMMON_TAIL}`;

export const compareHelp = `usage: segmenta compare <before segments> <after segments> [--id COL] [--movers FILE] [--value COL]
                        [--values FILE] [--date YYYY-MM-DD] [--raw-csv] [--json] [--debug]

Two segmentations of the same customers compared (segments files written by cluster --out or
predict --out: the id column, segment, segment_name): the migration matrix (customers in both,
by before segment and after segment; and the shares by row: where each segment's customers
went), the largest flows between segments, the adjusted Rand index and the normalised mutual
information of the two on the customers in both, the customers in one file only, and a
paragraph in segment names. A segment is the same in both files only when its number and its
name agree: when one number carries two names (files of unrelated runs), compare warns that
their ids are not stable (fit the later run with cluster --previous) and counts those customers
as movers.
  --id COL               the id column of both files (default: each file's first column)
  --movers FILE          one row per customer whose segment changed, new or gone: id, date,
                         from_segment, from_name, to_segment, to_name, value (the one format of
                         changes; empty from_segment: new, empty to_segment: gone). CSV, Parquet or
                         JSON by extension
  --value COL            the value at stake per customer (summed per flow, in the movers file):
                         a column of the before file (else the after file). Default: monetary,
                         when a file has it
  --values FILE          read --value COL from this table instead of the segments files: its id
                         column (the segments files' one, or --id) and COL, one row per
                         customer. The segments file of cluster --transactions has no monetary:
                         give the features table, e.g. --value monetary --values rfm.csv
  --date YYYY-MM-DD      the date written in the movers file's date column (default empty)
  --raw-csv              write the movers file's text cells as they are (no apostrophe before
                         formula-like cells)

${COMMON_TAIL}`;

export const predictHelp = `usage: segmenta predict --model model.json <file> --out segments.csv [--raw-csv] [--sheet NAME] [--as-of DATE] [--probabilities] [--memory 2GB] [--json] [--debug]
       segmenta predict --model model.json --source postgres://… (--query "SELECT …" | --table T) --out segments.csv [the flags above]

Scores the rows of a file with a model saved by segmenta cluster --model: the same column
types, preprocessing and centers; the model is checked first (its shapes, its numbers and
its checksum). --out gets id, segment and segment_name (CSV, Parquet or JSON by extension;
.gz compresses; --raw-csv as for cluster). On the training file it reproduces the training
segments (K-Means; agglomerative says how far the nearest-segment rule agrees with the tree).
Density-based models (dbscan, hdbscan, optics) mark new customers who fit no segment as
outliers (segment -1, outlier 1): dbscan when no core customer lies within eps, hdbscan by the
hdbscan library's approximate prediction (with a probability column), optics when no nearby
customer's core distance reaches them. Gaussian-mixture models give each row its most probable
segment and that probability; --probabilities adds every segment's (probability_<segment>).
A model fitted with cluster --transactions records how its features were computed: given a
transaction log (with the log's customer and date columns), predict computes the same RFM
features, as of --as-of (default: the day after the log's last transaction), and scores them.
Drift: when the model records its training distribution, predict compares the new rows with
it (see segmenta drift) and warns on stderr when a column moved past PSI 0.25 (a note from 0.1);
--json adds a "drift" field. Older model files are scored without the check.
  --memory SIZE          a table over this budget is scored chunk by chunk (2,048 rows at a time)
                         and the segments file written from DuckDB: any size fits (default: half
                         of the memory available when the command starts; stderr says "streamed:")

${SOURCE}

${COMMON_TAIL}`;

export const driftHelp = `usage: segmenta drift --model model.json <file> [--sheet NAME] [--as-of DATE] [--json] [--debug]

How far the customers of <file> have moved from the data the model was fitted on: the
population stability index (PSI) of every input column of the model and of the segment
shares, read as < 0.1 stable, 0.1–0.25 watch, > 0.25 retrain, with the bins that moved most.
PSI = sum over bins of (new share − training share) · ln(new share / training share). The
bins come from the model file (cluster --model records them): 10 quantile bins of the training
values per numeric column (equal edges merged), false/true for booleans, one bin per training
category and one for other categories, and one bin for missing values; a share below 0.0001
(an empty bin) counts as 0.0001. The segment shares compare the training sizes with the
segments the model gives the new rows. <file> is read as predict reads it: for a model fitted
with cluster --transactions, a transaction log gives the features computed from it (as of
--as-of, default the day after its last transaction). predict prints the same check as a
warning when a column passes 0.25 (a note from 0.1). Models written before Segmenta recorded
the training distribution have nothing to compare with: drift says so (exit 2); fit again.
Exit 0 whatever the drift.

  --model FILE           the model file written by segmenta cluster --model
  --sheet NAME           the sheet of an XLSX file
  --as-of DATE           transaction-log models: the date the features are computed as of

${COMMON_TAIL}`;

export const trackHelp = `usage: segmenta track <transactions> --customer C --date D (--amount A | --quantity Q --price P) [--invoice I] [--product P]
                      [--cancellations net|exclude] [--cancel-prefix C] [--type COL=KIND] [--sheet NAME]
                      --every month|quarter|week|"N days" [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                      (--model model.json | --refit [--k N] [--algorithm A] [--seed N] [segmentation flags of cluster])
                      [--out sizes.csv] [--flows flows.csv] [--events events.csv] [--report report.html] [--raw-csv] [--json] [--debug]
       segmenta track --source postgres://… (--query "SELECT …" | --table T) [the flags above]

Customers' segments over time. The RFM features of every customer as of every date of the
schedule, computed from the log alone, exactly as segmenta rfm --as-of DATE computes them:
a snapshot sees only the rows dated before its date, so later transactions change nothing.
All the snapshots come from one pass of DuckDB over the log.
  --every                month, quarter, week (Mondays), "N days", "N weeks", "N months"
  --source URL           read the log from PostgreSQL instead of a file (postgres://user:password@
                         host:5432/database), with --query "SELECT …" or --table T (schema.table);
                         read in a READ ONLY transaction with a cursor, in batches
  --from, --to           the first snapshot date (default: the schedule's first date after the
                         log's first day: the 1st of the next month, quarter or a Monday) and
                         the last possible one (default: the day after the last transaction)
  --model M              a model fitted with cluster --transactions scores every snapshot: the
                         segments stay fixed and a customer moves when their behaviour does. The
                         column mapping flags may be left out: the model records them
  --refit                fit every snapshot again (the flags of cluster --transactions: --k,
                         --algorithm, --seed, --features, ...), each segment keeping the id and
                         name of the previous snapshot's segment it matches (shared customers, or
                         centres; see README "Stable segment ids"); unmatched ones get new ids
  --out FILE             the sizes over time: date, segment, name, customers, share
  --flows FILE           between consecutive dates: from_date, to_date, from_segment,
                         from_name, to_segment, to_name, customers (staying ones included;
                         an empty from_segment is a customer whose first purchase came between)
  --events FILE          one row per customer whose segment changed, dated the later snapshot,
                         in the one format of changes (id, date, from_segment, from_name,
                         to_segment, to_name, value);
                         value is the customer's monetary value as of that date.
                         The first date is the baseline: its customers have no event
  --report FILE          an HTML report: the sizes over time and the moves between the last
                         two dates (alluvial diagram and migration matrix)
The mapping flags, --cancellations and --cancel-prefix are those of segmenta rfm (--as-of is
refused: --every, --from and --to date the snapshots). Files are written as for cluster (CSV,
Parquet or JSON by extension; .gz compresses).
With --refit, these flags of segmenta cluster set each fit, with cluster's meanings (segmenta
cluster --help): --id, --features, --profile, --algorithm, --linkage, --k, --seed, --n-init,
--max-iter, --batch-size, --log, --prep, --impute, --fill-value, --missing-indicator, --scale,
--power, --power-method, --outliers, --min-frequency, --drop, --unknown-categories, --ordinal,
--variance-threshold, --correlation-threshold, --pca, --whiten, --dates, --eps, --min-samples,
--min-cluster-size, --cluster-selection, --cluster-selection-epsilon, --allow-single-cluster,
--metric, --optics-method, --covariance, --reg-covar, --xi, --max-eps.

${COMMON_TAIL}`;

export const demoHelp = `usage: segmenta demo [--out DIR] [--seed N] [--debug]   (--json is refused: the demo is a walk-through)

The main job on built-in data: generates a seeded retail transaction log and a customer
table in DIR (default out/), turns the transactions into RFM features, weighs the evidence
for the number of segments (charts in DIR), and segments both, with an HTML report each.`;

export const tokenHelp = `usage: segmenta token create --name N --scope score|read|admin [--data DIR | --store URL] [--json] [--debug]
       segmenta token list [--data DIR | --store URL] [--json] [--debug]
       segmenta token revoke --id ID [--data DIR | --store URL] [--json] [--debug]

Bearer tokens of the HTTP API (segmenta serve). create makes a token and prints it once: only
its SHA-256 hash is stored, in DIR/segmenta.duckdb (default DIR: segmenta-data), so it cannot
be shown again. list shows each token's id, name, scope and creation time, never its value;
revoke removes a token by its id (it stops working when the server next starts).
  --id ID                the token to revoke (from token list)
  --name N               who or what uses the token (up to 100 characters)
  --scope S              score: scoring only; read: also reads datasets, runs and models;
                         admin: everything (uploads, runs, publishing, deleting)
  --data DIR             the data folder of segmenta serve (created when absent)
  --store URL            postgres://user:password@host/db: the tokens of servers sharing that
                         database (a token created or revoked there works at once on all)
The store is one process's at a time: stop a running segmenta serve on DIR first.

${COMMON_TAIL}`;

export const serveHelp = `usage: segmenta serve [--port 8080] [--host 127.0.0.1] [--data DIR] [--store postgres://…] [--upload-limit MB]
                      [--rate-limit N] [--grace S] [--json] [--debug]

The HTTP API: upload datasets (profiled as inspect does), run segmentations in the background
(one process per run, as many at once as the machine has cores less one), follow them as
server-sent events, fetch their segments, report and model, publish models as versions and
score customers with them exactly as predict does. Every route but /healthz needs
Authorization: Bearer <token> (segmenta token create --data DIR, run while the server is
stopped: the store is one process's at a time). /docs lists the routes, /openapi.json
describes them. Runs until interrupted (Ctrl-C or SIGTERM).
  --port N               the port (default 8080; 0: any free port)
  --host H               the address to listen on (default 127.0.0.1, this machine only)
  --data DIR             the data folder: DIR/segmenta.duckdb (datasets, runs, models,
                         tokens), DIR/datasets/, DIR/runs/ (default segmenta-data)
  --store URL            postgres://user:password@host/db: datasets' metadata, runs, model
                         versions, tokens and published assignments in a PostgreSQL database
                         shared by several servers (tables segmenta_*; uploads and run outputs
                         stay under --data)
  --upload-limit MB      the largest dataset upload (default 100)
  --rate-limit N         requests a minute per token (per address without one), default 6000;
                         more get 429 with Retry-After
  --grace S              on SIGTERM or Ctrl-C, the seconds running runs may take to finish
                         (default 30); the others are queued again and resumed at the next
                         start; a second Ctrl-C stops at once

${COMMON_TAIL}`;

export const exportHelp = `usage: segmenta export <segments file> | --run ID [--data DIR | --store URL]  [--id COL]
         --format hubspot|mailchimp|klaviyo|salesforce --email COL [--contacts FILE] --out FILE
       | --webhook URL --secret S [--batch-size 500] [--model NAME]
       | --to postgres://… --table T [--model NAME]                       [--json] [--debug]

Sends segment assignments where marketing uses them. The source is a segments file (as
segmenta cluster --out or predict --out write it: the id column first, then segment and
segment_name) or a succeeded run of segmenta serve (--run ID --data DIR, while that server is
stopped: the store is one process's at a time).
  --store URL            with --run: the PostgreSQL store of segmenta serve --store (the run's
                         folder is read where that server wrote it)
  --id COL               the customer id column (default: the segments file's first column);
                         --contacts FILE is joined on it
--format writes the CSV file the tool's contact import documents, one row per customer with
an email, the segment's name as the value (outliers under their name):
  hubspot     Email, Segment           (a custom contact property "Segment")
  mailchimp   Email Address, Tags      (the segment's name as a tag; commas become " - ")
  klaviyo     Email, Segment           (a custom profile property; upload to a list)
  salesforce  Email, Segment__c        (a custom text field; Data Import Wizard)
  --email COL            the email column, of the segments file or of --contacts
  --contacts FILE        a customer table holding the emails, joined by the id column
  --out FILE             the .csv to write (atomically; formula-like cells neutralised)
Customers without an email are left out and counted on stderr.
--webhook POSTs the assignments as JSON in batches: { model?, exportedAt, batch: { index,
count, idempotencyKey }, assignments: [{ id, segment, name }] }, signed with
X-Segmenta-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>, and with an
Idempotency-Key that is the same whenever the same export is sent again. Network errors, 429
and 5xx are retried after 0.5, 1, 2 and 4 s; the first batch that still fails stops the
export: exit status 1 with the delivered count on stderr (run it again to resume).
  --webhook URL          an http:// or https:// URL
  --secret S             the signing secret (or the environment variable SEGMENTA_WEBHOOK_SECRET)
  --batch-size N         assignments per request (default 500)
  --model NAME           the "model" field (default: the model version published from --run)
--to postgres://… --table T upserts each customer into T (id, segment, segment_name, model,
valid_from) and appends those who moved to T_history (valid_from, valid_to), in one
transaction; running the same export again changes nothing.
  --to URL               postgres://user:password@host/db
  --table T              the table (name or schema.name); T_history beside it

${COMMON_TAIL}`;

export const sqlHelp = `usage: segmenta sql --model model.json --dialect duckdb|postgres|bigquery|snowflake|spark --table T
                    [--id COLUMN] [--out query.sql] [--json] [--debug]
       segmenta sql --train --source postgres://… --table T --features a,b,c [--k 4] [--batch-size 4096]
                    [--iterations 50] [--seed 42] [--id COLUMN] --model model.json [--json]

Prints one SELECT that scores every row of the warehouse table T with a model saved by
segmenta cluster --model, so that no row leaves the warehouse: the fitted preprocessing
(imputation constants, missing-value indicators, outlier bounds, signed log and power
transforms, ordinal codes and one-hot columns as CASE, the scaler, feature selections, PCA
as sums of products) and the model (K-Means, mini-batch K-Means and agglomerative ward /
centroid / median: the nearest centre; Gaussian mixtures: the largest weighted
log-probability, through precomputed Cholesky factors). Columns: the id, segment and
segment_name (and outlier, with a drop outlier rule; probability, for Gaussian mixtures). Numbers carry 17 significant digits and
ties go where predict sends them, so the segments are predict's. T holds the model's input
columns: numbers as numbers, flags as booleans, 0/1 or yes/no, dates as DATE or TIMESTAMP,
categories as text. A row predict would refuse (a category unseen in training with
handleUnknown error, a value outside an ordinal order) gets a NULL segment. DBSCAN (the
nearest core customer within eps, else -1 and the outliers' name), OPTICS (the first of the
minSamples nearest customers whose core distance reaches) and the agglomerative linkages that
score by the nearest training row carry those rows in the query (euclidean or manhattan);
HDBSCAN and cosine distances are refused.
DuckDB and PostgreSQL queries are tested against predict; BigQuery, Snowflake and Spark SQL
are generated by the same code (checked by golden files), not run by the tests.
  --model FILE           the model file
  --dialect D            duckdb, postgres, bigquery, snowflake or spark
  --table T              the table to score (name or schema.name)
  --id COLUMN            the table's id column (default: the model's id column)
  --out FILE             write the query there (atomically) instead of printing it

Training in the database (--train): mini-batch K-Means on a PostgreSQL table too big to leave
it. One aggregate query fits the preprocessing (mean imputation, standard scaling); the engine
draws each batch (TABLESAMPLE BERNOULLI ... REPEATABLE(seed)); a first sample of about three
batches gives the initial centres (K-Means in memory); each batch then moves the centres (the
running mean of the rows assigned to each); the final labelling and the inertia are the query
above, run in the database and grouped by segment. Prints the rows pulled out of the database.
  --train                train instead of printing a query
  --source URL           postgres://user:password@host/db
  --table T              the table (name or schema.name)
  --features a,b,c       its numeric feature columns
  --k K                  segments (default 4)
  --batch-size N         rows per batch (default 4096)
  --iterations N         batches (default 50)
  --seed N               the samples' seed (default 42)
  --id COLUMN            the id column the model records
  --model FILE           the model file to write (score it with predict or segmenta sql)

${COMMON_TAIL}`;
