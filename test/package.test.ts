/**
 * Segmenta used as a package from a fresh project (issue #13): the types TypeScript sees match
 * what Node loads (the Node-only exports included, under node16 and bundler resolution), a
 * browser build sees only the isomorphic library, `require("segmenta")` works where Node can
 * require ES modules, and the tarball carries the licence and no install-time scripts.
 *
 * The project links to this folder (node_modules/segmenta → the repository), as npm does for
 * a local dependency; dist/ must be built (`npm run build`, as `npm test` does first).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

let project: string;
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist", "node.d.ts"))) throw new Error("dist/ is missing: run `npm run build` before these tests");
  project = mkdtempSync(join(tmpdir(), "segmenta-user-"));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules", "segmenta"), "dir");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user", type: "module", private: true }));
  writeFileSync(
    join(project, "main.ts"),
    [
      'import { KMeans, runSegmentation, renderReportHtml, buildSegmentationReport, installWorkerPool, readTable } from "segmenta";',
      "export const used = [KMeans, runSegmentation, renderReportHtml, buildSegmentationReport, installWorkerPool, readTable];",
      "",
    ].join("\n"),
  );
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function tsc(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [TSC, "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", ...args, "main.ts"], { cwd: project, encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("segmenta from a fresh project", () => {
  it("TypeScript sees the Node-only exports under node16 resolution", () => {
    const r = tsc("--module", "node16", "--moduleResolution", "node16");
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("and under bundler resolution", () => {
    const r = tsc("--module", "esnext", "--moduleResolution", "bundler");
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("a browser build (the browser condition) sees the isomorphic library only", () => {
    const r = tsc("--module", "esnext", "--moduleResolution", "bundler", "--customConditions", "browser");
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/TS2305: Module '"segmenta"' has no exported member 'renderReportHtml'/);
    expect(r.out).not.toMatch(/'KMeans'|'runSegmentation'/);
  });

  it("require('segmenta') works where Node can require ES modules (no top-level await in the graph)", () => {
    const r = spawnSync(
      process.execPath,
      ["--experimental-require-module", "--no-warnings", "-e", 'const s = require("segmenta"); console.log(typeof s.KMeans, typeof s.readTable); process.exit(0)'],
      { cwd: project, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function function");
  });

  it("the package carries its licence and runs no script on install", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const s of ["preinstall", "install", "postinstall", "prepare"]) expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.files).toContain("LICENSE");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path);
    expect(files).toContain("LICENSE");
    expect(files).toContain("dist/node.d.ts");
    expect(files).toContain("bin/segmenta.js");
    expect(files.some((f) => f.startsWith("test/") || f.startsWith("src/"))).toBe(false);
  });
});
