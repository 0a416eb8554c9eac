/**
 * Model files are checked when read (issue #12.9): an edited or damaged file is refused with
 * exit 2 and one line naming the field, before --out is written; a checksum makes any other
 * edit visible. Also: predict with a model of 200,000 centers (#12.4), segment names from the
 * model file, and the agreement of agglomerative predict with the fitted tree (#13).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetFromRecords, type Dataset } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { Random } from "../src/core/random.js";
import { loadModel } from "../src/cluster/load.js";
import { KMeansModel } from "../src/cluster/kmeans.js";
import { MiniBatchKMeansModel } from "../src/cluster/minibatch-kmeans.js";
import { buildModelFile, type ModelFile, modelChecksum, parseModelFile, predictWithModel, sha256Hex } from "../src/pipeline/model.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { lines, runMain } from "./helpers/cli.js";

/** A model file's JSON as the tests edit it: any field, at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

let dir: string;
let input: string;
let base: ModelFile;
let pcaBase: ModelFile;
let wardBase: ModelFile;
let count = 0;

/** Three groups of customers in age, income and plan; 60 rows. */
function csv(): string {
  const out = ["id,age,income,plan"];
  for (let i = 0; i < 60; i++) {
    const g = i % 3;
    out.push(`C${i},${[22, 45, 70][g] + (i % 5)},${[300, 900, 2000][g] + 7 * (i % 11)},${["basic", "plus", "pro"][g]}`);
  }
  return out.join("\n") + "\n";
}

