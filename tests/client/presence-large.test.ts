/**
 * Presence in a room larger than the server lists by name (PRESENCE_LISTED_MAX=2 here), in real
 * Chromium against the real server: a participant sees the true count, the moderators by name and
 * the others as a number, and how many read each paragraph, following what others report as they
 * scroll; the moderator's console still lists and marks everyone connected. When the room is small
 * again, the participant's list names everyone.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paragraphNumbers } from "../../client/src/features/essays/numbering.ts";
import { excerpt } from "../../client/src/ui/text.ts";
import type { ParagraphView, RoomSnapshot } from "../../src/protocol/views.ts";
import {
  type BrowserUser,
  launchBrowser,
  openTab,
  openUser,
  seriousAxeViolations,
  signInAsModerator,
  VIEWPORTS,
} from "../helpers/browser.ts";
import { joinInBrowser } from "../helpers/client-room.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../helpers/factories.ts";
import { type ClientSocket, connect, send, startTestServer } from "../helpers/server.ts";

const server = await startTestServer({ PRESENCE_LISTED_MAX: "2" });
const browser = await launchBrowser();

const EMAIL = "lecture.moderator@example.test";
const ORDINALS = [
  "One",
  "Two",
  "Three",
  "Four",
  "Five",
  "Six",
  "Seven",
  "Eight",
  "Nine",
  "Ten",
  "Eleven",
  "Twelve",
];
/** Long enough to scroll on a laptop, so that each reader reports the paragraph they scroll to. */
const ESSAY = [
  "# The Lecture Hall",
  "",
  ...ORDINALS.flatMap((ordinal) => [
    `${ordinal}: a hall of thousands reads the same page at once, and nobody needs every name to know where the room is. `.repeat(
      4,
    ),
    "",
  ]),
].join("\n");

/** Scrolls so that a block crosses the line a third down the window: the client reports it as read. */
async function scrollToRead(page: Page, paragraphId: string) {
  await page.evaluate((id) => {
    const top = document.getElementById(`p-${id}`)!.getBoundingClientRect().top;
    window.scrollBy({ top: top - window.innerHeight / 3 + 8, behavior: "instant" });
  }, paragraphId);
}

/** The presence popover's entries ("¶n “…”: N reading") as shown. */
function readingCounts(page: Page) {
  return page.locator("#presence-list .presence-reading button").allTextContents();
}

/** How many others the paragraph's gutter says read it (0: no marker). */
async function gutterReaders(page: Page, paragraphId: string) {
  const marker = page.locator(`#p-${paragraphId} .readers span[aria-hidden="true"]`);
  return (await marker.count()) === 0 ? 0 : Number(await marker.textContent());
}

async function openPresence(page: Page) {
  const button = page.locator(".presence > button");
  if ((await button.getAttribute("aria-expanded")) !== "true") await button.click();
  await page.locator("#presence-list").waitFor();
}

