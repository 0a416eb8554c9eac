/**
 * The dashboard (web/, built by Vite into dist/web) served by `segmenta serve` at `/`: its
 * page and hashed assets need no token (every API call it makes does, with the token the
 * user signs in with). A strict Content-Security-Policy: everything from this server only —
 * no CDN, no inline script, no eval (charts use Vega's expression interpreter), no frames.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** What the dashboard's page and assets may load: its own origin only. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The folder of the built dashboard: dist/web beside the compiled server (dist/server/static.js
 * → dist/web), or, when the server runs from its TypeScript sources (tests, tsx), the package's
 * dist/web. Null when the dashboard has not been built (npm run build).
 */
export function dashboardDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "..", "web"), join(here, "..", "..", "dist", "web")]) {
    if (existsSync(join(candidate, "index.html"))) return candidate;
  }
  return null;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", DASHBOARD_CSP)
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .header("cross-origin-opener-policy", "same-origin")
    .header("cross-origin-resource-policy", "same-origin");
}

/** Registers GET / (the page) and GET /assets/* (its scripts and styles), none needing a token. */
export async function dashboard(app: FastifyInstance, options: { dir?: string | null } = {}): Promise<void> {
  const dir = options.dir === undefined ? dashboardDir() : options.dir;
  const root = dir ? resolve(dir) : null;

  app.get("/", { config: { scope: "public" } }, async (_request, reply) => {
    if (!root) {
      return secure(reply)
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The dashboard has not been built: run npm run build (the API works without it; see /docs).\n");
    }
    const html = await readFile(join(root, "index.html"));
    return secure(reply).header("cache-control", "no-cache").type("text/html; charset=utf-8").send(html);
  });

  app.get<{ Params: { "*": string } }>("/assets/*", { config: { scope: "public" } }, async (request, reply) => {
    const name = request.params["*"];
    const assets = root ? join(root, "assets") : null;
    const path = assets ? resolve(assets, name) : null;
    const ext = /\.[a-z0-9]+$/i.exec(name)?.[0].toLowerCase() ?? "";
    // Only plain files inside assets/ (no "..", no folders, no other types).
    if (!assets || !path || !path.startsWith(assets + sep) || !TYPES[ext] || name.includes("\0")) {
      return reply.code(404).send({ error: { message: `no asset ${name}` } });
    }
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return reply.code(404).send({ error: { message: `no asset ${name}` } });
    }
    // Vite names assets by their content's hash: a name never changes content.
    return secure(reply).header("cache-control", "public, max-age=31536000, immutable").type(TYPES[ext]).send(body);
  });
}
