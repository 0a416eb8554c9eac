/**
 * The CART tree against scikit-learn (test/fixtures/tree.json from make_tree_fixtures.py),
 * and the segment rules: readable conditions, coverage and precision, and the SQL export run
 * for real in DuckDB.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
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
