import { AbortError, InputError } from "../core/errors.js";
import { clusterCommand, clusterHelp } from "./cluster.js";
import { type Io, processIo } from "./common.js";
import { demoCommand, demoHelp } from "./demo.js";
import { inspectCommand, inspectHelp } from "./inspect.js";
import { predictCommand, predictHelp } from "./predict.js";
import { rfmCommand, rfmHelp } from "./rfm.js";

const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help: string }> = {
  inspect: { run: inspectCommand, help: inspectHelp },
  cluster: { run: clusterCommand, help: clusterHelp },
  predict: { run: predictCommand, help: predictHelp },
  rfm: { run: rfmCommand, help: rfmHelp },
  demo: { run: demoCommand, help: demoHelp },
};

const USAGE = `usage: segmenta <command> [options]

commands:
  inspect <file>             rows, columns, inferred types, missing values and hints
  rfm <transactions> ...     recency, frequency, monetary per customer from a transaction log
  cluster <file> ...         segment the rows of a customer table
  predict --model M <file>   score new rows with a saved model
  demo [--out DIR]           generate built-in data and segment it

segmenta <command> --help shows the options of a command. --json prints one JSON document;
--debug shows the stack trace of an error.`;

/**
 * Runs the CLI and returns the exit status: 0 success, 2 bad input or usage (one line on
 * stderr), 1 internal error. A stack trace is printed only with --debug.
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const debug = argv.includes("--debug");
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    io.out(USAGE);
    return command ? 0 : 2;
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
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`segmenta ${command}: ${e.message}`);
      if (debug) io.err(String((e.cause as Error)?.stack ?? e.stack));
      return 2;
    }
    if (e instanceof AbortError) {
      io.err(`segmenta ${command}: ${e.message}`);
      return 130;
    }
    io.err(`segmenta ${command}: internal error: ${(e as Error)?.message ?? String(e)}${debug ? "" : " (run again with --debug for details)"}`);
    if (debug) io.err(String((e as Error)?.stack ?? e));
    return 1;
  }
}
