/**
 * Dates as features: with preprocessing dates "days-since", a datetime feature becomes the
 * days from it to a reference date (years for birth dates), a birth year becomes an age, and
 * the fitted pipeline keeps the reference date so that predict measures from the same day.
 */
import { describe, expect, it } from "vitest";
import type { Column, Dataset } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { fitPipeline, FittedPipeline } from "../src/preprocess/pipeline.js";
import { planPreprocessing } from "../src/preprocess/plan.js";

const DAY = 86_400_000;
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);

/** A table with a signup date, a date of birth, a birth year and spend (NaN: missing). */
function customers(rows: { since: string | null; dob: string; born: number; spend: number }[], source = "customers.csv"): Dataset {
  const columns: Column[] = [
    { name: "customer_since", kind: "datetime", values: Float64Array.from(rows, (r) => (r.since === null ? NaN : day(r.since))) },
    { name: "date_of_birth", kind: "datetime", values: Float64Array.from(rows, (r) => day(r.dob)) },
    { name: "Year_Birth", kind: "numeric", values: Float64Array.from(rows, (r) => r.born) },
    { name: "spend", kind: "numeric", values: Float64Array.from(rows, (r) => r.spend) },
  ];
  return { source, rows: rows.length, columns };
}

const train = customers([
  { since: "2023-12-22", dob: "2000-01-01", born: 1990, spend: 10 },
  { since: "2023-01-01", dob: "1980-07-01", born: 1970, spend: 20 },
  { since: null, dob: "1994-01-01", born: 1984, spend: 30 },
  { since: "2022-01-01", dob: "1964-01-01", born: 1964, spend: 40 },
]);
const features = ["customer_since", "date_of_birth", "Year_Birth", "spend"];

function rowsOf(X: { data: Float64Array; rows: number; cols: number }): number[][] {
  return Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
}

describe("dates as features (days since a reference date)", () => {
  it("turns dates into days, birth dates into years and birth years into ages, before imputation", async () => {
    const p = await fitPipeline(train, features, { dates: "days-since", asOf: "2024-01-01", scale: "none" });
    const X = rowsOf(p.transform(train));
    // Days from 2023-12-22, 2023-01-01 and 2022-01-01 to 2024-01-01: 10, 365 and 730; the missing one gets their median, 365.
    expect(X.map((r) => r[0])).toEqual([10, 365, 365, 730]);
    // 2000-01-01 → 2024-01-01 is 8766 days, 24.0008 years of 365.2425 days.
    expect(X[0][1]).toBeCloseTo(8766 / 365.2425, 12);
    expect(X[3][1]).toBeCloseTo((day("2024-01-01") - day("1964-01-01")) / DAY / 365.2425, 12);
    expect(X.map((r) => r[2])).toEqual([34, 54, 40, 60]);
    expect(X.map((r) => r[3])).toEqual([10, 20, 30, 40]);
    expect(p.dates).toEqual({
      asOf: day("2024-01-01"),
      columns: [
        { name: "customer_since", from: "date", unit: "days" },
        { name: "date_of_birth", from: "date", unit: "years" },
        { name: "Year_Birth", from: "year", unit: "years" },
      ],
    });
    const lines = p.describe();
    expect(lines[0]).toBe("customer_since (datetime): days since, as of 2024-01-01, 1 missing value → median 365 days");
    expect(lines[1]).toBe("date_of_birth (datetime): age in years, as of 2024-01-01");
    expect(lines[2]).toBe("Year_Birth (numeric): age in years in 2024 (2024 − birth year)");
  });

  it("records the reference date in the model, so that a reloaded model scores new rows from the same day", async () => {
    const p = await fitPipeline(train, features, { dates: "days-since", asOf: "2024-01-01" });
    const json = JSON.parse(JSON.stringify(p.toJSON()));
    expect(json.dates.asOf).toBe("2024-01-01T00:00:00.000Z");
    const q = FittedPipeline.fromJSON(json);
    const fresh = customers([{ since: "2023-12-31", dob: "2004-01-01", born: 2004, spend: 5 }], "new.csv");
    expect(Array.from(q.transform(fresh).data)).toEqual(Array.from(p.transform(fresh).data));
    const raw = rowsOf(FittedPipeline.fromJSON({ ...json, scaler: null }).transform(fresh))[0];
    expect(raw[0]).toBe(1);
    expect(raw[2]).toBe(20);
  });

  it("measures from the start (UTC) of the day of the fit when no reference date is given", async () => {
    const before = Math.floor(Date.now() / DAY) * DAY;
    const p = await fitPipeline(train, features, { dates: "days-since" });
    const after = Math.floor(Date.now() / DAY) * DAY;
    expect([before, after]).toContain(p.dates!.asOf);
    expect(p.options.asOf).toBe(new Date(p.dates!.asOf).toISOString().slice(0, 10));
  });

  it("leaves dates as they were without the option", async () => {
    const p = await fitPipeline(train, ["customer_since", "spend"], { scale: "none" });
    expect(p.dates).toBeNull();
    expect(rowsOf(p.transform(train))[0][0]).toBe(day("2023-12-22"));
    expect(p.toJSON().dates).toBeUndefined();
  });

  it("rejects a reference date that is not a date, and a date column that is no longer a date", async () => {
    await expect(fitPipeline(train, features, { dates: "days-since", asOf: "soon" })).rejects.toThrow(InputError);
    await expect(fitPipeline(train, features, { dates: "days-since", asOf: "soon" })).rejects.toThrow(/asOf "soon" is not a date; write the reference date as YYYY-MM-DD/);
    const p = await fitPipeline(train, features, { dates: "days-since", asOf: "2024-01-01" });
    const asNumbers = customers([{ since: "2023-12-31", dob: "2004-01-01", born: 2004, spend: 5 }], "new.csv");
    (asNumbers.columns[0] as { kind: string }).kind = "numeric";
    expect(() => p.transform(asNumbers)).toThrow(/new\.csv: column "customer_since" holds dates in training but numeric values here/);
  });

  it("is part of the auto plan, which says how each date is read and from which day", () => {
    const plan = planPreprocessing(train, features, { plan: "auto", asOf: "2024-01-01" });
    expect(plan.options.dates).toBe("days-since");
    expect(plan.options.asOf).toBe("2024-01-01");
    const step = plan.steps.find((s) => s.step === "time since")!;
    expect(step.columns).toEqual(["customer_since", "date_of_birth", "Year_Birth"]);
    expect(step.reason).toMatch(/customer_since → days since, date_of_birth → age in years, Year_Birth → age in years \(2024 − birth year\), as of 2024-01-01, the configured asOf/);
    // Not with dates "drop", nor in the standard plan unless asked.
    expect(planPreprocessing(train, features, { plan: "auto", dates: "drop" }).steps.some((s) => s.step === "time since")).toBe(false);
    expect(planPreprocessing(train, features, {}).options.dates).toBeUndefined();
    expect(planPreprocessing(train, features, { dates: "days-since", asOf: "2024-01-01" }).steps[0].step).toBe("time since");
  });
});
