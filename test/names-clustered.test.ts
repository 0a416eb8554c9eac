/**
 * Segment names come first from what the segments were clustered on, and read as words:
 * column names split and common abbreviations expanded. Tables are made here.
 */
import { describe, expect, it } from "vitest";
import { datasetFromRecords } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { Random } from "../src/core/random.js";
import { featureLabel, humanizeFeatureName } from "../src/profile/names.js";
import { profileSegments } from "../src/profile/profiles.js";

/**
 * Three segments of 200 customers. Segment 0 spends more on wine (clustered on) and all of it
 * answered the campaign (an outcome, described only: a larger difference); none of segment 1
 * answered; segment 2 shops in stores more often.
 */
function campaignTable(seed = 3) {
  const rnd = new Random(seed);
  const records: Record<string, unknown>[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 600; i++) {
    const s = i % 3;
    labels.push(s);
    records.push({
      MntWines: s === 0 ? 300 + rnd.random() * 200 : 200 + rnd.random() * 200,
      NumStorePurchases: s === 2 ? 9 + rnd.int(4) : 3 + rnd.int(4),
      Income: 40_000 + rnd.random() * 20_000,
      // Answered the last campaign: all of segment 0, none of segment 1, a tenth of segment 2.
      Response: s === 0 ? 1 : s === 1 ? 0 : Number(rnd.random() < 0.1),
    });
  }
  const data = datasetFromRecords(records, { MntWines: "numeric", NumStorePurchases: "numeric", Income: "numeric", Response: "boolean" });
  return { data, labels: Int32Array.from(labels) };
}

describe("names come first from the clustered features", () => {
  const clustered = ["MntWines", "NumStorePurchases", "Income"];
  const features = [...clustered, "Response"];

  it("a segment set apart by a clustered feature is named by it, even when a described-only column differs more", () => {
    const { data, labels } = campaignTable();
    const p = profileSegments(data, labels, { features, clustered });
    const s0 = p.segments[0];
    // The outcome is the segment's largest difference...
    expect(s0.distinguishing[0].feature).toBe("Response");
    expect(Math.abs(s0.distinguishing[0].effectSize)).toBeGreaterThan(Math.abs(s0.distinguishing[1].effectSize));
    // ...but the name says what the segment was clustered on, in words.
    expect(s0.name).toBe("High amount spent on wines, few store purchases");
    expect(s0.description).toMatch(/^High amount spent on wines, few store purchases: amount spent on wines \d+ on average \(population: \d+\), number of store purchases/);
    expect(p.segments[2].name).toBe("Many store purchases");
    expect(p.clustered).toEqual(clustered);
  });

  it("falls back to a described-only column when the clustered features are all average", () => {
    const rnd = new Random(11);
    const records = Array.from({ length: 400 }, (_, i) => ({ visits: rnd.random(), Churn: i % 2 === 0 ? Number(rnd.random() < 0.9) : Number(rnd.random() < 0.1) }));
    const labels = Int32Array.from({ length: 400 }, (_, i) => i % 2);
    const data = datasetFromRecords(records, { visits: "numeric", Churn: "boolean" });
    const p = profileSegments(data, labels, { features: ["visits", "Churn"], clustered: ["visits"] });
    expect(p.segments[0].name).toBe("Mostly churn");
    expect(p.segments[1].name).toBe("Fewer churn");
    // With nothing apart anywhere: close to average.
    const flat = profileSegments(data, labels, { features: ["visits"], clustered: ["visits"] });
    expect(flat.segments.map((s) => s.name)).toEqual(["Close to average", "Close to average 2"]);
  });

  it("without the option every described feature counts as clustered (the outcome can name a segment)", () => {
    const { data, labels } = campaignTable();
    const p = profileSegments(data, labels, { features });
    expect(p.segments[0].name).toMatch(/^Mostly response/);
    expect(p.clustered).toBeUndefined();
  });

  it("tells apart segments with the same name by a clustered feature, uniquely and deterministically", () => {
    const rnd = new Random(5);
    const records: Record<string, unknown>[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 900; i++) {
      const s = i % 3;
      labels.push(s);
      records.push({
        avg_order_qty: s < 2 ? 20 + rnd.random() * 2 : 5 + rnd.random() * 2, // segments 0 and 1: both high
        // Tells 0 and 1 apart, too little to be named (|effect| < 0.3).
        n_orders: (s === 0 ? 7.5 : s === 1 ? 6.5 : 7) + rnd.random() * 6,
        score: s === 0 ? 100 : s === 1 ? -100 : 0, // described only: would tell them apart more
      });
    }
    const data = datasetFromRecords(records, { avg_order_qty: "numeric", n_orders: "numeric", score: "numeric" });
    const opts = { features: ["avg_order_qty", "n_orders", "score"], clustered: ["avg_order_qty", "n_orders"] };
    const p = profileSegments(data, Int32Array.from(labels), opts);
    const names = p.segments.map((s) => s.name);
    expect(names[0]).toBe("High average order quantity (more orders)");
    expect(names[1]).toBe("High average order quantity (fewer orders)");
    expect(new Set(names).size).toBe(3);
    expect(profileSegments(data, Int32Array.from(labels), opts).segments.map((s) => s.name)).toEqual(names);
  });

  it("uses RFM names only when recency and frequency were clustered on", () => {
    const rnd = new Random(9);
    const records = Array.from({ length: 300 }, (_, i) => ({
      recency_days: i % 2 ? 5 + rnd.int(10) : 200 + rnd.int(100), frequency: i % 2 ? 10 + rnd.int(5) : 1, spend_level: i % 2 ? 1 + rnd.random() : 5 + rnd.random(),
    }));
    const labels = Int32Array.from({ length: 300 }, (_, i) => i % 2);
    const data = datasetFromRecords(records, { recency_days: "numeric", frequency: "numeric", spend_level: "numeric" });
    const all = ["recency_days", "frequency", "spend_level"];
    expect(profileSegments(data, labels, { features: all, clustered: all }).naming).toBe("rfm");
    const p = profileSegments(data, labels, { features: all, clustered: ["spend_level"] });
    expect(p.naming).toBe("generic");
    expect(p.segments.map((s) => s.name)).toEqual(["High spend level", "Low spend level"]);
  });

  it("refuses a clustered feature that is not profiled, naming it", () => {
    const { data, labels } = campaignTable();
    expect(() => profileSegments(data, labels, { features: ["MntWines"], clustered: ["MntWines", "Recency"] })).toThrow(InputError);
    expect(() => profileSegments(data, labels, { features: ["MntWines"], clustered: ["Recency"] })).toThrow(/"Recency".*add it to features/);
  });
});

