/**
 * Rendering of Vega-Lite charts to SVG and PNG in Node: compiled by vega-lite, rendered to
 * SVG by vega's headless view (no browser, no canvas package), rasterised to PNG by resvg,
 * written atomically. Node only.
 *
 * Fonts. resvg draws text with the fonts it finds: the system's (loaded by default), plus
 * any files or folders given in `fonts` or in the SEGMENTA_FONTS environment variable (paths
 * separated by the platform's path delimiter, files or folders). Vega writes
 * `font-family="sans-serif"`; the family used for it is the first of Liberation Sans, Arial,
 * Helvetica, DejaVu Sans that is present (Liberation Sans and Arial share Helvetica's
 * metrics, close to what Vega assumes when it lays out text), else the first font found.
 * When no font is found at all, renderPng throws (a PNG with its text silently missing would
 * mislead): install one (`apt-get install fonts-dejavu-core` or `fonts-liberation`) or point
 * SEGMENTA_FONTS at a .ttf/.otf file.
 */
import { delimiter, join } from "node:path";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../core/errors.js";
import { OutputBatch, writeBytesAtomic, writeTextAtomic } from "../io/write.js";

/**
 * Advance widths (thousandths of an em) of ASCII 32–126 in Helvetica and Helvetica Bold (the
 * standard font metrics; Arial and Liberation Sans share them).
 */
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611,
  611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/** The width in pixels of `text` in Helvetica at `size` pixels; other characters as a digit, wide scripts as an em. */
export function helveticaWidth(text: string, size: number, bold = false): number {
  const table = bold ? HELVETICA_BOLD : HELVETICA;
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 32 && c <= 126) w += table[c - 32];
    else if (c === 0x2026 || c >= 0x2e80) w += 1000; // ellipsis; CJK and other wide scripts
    else if (c < 32 || (c >= 0x300 && c < 0x370)) continue; // control and combining characters
    else w += 556;
  }
  return (w * size) / 1000;
}

type VegaModule = typeof import("vega");

let vegaModule: Promise<VegaModule> | null = null;

/**
 * vega, loaded on first use: its canvas module waits at the top level (top-level await), so a
 * static import would keep `require("segmenta")` from working and slow every start-up.
 */
function loadVega(): Promise<VegaModule> {
  vegaModule ??= import("vega");
  return vegaModule;
}

/**
 * Without a canvas, vega lays out text with a rough estimate of its width (0.8 em per
 * character, about 1.5 times too wide), which leaves wide margins and truncates labels early.
 * This gives it Helvetica's metrics instead (close to the fonts resvg and browsers use for
 * sans-serif); vega documents replacing textMetrics.width for exactly this. Installed once,
 * only when vega is on its estimate; deterministic.
 */
function installTextMetrics(vega: VegaModule): void {
  const tm = (vega as unknown as { textMetrics: unknown }).textMetrics as { width: (item: Record<string, unknown>, text: unknown) => number; estimateWidth: unknown };
  if (tm.width !== tm.estimateWidth) return;
  tm.width = (item, text) => {
    const t = text == null ? "" : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const weight = item.fontWeight;
    const bold = weight === "bold" || weight === "bolder" || (typeof weight === "number" && weight >= 600) || (typeof weight === "string" && Number(weight) >= 600);
    const w = helveticaWidth(t, size, bold);
    const limit = Number(item.limit);
    // vega truncates a limited text through this function; the box of a limited text is at most the limit.
    return limit > 0 ? Math.min(w, limit) : w;
  };
}

/**
 * The SVG text of a Vega-Lite specification. The same specification gives the same text.
 * The specification is not changed (vega tags the data objects it is given, so it gets a copy).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await loadVega();
  const { compile } = await import("vega-lite");
  installTextMetrics(vega);
  const view = new vega.View(vega.parse(compile(structuredClone(spec)).spec), { renderer: "none" });
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

export interface FontOptions {
  /** Load the fonts installed on the system (default true). */
  system?: boolean;
  /** Font files (.ttf, .otf, .ttc) to load as well. */
  files?: string[];
  /** Folders of font files to load as well. */
  dirs?: string[];
  /** The family for Vega's `sans-serif` (default: the first present of Liberation Sans, Arial, Helvetica, DejaVu Sans). */
  family?: string;
}

export interface PngOptions {
  /** Pixels per SVG unit (default 2: a 400-pixel-wide chart gives an 800-pixel PNG). */
  scale?: number;
  /** A CSS colour behind the chart (default: the chart's own background, white for Vega-Lite). */
  background?: string;
  fonts?: FontOptions;
}

const PREFERRED_FAMILIES = ["Liberation Sans", "Arial", "Helvetica", "DejaVu Sans"];
/** A family name that no system has: text in it falls back to resvg's default font. */
const NO_SUCH_FAMILY = "segmenta-no-such-font-family";

type ResvgFont = NonNullable<ResvgRenderOptions["font"]>;

