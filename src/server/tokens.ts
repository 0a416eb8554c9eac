/**
 * Bearer tokens: `sgm_` followed by 32 random bytes in base64url. Only the SHA-256 hex of a
 * token is stored; a presented token is found by its hash and the hashes are compared in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Scope, Store, TokenRecord } from "./store.js";

export const TOKEN_PREFIX = "sgm_";
/** The shape of a token: the prefix and 43 base64url characters (32 bytes). */
const TOKEN_PATTERN = /^sgm_[A-Za-z0-9_-]{43}$/;

/** A new token and the hash to store. The token itself is shown once and never stored. */
export function createToken(): { token: string; hash: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, hash: hashToken(token) };
}

/** The SHA-256 hex of a token's text (64 lowercase hex digits). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The token record of a presented token (the text after "Bearer "), or null when it is not a
 * token of this store. Malformed text is refused before any lookup.
 */
export async function verifyToken(store: Pick<Store, "findToken">, presented: string | undefined | null): Promise<TokenRecord | null> {
  if (typeof presented !== "string" || !TOKEN_PATTERN.test(presented)) return null;
  const hash = hashToken(presented);
  const found = await store.findToken(hash);
  if (!found) return null;
  const stored = (found as TokenRecord & { hash?: unknown }).hash;
  // A store that does not return the hash has matched it itself; one that does is checked again here, in constant time.
  if (typeof stored === "string") {
    const a = Buffer.from(hash, "hex");
    const b = Buffer.from(stored, "hex");
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  }
  return { id: found.id, name: found.name, scope: found.scope, createdAt: found.createdAt };
}

const RANK: Record<Scope, number> = { score: 0, read: 1, admin: 2 };

/**
 * Whether a token of `scope` may do what needs `needed`: "score" may only score; "read" may
 * also read datasets, runs and models; "admin" may do everything (upload, run, publish, delete).
 */
export function scopeAllows(scope: Scope, needed: Scope): boolean {
  return scope in RANK && needed in RANK && RANK[scope] >= RANK[needed];
}
