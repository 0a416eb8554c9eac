/**
 * Rendering of charts to SVG and PNG in Node (src/report/render.ts): PNG bytes and size,
 * fonts, atomic writing of chart files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { segmentSizesChart } from "../src/charts/sizes.js";
import { rfmGridChart } from "../src/charts/rfm-grid.js";
import { InputError } from "../src/core/errors.js";
import { helveticaWidth, renderPng, renderSvg, resolveFonts, svgToPng, writeCharts, writePng } from "../src/report/render.js";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian). */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
}

const sizes = segmentSizesChart({ segments: ["Champions", "<img src=x onerror=alert(1)>", "Lost"], sizes: [120, 45, 35] });
const grid = rfmGridChart({ recencyScore: [5, 4, 3, 2, 1, 5], frequencyScore: [5, 4, 3, 2, 1, 1] });
let dir: string;
let hasSystemFont = true;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-render-"));
  try {
    resolveFonts();
  } catch {
    hasSystemFont = false;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

describe("text layout", () => {
  it("measures text with Helvetica's metrics", () => {
    expect(helveticaWidth("Hi", 10)).toBeCloseTo(9.44, 10); // H 722 + i 222
    expect(helveticaWidth("Hi", 10, true)).toBeCloseTo(10, 10); // H 722 + i 278 in bold
    expect(helveticaWidth("12,345", 11)).toBeCloseTo((5 * 556 + 278) * 0.011, 10);
  });

  it("keeps a label whole that vega's rough estimate (0.8 em a character) would cut", async () => {
    // 36 characters at 11 px: 317 px by the estimate, over the 220-pixel label limit; about 190 px in Helvetica.
    const name = "Occasional weekend family shoppers A";
    const svg = await renderSvg(segmentSizesChart({ segments: [name, "B"], sizes: [3, 4] }));
    expect(svg).toContain(`>${name}</text>`);
    expect(svg).not.toContain("…");
  });
});

describe("PNG", () => {
  it("starts with the PNG signature and is the SVG's size times the scale", async (ctx) => {
    if (!hasSystemFont) ctx.skip();
    const svg = await renderSvg(sizes);
    const { width, height } = svgSize(svg);
    expect(width).toBeGreaterThan(300);
    for (const scale of [1, 2]) {
      const png = await renderPng(sizes, { scale });
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(pngSize(png)).toEqual({ width: Math.round(width * scale), height: Math.round(height * scale) });
    }
    expect(pngSize(await renderPng(sizes)).width).toBe(Math.round(width * 2)); // default scale 2
  });

  it("draws text: a text-only SVG differs from the empty one", (ctx) => {
    if (!hasSystemFont) ctx.skip();
    const empty = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="#fff"/></svg>`;
    const text = empty.replace("</svg>", `<text x="4" y="26" font-family="sans-serif" font-size="16">Champions 42%</text></svg>`);
    const a = svgToPng(empty, { scale: 1 });
    const b = svgToPng(text, { scale: 1 });
    expect(pngSize(b)).toEqual({ width: 200, height: 40 });
    expect(b.equals(a)).toBe(false);
    expect(b.length).toBeGreaterThan(a.length + 200);
  });

  it("is deterministic", async (ctx) => {
    if (!hasSystemFont) ctx.skip();
    expect((await renderPng(grid, { scale: 1 })).equals(await renderPng(grid, { scale: 1 }))).toBe(true);
    expect(await renderSvg(grid)).toBe(await renderSvg(grid));
  });

  it("says what to do when there is no font at all", () => {
    vi.stubEnv("SEGMENTA_FONTS", "");
    expect(() => resolveFonts({ system: false })).toThrow(InputError);
    expect(() => resolveFonts({ system: false })).toThrow(/need a font.*SEGMENTA_FONTS/);
    expect(() => svgToPng("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>", { fonts: { system: false } })).toThrow(/font/);
  });

  it("uses font files given in the options or in SEGMENTA_FONTS", (ctx) => {
    if (!existsSync(DEJAVU)) ctx.skip();
    expect(resolveFonts({ system: false, files: [DEJAVU] }).fontFiles).toEqual([DEJAVU]);
    vi.stubEnv("SEGMENTA_FONTS", DEJAVU);
    const font = resolveFonts({ system: false });
    expect(font.fontFiles).toEqual([DEJAVU]);
    // The only font is the one used: the text is drawn.
    const empty = `<svg xmlns="http://www.w3.org/2000/svg" width="50" height="20"></svg>`;
    const text = empty.replace("</svg>", `<text x="2" y="15" font-family="sans-serif">Hi</text></svg>`);
    const png = svgToPng(text, { scale: 1, fonts: { system: false } });
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.equals(svgToPng(empty, { scale: 1, fonts: { system: false } }))).toBe(false);
  });

  it("rejects a scale out of range", () => {
    expect(() => svgToPng("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>", { scale: 0 })).toThrow(/scale/);
  });
});

describe("writing chart files", () => {
  it("writePng writes the file atomically", async (ctx) => {
    if (!hasSystemFont) ctx.skip();
    const sub = mkdtempSync(join(dir, "png-"));
    const path = join(sub, "sizes.png");
    await writePng(path, sizes, { scale: 1 });
    expect([...readFileSync(path).subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(readdirSync(sub)).toEqual(["sizes.png"]);
  });

  it("writeCharts writes each chart in each format and returns the paths, leaving no temporary file", async (ctx) => {
    if (!hasSystemFont) ctx.skip();
    const sub = mkdtempSync(join(dir, "charts-"));
    const files = await writeCharts(sub, { sizes, "rfm-grid": grid }, ["svg", "png"], { scale: 1 });
    expect(files).toEqual([join(sub, "sizes.svg"), join(sub, "sizes.png"), join(sub, "rfm-grid.svg"), join(sub, "rfm-grid.png")]);
    expect(readdirSync(sub).sort()).toEqual(["rfm-grid.png", "rfm-grid.svg", "sizes.png", "sizes.svg"]);
    const svg = readFileSync(join(sub, "sizes.svg"), "utf8");
    expect(svg).toBe(await renderSvg(sizes));
    expect(svg).not.toContain("<img");
    expect(svg).toContain("&lt;img src=x onerror=alert(1)&gt;");
    const png = readFileSync(join(sub, "rfm-grid.png"));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(png).width).toBe(svgSize(await renderSvg(grid)).width);
  });

  it("writeCharts writes only SVG without needing a font", async () => {
    const sub = mkdtempSync(join(dir, "svg-"));
    vi.stubEnv("SEGMENTA_FONTS", "");
    const files = await writeCharts(sub, { sizes }, ["svg"], { fonts: { system: false } });
    expect(files).toEqual([join(sub, "sizes.svg")]);
  });

  it("writeCharts refuses names that are not plain file names, and unknown formats, before writing", async () => {
    const sub = mkdtempSync(join(dir, "bad-"));
    await expect(writeCharts(sub, { "../escape": sizes }, ["svg"])).rejects.toThrow(/plain file name/);
    await expect(writeCharts(sub, { sizes }, ["jpg" as "svg"])).rejects.toThrow(/svg or png/);
    await expect(writeCharts(join(sub, "missing"), { sizes }, ["svg"])).rejects.toThrow(/could not be written/);
    expect(readdirSync(sub)).toEqual([]);
  });
});
