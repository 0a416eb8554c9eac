/**
 * Opens a local HTML file in headless Chromium (playwright-core driving the system's
 * /usr/bin/chromium, or $CHROMIUM) and reports what a reader would meet: console errors,
 * network requests, dialogs, and how many charts were drawn.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

export interface PageVisit {
  errors: string[];
  /** Requests to anything but the file itself. */
  requests: string[];
  dialogs: string[];
  charts: number;
  rendered: number;
  page: Page;
  close: () => Promise<void>;
}

let browser: Browser | null = null;

export async function openReport(path: string, options: { screenshot?: string } = {}): Promise<PageVisit> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = `file://${path}`;
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  await page
    // Page-side code as strings: the tests are compiled without the DOM's types.
    .waitForFunction(`window.segmentaCharts !== undefined && document.querySelectorAll(".view[data-rendered]").length >= window.segmentaCharts`, null, { timeout: 60_000 })
    .catch(() => undefined);
  const [charts, rendered] = (await page.evaluate(`[window.segmentaCharts ?? -1, document.querySelectorAll(".view[data-rendered] svg").length]`)) as [number, number];
  if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
  return { errors, requests, dialogs, charts, rendered, page, close: () => page.close() };
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = null;
}
