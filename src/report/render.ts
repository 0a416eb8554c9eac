/**
 * Rendering of Vega-Lite charts to SVG in Node: compiled by vega-lite, rendered by vega's
 * headless view (no browser, no canvas package), written atomically. Node only.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeTextAtomic } from "../io/write.js";

/** The SVG text of a Vega-Lite specification. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite specification and writes it to `path` as SVG (temporary file, then rename). */
export async function writeSvg(path: string, spec: TopLevelSpec): Promise<void> {
  await writeTextAtomic(path, await renderSvg(spec));
}