async function fit(name: string, args: string[]): Promise<ModelFile> {
  const model = join(dir, name);
  const r = await runMain(["cluster", input, "--k", "3", "--seed", "1", "--model", model, "--out", join(dir, `${name}.csv`), ...args]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(model, "utf8")) as ModelFile;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-model-validation-"));
  input = join(dir, "in.csv");
  writeFileSync(input, csv());
  base = await fit("base.json", []);
  pcaBase = await fit("pca.json", ["--pca", "2"]);
  wardBase = await fit("ward.json", ["--algorithm", "agglomerative"]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of a model file edited by `edit`; its checksum kept as written, re-computed ("sign") or removed. */
function tampered(from: ModelFile, edit: (m: Loose) => void, checksum: "keep" | "sign" | "drop" = "keep"): string {
  const m = structuredClone(from) as Loose;
  edit(m);
  if (checksum === "drop") delete m.checksum;
  if (checksum === "sign") m.checksum = modelChecksum(m);
  const p = join(dir, `m${++count}.json`);
  writeFileSync(p, JSON.stringify(m, null, 1));
  return p;
}

/** predict with the model: exit 2, one line on stderr with every needle, and --out not created. */
async function predictFails(model: string, ...needles: string[]): Promise<string> {
  const out = join(dir, `out${++count}.csv`);
  const r = await runMain(["predict", "--model", model, input, "--out", out]);
  expect(r.status, r.stderr).toBe(2);
  const err = lines(r.stderr);
  expect(err, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toContain("    at ");
  expect(err[0]).toContain(`--model ${model}`);
  for (const n of needles) expect(err[0]).toContain(n);
  expect(existsSync(out)).toBe(false);
  return err[0];
}

async function predictOk(model: string, extra: string[] = []): Promise<{ out: string; stdout: string; stderr: string }> {
  const out = join(dir, `out${++count}.csv`);
  const r = await runMain(["predict", "--model", model, input, "--out", out, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return { out, stdout: r.stdout, stderr: r.stderr };
}

/** The segment column of a segments file. */
function segmentsOf(path: string): number[] {
  const [head, ...rows] = readFileSync(path, "utf8").trim().split("\n");
  const j = head.split(",").indexOf("segment");
  return rows.map((r) => Number(r.split(",")[j]));
}

const DAMAGED = "the file was edited or damaged: fit the model again with segmenta cluster --model";

describe("a model file is checked when it is read", () => {
  it("the files as written load and reproduce the training segments (the checks refuse nothing valid)", async () => {
    for (const name of ["base.json", "pca.json", "ward.json"]) {
      const { out } = await predictOk(join(dir, name));
      expect(segmentsOf(out)).toEqual(segmentsOf(join(dir, `${name}.csv`)));
    }
    expect(base.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("a null inside a center", async () => {
    const line = await predictFails(tampered(base, (m) => (m.model.clusterCenters[1][0] = null)), "center 1, feature 0 is null", "finite number", DAMAGED);
    expect(line.startsWith(`segmenta predict: --model ${join(dir, "")}`)).toBe(true);
    await predictFails(tampered(base, (m) => (m.model.clusterCenters[2][1] = "1.5"), "drop"), 'center 2, feature 1 is "1.5"');
  });

  it("2 of 3 centers, and a tampered nClusters", async () => {
    await predictFails(tampered(base, (m) => m.model.clusterCenters.pop()), "it has 2 centers but nClusters is 3");
    await predictFails(tampered(base, (m) => (m.model.nClusters = 4), "drop"), "it has 3 centers but nClusters is 4");
    await predictFails(tampered(base, (m) => (m.model.nClusters = 2.5)), "nClusters is 2.5");
  });

  it("a tampered nFeatures, a short center, and centers that disagree with the preprocessing", async () => {
    const d = base.model.nFeatures;
    await predictFails(tampered(base, (m) => (m.model.nFeatures = d + 1)), `center 0 has ${d} values but the model has ${d + 1} features`);
    await predictFails(tampered(base, (m) => m.model.clusterCenters[2].pop(), "drop"), `center 2 has ${d - 1} values but the model has ${d} features`);
    await predictFails(
      tampered(base, (m) => {
        m.model.nFeatures = d + 1;
        for (const c of m.model.clusterCenters) c.push(0);
      }),
      `the model has ${d + 1} features (nFeatures) but the preprocessing makes ${d}`,
    );
  });

  it("the scaler: a value missing, a null, a zero scale", async () => {
    await predictFails(tampered(base, (m) => m.pipeline.scaler.center.pop()), "pipeline.scaler.center has 1 value but the scaler needs one per numeric and ordinal column (2)");
    await predictFails(tampered(base, (m) => (m.pipeline.scaler.scale[0] = null)), "pipeline.scaler.scale[0] is null");
    await predictFails(tampered(base, (m) => (m.pipeline.scaler.scale[1] = 0)), "pipeline.scaler.scale[1] is 0");
    await predictFails(tampered(base, (m) => (m.pipeline.numeric.imputer.statistics[0] = null)), "pipeline.numeric.imputer.statistics", "[0] is null");
  });

  it("the one-hot categories", async () => {
    await predictFails(tampered(base, (m) => m.pipeline.categorical[0].encoder.categories[0].push("plus")), 'pipeline.categorical[0].encoder.categories lists "plus" twice');
    await predictFails(tampered(base, (m) => (m.pipeline.categorical[0].encoder.categories[0][1] = 7)), "pipeline.categorical[0].encoder.categories[1] is 7");
    // One category fewer: the encoder makes one feature less than the centers have.
    const d = base.model.nFeatures;
    await predictFails(tampered(base, (m) => m.pipeline.categorical[0].encoder.categories[0].pop()), `the model has ${d} features (nFeatures) but the preprocessing makes ${d - 1}`);
    await predictFails(tampered(base, (m) => (m.pipeline.categorical[0].name = "age")), 'uses the column "age" twice');
    await predictFails(tampered(base, (m) => (m.pipeline.categorical[0].name = "tier")), 'uses the column "tier", which "columns" does not list');
  });

  it("PCA components", async () => {
    expect(pcaBase.pipeline.pca).not.toBeNull();
    await predictFails(tampered(pcaBase, (m) => m.pipeline.pca.components[1].pop()), "pipeline.pca.components[1] has 4 values but pipeline.pca.mean has 5 features");
    await predictFails(tampered(pcaBase, (m) => (m.pipeline.pca.components[0][2] = null)), "pipeline.pca.components[0][2] is null");
    await predictFails(tampered(pcaBase, (m) => m.pipeline.pca.explainedVariance.pop()), "pipeline.pca.explainedVariance has 1 value but there are 2 components");
    // A PCA fitted on another number of features: the steps do not fit together.
    await predictFails(
      tampered(pcaBase, (m) => {
        m.pipeline.pca.mean.push(0);
        for (const c of m.pipeline.pca.components) c.push(0);
      }),
      "its preprocessing steps do not fit together",
    );
  });

  it("format, version, parts and the training summary", async () => {
    await predictFails(tampered(base, (m) => (m.version = "1")), '"version" is "1"; expected a whole number from 1 to 1');
    await predictFails(tampered(base, (m) => (m.version = 0.5)), '"version" is 0.5');
    await predictFails(tampered(base, (m) => delete m.pipeline), "it is incomplete (pipeline missing)");
    await predictFails(tampered(base, (m) => (m.columns[0].kind = "number")), 'columns[0] is {"name":"age","kind":"number"}');
    await predictFails(tampered(base, (m) => (m.training.k = 4)), "training.k is 4 but the model has 3 segments");
    await predictFails(tampered(base, (m) => m.segments.pop()), '"segments" has 2 entries but the model has 3 segments');
    await predictFails(tampered(base, (m) => (m.model.type = "KMedoids")), 'unknown model type "KMedoids"');
  });

  it("agglomerative models: labels, merges, cluster means and the segment numbering", async () => {
    expect(wardBase.model.type).toBe("AgglomerativeClustering");
    await predictFails(tampered(wardBase, (m) => (m.model.clusterCenters[0][0] = null)), "center 0, feature 0 is null");
    await predictFails(tampered(wardBase, (m) => m.model.linkageMatrix.pop()), "linkageMatrix has 58 merges but 60 training rows need 59");
    await predictFails(tampered(wardBase, (m) => (m.model.labels[3] = 7)), "no training row has cluster 3");
    await predictFails(tampered(wardBase, (m) => (m.model.linkageMatrix[0][0] = 500)), "linkageMatrix row 0 merges 500 and");
    await predictFails(tampered(wardBase, (m) => (m.relabel = [0, 0, 1])), "the segment numbering (relabel) gives cluster 1 the segment 0");
    await predictFails(tampered(wardBase, (m) => (m.relabel = [0, 1])), "the segment numbering (relabel) has 2 entries for the model's 3 clusters");
  });

  it("any other edit is caught by the checksum; a file without a checksum (written before them) loads", async () => {
    const edit = (m: Loose) => (m.model.clusterCenters[0][0] += 0.25);
    const line = await predictFails(tampered(base, edit), "was changed after Segmenta wrote it", "does not match its checksum");
    expect(line).not.toContain(DAMAGED);
    await predictOk(tampered(base, edit, "drop"));
    await predictOk(tampered(base, edit, "sign"));
    await predictFails(tampered(base, (m) => (m.checksum = "md5:abc")), '"checksum" is "md5:abc"');
    // Indentation and key order do not change the checksum.
    const reordered = Object.fromEntries(Object.entries(structuredClone(base)).reverse());
    const p = join(dir, "reordered.json");
    writeFileSync(p, JSON.stringify(reordered));
    await predictOk(p);
  });

  it("SHA-256 agrees with node:crypto on the lengths around a block boundary and on UTF-8 text", () => {
    const rng = new Random(5);
    for (const n of [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(rng.random() * 256));
      expect(sha256Hex(bytes)).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const text = '{"name":"Ümlaut – 顧客 🎯"}';
    expect(sha256Hex(new TextEncoder().encode(text))).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
  });

  it("the library's loadModel refuses the same damage, naming the field", () => {
    const km = structuredClone(base.model) as Loose;
    km.clusterCenters[1][1] = null;
    expect(() => loadModel(km)).toThrow(InputError);
    expect(() => loadModel(km)).toThrow("KMeans model: center 1, feature 1 is null");
    const mb = new MiniBatchKMeansModel({
      clusterCenters: { data: Float64Array.from([0, 0, 1, 1]), rows: 2, cols: 2 }, labels: new Int32Array(0), inertia: 0, nIter: 1, nSteps: 1,
      counts: Float64Array.from([3, 4]), nSinceLastReassign: 0, reassignmentRatio: 0.01, randomState: 1,
    }).toJSON() as Loose;
    expect(() => loadModel({ ...mb, counts: [3] })).toThrow("MiniBatchKMeans model: counts has 1 value but nClusters is 2");
    expect(() => loadModel({ ...mb, clusterCenters: [[0, 0]] })).toThrow("MiniBatchKMeans model: it has 1 center but nClusters is 2");
    expect(loadModel(mb)).toBeInstanceOf(MiniBatchKMeansModel);
    expect(() => KMeansModel.fromJSON({ ...base.model, labels: [0, 5] } as Loose)).toThrow("KMeans model: label 1 is 5; expected a cluster number from 0 to 2");
  });
});

describe("predict with a model of 200,000 centers", () => {
  it("scores a small file: the rows go to the original centers, placed among 199,997 far-away ones", async () => {
    const k = 200_000;
    const at = [0, 123_456, k - 1];
    const p = tampered(
      base,
      (m) => {
        const d = m.model.nFeatures;
        const centers = Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => 1e6 + c + j));
        at.forEach((c, s) => (centers[c] = (base.model as Loose).clusterCenters[s]));
        m.model.clusterCenters = centers;
        m.model.nClusters = k;
        m.training.k = k;
        m.training.sizes = new Array(k).fill(0);
        delete m.segments;
      },
      "sign",
    );
    const expected = segmentsOf(join(dir, "base.json.csv")).map((s) => at[s]);
    const json = await predictOk(p, ["--json"]);
    expect(JSON.parse(json.stdout).k).toBe(k);
    expect(segmentsOf(json.out)).toEqual(expected);
    const text = await predictOk(p);
    expect(segmentsOf(text.out)).toEqual(expected);
  });
});

/** Three loose groups of customers (overlapping, so that a tree and its segment means can disagree). */
function loose(n: number, seed: number, spread = 1.6): Dataset {
  const rng = new Random(seed);
  const records = Array.from({ length: n }, (_, i) => {
    const g = i % 3;
    return { id: `C${i}`, spend: [0, 3, 6][g] + spread * rng.normal(), visits: [0, 2, 0][g] + spread * rng.normal() };
  });
  return datasetFromRecords(records, { id: "id", spend: "numeric", visits: "numeric" }, "loose");
}

/** Customers with missing values, a skewed column, a rare category and an ordered one. */
function varied(n: number, seed: number): Dataset {
  const rng = new Random(seed);
  const records = Array.from({ length: n }, (_, i) => {
    const g = i % 3;
    return {
      id: `C${i}`,
      spend: i % 17 === 0 ? null : Math.exp([3, 5, 7][g] + 0.4 * rng.normal()),
      visits: [2, 9, 20][g] + 2 * rng.normal() + 30,
      tenure: i % 23 === 0 ? null : [5, 30, 60][g] + 4 * rng.normal() + 10,
      plan: i === 7 ? "legacy" : ["basic", "plus", "pro"][g],
      size: ["S", "M", "L"][(g + (i % 5 === 0 ? 1 : 0)) % 3],
    };
  });
  return datasetFromRecords(records, { id: "id", spend: "numeric", visits: "numeric", tenure: "numeric", plan: "categorical", size: "categorical" }, "varied");
}

describe("valid model files with every preprocessing step load and reproduce the segments", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["indicators, flagged outliers, log1p, a power transform, ordinal codes, rare categories, robust scaling, filters", {
      missingIndicator: true, outliers: { method: "iqr", action: "flag" }, log1p: ["spend"], power: ["visits"], ordinal: { size: ["S", "M", "L"] },
      oneHot: { handleUnknown: "ignore", minFrequency: 3, drop: "first" }, scale: "robust", varianceThreshold: 0, correlationThreshold: 0.99,
    }],
    ["dropped outliers, Box-Cox, min-max scaling and whitened PCA", {
      outliers: { method: "zscore", action: "drop", k: 2 }, power: ["visits"], powerMethod: "box-cox", scale: "minmax", pca: { nComponents: 2, whiten: true },
    }],
    ["the automatic plan", { plan: "auto" }],
  ];
  for (const [name, preprocessing] of cases) {
    it(name, async () => {
      const ds = varied(150, 8);
      const r = await runSegmentation({ k: 3, seed: 2, preprocessing }, ds);
      const m = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(r, ds))), "m.json");
      expect(Array.from(predictWithModel(m, ds).labels)).toEqual(Array.from(r.labels));
    });
  }
});

describe("segment names and the agglomerative predict rule in the model file", () => {
  it("predict returns each segment's name from the model file; files without names give Segment N", async () => {
    const ds = loose(90, 2);
    const r = await runSegmentation({ k: 3, seed: 4 }, ds);
    const file = buildModelFile(r, ds);
    expect(file.segments?.map((s) => s.name)).toEqual(r.segments.map((s) => s.name));
    const p = predictWithModel(parseModelFile(JSON.parse(JSON.stringify(file))), ds);
    expect(p.names).toEqual(r.segments.map((s) => s.name));
    expect(p.names.some((n) => !/^Segment \d$/.test(n))).toBe(true);
    expect(p.note).toBeNull();
    const old = JSON.parse(JSON.stringify(file));
    delete old.segments;
    delete old.checksum;
    expect(predictWithModel(parseModelFile(old), ds).names).toEqual(["Segment 0", "Segment 1", "Segment 2"]);
  });

  it("ward: the share of training rows whose nearest segment mean is their segment, recorded and told", async () => {
    const ds = loose(150, 3);
    const r = await runSegmentation({ k: 3, seed: 1, algorithm: "agglomerative", linkage: "ward" }, ds);
    // The same share computed here from the matrix and labels.
    const X = r.matrix;
    const d = X.cols;
    const k = r.k;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < X.rows; i++) {
      counts[r.labels[i]]++;
      for (let j = 0; j < d; j++) sums[r.labels[i] * d + j] += X.data[i * d + j];
    }
    let same = 0;
    for (let i = 0; i < X.rows; i++) {
      let best = -1;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (X.data[i * d + j] - sums[c * d + j] / counts[c]) ** 2;
        if (s < bd) [bd, best] = [s, c];
      }
      if (best === r.labels[i]) same++;
    }
    expect(same).toBeLessThan(X.rows); // the case is meaningful: the rule and the tree differ on some rows
    const file = buildModelFile(r, ds);
    expect(file.training.agreement).toEqual({ rule: "nearest segment mean", share: same / X.rows, rows: X.rows, trainingRows: X.rows });
    const p = predictWithModel(parseModelFile(JSON.parse(JSON.stringify(file))), ds);
    expect(p.note).toBe(
      `agglomerative segments are assigned to new rows by the nearest segment mean; on the training rows this agrees with the fitted tree for ${((100 * same) / X.rows).toFixed(1)} %`,
    );
    const old = JSON.parse(JSON.stringify(file));
    delete old.training.agreement;
    delete old.checksum;
    expect(predictWithModel(parseModelFile(old), ds).note).toMatch(/nearest segment mean, which can differ from the segments the fitted tree gave the training rows/);
  });

  it("average linkage: the nearest training row, on a sample of the rows when there are many", async () => {
    const ds = loose(120, 4);
    const r = await runSegmentation({ k: 3, seed: 1, algorithm: "agglomerative", linkage: "average" }, ds);
    expect(r.model.predictRule).toBe("nearest training row");
    const all = r.model.agreement(r.matrix, r.labels);
    expect(all).toEqual({ share: 1, rows: 120, trainingRows: 120 });
    // A flipped label is found, and a sample of 40 rows takes every third row.
    const flipped = Int32Array.from(r.labels);
    flipped[0] = (flipped[0] + 1) % 3;
    expect(r.model.agreement(r.matrix, flipped)).toEqual({ share: 119 / 120, rows: 120, trainingRows: 120 });
    expect(r.model.agreement(r.matrix, flipped, null, 40)).toEqual({ share: 39 / 40, rows: 40, trainingRows: 120 });
    const excluded = new Uint8Array(120);
    excluded[0] = 1;
    expect(r.model.agreement(r.matrix, flipped, excluded)).toEqual({ share: 1, rows: 119, trainingRows: 119 });
    const file = buildModelFile(r, ds);
    expect(predictWithModel(parseModelFile(JSON.parse(JSON.stringify(file))), ds).note).toBe(
      "agglomerative segments are assigned to new rows by the nearest training row; on the training rows this agrees with the fitted tree for 100.0 %",
    );
  });
});
