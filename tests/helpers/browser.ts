import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll } from "vitest";
import { launchChromium } from "./chromium.ts";

/** The two screen sizes the client is checked at. */
export const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

const root = new URL("../../", import.meta.url).pathname;
const require = createRequire(import.meta.url);

/** Launches headless Chromium for the calling test file and closes it after the file's tests. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await launchChromium();
  afterAll(() => browser.close());
  return browser;
}

/** A browser page of its own (separate cookies and storage), with its console errors collected. */
export interface BrowserUser {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and console.error lines of the page (the browser's own network lines aside). */
  errors: string[];
  /** Requests answered 4xx/5xx or failed, as "STATUS METHOD path". */
  failedRequests: string[];
}

/** Opens a new browser context (one person) at a viewport size. */
export async function openUser(
  browser: Browser,
  viewport: { width: number; height: number } = VIEWPORTS.laptop,
): Promise<BrowserUser> {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    hasTouch: viewport.width < 600,
    locale: "en-GB",
    reducedMotion: "reduce",
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const failedRequests: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // Chromium logs every failed request and socket attempt itself; those are in failedRequests.
    const text = message.text();
    if (message.type() !== "error") return;
    if (/^Failed to load resource|^WebSocket connection to .* failed/.test(text)) return;
    errors.push(`console: ${text}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400)
      failedRequests.push(
        `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`,
      );
  });
  page.on("requestfailed", (request) => {
    failedRequests.push(`failed ${request.method()} ${new URL(request.url()).pathname}`);
  });
  return { context, page, errors, failedRequests };
}

let axeSource: string | undefined;

/** An axe-core violation as the tests report it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page (its source injected as a script) and returns the violations of
 * impact "serious" or "critical".
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays in force.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  });
  return violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}

/**
 * Takes a screenshot of the page. With `UPDATE_SCREENSHOTS=1` it is written to
 * docs/screenshots/<name>.png (committed with the docs); otherwise to the system's temporary
 * folder, so a test run leaves the working tree as it found it.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === "1"
      ? join(root, "docs/screenshots")
      : join(tmpdir(), "stepstone-screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}
