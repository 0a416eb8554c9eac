/**
 * Integration tests on the real public datasets in ../shared/data (beside the project; see
 * its README). They drive the CLI entry point in-process, as a user would. When the folder
 * is absent (e.g. a fresh clone elsewhere), the whole suite is skipped with a message.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./helpers/cli.js";

const DATA_DIR = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const FILES = {
  retail: "online_retail.parquet",
  telco: "WA_Fn-UseC_-Telco-Customer-Churn.csv",
  mall: "Mall_Customers.csv",
  cdnow: "CDNOW_master.txt",
} as const;
const missingFiles = Object.values(FILES).filter((f) => !existsSync(join(DATA_DIR, f)));
const exists = existsSync(DATA_DIR) && missingFiles.length === 0;
if (!exists) {
  console.warn(
    existsSync(DATA_DIR)
      ? `real-data tests skipped: ${DATA_DIR} lacks ${missingFiles.join(", ")}`
      : `real-data tests skipped: the datasets folder ${DATA_DIR} does not exist (it lives beside the project, see DESIGN.md "Data at hand")`,
  );
}

const data = (f: string): string => join(DATA_DIR, f);


/** Runs a command with --json, checks that it succeeded and returns the parsed document. */
async function runJson<T = Record<string, unknown>>(argv: string[]): Promise<T> {
  const r = await run([...argv, "--json"]);
  expect(r.err.split("\n").filter((l) => !l.startsWith("warning:") && l !== ""), `stderr of ${argv.join(" ")}`).toEqual([]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as T;
}

interface InspectColumn {
  name: string;
  kind: string;
  storedAs: string;
  reason: string;
  missing: number;
  distinct: number;
  numeric?: { min: number; max: number; mean: number };
  range?: { min: string; max: string };
  top?: { value: string; count: number }[];
  hints: string[];
}
interface InspectDoc {
  file: string;
  rows: number;
  details: string;
  columns: InspectColumn[];
}

async function inspect(file: string): Promise<{ doc: InspectDoc; col: (name: string) => InspectColumn }> {
  const doc = await runJson<InspectDoc>(["inspect", data(file)]);
  const col = (name: string): InspectColumn => {
    const c = doc.columns.find((x) => x.name === name);
    if (!c) throw new Error(`${file}: no column ${name} in ${doc.columns.map((x) => x.name).join(", ")}`);
    return c;
  };
  return { doc, col };
}

interface ClusterDoc {
  rows: number;
  idColumn: string | null;
  features: { name: string; kind: string; used: boolean; reason: string }[];
  featureNames: string[];
  k: number;
  segments: { segment: number; name: string; size: number; share: number }[];
  silhouette: number;
  silhouetteSample: number | null;
  inertia: number;
  warnings: string[];
}

/** The lines of a CSV output (header first), without the final empty line. */
async function csvLines(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8");
  return text.split("\n").filter((l, i, a) => !(l === "" && i === a.length - 1));
}

describe.skipIf(!exists)("real datasets (../shared/data)", () => {
  let tmp = "";
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "segmenta-real-"));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe("inspect --json", () => {
    it("Online Retail: 541,909 transactions, CustomerID an id with gaps, a timestamp, 38 countries", async () => {
      const { doc, col } = await inspect(FILES.retail);
      expect(doc.rows).toBe(541_909);
      expect(doc.columns.map((c) => c.name)).toEqual([
        "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
      ]);
      const customer = col("CustomerID");
      expect(customer.kind).toBe("id");
      expect(customer.storedAs).toBe("DOUBLE");
      expect(customer.missing).toBe(135_080);
      expect(customer.distinct).toBe(4_372);
      // Stored as 17850.0 but shown as the id it is.
      expect(customer.top?.[0].value).toMatch(/^\d{5}$/);
      expect(col("InvoiceDate").kind).toBe("datetime");
      expect(col("InvoiceDate").range?.min).toMatch(/^2010-12-01/);
      expect(col("InvoiceDate").range?.max).toMatch(/^2011-12-09/);
      expect(col("Quantity").kind).toBe("numeric");
      expect(col("Quantity").numeric?.min).toBeLessThan(0); // returns
      expect(col("UnitPrice").kind).toBe("numeric");
      expect(col("Country").kind).toBe("categorical");
      expect(col("Country").distinct).toBe(38);
      expect(col("Country").top?.[0].value).toBe("United Kingdom");
      expect(col("InvoiceNo").kind).toBe("id");
      expect(col("InvoiceNo").distinct).toBe(25_900);
    });

    it("Telco: 7,043 customers, TotalCharges numbers-as-text with 11 blanks, yes/no and 0/1 flags boolean", async () => {
      const { doc, col } = await inspect(FILES.telco);
      expect(doc.rows).toBe(7_043);
      expect(doc.columns).toHaveLength(21);
      expect(col("customerID").kind).toBe("id");
      expect(col("customerID").distinct).toBe(7_043);
      const total = col("TotalCharges");
      expect(total.kind).toBe("numeric");
      expect(total.storedAs).toBe("VARCHAR");
      expect(total.missing).toBe(11);
      expect(total.numeric?.min).toBeCloseTo(18.8, 6);
      expect(total.numeric?.max).toBeCloseTo(8684.8, 6);
      expect(col("SeniorCitizen").kind).toBe("boolean");
      for (const c of ["Partner", "Dependents", "PhoneService", "PaperlessBilling", "Churn"]) {
        expect(col(c).kind, c).toBe("boolean");
        expect(col(c).distinct, c).toBe(2);
      }
      // Three-valued Yes/No/"No internet service" columns are categories, not flags.
      for (const c of ["MultipleLines", "OnlineSecurity", "StreamingTV", "Contract", "PaymentMethod", "gender"]) {
        expect(col(c).kind, c).toBe("categorical");
      }
      expect(col("MonthlyCharges").kind).toBe("numeric");
      expect(col("MonthlyCharges").missing).toBe(0);
      expect(col("tenure").kind).toBe("numeric");
      for (const c of doc.columns) if (c.name !== "TotalCharges") expect(c.missing, c.name).toBe(0);
    });

    it("Telco, human output: hints that TotalCharges holds numbers stored as text", async () => {
      const r = await run(["inspect", data(FILES.telco)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("7043 rows × 21 columns");
      const hint = r.out.split("\n").find((l) => l.trim().startsWith("TotalCharges:"));
      expect(hint).toBeDefined();
      expect(hint).toContain("numbers stored as text");
      expect(hint).toContain("11 blank values");
    });

    it("Mall Customers: 200 rows, CustomerID an id with leading zeros kept, Genre categorical", async () => {
      const { doc, col } = await inspect(FILES.mall);
      expect(doc.rows).toBe(200);
      expect(doc.columns.map((c) => c.name)).toEqual(["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]);
      expect(col("CustomerID").kind).toBe("id");
      expect(col("CustomerID").distinct).toBe(200);
      expect(col("CustomerID").top?.[0].value).toBe("0001");
      expect(col("Genre").kind).toBe("categorical");
      expect(col("Genre").distinct).toBe(2);
      for (const c of ["Age", "Annual Income (k$)", "Spending Score (1-100)"]) {
        expect(col(c).kind, c).toBe("numeric");
        expect(col(c).missing, c).toBe(0);
      }
      expect(col("Annual Income (k$)").numeric).toMatchObject({ min: 15, max: 137 });
    });

    it("CDNOW: four whitespace-separated columns, YYYYMMDD dates, 23,570 customers", async () => {
      const { doc, col } = await inspect(FILES.cdnow);
      expect(doc.rows).toBe(69_659);
      expect(doc.details).toContain("runs of spaces");
      expect(doc.columns.map((c) => c.name)).toEqual(["customer_id", "date", "number_of_cds", "dollar_value"]);
      expect(col("customer_id").kind).toBe("id");
      expect(col("customer_id").distinct).toBe(23_570);
      expect(col("customer_id").top?.every((t) => /^\d{5}$/.test(t.value))).toBe(true); // leading zeros kept
      expect(col("date").kind).toBe("datetime");
      expect(col("date").missing).toBe(0);
      expect(col("date").range?.min).toMatch(/^1997-01-01/);
      expect(col("date").range?.max).toMatch(/^1998-06-30/);
      expect(col("number_of_cds").kind).toBe("numeric");
      expect(col("dollar_value").kind).toBe("numeric");
      expect(col("number_of_cds").numeric?.min).toBe(1);
      expect(col("dollar_value").numeric?.min).toBe(0);
      for (const c of doc.columns) expect(c.missing, c.name).toBe(0);
    });
  });

  describe("cluster and predict", () => {
    it("Telco, k=3: segments every customer, leaves out customerID, imputes 11 TotalCharges; predict reproduces the labels", async () => {
      const seg = join(tmp, "telco-seg.csv");
      const model = join(tmp, "telco-model.json");
      const r = await run(["cluster", data(FILES.telco), "--k", "3", "--seed", "42", "--out", seg, "--model", model, "--json"]);
      expect(r.code, r.err).toBe(0);
      const doc = JSON.parse(r.out) as ClusterDoc;
      expect(doc.rows).toBe(7_043);
      expect(doc.k).toBe(3);
      expect(doc.idColumn).toBe("customerID");
      const idFeature = doc.features.find((f) => f.name === "customerID");
      expect(idFeature?.used).toBe(false);
      expect(doc.featureNames.some((f) => f.startsWith("customerID"))).toBe(false);
      expect(doc.featureNames).toContain("TotalCharges");
      expect(doc.warnings).toContain('column "TotalCharges": 11 missing values imputed');
      expect(r.err).toContain("11 missing values imputed");
      expect(doc.segments).toHaveLength(3);
      expect(doc.segments.reduce((a, s) => a + s.size, 0)).toBe(7_043);
      for (const s of doc.segments) expect(s.size).toBeGreaterThan(0);
      expect(doc.silhouette).toBeGreaterThan(0);
      expect(doc.silhouette).toBeLessThan(1);
      expect(doc.silhouetteSample).toBeNull();

      const lines = await csvLines(seg);
      expect(lines[0]).toBe("customerID,segment,segment_name");
      expect(lines).toHaveLength(7_043 + 1);
      expect(lines[1].startsWith("7590-VHVEG,")).toBe(true); // rows in file order
      // Each row carries its segment's name beside its number.
      const nameOf = new Map(doc.segments.map((s) => [String(s.segment), s.name]));
      for (const l of lines.slice(1, 200)) expect(l.slice(l.indexOf(",") + 1)).toBe(`${l.split(",")[1]},${/,/.test(nameOf.get(l.split(",")[1])!) ? `"${nameOf.get(l.split(",")[1])}"` : nameOf.get(l.split(",")[1])}`);
      const counts = [0, 0, 0];
      for (const l of lines.slice(1)) counts[Number(l.split(",")[1])]++;
      expect(counts).toEqual(doc.segments.map((s) => s.size));

      const scored = join(tmp, "telco-scored.csv");
      const p = await run(["predict", "--model", model, data(FILES.telco), "--out", scored]);
      expect(p.code, p.err).toBe(0);
      const again = await csvLines(scored);
      expect(again).toHaveLength(lines.length);
      const differing = again.map((l, i) => (l === lines[i] ? -1 : i)).filter((i) => i >= 0);
      expect(differing, `rows where predict disagrees with training: ${differing.slice(0, 5).join(", ")}`).toEqual([]);
    });

    it("Telco with --prep auto: the plan leaves the mildly skewed charges alone and keeps gender as one column", async () => {
      const r = await run(["cluster", data(FILES.telco), "--k", "3", "--prep", "auto", "--json"]);
      expect(r.code, r.err).toBe(0);
      const doc = JSON.parse(r.out) as { preprocessingPlan: { step: string; columns: string[]; reason: string }[]; featureNames: string[] };
      const plan = doc.preprocessingPlan.map((s) => `${s.step} [${s.columns.join(", ")}]: ${s.reason}`);
      expect(plan[0]).toBe("no transform [tenure, MonthlyCharges, TotalCharges]: skewness within ±1: tenure (0.24), MonthlyCharges (−0.22), TotalCharges (0.96)");
      expect(plan[1]).toMatch(/^one column for two values \[gender\]/);
      expect(doc.featureNames).toContain("gender=Male");
      expect(doc.featureNames).not.toContain("gender=Female");
    });

    it("Mall, income × spending, k=5: scikit-learn's silhouette and segment sizes; predict reproduces the labels", async () => {
      // Reference computed once with scikit-learn 1.2.1 (/usr/bin/python3):
      //   df = pd.read_csv("Mall_Customers.csv")
      //   X = StandardScaler().fit_transform(df[["Annual Income (k$)", "Spending Score (1-100)"]].astype(float))
      //   km = KMeans(n_clusters=5, n_init=10, random_state=seed).fit(X)   # seed 0, 1 and 42 all agree
      //   silhouette_score(X, km.labels_) -> 0.5546571631111091
      //   sorted(np.bincount(km.labels_))  -> [22, 23, 35, 39, 81]
      //   km.inertia_                      -> 65.56840815571681
      const SKLEARN_SILHOUETTE = 0.5546571631111091;
      const SKLEARN_SIZES = [22, 23, 35, 39, 81];
      const SKLEARN_INERTIA = 65.56840815571681;

      const seg = join(tmp, "mall-seg.csv");
      const model = join(tmp, "mall-model.json");
      const doc = await runJson<ClusterDoc>([
        "cluster", data(FILES.mall), "--features", "Annual Income (k$),Spending Score (1-100)", "--k", "5",
        "--out", seg, "--model", model,
      ]);
      expect(doc.rows).toBe(200);
      expect(doc.idColumn).toBe("CustomerID");
      expect(doc.featureNames).toEqual(["Annual Income (k$)", "Spending Score (1-100)"]);
      expect(Math.abs(doc.silhouette - SKLEARN_SILHOUETTE)).toBeLessThan(1e-3);
      expect(doc.segments.map((s) => s.size).sort((a, b) => a - b)).toEqual(SKLEARN_SIZES);
      expect(Math.abs(doc.inertia - SKLEARN_INERTIA) / SKLEARN_INERTIA).toBeLessThan(1e-6);

      const lines = await csvLines(seg);
      expect(lines).toHaveLength(201);
      expect(lines[0]).toBe("CustomerID,segment,segment_name");
      expect(lines[1].startsWith("0001,")).toBe(true); // leading zeros survive into the output

      const scored = join(tmp, "mall-scored.csv");
      const p = await run(["predict", "--model", model, data(FILES.mall), "--out", scored]);
      expect(p.code, p.err).toBe(0);
      expect(await csvLines(scored)).toEqual(lines);
    });
  });
});
