import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { silhouetteSamples, silhouetteScore } from "../src/metrics/silhouette.js";

/** One case of test/fixtures/silhouette.json, written by test/fixtures/make_fixtures.py (scikit-learn). */
interface SilhouetteCase {
  name: string;
  note: string;
  X: number[][];
  labels: number[];
  silhouette_samples: number[];
  silhouette_score: number;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/silhouette.json", import.meta.url), "utf8")) as {
  meta: Record<string, string>;
  cases: SilhouetteCase[];
};

describe("silhouette equals scikit-learn (fixtures)", () => {
  it("has the fixture cases it should", () => {
    expect(fixture.cases.map((c) => c.name)).toEqual(expect.arrayContaining([
      "blobs-3", "singleton", "two-clusters", "duplicates", "label-minus-one",
    ]));
  });

  for (const c of fixture.cases) {
    it(`${c.name} (n=${c.X.length}, ${new Set(c.labels).size} labels)`, () => {
      const s = silhouetteSamples(c.X, c.labels);
      expect(s.length).toBe(c.labels.length);
      const bad: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (!(Math.abs(s[i] - c.silhouette_samples[i]) <= 1e-12)) {
          bad.push(`row ${i}: ${s[i]}, sklearn ${c.silhouette_samples[i]}`);
        }
      }
      expect(bad).toEqual([]);
      expect(Math.abs(silhouetteScore(c.X, c.labels) - c.silhouette_score)).toBeLessThanOrEqual(1e-12);
    });
  }

  it("gives 0 to a row alone in its cluster", () => {
    const c = fixture.cases.find((x) => x.name === "singleton")!;
    const s = silhouetteSamples(c.X, c.labels);
    const counts = new Map<number, number>();
    for (const l of c.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const alone = c.labels.flatMap((l, i) => (counts.get(l) === 1 ? [i] : []));
    expect(alone.length).toBe(1);
    expect(s[alone[0]]).toBe(0);
  });
});

describe("silhouette by hand", () => {
  it("two tight pairs", () => {
    // Points 0, 1 | 10, 11. Row 0: a = 1, b = (10 + 11) / 2 = 10.5 → (10.5 − 1) / 10.5.
    const s = silhouetteSamples([[0], [1], [10], [11]], [0, 0, 1, 1]);
    expect(s[0]).toBeCloseTo(9.5 / 10.5, 15);
    expect(s[1]).toBeCloseTo(8.5 / 9.5, 15);
    expect(s[2]).toBeCloseTo(8.5 / 9.5, 15);
    expect(s[3]).toBeCloseTo(9.5 / 10.5, 15);
  });
});

describe("silhouette input errors", () => {
  it("rejects a single label", () => {
    expect(() => silhouetteSamples([[0], [1], [2]], [0, 0, 0])).toThrow(InputError);
    expect(() => silhouetteScore([[0], [1], [2]], [5, 5, 5])).toThrow(InputError);
  });

  it("rejects as many labels as rows", () => {
    expect(() => silhouetteSamples([[0], [1], [2]], [0, 1, 2])).toThrow(InputError);
  });

  it("rejects labels of the wrong length", () => {
    expect(() => silhouetteSamples([[0], [1], [2]], [0, 1])).toThrow(InputError);
  });
});
