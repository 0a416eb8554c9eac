import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import { isPostgresUrl, openPgStore, redactUrl } from "../server/pg-store.js";
import { type Scope, SCOPES, STORE_FILE, type Store, openStore } from "../server/store.js";
import { createToken } from "../server/tokens.js";
import { type Io, parse, table } from "./common.js";

/** The data folder of `segmenta serve` and `segmenta token` when --data is not given. */
export const DEFAULT_DATA_DIR = "segmenta-data";

const NOT_STORED = "This token is not stored (only its SHA-256 hash is) and cannot be shown again: copy it now.";

export async function tokenCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<{ name?: string; scope?: string; data?: string; store?: string; id?: string }>("token", args, {
    name: { type: "string" },
    id: { type: "string" },
    scope: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
  });
  const [action, ...extra] = positionals;
  if (!action) throw new InputError("give an action: segmenta token create --name N --scope score|read|admin, segmenta token list, or segmenta token revoke --id ID");
  if (extra.length) throw new InputError(`unexpected argument ${extra[0]}; see segmenta token --help`);
  const dataDir = values.store !== undefined ? pgTarget(values.store) : duckTarget(values.data ?? DEFAULT_DATA_DIR);
  if (action === "create") return create(values, dataDir, io);
  if (action === "list") {
    if (values.name !== undefined || values.scope !== undefined) throw new InputError("token list takes no --name or --scope; it lists every token");
    return list(dataDir, values.json === true, io);
  }
  if (action === "revoke") {
    if (!values.id) throw new InputError("token revoke needs --id ID (segmenta token list shows the ids)");
    return revoke(values.id, dataDir, values.json === true, io);
  }
  if (values.id !== undefined) throw new InputError(`--id belongs to token revoke, not token ${action}`);
  throw new InputError(`unknown action "${action}"; the actions are create, list and revoke`);
}

/** Where the tokens are: the embedded store of a data folder (--data) or a PostgreSQL database (--store). */
interface Target {
  /** How messages name it: the folder, or the URL with its password hidden. */
  label: string;
  /** The option that names it, for messages: "--data DIR" or "--store URL". */
  option: string;
  /** Whether there is a store to read (listing never creates one). */
  exists(): boolean;
  open(): Promise<Store>;
  /** Where a created token was stored, for the message. */
  createdIn: string;
  /** The JSON output's field naming it. */
  json: Record<string, string>;
}

function duckTarget(dataDir: string): Target {
  if (dataDir.trim() === "") throw new InputError("--data: give a folder, e.g. --data segmenta-data");
  return {
    label: dataDir, option: `--data ${dataDir}`, exists: () => existsSync(join(dataDir, STORE_FILE)), open: () => openStore(dataDir),
    createdIn: join(dataDir, STORE_FILE), json: { data: dataDir },
  };
}

function pgTarget(url: string): Target {
  const shown = redactUrl(url);
  if (!isPostgresUrl(url)) throw new InputError(`--store ${shown}: give a PostgreSQL URL (postgres://user:password@host:5432/database), or leave --store out for the embedded store in --data`);
  return { label: shown, option: `--store ${shown}`, exists: () => true, open: () => openPgStore(url), createdIn: shown, json: { store: shown } };
}

async function revoke(id: string, dataDir: Target, asJson: boolean, io: Io): Promise<number> {
  if (!dataDir.exists()) throw new InputError(`--data ${dataDir.label}: no store there (no tokens to revoke); give the data folder of segmenta serve`);
  const store = await dataDir.open();
  try {
    if (!(await store.deleteToken(id))) throw new InputError(`--id ${id}: no token has this id in ${dataDir.label}; segmenta token list shows the ids`);
  } finally {
    await store.close();
  }
  io.out(asJson ? JSON.stringify({ ...dataDir.json, revoked: id }, null, 2) : `token ${id} revoked: it no longer opens ${dataDir.label}'s API`);
  return 0;
}

async function create(values: { name?: string; scope?: string; json?: boolean }, dataDir: Target, io: Io): Promise<number> {
  const name = values.name?.trim();
  if (!name) throw new InputError("give the token a name with --name, e.g. --name crm-scoring (who or what uses it)");
  if (name.length > 100) throw new InputError(`--name: at most 100 characters, got ${name.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new InputError("--name: control characters are not allowed in a token's name");
  const scope = values.scope?.trim().toLowerCase();
  if (!scope) throw new InputError("give the token's scope with --scope score|read|admin (score: scoring only; read: also reads datasets, runs and models; admin: everything)");
  if (!SCOPES.includes(scope as Scope)) throw new InputError(`--scope ${values.scope}: give one of ${SCOPES.join(", ")}`);
  const store = await dataDir.open();
  try {
    const { token, hash } = createToken();
    const rec = await store.addToken(name, scope as Scope, hash);
    if (values.json) {
      io.out(JSON.stringify({ ...rec, token, note: NOT_STORED }, null, 2));
    } else {
      io.out(`token ${rec.name} (scope ${rec.scope}, id ${rec.id}) created in ${dataDir.createdIn}:`);
      io.out("");
      io.out(`  ${token}`);
      io.out("");
      io.out(NOT_STORED);
      io.out("Send it as the header: Authorization: Bearer <token>");
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function list(dataDir: Target, asJson: boolean, io: Io): Promise<number> {
  // Listing never creates a store: no folder, no tokens.
  const exists = dataDir.exists();
  const tokens = exists ? await withStore(dataDir) : [];
  if (asJson) {
    io.out(JSON.stringify({ ...dataDir.json, tokens }, null, 2));
    return 0;
  }
  if (!tokens.length) {
    io.out(`no tokens in ${dataDir.label}${exists ? "" : " (no store there yet)"}; create one with segmenta token create --name N --scope score|read|admin ${dataDir.option}`);
    return 0;
  }
  const rows = [["id", "name", "scope", "created"], ...tokens.map((t) => [t.id, t.name, t.scope, t.createdAt])];
  for (const line of table(rows)) io.out(line);
  io.out("");
  io.out(`${tokens.length} token${tokens.length === 1 ? "" : "s"}; their values are not stored and cannot be shown.`);
  return 0;
}

async function withStore(dataDir: Target) {
  const store = await dataDir.open();
  try {
    return await store.listTokens();
  } finally {
    await store.close();
  }
}
