import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { buildSeminar, expectOk } from "./factories.ts";
import { connect, eventually, send, type TestServer } from "./server.ts";

/** Our own Traditional Chinese essay with a title, byline, dateline, sections, a caption and 𠮷. */
export const READING_ROOM_ESSAY = readFileSync(
  new URL("../fixtures/essays/reading-room.zh-Hant.txt", import.meta.url),
  "utf8",
);

/** A live seminar on the reading-room essay with one open single-choice prompt. */
export async function buildLiveRoom(server: TestServer, options: { prompts?: unknown[] } = {}) {
  const { seminar, moderator } = await buildSeminar(server, {
    title: "讀書會：開放模型",
    essay: READING_ROOM_ESSAY,
    prompts: options.prompts ?? [
      {
        kind: "single_choice",
        question: "Should DeepSeek be a national team?",
        options: ["Yes", "No", "Not sure"],
      },
    ],
  });
  // The essay is stored as plain text here (the file has no Markdown).
  const snapshot = expectOk(
    await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, moderator.token),
  );
  const socket = await connect(server.url, { token: moderator.token, seminarId: seminar.id });
  for (const prompt of snapshot.prompts) expectOk(await send(socket, "prompt:open", { promptId: prompt.id }));
  return { seminar, moderator, moderatorSocket: socket, snapshot, joinCode: seminar.joinCode! };
}

/** The essay paragraph whose text contains `fragment`. */
export function paragraphWith(snapshot: RoomSnapshot, fragment: string) {
  const paragraph = snapshot.essay.paragraphs.find((item) => item.text.includes(fragment));
  if (!paragraph) throw new Error(`no paragraph contains ${fragment}`);
  return paragraph;
}

/** Joins through the join page (code and name typed in) and waits for the reading room. */
export async function joinInBrowser(page: Page, url: string, code: string, name: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel("Join code").fill(code);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await waitForLive(page);
}

/** Waits until the room shows the essay and the connection indicator says Live. */
export async function waitForLive(page: Page): Promise<void> {
  await page.locator(".connection[data-status='live']").waitFor({ timeout: 15_000 });
  await page.locator("article.essay h1").waitFor();
}

/**
 * Selects `fragment` inside a paragraph's text as a reader would (a real DOM selection across
 * the paragraph's text nodes), which makes the client offer "Comment on selection".
 */
export async function selectInParagraph(page: Page, paragraphId: string, fragment: string): Promise<void> {
  await page.evaluate(
    ({ paragraphId, fragment }) => {
      const element = document.querySelector(`[data-paragraph-text="${paragraphId}"]`);
      if (!element) throw new Error("paragraph not rendered");
      const start = (element.textContent ?? "").indexOf(fragment);
      if (start < 0) throw new Error("fragment not in paragraph");
      const end = start + fragment.length;
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      const range = document.createRange();
      let seen = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const length = node.textContent?.length ?? 0;
        if (start >= seen && start <= seen + length) range.setStart(node, start - seen);
        if (end >= seen && end <= seen + length) {
          range.setEnd(node, end - seen);
          break;
        }
        seen += length;
      }
      const selection = window.getSelection()!;
      selection.removeAllRanges();
      selection.addRange(range);
    },
    { paragraphId, fragment },
  );
}

/** Waits until the page shows a highlight of annotation `id`. */
export async function waitForHighlight(page: Page, annotationId: string): Promise<void> {
  await page.locator(`mark[data-ids~="${annotationId}"]`).first().waitFor({ timeout: 15_000 });
}

/** Polls the database until `check` holds. */
export async function eventuallyStored(check: () => Promise<boolean>, what: string): Promise<void> {
  await eventually(check, 15_000, what);
}
