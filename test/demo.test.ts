/** The README's first command: `npm run demo` on built-in data, end to end. */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "./helpers/cli.js";

describe("segmenta demo", () => {
  it("generates the data, RFM, the evidence for k, two segmentations and their reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "segmenta-demo-"));
    const r = await run(["demo", "--out", dir]);
    expect(r.code, r.err).toBe(0);
    for (const f of ["transactions.csv", "customers.csv", "rfm.csv", "tune-elbow.svg", "tune-indices.svg", "rfm_segments.csv", "rfm_model.json",
      "rfm_report.html", "customer_segments.csv", "customer_model.json", "customer_report.html"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(r.out).toMatch(/recommended k: 4/);
    // The six hidden archetypes of the generator come out under RFM names.
    const rfm = readFileSync(join(dir, "rfm_report.html"), "utf8");
    expect(rfm).toMatch(/Champions/);
    expect(rfm).toMatch(/id="rfm"/);
    const segments = readFileSync(join(dir, "rfm_segments.csv"), "utf8").split("\n");
    expect(segments[0]).toBe("customer_id,segment,segment_name");
    // The segments file carries the RFM names the CRM imports.
    expect(segments.slice(1).some((l) => l.endsWith(",Champions"))).toBe(true);
    expect(r.out).toMatch(/reports: open .*rfm_report\.html and .*customer_report\.html/);
  }, 120_000);
});