describe("presence in a large room", () => {
  let snapshot: RoomSnapshot;
  let mod: BrowserUser;
  let ada: BrowserUser;
  let bo: BrowserUser;
  const sockets: ClientSocket[] = [];
  /** The paragraph everyone gathers on, far down the essay (nobody reads it on arrival). */
  let target: ParagraphView;
  let targetLabel: string;

  beforeAll(async () => {
    const moderator = await buildModerator(server, { email: EMAIL, displayName: "Moderator" });
    const { seminar } = await buildSeminar(server, { moderator, title: "Lecture hall", essay: ESSAY });
    snapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, moderator.token),
    );
    target = snapshot.essay.paragraphs.find((paragraph) => paragraph.text.startsWith("Ten:"))!;
    targetLabel = `¶${paragraphNumbers(snapshot.essay).get(target.id)} “${excerpt(target.text, 24)}”`;
    [mod, ada, bo] = await Promise.all([
      openUser(browser, VIEWPORTS.laptop),
      openUser(browser, VIEWPORTS.laptop),
      openUser(browser, VIEWPORTS.laptop),
    ]);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all([mod.context.close(), ada.context.close(), bo.context.close()]);
  });

  it("a participant sees the true count, the moderator by name and how many others", async () => {
    await signInAsModerator(mod.page, server.url, { email: EMAIL, password: "correct horse battery staple" });
    await mod.page.goto(`${server.url}/console/${snapshot.seminar.id}`);
    await mod.page.locator(".connection[data-status='live']").waitFor({ timeout: 15_000 });
    const code = snapshot.seminar.joinCode!;
    await joinInBrowser(ada.page, server.url, code, "Ada");
    await joinInBrowser(bo.page, server.url, code, "Bo");
    // Two more participants, by socket: five present, more than the two the server lists.
    for (const name of ["Cy", "Di"]) {
      const guest = await buildGuest(server, code, name);
      sockets.push(await connect(server.url, { token: guest.token }));
    }

    await expect.poll(() => ada.page.locator(".presence > button").textContent()).toBe("5 here");
    await expect.poll(() => bo.page.locator(".presence > button").textContent()).toBe("5 here");
    await openPresence(ada.page);
    const popover = ada.page.locator("#presence-list");
    expect(await popover.locator(".author").allTextContents()).toEqual(["Moderator"]);
    expect(await popover.locator(".hint").first().textContent()).toBe(
      "Too many to list: the moderators are named, everyone else counted.",
    );
    expect(await popover.locator(".presence-others").textContent()).toBe("and 4 others, you among them");
  });

  it("counts the readers of each paragraph as others report them", async () => {
    const popover = ada.page.locator("#presence-list");
    expect(await readingCounts(ada.page)).not.toContainEqual(expect.stringContaining(targetLabel));

    // Cy's client reports the paragraph; Ada's popover and gutter follow.
    expectOk(await send(sockets[0]!, "presence:focus", { paragraphId: target.id }));
    await expect.poll(() => readingCounts(ada.page)).toContainEqual(`${targetLabel}: 1 reading`);
    await expect.poll(() => gutterReaders(ada.page, target.id)).toBe(1);

    // Bo scrolls there in the browser.
    await scrollToRead(bo.page, target.id);
    await expect.poll(() => readingCounts(ada.page)).toContainEqual(`${targetLabel}: 2 reading`);
    await expect.poll(() => gutterReaders(ada.page, target.id)).toBe(2);
    // Bo is among the readers counted there, and his gutter counts the others only.
    await expect.poll(() => gutterReaders(bo.page, target.id)).toBe(1);

    // Ada scrolls there too: three read it, two besides her.
    await scrollToRead(ada.page, target.id);
    await expect.poll(() => readingCounts(ada.page)).toContainEqual(`${targetLabel}: 3 reading`);
    await expect.poll(() => gutterReaders(ada.page, target.id)).toBe(2);
    await expect.poll(() => gutterReaders(bo.page, target.id)).toBe(2);
    // Every reading entry is a paragraph of the essay, and the counts never exceed who is here.
    const total = (await readingCounts(ada.page))
      .map((text) => Number(/: ([\d,]+) reading$/.exec(text)![1]!.replace(/,/g, "")))
      .reduce((sum, count) => sum + count, 0);
    expect(total).toBeLessThanOrEqual(5);

    expect(await seriousAxeViolations(ada.page)).toEqual([]);
    await popover.scrollIntoViewIfNeeded();
    await ada.page.screenshot({ path: "/tmp/presence-large.png" });
  });

  it("the moderator's console still shows everyone connected, by name", async () => {
    await expect.poll(() => mod.page.locator(".presence > button").textContent()).toBe("5 here");
    await openTab(mod.page, "People");
    const roster = mod.page.locator(".member-list").first();
    await expect
      .poll(() => roster.locator(".member-name").allTextContents())
      .toEqual(["Moderator", "Ada", "Bo", "Cy", "Di"]);
    await expect.poll(() => roster.locator(".presence-dot.on").count()).toBe(5);
    await openPresence(mod.page);
    expect(await mod.page.locator("#presence-list .author").allTextContents()).toEqual([
      "Ada",
      "Bo",
      "Cy",
      "Di",
      "Moderator",
    ]);
    expect(await mod.page.locator("#presence-list .presence-reading").count()).toBe(0);
    expect(await mod.page.locator("#presence-list .presence-others").count()).toBe(0);
    // Everyone reading the target besides the moderator, counted from the whole list.
    await expect.poll(() => gutterReaders(mod.page, target.id)).toBe(3);
  });

  it("goes to a paragraph from its count", async () => {
    // Back to the top, then the popover's entry brings the paragraph into view and closes.
    await ada.page.evaluate(() => window.scrollTo({ top: 0, behavior: "instant" }));
    await openPresence(ada.page);
    await ada.page.locator("#presence-list .presence-reading button", { hasText: targetLabel }).click();
    await ada.page.locator("#presence-list").waitFor({ state: "detached" });
    await expect
      .poll(() =>
        ada.page.evaluate((id) => {
          const rect = document.getElementById(`p-${id}`)!.getBoundingClientRect();
          return rect.top >= 0 && rect.bottom <= window.innerHeight;
        }, target.id),
      )
      .toBe(true);
  });

  it("names everyone again when the room is small", async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await mod.page.goto("about:blank");
    await expect.poll(() => ada.page.locator(".presence > button").textContent()).toBe("2 here");
    await openPresence(ada.page);
    await expect
      .poll(() => ada.page.locator("#presence-list .author").allTextContents())
      .toEqual(["Ada", "Bo"]);
    expect(await ada.page.locator("#presence-list .hint").count()).toBe(0);
    expect(await ada.page.locator("#presence-list .presence-others").count()).toBe(0);
    expect(await ada.page.locator("#presence-list .presence-reading").count()).toBe(0);
    // Bo, named again, reads the target: one other besides Ada.
    await expect.poll(() => gutterReaders(ada.page, target.id)).toBe(1);
  });

  it("fits the list on a phone's screen", async () => {
    // Anchored to the button, the list ran off the left edge of a 390 px screen.
    const phone = await openUser(browser, VIEWPORTS.phone);
    try {
      await joinInBrowser(phone.page, server.url, snapshot.seminar.joinCode!, "Eve");
      await expect.poll(() => phone.page.locator(".presence > button").textContent()).toBe("3 here");
      await openPresence(phone.page);
      const box = (await phone.page.locator("#presence-list").boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(VIEWPORTS.phone.width);
      // Three present, over the two the server names: nobody named (no moderator is here).
      expect(await phone.page.locator("#presence-list .presence-others").textContent()).toBe(
        "3 people, you among them",
      );
    } finally {
      await phone.context.close();
    }
  });
});
