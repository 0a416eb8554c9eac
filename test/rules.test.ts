/**
 * The CART tree against scikit-learn (test/fixtures/tree.json from make_tree_fixtures.py),
 * and the segment rules: readable conditions, coverage and precision, and the SQL export run
 * for real in DuckDB.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { datasetFromRecords } from "../src/core/dataset.js";
import { Random } from "../src/core/random.js";
import { exec, queryRows } from "../src/io/duck.js";
import {
  type Condition, conditionsSql, evaluateRules, readableThreshold, readableTime, rulesToSql, segmentRules, sqlIdentifier, sqlNumber, sqlString, sqlTimestamp,
} from "../src/profile/rules.js";
import { applyTree, fitDecisionTree, predictTree, presortFeatures } from "../src/profile/tree.js";

const HERE = dirname(fileURLToPath(import.meta.url));

interface TreeCase {
  name: string;
  max_depth: number;
  min_samples_leaf: number;
  X: number[][];
  y: number[];
  n_classes: number;
  tree: {
    feature: number[];
    threshold: number[];
    impurity: number[];
    n_node_samples: number[];
    value: number[][];
    children_left: number[];
    children_right: number[];
  };
}

const fixtures = JSON.parse(readFileSync(join(HERE, "fixtures", "tree.json"), "utf8")) as { sklearn: string; cases: TreeCase[] };

describe("CART tree equals scikit-learn's DecisionTreeClassifier", () => {
  for (const c of fixtures.cases) {
    for (const shared of [false, true]) {
      it(`${c.name} (max_depth ${c.max_depth}, min_samples_leaf ${c.min_samples_leaf}${shared ? ", presorted" : ""})`, () => {
        const n = c.X.length;
        const d = c.X[0].length;
        const X = Float64Array.from(c.X.flat());
        const y = Int32Array.from(c.y);
        const tree = fitDecisionTree(X, n, d, y, {
          maxDepth: c.max_depth, minSamplesLeaf: c.min_samples_leaf, nClasses: c.n_classes,
          presorted: shared ? presortFeatures(X, n, d) : undefined,
        });
        const ref = c.tree;
        expect(tree.nodes.length).toBe(ref.feature.length);
        tree.nodes.forEach((node, i) => {
          const leaf = ref.children_left[i] === -1;
          expect(node.feature, `node ${i} feature`).toBe(leaf ? -1 : ref.feature[i]);
          if (!leaf) expect(Math.abs(node.threshold - ref.threshold[i]), `node ${i} threshold`).toBeLessThanOrEqual(1e-12);
          expect(node.left).toBe(ref.children_left[i]);
          expect(node.right).toBe(ref.children_right[i]);
          expect(node.nNodeSamples).toBe(ref.n_node_samples[i]);
          expect(node.value).toEqual(ref.value[i]);
          expect(Math.abs(node.impurity - ref.impurity[i])).toBeLessThanOrEqual(1e-12);
        });
        // Every row lands in a leaf that counts it; predictions are the leaf majorities.
        const leaves = applyTree(tree, X, n, d);
        const pred = predictTree(tree, X, n, d);
        for (let i = 0; i < n; i++) {
          const node = tree.nodes[leaves[i]];
          expect(node.feature).toBe(-1);
          expect(node.value[pred[i]]).toBe(Math.max(...node.value));
        }
      });
    }
  }

  it("refuses missing values and bad options", () => {
    expect(() => fitDecisionTree(Float64Array.of(1, NaN), 2, 1, Int32Array.of(0, 1))).toThrow(/missing/);
    expect(() => fitDecisionTree(Float64Array.of(1, 2), 2, 1, Int32Array.of(0, 1), { minSamplesLeaf: 0 })).toThrow(/minSamplesLeaf/);
  });

  it("stops at pure nodes and at constant features, and breaks exact ties by the lower feature index", () => {
    // Columns 0 and 1 are identical: both give the same best split; column 0 wins.
    const X = Float64Array.of(1, 1, 5, 2, 2, 5, 3, 3, 5, 4, 4, 5);
    const tree = fitDecisionTree(X, 4, 3, Int32Array.of(0, 0, 1, 1), { maxDepth: 3 });
    expect(tree.nodes.map((nd) => nd.feature)).toEqual([0, -1, -1]);
    expect(tree.nodes[0].threshold).toBe(2.5);
    const constant = fitDecisionTree(Float64Array.of(7, 7, 7), 3, 1, Int32Array.of(0, 1, 0));
    expect(constant.nodes.length).toBe(1);
    expect(constant.nodes[0].value).toEqual([2, 1]);
  });
});

describe("segment rules", () => {
  // Segment 0: x ≤ 5 and c = "a"; segment 1: the rest with y > 50; segment 2: the others.
  const rnd = new Random(4);
  const records = Array.from({ length: 300 }, (_, i) => ({ x: (i % 10) + 1, c: i % 3 === 0 ? "a" : i % 3 === 1 ? "b" : "c", y: Math.round(rnd.random() * 1000) / 10 }));
  const labels = Int32Array.from(records, (r) => (r.x <= 5 && r.c === "a" ? 0 : r.y > 50 ? 1 : 2));
  const data = datasetFromRecords(records, { x: "numeric", c: "categorical", y: "numeric" });

  it("turns each segment's surrogate tree into merged conditions with exact coverage and precision", () => {
    const r = segmentRules(data, labels, { features: ["x", "c", "y"] });
    expect(r.maxDepth).toBe(3);
    expect(r.treeFeatures).toEqual(["x", "c = a", "c = b", "c = c", "y"]);
    const s0 = r.segments[0];
    expect(s0.minSamplesLeaf).toBe(5); // max(5, min(⌈3⌉, ⌈50 / 4⌉))
    expect(s0.rules.map((x) => x.text)).toEqual(["c = 'a' AND x ≤ 5.5"]);
    expect(s0.sql).toBe(`"c" = 'a' AND "x" <= 5.5`);
    expect(s0).toMatchObject({ size: 50, matched: 50, truePositives: 50, precision: 1, recall: 1 });
    const s1 = r.segments[1];
    expect(s1.rules.length).toBeGreaterThan(0);
    // Rules are disjoint: their counts add up to the rule set's.
    expect(s1.rules.reduce((t, x) => t + x.matched, 0)).toBe(s1.matched);
    expect(s1.rules.reduce((t, x) => t + x.truePositives, 0)).toBe(s1.truePositives);
    for (const seg of r.segments) {
      const sel = evaluateRules(data, seg.rules.map((x) => x.conditions));
      let m = 0;
      let tp = 0;
      sel.forEach((v, i) => {
        m += v;
        if (v && labels[i] === seg.segment) tp++;
      });
      expect([seg.matched, seg.truePositives]).toEqual([m, tp]);
      expect(seg.recall).toBe(tp / seg.size);
      for (const rule of seg.rules) {
        expect(rule.coverage).toBe(rule.truePositives / seg.size);
        expect(rule.precision).toBe(rule.truePositives / rule.matched);
      }
    }
  });

  it("merges sibling leaves that both predict the segment into one rule", () => {
    // Segment: x ≤ 5 (any c); a depth-3 tree may split further, but one rule remains.
    const lab = Int32Array.from(records, (r) => (r.x <= 5 ? 0 : 1));
    const r = segmentRules(data, lab, { features: ["x", "c"], minSamplesLeaf: 1 });
    expect(r.segments[0].rules.map((x) => x.text)).toEqual(["x ≤ 5.5"]);
    expect(r.segments[1].rules.map((x) => x.text)).toEqual(["x > 5.5"]);
  });

  it("treats missing values as SQL does: a condition on a missing value does not hold", () => {
    const d = datasetFromRecords(
      [{ x: 1, c: "a" }, { x: null, c: "a" }, { x: 9, c: null }, { x: 9, c: "b" }],
      { x: "numeric", c: "categorical" },
    );
    const le: Condition = { feature: "x", kind: "numeric", lower: null, upper: 5 };
    const gt: Condition = { feature: "x", kind: "numeric", lower: 5, upper: null };
    const notA: Condition = { feature: "c", kind: "categorical", equals: null, notIn: ["a"] };
    expect([...evaluateRules(d, [[le]])]).toEqual([1, 0, 0, 0]);
    expect([...evaluateRules(d, [[gt]])]).toEqual([0, 0, 1, 1]);
    expect([...evaluateRules(d, [[notA]])]).toEqual([0, 0, 0, 1]);
    expect([...evaluateRules(d, [[le], [notA]])]).toEqual([1, 0, 0, 1]);
    expect([...evaluateRules(d, [[]])]).toEqual([1, 1, 1, 1]);
    expect([...evaluateRules(d, [])]).toEqual([0, 0, 0, 0]);
  });

  it("describes tiny segments with a smaller leaf size, and empty trees as FALSE", () => {
    const lab = Int32Array.from(records, (r, i) => (i < 3 ? 1 : 0));
    const r = segmentRules(data, lab, { features: ["x"] });
    expect(r.segments[1].minSamplesLeaf).toBe(5);
    const none = segmentRules(data, lab, { features: ["x"], segments: [7] });
    expect(none.segments[0]).toMatchObject({ segment: 7, size: 0, rules: [], sql: "FALSE", text: "(no rule)", precision: null });
  });

  it("shows the shortest threshold that splits the data as the tree does", () => {
    expect(readableThreshold(Float64Array.of(42.5, 42.55, 1, 100), 42.525000000000006)).toBe(42.53);
    expect(readableThreshold(Float64Array.of(10, 11), 10.5)).toBe(10.5);
    expect(readableThreshold(Float64Array.of(2996, 2997.9), 2996.95)).toBe(2997);
    const day = 86_400_000;
    expect(readableTime(Float64Array.of(10 * day - 5000, 10 * day + 7 * 3_600_000), 10 * day + 3_600_000)).toBe(10 * day);
    expect(readableTime(Float64Array.of(10 * day + 60_000, 10 * day + 7 * 3_600_000), 10 * day + 3_600_000)).toBe(10 * day + 3_600_000);
    // Property: the shown threshold splits every column exactly as the tree's threshold.
    const rnd = new Random(9);
    for (let t = 0; t < 300; t++) {
      const v = Float64Array.from({ length: 50 }, () => Math.round(rnd.random() * 10 ** (1 + (t % 6))) / 10 ** (t % 4) + (t % 5 === 0 ? 0.1 + 0.2 : 0));
      const sorted = Float64Array.from(new Set(v)).sort();
      if (sorted.length < 2) continue;
      const p = 1 + Math.floor(rnd.random() * (sorted.length - 1));
      const thr = sorted[p - 1] / 2 + sorted[p] / 2;
      const shown = readableThreshold(v, thr);
      for (const x of v) expect(x <= shown).toBe(x <= thr);
    }
  });
});

describe("SQL export", () => {
  it("quotes identifiers and strings", () => {
    expect(sqlIdentifier('a"b')).toBe('"a""b"');
    expect(sqlIdentifier("<img src=x onerror=alert(1)>")).toBe('"<img src=x onerror=alert(1)>"');
    expect(sqlString("O'Brien")).toBe("'O''Brien'");
    expect(rulesToSql([])).toBe("FALSE");
    expect(conditionsSql([])).toBe("TRUE");
    expect(sqlNumber(30.5)).toBe("30.5");
    expect(sqlNumber(0.1 + 0.2)).toBe("3.0000000000000004e-1");
    expect(sqlTimestamp(Date.UTC(2011, 4, 3, 12, 34, 56, 789) + 0.5)).toBe("TIMESTAMP '2011-05-03 12:34:56.789500'");
    expect(conditionsSql([{ feature: "Contract", kind: "categorical", equals: "Month-to-month", notIn: [] }])).toBe(`"Contract" = 'Month-to-month'`);
    expect(conditionsSql([{ feature: "c", kind: "categorical", equals: null, notIn: ["O'Brien", "x"] }], { c: "lower(\"c\")" })).toBe(`lower("c") NOT IN ('O''Brien', 'x')`);
  });

  it("numbers read back in DuckDB as the same double", async () => {
    const xs = [0.1 + 0.2, 1 / 3, 42.525000000000006, 1e-8, 123456789.12345679, 2 ** 53 + 2, -7.5, 1e21, 5e-324, 30.5, 0, -0.001, 1234567890.12345];
    const rows = await queryRows(`SELECT ${xs.map((x, i) => `CAST('${x}' AS DOUBLE) = ${sqlNumber(x)} AS e${i}`).join(", ")}`);
    expect(Object.values(rows[0])).toEqual(xs.map(() => true));
    // And compare with a DOUBLE column as JavaScript does.
    const vals = xs.concat(xs.map((x) => x * (1 + 2 ** -52)), xs.map((x) => x * (1 - 2 ** -52)));
    await exec(`CREATE OR REPLACE TEMP TABLE nums AS SELECT CAST(v AS DOUBLE) AS v FROM (VALUES ${vals.map((v) => `('${v}')`).join(", ")}) AS t(v)`);
    for (const x of xs) {
      const r = await queryRows(`SELECT count(*)::INTEGER AS le FROM nums WHERE v <= ${sqlNumber(x)}`);
      expect(r[0].le).toBe(vals.filter((v) => v <= x).length);
    }
  });

  const EVIL = "<img src=x onerror=alert(1)>";
  const CATCOL = `O'Brien "q"`;
  const cats = ["O'Brien", EVIL, "plain", "'; DROP TABLE customers; --", 'dq"uote'];
  const rnd = new Random(21);
  const n = 500;
  const records: Record<string, unknown>[] = Array.from({ length: n }, (_, i) => ({
    id: i,
    [EVIL]: rnd.random() < 0.05 ? null : Math.round(rnd.random() * 600) / 10,
    [CATCOL]: rnd.random() < 0.05 ? null : cats[Math.floor(rnd.random() * cats.length)],
    flag: rnd.random() < 0.05 ? null : rnd.random() < 0.4,
    spend: rnd.random() < 0.05 ? null : Math.round(rnd.random() * 1e6) / 1e3 + 0.1 + 0.2,
    signup: rnd.random() < 0.05 ? null : Date.UTC(2020, 0, 1) + Math.floor(rnd.random() * 1000) * 86_400_000 + Math.floor(rnd.random() * 86_400_000),
  }));
  const data = datasetFromRecords(records, { [EVIL]: "numeric", [CATCOL]: "categorical", flag: "boolean", spend: "numeric", signup: "datetime" });
  const labels = Int32Array.from(records, (r) => {
    const x = r[EVIL] as number | null;
    const c = r[CATCOL] as string | null;
    if (x !== null && x <= 30 && c === "O'Brien") return 0;
    if (c !== null && c !== "plain" && r.flag === true) return 1;
    if ((r.spend as number | null) !== null && (r.spend as number) > 700) return 2;
    if ((r.signup as number | null) !== null && (r.signup as number) < Date.UTC(2020, 6, 1)) return 3;
    return (r.id as number) % 17 === 0 ? -1 : 4;
  });

  async function loadTable(): Promise<void> {
    const sqlVal = (v: unknown, kind: string): string =>
      v === null ? "NULL" : kind === "str" ? sqlString(v as string) : kind === "bool" ? (v ? "TRUE" : "FALSE") : kind === "ts" ? `epoch_ms(${v}::BIGINT)` : `CAST('${v}' AS DOUBLE)`;
    const kinds: [string, string][] = [["id", "num"], [EVIL, "num"], [CATCOL, "str"], ["flag", "bool"], ["spend", "num"], ["signup", "ts"]];
    await exec(
      `CREATE OR REPLACE TEMP TABLE customers (id INTEGER, ${sqlIdentifier(EVIL)} DOUBLE, ${sqlIdentifier(CATCOL)} VARCHAR, flag BOOLEAN, spend DOUBLE, signup TIMESTAMP, label INTEGER)`,
    );
    const rows = records.map((r, i) => `(${kinds.map(([k, kind]) => sqlVal(r[k], kind)).join(", ")}, ${labels[i]})`);
    await exec(`INSERT INTO customers VALUES ${rows.join(", ")}`);
  }

  async function selectIds(where: string): Promise<number[]> {
    const rows = await queryRows(`SELECT id FROM customers WHERE ${where} ORDER BY id`);
    return rows.map((r) => Number(r.id));
  }

  const idsOf = (sel: Uint8Array): number[] => [...sel].flatMap((v, i) => (v ? [i] : []));

  it("every rule and rule set selects in DuckDB exactly the rows counted here, with adversarial names and values", async () => {
    await loadTable();
    const r = segmentRules(data, labels, { features: [EVIL, CATCOL, "flag", "spend", "signup"] });
    const allSql = r.segments.map((s) => s.sql).join("\n");
    expect(allSql).toContain(`"<img src=x onerror=alert(1)>" <= `);
    expect(allSql).toContain(`"O'Brien ""q""" = 'O''Brien'`);
    expect(allSql).toMatch(/"flag" = TRUE/);
    let rulesChecked = 0;
    for (const seg of r.segments) {
      expect(seg.rules.length).toBeGreaterThan(0);
      for (const rule of seg.rules) {
        const ids = await selectIds(rule.sql);
        expect(ids).toEqual(idsOf(evaluateRules(data, [rule.conditions])));
        expect(ids.length).toBe(rule.matched);
        const tp = await queryRows(`SELECT count(*)::INTEGER AS k FROM customers WHERE (${rule.sql}) AND label = ${seg.segment}`);
        expect(tp[0].k).toBe(rule.truePositives);
        rulesChecked++;
      }
      const ids = await selectIds(seg.sql);
      expect(ids.length).toBe(seg.matched);
      expect(ids).toEqual(idsOf(evaluateRules(data, seg.rules.map((x) => x.conditions))));
    }
    expect(rulesChecked).toBeGreaterThan(5);
    // The segments defined by a rule are found with high precision and recall.
    expect(r.segments[0].precision).toBeGreaterThan(0.9);
    expect(r.segments[0].recall).toBeGreaterThan(0.9);
  });

  it("hand-made conditions of every kind select the same rows in DuckDB", async () => {
    await loadTable();
    const conds: Condition[][] = [
      [{ feature: EVIL, kind: "numeric", lower: 10.05, upper: 40.95 }],
      [{ feature: CATCOL, kind: "categorical", equals: null, notIn: ["O'Brien", "'; DROP TABLE customers; --", 'dq"uote'] }],
      [{ feature: CATCOL, kind: "categorical", equals: EVIL, notIn: [] }],
      [{ feature: CATCOL, kind: "categorical", equals: null, notIn: ["plain"] }, { feature: "flag", kind: "boolean", value: false }],
      [{ feature: "flag", kind: "boolean", value: true }],
      [{ feature: "spend", kind: "numeric", lower: null, upper: records[7].spend as number }],
      [{ feature: "spend", kind: "numeric", lower: 0.1 + 0.2 + 250, upper: null }],
      [{ feature: "signup", kind: "datetime", lower: Date.UTC(2020, 3, 1, 6) + 0.5, upper: records[3].signup as number }],
      [],
    ];
    for (const c of conds) {
      expect(await selectIds(conditionsSql(c))).toEqual(idsOf(evaluateRules(data, [c])));
    }
    const union = conds.slice(0, 3).map((c) => ({ sql: conditionsSql(c) }));
    expect(await selectIds(rulesToSql(union))).toEqual(idsOf(evaluateRules(data, conds.slice(0, 3))));
    expect(await selectIds(rulesToSql([]))).toEqual([]);
  });
});

describe("rules on large data: trees grown on a sample, counts on all rows", () => {
  // 30,000 customers: three groups separated by spend, and a 1 % group separated by visits.
  const rng = new Random(21);
  const records = Array.from({ length: 30_000 }, (_, i) => {
    const small = i % 100 === 0;
    const g = small ? 3 : i % 3;
    return { spend: small ? 50 + rng.uniform(0, 10) : [10, 100, 1000][g] * (1 + rng.uniform(0, 0.5)), visits: small ? 40 + rng.int(5) : rng.int(20), g };
  });
  const data = datasetFromRecords(records, { spend: "numeric", visits: "numeric", g: "numeric" });
  const labels = Int32Array.from(records, (r) => r.g);
  const sizes = [0, 1, 2, 3].map((s) => labels.filter((l) => l === s).length);

  it("grows the trees on about maxTrainingRows rows, each segment in its share, and counts coverage and precision on all rows", () => {
    const sampled = segmentRules(data, labels, { features: ["spend", "visits"], maxTrainingRows: 3_000 });
    expect(sampled.n).toBe(30_000);
    expect(Math.abs(sampled.trainingRows - 3_000)).toBeLessThanOrEqual(4);
    for (const seg of sampled.segments) {
      // Separated groups: the rules select exactly the segment, counted over all 30,000 rows.
      expect(seg.size).toBe(sizes[seg.segment]);
      expect(seg.truePositives).toBe(sizes[seg.segment]);
      expect(seg.matched).toBe(sizes[seg.segment]);
      expect(seg.precision).toBe(1);
    }
    // The 1 % group keeps its share of the sample (300 rows → 30), enough for a rule of its own.
    expect(sampled.segments[3].rules.length).toBeGreaterThan(0);
    // Seeded: the same data gives the same rules.
    const again = segmentRules(data, labels, { features: ["spend", "visits"], maxTrainingRows: 3_000 });
    expect(again.segments.map((s) => s.sql)).toEqual(sampled.segments.map((s) => s.sql));
  });

  it("uses every row when there are at most maxTrainingRows", () => {
    const all = segmentRules(data, labels, { features: ["spend", "visits"], maxTrainingRows: 30_000 });
    expect(all.trainingRows).toBe(30_000);
    expect(all.segments.map((s) => s.truePositives)).toEqual(sizes);
    expect(() => segmentRules(data, labels, { features: ["spend"], maxTrainingRows: 0 })).toThrow(/maxTrainingRows/);
  });
});
