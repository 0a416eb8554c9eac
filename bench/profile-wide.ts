/**
 * Profiling wide tables: time of loadTable, profileTable and readColumns (every column) on
 * 2,000-row CSVs of numbers with 1,000 and 5,000 columns (normal noise, written by DuckDB),
 * and on the Telco churn table when ../shared/data holds it. Each size is timed once.
 *
 *     node --import tsx bench/profile-wide.ts [cols…]
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, lit } from "../src/io/duck.js";
import { readColumns } from "../src/io/extract.js";
import { loadTable } from "../src/io/read.js";
import { profileTable } from "../src/io/schema.js";

async function timeFile(label: string, path: string): Promise<void> {
  let t0 = performance.now();
  const t = await loadTable(path);
  const load = performance.now() - t0;
  t0 = performance.now();
  const profile = await profileTable(t);
  const prof = performance.now() - t0;
  t0 = performance.now();
  await readColumns(t, profile, profile.columns.map((c) => c.name));
  const read = performance.now() - t0;
  await exec(`DROP TABLE ${t.table}`);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`${label}: load ${s(load)}, profileTable ${s(prof)}, readColumns ${s(read)}`);
}

const dir = mkdtempSync(join(tmpdir(), "segmenta-wide-"));
try {
  const widths = process.argv.slice(2).map(Number).filter((d) => d > 0);
  for (const d of widths.length ? widths : [1_000, 5_000]) {
    const path = join(dir, `wide-${d}.csv`);
    const cols = Array.from({ length: d }, (_, j) => `round(sqrt(-2 * ln(random())) * cos(2 * pi() * random()) * ${j + 1}, 4) AS x${j}`);
    await exec(`SELECT setseed(0.5)`);
    await exec(`COPY (SELECT ${cols.join(", ")} FROM range(2000)) TO ${lit(path)} (HEADER)`);
    await timeFile(`2,000 × ${d.toLocaleString("en")}`, path);
  }
  const telco = join("..", "shared", "data", "WA_Fn-UseC_-Telco-Customer-Churn.csv");
  if (existsSync(telco)) await timeFile("Telco (7,043 × 21)", telco);
  else console.log(`Telco: ${telco} not found, skipped`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
