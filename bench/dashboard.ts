/**
 * The dashboard (issue #18): its JavaScript gzipped, the Vega runtime counted apart (goal:
 * under 500 kB without Vega), and the first paint of a results page for 100,000 customers
 * measured in headless Chromium against `segmenta serve` on loopback (goal: under 2 s): the
 * time from navigation until the segment cards are on screen, and until the first chart is
 * drawn; median of 3 loads. `--quick`: 20,000 customers. Needs Chromium (/usr/bin/chromium or
 * $CHROMIUM) for the second part; builds the dashboard first when dist/web is missing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { exec, lit } from "../src/io/duck.js";
import { buildServer } from "../src/server/app.js";
import { dashboardDir } from "../src/server/static.js";
import { openStore } from "../src/server/store.js";
import { createToken } from "../src/server/tokens.js";
import { median } from "./peers.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const kB = (n: number): string => `${(n / 1024).toFixed(1)} kB`;

/** The built chunks by name with their gzipped sizes, and which hold the Vega runtime (vega-embed, vega, vega-lite, the interpreter). */
function bundleSizes(dir: string): { app: number; vega: number; files: { name: string; gzip: number; vega: boolean }[] } {
  const assets = join(dir, "assets");
  const files = readdirSync(assets)
    .filter((f) => f.endsWith(".js"))
    .map((name) => {
      const text = readFileSync(join(assets, name));
      // The Vega chunks: the dynamic imports of Chart.tsx (vega-embed with vega and vega-lite, vega-interpreter).
      const vega = /^(embed|vega-interpreter|vega)[-.]/.test(name);
      return { name, gzip: gzipSync(text, { level: 9 }).length, vega };
    });
  return { app: files.filter((f) => !f.vega).reduce((s, f) => s + f.gzip, 0), vega: files.filter((f) => f.vega).reduce((s, f) => s + f.gzip, 0), files };
}

export async function benchDashboard(quick: boolean): Promise<void> {
  console.log("\n== dashboard (issue #18): bundle size and first paint of the results page");
  let dir = dashboardDir();
  if (!dir) {
    const { build } = await import("vite");
    await build({ configFile: fileURLToPath(new URL("../web/vite.config.ts", import.meta.url)), logLevel: "warn" });
    dir = dashboardDir();
    if (!dir) throw new Error("the dashboard did not build into dist/web");
  }
  const sizes = bundleSizes(dir);
  for (const f of sizes.files) console.log(`  ${f.name.padEnd(36)} ${kB(f.gzip).padStart(10)} gzipped${f.vega ? "  (Vega runtime)" : ""}`);
  const css = readdirSync(join(dir, "assets")).filter((f) => f.endsWith(".css")).reduce((s, f) => s + gzipSync(readFileSync(join(dir!, "assets", f)), { level: 9 }).length, 0);
  console.log(`  dashboard JavaScript without Vega: ${kB(sizes.app)} gzipped (goal < 500 kB: ${sizes.app < 500 * 1024 ? "met" : "NOT met"}); CSS ${kB(css)}; Vega runtime ${kB(sizes.vega)}, loaded with the first chart`);

  if (!existsSync(CHROMIUM)) {
    console.log(`  first paint: skipped, no Chromium at ${CHROMIUM}`);
    return;
  }
  const n = quick ? 20_000 : 100_000;
  const data = await mkdtemp(join(tmpdir(), "segmenta-bench-dashboard-"));
  const store = await openStore(data);
  const t = createToken();
  await store.addToken("bench", "admin", t.hash);
  const app = await buildServer({ dataDir: data, store, concurrency: 1 });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    // A customer table: an id, four numbers in six groups and a channel.
    const file = join(data, "customers.parquet");
    await exec(
      `COPY (SELECT 'C' || lpad(i::VARCHAR, 7, '0') AS customer_id, (g * 40 + random() * 30)::DOUBLE AS spend, (g * 3 + random() * 4)::DOUBLE AS visits, ` +
        `((5 - g) * 20 + random() * 25)::DOUBLE AS recency_days, (g % 3 + random())::DOUBLE AS tenure_years, ['web','store','app'][1 + (i % 3)::INTEGER] AS channel ` +
        `FROM (SELECT i, floor(random() * 6)::INTEGER AS g FROM range(${n}) t(i))) TO ${lit(file)} (FORMAT parquet)`,
    );
    const auth = { authorization: `Bearer ${t.token}` };
    const ds = (await (await fetch(`${base}/api/v1/datasets?name=customers.parquet`, { method: "POST", headers: { ...auth, "content-type": "application/vnd.apache.parquet" }, body: readFileSync(file) })).json()) as { id: string };
    const started = Date.now();
    const run = (await (await fetch(`${base}/api/v1/runs`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ datasetId: ds.id, config: { k: 6 } }) })).json()) as { id: string };
    let status = "";
    while (!["succeeded", "failed", "cancelled"].includes(status)) {
      await new Promise((r) => setTimeout(r, 500));
      status = ((await (await fetch(`${base}/api/v1/runs/${run.id}`, { headers: auth })).json()) as { status: string }).status;
    }
    if (status !== "succeeded") throw new Error(`the run ${status}`);
    console.log(`  ${n.toLocaleString("en-US")} customers segmented (k = 6, with the report) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const cards: number[] = [];
    const charts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript(`sessionStorage.setItem("segmenta.token", ${JSON.stringify(t.token)})`);
      const page = await context.newPage();
      await page.goto(`${base}/#/runs/${run.id}`);
      // The page marks its own moments (performance.mark): the frame after the cards were committed, the report read and parsed, each chart drawn.
      // (Polled with evaluate: waitForFunction's string predicates are evaluated in the page, which its CSP forbids.)
      const mark = async (name: string): Promise<number> => {
        for (let waited = 0; waited < 120_000; waited += 50) {
          const at = (await page.evaluate(`performance.getEntriesByName(${JSON.stringify(name)})[0]?.startTime ?? null`)) as number | null;
          if (at !== null) return at;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`the page never marked ${name}`);
      };
      cards.push(await mark("segmenta:cards"));
      // Charts are drawn as they come into view: bring the first one in.
      await page.locator("[data-chart]").first().scrollIntoViewIfNeeded({ timeout: 120_000 });
      await page.locator('[data-chart][data-state="drawn"]').first().waitFor({ timeout: 120_000 });
      charts.push((await page.evaluate(`Math.min(...performance.getEntriesByType("mark").filter((m) => m.name.startsWith("segmenta:chart:")).map((m) => m.startTime))`)) as number);
      if (i === 0) {
        const marks = (await page.evaluate(`performance.getEntriesByType("mark").filter((m) => m.name.startsWith("segmenta:")).map((m) => m.name + " " + Math.round(m.startTime) + " ms").join(", ")`)) as string;
        console.log(`  first load: ${marks}`);
      }
      await context.close();
    }
    const c = median(cards);
    console.log(`  results page of ${n.toLocaleString("en-US")} customers: segment cards painted after ${(c / 1000).toFixed(2)} s (goal < 2 s: ${c < 2000 ? "met" : "NOT met"}), first chart drawn after ${(median(charts) / 1000).toFixed(2)} s; median of 3 loads`);
  } finally {
    await browser.close();
    await app.close();
    await store.close();
    await rm(data, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDashboard(process.argv.includes("--quick"));
