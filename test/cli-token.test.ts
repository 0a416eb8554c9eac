/**
 * `segmenta token create|list`: the token is printed once (with the note that it is not
 * stored), verifies against the store, and `token list` never shows it; bad usage is one line
 * and status 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, STORE_FILE } from "../src/server/store.js";
import { hashToken, verifyToken } from "../src/server/tokens.js";
import { lines, runMain } from "./helpers/cli.js";

let root: string;
let count = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "segmenta-cli-token-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
function freshDir(): string {
  return join(root, `data-${++count}`);
}

const TOKEN = /sgm_[A-Za-z0-9_-]{43}/g;

describe("segmenta token", () => {
  it("create prints the token once, which verifies with its scope; list shows it without its value", async () => {
    const dir = freshDir();
    const r = await runMain(["token", "create", "--name", "crm-scoring", "--scope", "score", "--data", dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const found = r.stdout.match(TOKEN) ?? [];
    expect(found).toHaveLength(1);
    const token = found[0] ?? "";
    expect(r.stdout).toMatch(/not stored.*cannot be shown again/);
    expect(existsSync(join(dir, STORE_FILE))).toBe(true);

    const admin = await runMain(["token", "create", "--name", "ops", "--scope", "ADMIN", "--data", dir, "--json"]);
    expect(admin.status, admin.stderr).toBe(0);
    const doc = JSON.parse(admin.stdout) as { id: string; name: string; scope: string; token: string; note: string };
    expect(doc).toMatchObject({ name: "ops", scope: "admin" });
    expect(doc.token).toMatch(/^sgm_[A-Za-z0-9_-]{43}$/);
    expect(doc.note).toMatch(/cannot be shown again/);

    const store = await openStore(dir);
    try {
      expect(await verifyToken(store, token)).toMatchObject({ name: "crm-scoring", scope: "score" });
      expect(await verifyToken(store, doc.token)).toMatchObject({ id: doc.id, name: "ops", scope: "admin" });
      expect(await store.findToken(hashToken(token))).not.toBeNull();
    } finally {
      await store.close();
    }
    // Only hashes are in the file.
    const bytes = readFileSync(join(dir, STORE_FILE));
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(doc.token))).toBe(false);
    expect(bytes.includes(Buffer.from(hashToken(token)))).toBe(true);

    const list = await runMain(["token", "list", "--data", dir]);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(/sgm_/);
    expect(list.stdout).not.toContain(hashToken(token));
    expect(list.stdout).toContain("crm-scoring");
    expect(list.stdout).toContain(doc.id);
    expect(lines(list.stdout)[0].split(/\s+/)).toEqual(["id", "name", "scope", "created"]);

    const listJson = await runMain(["token", "list", "--data", dir, "--json"]);
    expect(listJson.status).toBe(0);
    const ld = JSON.parse(listJson.stdout) as { tokens: { name: string; scope: string }[] };
    expect(ld.tokens.map((t) => [t.name, t.scope])).toEqual([["crm-scoring", "score"], ["ops", "admin"]]);
    expect(listJson.stdout).not.toMatch(/sgm_/);
    expect(listJson.stdout).not.toContain(hashToken(doc.token));
  });

  it("revoke removes a token by id: it no longer verifies, the others still do; an unknown id is refused", async () => {
    const dir = freshDir();
    const a = JSON.parse((await runMain(["token", "create", "--name", "a", "--scope", "read", "--data", dir, "--json"])).stdout);
    const b = JSON.parse((await runMain(["token", "create", "--name", "b", "--scope", "admin", "--data", dir, "--json"])).stdout);
    const r = await runMain(["token", "revoke", "--id", a.id, "--data", dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`token ${a.id} revoked`));
    const store = await openStore(dir);
    try {
      expect(await verifyToken(store, a.token)).toBeNull();
      expect(await verifyToken(store, b.token)).toMatchObject({ name: "b", scope: "admin" });
      expect((await store.listTokens()).map((t) => t.id)).toEqual([b.id]);
    } finally {
      await store.close();
    }
    const again = await runMain(["token", "revoke", "--id", a.id, "--data", dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/no token has this id/);
    const noId = await runMain(["token", "revoke", "--data", dir]);
    expect(noId.status).toBe(2);
    expect(noId.stderr).toMatch(/token revoke needs --id ID/);
  });

  it("list on a folder without a store says so and creates nothing", async () => {
    const dir = freshDir();
    const r = await runMain(["token", "list", "--data", dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no tokens/);
    expect(existsSync(dir)).toBe(false);
    const j = await runMain(["token", "list", "--data", dir, "--json"]);
    expect(JSON.parse(j.stdout)).toMatchObject({ tokens: [] });
  });

  it("bad usage: one line on stderr, status 2, nothing created", async () => {
    const dir = freshDir();
    const cases: [string[], RegExp][] = [
      [["token"], /give an action/],
      [["token", "make", "--data", dir], /unknown action "make".*create, list and revoke/],
      [["token", "create", "--scope", "read", "--data", dir], /--name/],
      [["token", "create", "--name", "   ", "--scope", "read", "--data", dir], /--name/],
      [["token", "create", "--name", "x", "--data", dir], /--scope score\|read\|admin/],
      [["token", "create", "--name", "x", "--scope", "root", "--data", dir], /--scope root: give one of score, read, admin/],
      [["token", "create", "--name", "x".repeat(101), "--scope", "read", "--data", dir], /--name: at most 100/],
      [["token", "create", "--name", "a\u001b[2Jb", "--scope", "read", "--data", dir], /control characters/],
      [["token", "create", "--name", "x", "--scope", "read", "--store", "mysql://h/db"], /--store mysql:\/\/h\/db: give a PostgreSQL URL.*embedded store/],
      [["token", "create", "--name", "x", "--scope", "read", "--store", "postgres://u:pw@127.0.0.1:1/db"], /--store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: cannot connect to PostgreSQL/],
      [["token", "create", "--name", "x", "--scope", "read", "--data", dir, "--bogus"], /Unknown option '--bogus'/],
      [["token", "list", "--scope", "read", "--data", dir], /takes no --name or --scope/],
      [["token", "create", "extra", "--name", "x", "--scope", "read", "--data", dir], /unexpected argument extra/],
    ];
    for (const [args, message] of cases) {
      const r = await runMain(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(lines(r.stderr), args.join(" ")).toHaveLength(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr).toMatch(/^segmenta token: /);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it("--help describes the actions and the scopes", async () => {
    const r = await runMain(["token", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("segmenta token create --name N --scope score|read|admin");
    expect(r.stdout).toContain("segmenta token list");
    expect(r.stdout).toContain("segmenta token revoke --id ID");
    const top = await runMain(["--help"]);
    expect(top.stdout).toMatch(/token create\|list\|revoke/);
  });
});
