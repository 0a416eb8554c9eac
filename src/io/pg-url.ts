/**
 * PostgreSQL URLs as the CLI and the server take them (--source, --store, --to): which values
 * name a PostgreSQL database, and how a URL is shown in messages (its password hidden). No
 * imports, so the commands that only check a flag load nothing else.
 */

/** Whether a value names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresSource(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL with its password hidden, for messages. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]*):[^@]*@/, "://$1:***@");
  }
}