describe("column names in words", () => {
  it("splits camelCase, snake_case and dotted names and expands common abbreviations, keeping unknown words", () => {
    const cases: [string, string][] = [
      ["MntWines", "amount spent on wines"],
      ["MntGoldProds", "amount spent on gold products"],
      ["NumStorePurchases", "number of store purchases"],
      ["NumWebVisitsMonth", "number of web visits month"],
      ["n_orders", "number of orders"],
      ["cnt_returns", "number of returns"],
      ["avg_order_qty", "average order quantity"],
      ["pct_returned", "percent returned"],
      ["discount_pct", "discount percent"],
      ["total_amt", "total amount"],
      ["purchase_freq", "purchase frequency"],
      ["CASH_ADVANCE_TRX", "cash advance transactions"],
      ["PRC_FULL_PAYMENT", "percent full payment"],
      ["CREDIT_LIMIT", "credit limit"],
      ["BALANCE", "balance"],
      ["emp.var.rate", "emp var rate"],
      ["Kidhome", "kidhome"],
      ["Dt_Customer", "date customer"],
      ["size_n", "size n"],
      ["NPS", "NPS"],
      ["NPSScore", "NPS score"],
      ["MonthlyCharges", "monthly charges"],
      ["tenure_days", "tenure"],
      ["Annual Income (k$)", "annual income (k$)"],
      ["n", "n"],
      ["avg", "average"],
      ["constructor", "constructor"],
    ];
    for (const [name, words] of cases) expect(humanizeFeatureName(name), name).toBe(words);
  });

  it("says many / few for counts and high / low otherwise", () => {
    const d = { feature: "NumStorePurchases", kind: "numeric" as const, effectSize: 1, direction: "higher" as const, segmentValue: 9, populationValue: 5 };
    expect(featureLabel(d)).toBe("many store purchases");
    expect(featureLabel({ ...d, effectSize: -1, direction: "lower" })).toBe("few store purchases");
    expect(featureLabel({ ...d, feature: "MntWines" })).toBe("high amount spent on wines");
    const cat = { feature: "MultipleLines", kind: "categorical" as const, category: "No phone service", effectSize: 2, direction: "higher" as const, segmentValue: 1, populationValue: 0.1 };
    expect(featureLabel(cat)).toBe("mostly no phone service (multiple lines)");
    expect(featureLabel({ ...cat, category: "Month-to-month", feature: "Contract" })).toBe("mostly Month-to-month contract");
  });
});
