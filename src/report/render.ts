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
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, delimiter, dirname, join } from "node:path";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { InputError } from "../core/errors.js";
import { writeTextAtomic } from "../io/write.js";

/**
 * The SVG text of a Vega-Lite specification. The same specification gives the same text.
 * The specification is not changed (vega tags the data objects it is given, so it gets a copy).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
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
async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException)?.code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
      throw new InputError(`${path} could not be written (${code}); check that the folder is writable and has free space`, { cause: e });
    }
    throw e;
  }
}

/** Renders a Vega-Lite specification and writes it to `path` as PNG (temporary file, then rename). */
export async function writePng(path: string, spec: TopLevelSpec, options: PngOptions = {}): Promise<void> {
  await writeBytesAtomic(path, await renderPng(spec, options));
}

export type ChartFormat = "svg" | "png";

/**
 * Writes every chart into the folder `dir` (which must exist) in each of `formats`, as
 * `<name>.svg` / `<name>.png`, each file atomically; returns the paths written, in the order
 * of the charts, then of the formats. Chart names must be plain file names (letters, digits,
 * dots, dashes, underscores). Each chart's SVG is rendered once for both formats.
 */
export async function writeCharts(
  dir: string, charts: Record<string, TopLevelSpec>, formats: readonly ChartFormat[], options: PngOptions = {},
): Promise<string[]> {
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
      if (format === "svg") await writeTextAtomic(path, svg);
      else await writeBytesAtomic(path, svgToPng(svg, options));
      written.push(path);
    }
  }
  return written;
}
