/**
 * A real, throw-away PostgreSQL server for tests: a cluster created with `initdb` in a temporary
 * folder, listening on 127.0.0.1 on a free port (its socket in the same folder), stopped and
 * removed by `stop()`. Started as the `postgres` user when the tests run as root (initdb refuses
 * root). `startPostgres()` returns null, having printed why, where PostgreSQL is not installed
 * or will not start: the suites then skip with that message.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPostgres {
  /** postgres://user@127.0.0.1:port/postgres */
  url: string;
  /** A URL of a new, empty database of this server. */
  newDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The folder holding initdb and pg_ctl, or null. */
function findBin(): string | null {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(base, versions[0], "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => done(port));
    });
  });
}

/** Runs a PostgreSQL program, as the postgres user when this process is root. */
function runAs(user: string | null, bin: string, args: string[]): { status: number | null; out: string } {
  let r = user
    ? spawnSync("runuser", ["-u", user, "--", bin, ...args], { encoding: "utf8" })
    : spawnSync(bin, args, { encoding: "utf8" });
  if (user && (r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    // No runuser: su, with the command quoted for its shell.
    const quoted = [bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    r = spawnSync("su", ["-s", "/bin/sh", user, "-c", quoted], { encoding: "utf8" });
  }
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** Starts a server (or returns null with the reason printed). */
export async function startPostgres(): Promise<TestPostgres | null> {
  try {
    return await start();
  } catch (e) {
    return skip(`could not start a server (${(e as Error).message.split("\n")[0]})`);
  }
}

function skip(why: string): null {
  console.warn(`PostgreSQL tests skipped: ${why}`);
  return null;
}

async function start(): Promise<TestPostgres | null> {
  const bin = findBin();
  if (!bin) return skip("initdb/pg_ctl not found (install Debian's postgresql, or set PG_BIN)");
  const root = process.getuid?.() === 0;
  let user: string | null = null;
  if (root) {
    try {
      execFileSync("id", ["postgres"], { stdio: "ignore" });
      user = "postgres";
    } catch {
      return skip("running as root and there is no postgres user to run the server as");
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "segmenta-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const init = runAs(user, join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  if (init.status !== 0) {
    cleanup();
    return skip(`initdb failed: ${init.out.trim().split("\n").slice(-3).join(" ")}`);
  }
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const start = runAs(user, join(bin, "pg_ctl"), ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  if (start.status !== 0) {
    cleanup();
    return skip(`pg_ctl start failed: ${start.out.trim().split("\n").slice(-3).join(" ")}`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import("pg");
  return {
    url,
    async newDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`newDatabase: ${name} is not a plain name`);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      runAs(user, join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      cleanup();
    },
  };
}