/** The fonts resvg loads: the options' files and folders, SEGMENTA_FONTS, and the system's unless turned off. */
function fontSources(fonts: FontOptions = {}): ResvgFont {
  const files = [...(fonts.files ?? [])];
  const dirs = [...(fonts.dirs ?? [])];
  for (const p of (process.env.SEGMENTA_FONTS ?? "").split(delimiter).filter((s) => s.trim() !== "")) {
    if (/\.(ttf|otf|ttc|otc)$/i.test(p)) files.push(p);
    else dirs.push(p);
  }
  return { loadSystemFonts: fonts.system ?? true, fontFiles: files, fontDirs: dirs };
}

/** A fingerprint of a text drawn in `family`, with the default family set to `fallback`: null when nothing is drawn. */
function probe(font: ResvgFont, family: string, fallback: string): string | null {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="30"><text x="4" y="22" font-family="${family}" font-size="18">Segmenta 0123 Rg</text></svg>`;
  const r = new Resvg(svg, { font: { ...font, defaultFontFamily: fallback }, logLevel: "off" });
  const box = r.innerBBox();
  if (!box || box.width <= 0) return null;
  return `${box.x.toFixed(3)} ${box.width.toFixed(3)} ${box.height.toFixed(3)}`;
}

const resolved = new Map<string, ResvgFont>();

/**
 * The resvg font options for `fonts`, with the family for `sans-serif` chosen once per set of
 * sources; throws when no font can be found.
 */
export function resolveFonts(fonts: FontOptions = {}): ResvgFont {
  const sources = fontSources(fonts);
  const key = JSON.stringify([sources, fonts.family ?? null]);
  const cached = resolved.get(key);
  if (cached) return cached;
  const fallback = probe(sources, NO_SUCH_FAMILY, NO_SUCH_FAMILY);
  if (fallback === null) {
    throw new InputError(
      "PNG charts need a font, and none was found" + (sources.loadSystemFonts ? " on this system" : " in the given font files and folders")
      + ": install one (for example apt-get install fonts-dejavu-core) or set SEGMENTA_FONTS to a .ttf file or a folder of fonts; SVG charts need no font",
    );
  }
  let family = fonts.family;
  if (family === undefined) {
    // A family is present when text in it is drawn differently from text in a family that is
    // absent (which gets the fallback font); the fallback itself is then as good a choice.
    family = PREFERRED_FAMILIES.find((f) => {
      const p = probe(sources, f, NO_SUCH_FAMILY);
      return p !== null && p !== fallback;
    });
  }
  const font: ResvgFont = { ...sources, ...(family ? { defaultFontFamily: family, sansSerifFamily: family } : {}) };
  resolved.set(key, font);
  return font;
}

/** The PNG bytes of a Vega-Lite specification, rasterised from its SVG at `scale` pixels per unit. */
export async function renderPng(spec: TopLevelSpec, options: PngOptions = {}): Promise<Buffer> {
  return svgToPng(await renderSvg(spec), options);
}

/** The PNG bytes of an SVG document (as from renderSvg). */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) throw new RangeError(`scale must be in (0, 16], got ${scale}`);
  const resvg = new Resvg(svg, {
    font: resolveFonts(options.fonts),
    fitTo: { mode: "zoom", value: scale },
    ...(options.background ? { background: options.background } : {}),
    shapeRendering: 2,
    textRendering: 1,
    logLevel: "off",
  });
  return resvg.render().asPng();
}

/** Writes bytes to a temporary file beside `path`, then renames it into place. */
/** Renders a Vega-Lite specification and writes it to `path` as PNG (temporary file, then rename). */
export async function writePng(path: string, spec: TopLevelSpec, options: PngOptions = {}): Promise<void> {
  await writeBytesAtomic(path, await renderPng(spec, options));
}

export type ChartFormat = "svg" | "png";

/**
 * Writes every chart into the folder `dir` (which must exist) in each of `formats`, as
 * `<name>.svg` / `<name>.png`, atomically: all of them, or with `batch` as part of that batch
 * of outputs (renamed into place with the others); returns the paths written, in the order
 * of the charts, then of the formats. Chart names must be plain file names (letters, digits,
 * dots, dashes, underscores). Each chart's SVG is rendered once for both formats.
 */
export async function writeCharts(
  dir: string, charts: Record<string, TopLevelSpec>, formats: readonly ChartFormat[], options: PngOptions & { batch?: OutputBatch } = {},
): Promise<string[]> {
  if (!options.batch) {
    let written: string[] = [];
    await OutputBatch.write(async (batch) => {
      written = await writeCharts(dir, charts, formats, { ...options, batch });
    });
    return written;
  }
  const batch = options.batch;
  for (const f of formats) if (f !== "svg" && f !== "png") throw new InputError(`chart format must be svg or png, got "${String(f)}"`);
  for (const name of Object.keys(charts)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new InputError(`chart name "${name}" is not a plain file name`);
  }
  if (formats.includes("png")) resolveFonts(options.fonts); // fail before writing anything when there is no font
  const written: string[] = [];
  for (const [name, spec] of Object.entries(charts)) {
    const svg = await renderSvg(spec);
    for (const format of [...new Set(formats)]) {
      const path = join(dir, `${name}.${format}`);
      if (format === "svg") await batch.text(path, svg);
      else await batch.bytes(path, svgToPng(svg, options));
      written.push(path);
    }
  }
  return written;
}
