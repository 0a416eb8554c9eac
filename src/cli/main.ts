import { AbortError, InputError } from "../core/errors.js";
import { type Io, processIo } from "./common.js";
import { clusterHelp, demoHelp, driftHelp, inspectHelp, predictHelp, rfmHelp, serveHelp, tokenHelp, trackHelp, tuneHelp, exportHelp } from "./help.js";
import { sqlHelp } from "./help.js";
import { compareHelp } from "./help.js";

type Command = (args: string[], io: Io) => Promise<number>;

/** Each command's module is loaded only when that command runs: `--help` loads none of them. */
const COMMANDS: Record<string, { load: () => Promise<Command>; help: string }> = {
  inspect: { load: async () => (await import("./inspect.js")).inspectCommand, help: inspectHelp },
  cluster: { load: async () => (await import("./cluster.js")).clusterCommand, help: clusterHelp },
  predict: { load: async () => (await import("./predict.js")).predictCommand, help: predictHelp },
  compare: { load: async () => (await import("./compare.js")).compareCommand, help: compareHelp },
  drift: { load: async () => (await import("./drift.js")).driftCommand, help: driftHelp },
  rfm: { load: async () => (await import("./rfm.js")).rfmCommand, help: rfmHelp },
  track: { load: async () => (await import("./track.js")).trackCommand, help: trackHelp },
  demo: { load: async () => (await import("./demo.js")).demoCommand, help: demoHelp },
  tune: { load: async () => (await import("./tune.js")).tuneCommand, help: tuneHelp },
  token: { load: async () => (await import("./token.js")).tokenCommand, help: tokenHelp },
  serve: { load: async () => (await import("./serve.js")).serveCommand, help: serveHelp },
  export: { load: async () => (await import("./export.js")).exportCommand, help: exportHelp },
  sql: { load: async () => (await import("./sql.js")).sqlCommand, help: sqlHelp },
};

const USAGE = `usage: segmenta <command> [options]

commands:
  inspect <file>             rows, columns, inferred types, missing values and hints
  rfm <transactions> ...     recency, frequency, monetary per customer from a transaction log
  cluster <file> ...         segment the rows of a customer table
  tune <file> [--k 2..10]    evaluate each k and recommend the number of segments
  predict --model M <file>   score new rows with a saved model
  track <transactions> ...   segments over time: sizes, flows and events at every --every date
  compare <before> <after>   two segmentations of the same customers: who moved where, ARI, NMI
  drift --model M <file>     how far new data moved from the training data (PSI per column)
  demo [--out DIR]           generate built-in data and segment it
  token create|list|revoke   API tokens of segmenta serve (--name N --scope score|read|admin --data DIR)
  serve [--port 8080]        the HTTP API: datasets, runs, models and scoring (--data DIR)
  export <segments> ...      segments to a CRM import file (--format hubspot|mailchimp|klaviyo|salesforce) or a webhook
  sql --model M --dialect D --table T   the model as one SELECT that scores a warehouse table

segmenta <command> --help shows the options of a command. --json prints one JSON document;
--debug shows the stack trace of an error.`;

/**
 * Runs the CLI and returns the exit status: 0 success, 2 bad input or usage (one line on
 * stderr), 1 internal error. A stack trace is printed only with --debug.
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const debug = argv.includes("--debug");
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (!command || command.startsWith("-")) {
    io.err(`segmenta: give a command first, one of ${Object.keys(COMMANDS).join(", ")} (segmenta --help)`);
    return 2;
  }
  const cmd = COMMANDS[command];
  if (!cmd) {
    io.err(`segmenta: unknown command "${command}"; the commands are ${Object.keys(COMMANDS).join(", ")} (segmenta --help)`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(cmd.help);
    return 0;
  }
  const prefix = `segmenta ${command}: `;
  // Data reaches the terminal only through these: control characters in it (escape sequences
  // that recolour, move the cursor or retitle the window) are shown escaped, never obeyed.
  const safeIo: Io = { out: (s) => io.out(escapeControls(s)), err: (s) => io.err(escapeControls(s)), tty: io.tty };
  try {
    // Worker threads (one per core) for the commands that run numeric kernels; reading and
    // RFM run in DuckDB, which has threads of its own.
    if (!["inspect", "rfm", "token", "export"].includes(command)) (await import("../io/pool.js")).installWorkerPool();
    const run = await cmd.load();
    return await run(rest, safeIo);
  } catch (e) {
    if (e instanceof InputError) {
      safeIo.err(prefix + oneLine(e.message, prefix));
      if (debug) io.err(stackOf(e));
      return 2;
    }
    if (e instanceof AbortError) {
      safeIo.err(prefix + oneLine(e.message, prefix));
      return 130;
    }
    const m = e instanceof Error ? e.message : String(e);
    safeIo.err(`${prefix}internal error: ${m.split(/\r?\n/)[0].trim()}${debug ? "" : " (run again with --debug for details)"}`);
    if (debug) io.err(stackOf(e));
    return 1;
  }
}

/**
 * A message on one line: its lines up to the first blank one (DuckDB appends its settings
 * after a blank line), joined with spaces, without a repeated "segmenta <command>: " prefix.
 */
function oneLine(message: string, prefix: string): string {
  const lines: string[] = [];
  for (const line of message.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (lines.length) break;
      continue;
    }
    lines.push(line.trim());
  }
  const m = lines.join(" ");
  return m.startsWith(prefix) ? m.slice(prefix.length) : m;
}

/** The stack of an error and of the errors that caused it. */
function stackOf(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
    parts.push(x instanceof Error ? (x.stack ?? `${x.name}: ${x.message}`) : String(x));
    x = x instanceof Error ? x.cause : undefined;
    if (x !== undefined && x !== null) parts.push("caused by:");
  }
  return parts.join("\n");
}

/**
 * Text with its control characters shown escaped, as \u001b: C0 controls other than tab and
 * line feed, DEL and the C1 controls. JSON output stays valid JSON: JSON.stringify escapes C0
 * controls itself, and the others can only occur inside its strings, where \u00NN is valid.
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
