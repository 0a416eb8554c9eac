#!/usr/bin/env node
import { main } from "../dist/cli/main.js";

// Output piped into a program that stops reading early (segmenta demo | head) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
