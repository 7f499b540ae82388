import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, expect } from "vitest";
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
  /** Requests answered 4xx/5xx or failed (not those a navigation cancelled), as "STATUS METHOD path". */
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
    // A request the browser itself cancelled because the page navigated on (a reload or a new
    // address while the favicon or a list was still loading) did not fail; every other failure
    // (refused, reset, empty answer) counts. The client cancels none of its own requests.
    if (request.failure()?.errorText === "net::ERR_ABORTED") return;
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

// The moderator's pages ----------------------------------------------------------------------

/** Our own Traditional Chinese and English essay, uploaded on the create page by the moderator tests. */
export const MODERATOR_UPLOAD = join(root, "tests/fixtures/essays/moderator-upload.zh-Hant.txt");

/** Signs in on the sign-in page as a moderator would, and waits for the list of seminars. */
export async function signInAsModerator(
  page: Page,
  baseUrl: string,
  account: { email: string; password: string },
): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel("E-mail").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await seminarsListed(page);
}

/**
 * Waits until the moderator's list of seminars has loaded: the heading is drawn before the list's
 * request is answered, and a test that navigates on at once would cancel that request.
 */
export async function seminarsListed(page: Page): Promise<void> {
  await page.getByRole("heading", { name: "Your seminars" }).waitFor();
  await page.getByText("Loading your seminars…").waitFor({ state: "detached" });
}

/** The signed-in moderator's account token, as the page stored it. */
export function storedAccountToken(page: Page): Promise<string> {
  return page.evaluate(
    () => JSON.parse(localStorage.getItem("stepstone.account.v1") ?? "{}").token as string,
  );
}

/** Picks `file` in an essay form's upload field and waits until the text area holds it (read asynchronously). */
export async function uploadEssay(page: Page, file: string): Promise<void> {
  await page.getByLabel("Upload a .txt or .md file").setInputFiles(file);
  const text = readFileSync(file, "utf8");
  await expect.poll(() => page.getByLabel("Essay text").inputValue()).toBe(text);
}

/** Asks for the importer's preview and checks its head against MODERATOR_UPLOAD's. */
export async function expectUploadPreview(page: Page): Promise<Locator> {
  await page.getByRole("button", { name: "Preview", exact: true }).click();
  const preview = page.locator(".essay-preview");
  await expect
    .poll(() => preview.locator(".preview-title").textContent())
    .toBe("共讀的練習 Reading Together");
  expect(await preview.locator(".preview-byline").textContent()).toBe("文／林小雨 Lin Xiaoyu");
  expect(await preview.locator(".preview-date").textContent()).toBe("2026年11月30日");
  expect(await preview.locator(".count-paragraphs").textContent()).toBe("4 paragraphs");
  expect(await preview.locator(".count-sections").textContent()).toMatch(/^2 sections/);
  expect(await preview.locator(".count-captions").textContent()).toBe("1 caption");
  return preview;
}

/** A question as the prompt editor takes it (labels as the form shows them). */
export interface QuestionFields {
  kind: "Single choice" | "Multiple choice" | "Scale";
  question: string;
  options?: string[];
  maxChoices?: number;
  scale?: { min: number; max: number; minLabel: string; maxLabel: string };
  results?: string;
  named?: boolean;
}

/** Fills a prompt editor whose ids start with `prefix` (without submitting it). */
export async function fillQuestion(page: Page, prefix: string, prompt: QuestionFields): Promise<Locator> {
  const form = page.locator(`form.prompt-editor:has(#${prefix}-question)`);
  await form.getByLabel(prompt.kind, { exact: true }).check();
  await page.locator(`#${prefix}-question`).fill(prompt.question);
  if (prompt.options) await page.locator(`#${prefix}-options`).fill(prompt.options.join("\n"));
  if (prompt.maxChoices) await page.locator(`#${prefix}-max-choices`).fill(String(prompt.maxChoices));
  if (prompt.scale) {
    await page.locator(`#${prefix}-min`).fill(String(prompt.scale.min));
    await page.locator(`#${prefix}-max`).fill(String(prompt.scale.max));
    await page.locator(`#${prefix}-min-label`).fill(prompt.scale.minLabel);
    await page.locator(`#${prefix}-max-label`).fill(prompt.scale.maxLabel);
  }
  if (prompt.results) await page.locator(`#${prefix}-visibility`).selectOption({ label: prompt.results });
  if (prompt.named !== undefined) await page.locator(`#${prefix}-anonymous`).setChecked(!prompt.named);
  return form;
}

/** Fills and adds one question in a prompt editor, and waits for the form to say it was added. */
export async function addQuestion(page: Page, prefix: string, prompt: QuestionFields): Promise<void> {
  const form = await fillQuestion(page, prefix, prompt);
  await form.getByRole("button", { name: "Add question" }).click();
  await expect.poll(() => form.getByRole("status").textContent()).toBe(`Added “${prompt.question}”.`);
}

/**
 * Clicks a download button of the seminar page and answers the file's suggested name and content.
 * Headless Chromium 156 (Debian, 2026-12-04) drops a download the page starts within about a second
 * of the previous one (the client reported the file handed over, the browser started nothing; with
 * a pause before the click it came): when no download starts within DOWNLOAD_START_MS of the click,
 * the button is clicked once more, as a person would, and the second click must bring the file.
 */
export async function downloadFrom(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const click = () => page.getByRole("button", { name: button, exact: true }).click();
  const [first] = await Promise.all([
    page.waitForEvent("download", { timeout: DOWNLOAD_START_MS }).catch(() => undefined),
    click(),
  ]);
  const file = first ?? (await Promise.all([page.waitForEvent("download"), click()]))[0];
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

/** How long a download button's click may take to start the download before it is clicked again. */
const DOWNLOAD_START_MS = 5_000;

/** Opens a tab of the room's side panel (from the bottom bar on a phone). */
export async function openTab(page: Page, name: string): Promise<void> {
  const mobileNav = page.locator(".mobile-nav");
  if (await mobileNav.isVisible())
    await mobileNav.getByRole("button", { name: new RegExp(`^${name}`) }).click();
  else await page.getByRole("tab", { name: new RegExp(`^${name}`) }).click();
}
