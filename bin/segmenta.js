#!/usr/bin/env node
import { existsSync } from "node:fs";

// A fresh clone has no dist/ until it is built: say so instead of a module-not-found trace.
if (!existsSync(new URL("../dist/cli/main.js", import.meta.url))) {
  process.stderr.write("segmenta: the program is not built yet; run `npm run build` in the project folder first\n");
  process.exit(1);
}
const { main } = await import("../dist/cli/main.js");

// Output piped into a program that stops reading early (segmenta demo | head) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
