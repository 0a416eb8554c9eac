/**
 * `--store postgres://…` of `segmenta token` and `segmenta serve`, against a real PostgreSQL
 * started for this file (skipped with a message where there is none): a token created by the
 * CLI opens two servers sharing the database, and once revoked it is refused by both at once
 * (no server caches tokens); messages and JSON never show the password.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/cli/serve.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { runMain } from "./helpers/cli.js";

let server: TestPostgres | null = null;
let url = "";
let root = "";

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "segmenta-cli-pg-"));
  server = await startPostgres();
  if (server) url = await server.newDatabase(`cli_${process.pid}`);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const pgIt = (name: string, f: () => Promise<void>) =>
  it(name, async (ctx) => {
    if (!server) {
      ctx.skip();
      return;
    }
    await f();
  }, 60_000);

describe("--store postgres://", () => {
  pgIt("a token created and revoked by the CLI opens, then no longer opens, two servers sharing the database", async () => {
    // The test database trusts its users: a password in the URL is accepted and must never be shown.
    const withPassword = url.replace("postgres@", "postgres:pa55word@");
    const created = await runMain(["token", "create", "--name", "crm", "--scope", "admin", "--store", withPassword, "--json"]);
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const doc = JSON.parse(created.stdout) as { id: string; token: string; scope: string };
    expect(doc.scope).toBe("admin");
    const listed = await runMain(["token", "list", "--store", withPassword, "--json"]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ store: expect.stringContaining(":***@") as unknown, tokens: [{ id: doc.id, name: "crm", scope: "admin" }] });
    expect(listed.stdout + created.stdout).not.toContain("pa55word");
    expect(listed.stdout).not.toContain(doc.token);

    const a = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(root, "a"), store: url, uploadLimit: 1 << 20 });
    const b = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(root, "b"), store: url, uploadLimit: 1 << 20 });
    try {
      const get = (s: { address: string }, token: string | null) =>
        fetch(`${s.address}/api/v1/models`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      for (const s of [a, b]) {
        expect((await fetch(`${s.address}/healthz`)).status).toBe(200);
        expect((await get(s, null)).status).toBe(401);
        const r = await get(s, doc.token);
        expect(r.status).toBe(200);
      }
      const revoked = await runMain(["token", "revoke", "--id", doc.id, "--store", withPassword]);
      expect(revoked.status).toBe(0);
      expect(revoked.stdout).not.toContain("pa55word");
      for (const s of [a, b]) expect((await get(s, doc.token)).status).toBe(401);
      // A token added while the servers run works on both at once.
      const again = JSON.parse((await runMain(["token", "create", "--name", "late", "--scope", "read", "--store", url, "--json"])).stdout) as { token: string };
      for (const s of [a, b]) expect((await get(s, again.token)).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  pgIt("an unreachable database or a URL of another kind is one line naming --store, password hidden", async () => {
    const r = await runMain(["token", "list", "--store", "postgres://u:secret@127.0.0.1:1/db"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: cannot connect to PostgreSQL/);
    expect(r.stderr).not.toContain("secret");
    const s = await runMain(["serve", "--port", "0", "--store", "sqlite://x"]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--store sqlite:\/\/x: give a PostgreSQL URL/);
    await expect(startServer({ port: 0, host: "127.0.0.1", dataDir: join(root, "c"), store: "postgres://u:secret@127.0.0.1:1/db", uploadLimit: 1024 }))
      .rejects.toThrow(/--store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: cannot connect/);
  });
});
