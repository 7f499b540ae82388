/**
 * Keyboard only, on a phone-sized screen: join, open a paragraph's discussion, comment on the
 * whole paragraph, close the sheet, switch to the questions tab with the arrow keys and vote,
 * with no mouse or touch at all.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, openUser, VIEWPORTS } from "../helpers/browser.ts";
import { buildLiveRoom, eventuallyStored, paragraphWith, waitForLive } from "../helpers/client-room.ts";
import { startTestServer } from "../helpers/server.ts";

const server = await startTestServer();
const browser = await launchBrowser();

/** Presses Tab until the focused element matches `selector` (at most `limit` presses). */
async function tabTo(page: Page, selector: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((css) => document.activeElement?.matches(css) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    return `${element?.tagName.toLowerCase()}#${element?.id ?? ""} ${element?.textContent?.trim() ?? ""}`;
  });

describe("keyboard only", () => {
  let room: Awaited<ReturnType<typeof buildLiveRoom>>;
  beforeAll(async () => {
    room = await buildLiveRoom(server);
  });
  afterAll(() => room.moderatorSocket.close());

  it("joins, comments on a paragraph and votes without a pointer", async () => {
    const { joinCode, snapshot, seminar } = room;
    const { page } = await openUser(browser, VIEWPORTS.phone);
    await page.goto(`${server.url}/join/${joinCode}`);
    // The join link fills the code and puts the focus on the name.
    await expect.poll(() => focused(page)).toBe("input#join-name ");
    await page.keyboard.type("Kai");
    await page.keyboard.press("Enter");
    await waitForLive(page);

    const paragraph = paragraphWith(snapshot, "國家隊");
    await tabTo(page, `#p-${paragraph.id} .comments-button`);
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(page)).toMatch(/^h2#threads-title Paragraph/);
    await tabTo(page, "#composer-body", 5);
    await page.keyboard.type("只用鍵盤寫的留言");
    await tabTo(page, "button[type=submit].primary", 5);
    await page.keyboard.press("Enter");
    await eventuallyStored(
      async () =>
        (await server.prisma.annotation.count({
          where: {
            seminarId: seminar.id,
            paragraphId: paragraph.id,
            body: "只用鍵盤寫的留言",
            startOffset: null,
          },
        })) === 1,
      "the keyboard comment",
    );

    // Escape closes the sheet and gives the focus back to the paragraph's button.
    await page.keyboard.press("Escape");
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.classList.contains("comments-button")))
      .toBe(true);
    await tabTo(page, ".mobile-nav button");
    await page.keyboard.press("Enter");
    await tabTo(page, "[role=tab][aria-selected=true]");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => focused(page)).toMatch(/^button#tab-questions Questions/);
    await tabTo(page, ".prompt input[type=radio]", 10);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Space");
    await tabTo(page, ".ballot button[type=submit]", 5);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".vote-status").first().textContent()).toBe("Your vote: No");
    const member = await server.prisma.membership.findFirstOrThrow({
      where: { seminarId: seminar.id, displayName: "Kai" },
    });
    expect(await server.prisma.ballot.count({ where: { memberId: member.id } })).toBe(1);
  }, 60_000);
});
