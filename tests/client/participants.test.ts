/**
 * Two participants in real headless Chromium (separate browser contexts) against the real server
 * and PostgreSQL: join by code, annotate a selected span of a CJK paragraph, reply, react, vote,
 * and see each other's changes; then one of them loses the network, acts, comes back and ends
 * with the same view as the other, with what was done offline stored once.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import {
  type BrowserUser,
  launchBrowser,
  openUser,
  screenshot,
  seriousAxeViolations,
  VIEWPORTS,
} from "../helpers/browser.ts";
import {
  buildLiveRoom,
  eventuallyStored,
  joinInBrowser,
  paragraphWith,
  selectInParagraph,
  waitForHighlight,
  waitForLive,
} from "../helpers/client-room.ts";
import { startTestServer } from "../helpers/server.ts";

const server = await startTestServer();
const browser = await launchBrowser();

/** Code-point offsets of `fragment` in `text`, as the server counts them. */
function codePointSpan(text: string, fragment: string) {
  const index = text.indexOf(fragment);
  const start = [...text.slice(0, index)].length;
  return { start, end: start + [...fragment].length };
}

/** What a participant sees of the room: highlights, threads with replies and reactions, tallies. */
async function visibleRoom(page: Page) {
  return page.evaluate(() => {
    const marks = Array.from(document.querySelectorAll("mark.hl")).map(
      (mark) => `${mark.getAttribute("data-ids")}|${mark.textContent}`,
    );
    const threads = Array.from(document.querySelectorAll(".thread-list > .thread")).map((thread) =>
      Array.from(thread.querySelectorAll(".annotation")).map((card) => ({
        author: card.querySelector(".author")?.textContent,
        body: card.querySelector(".body")?.textContent,
        reactions: Array.from(card.querySelectorAll(".reaction")).map((button) => button.textContent),
      })),
    );
    const tallies = Array.from(document.querySelectorAll(".bar-figures")).map((figure) => figure.textContent);
    return { marks, threads, tallies };
  });
}

/** Opens the questions tab (on a phone from the bottom bar unless the panel is already open). */
async function openQuestions(page: Page) {
  const mobileNav = page.locator(".mobile-nav");
  if (await mobileNav.isVisible()) await mobileNav.getByRole("button", { name: /Questions/ }).click();
  else await page.getByRole("tab", { name: /Questions/ }).click();
}

/** Opens a paragraph's threads with the button beside it (on a phone, back to the essay first). */
async function openParagraph(page: Page, paragraphId: string) {
  const close = page.locator(".panel-close");
  if (await close.isVisible()) await close.click();
  await page.locator(`#p-${paragraphId} .comments-button`).click();
  await page.locator("#threads-title").waitFor();
}

async function vote(page: Page, option: string) {
  await openQuestions(page);
  const card = page.locator(".prompt").first();
  await card.getByLabel(option, { exact: true }).check();
  await card.getByRole("button", { name: /^(Vote|Change vote)$/ }).click();
}

describe("two participants in the web client", () => {
  let room: Awaited<ReturnType<typeof buildLiveRoom>>;
  let snapshot: RoomSnapshot;
  let ada: BrowserUser;
  let bo: BrowserUser;

  beforeAll(async () => {
    room = await buildLiveRoom(server);
    snapshot = room.snapshot;
    ada = await openUser(browser, VIEWPORTS.laptop);
    bo = await openUser(browser, VIEWPORTS.phone);
  });
  afterAll(() => room.moderatorSocket.close());

  it("serves the join page at / and at the join link, accessible at both sizes", async () => {
    await ada.page.goto(`${server.url}/join/${room.joinCode}`);
    await expect.poll(() => ada.page.getByLabel("Join code").inputValue()).toBe(room.joinCode);
    expect(await seriousAxeViolations(ada.page)).toEqual([]);
    await screenshot(ada.page, "join-1280x800");

    await bo.page.goto(`${server.url}/`);
    await bo.page.getByLabel("Join code").waitFor();
    expect(await seriousAxeViolations(bo.page)).toEqual([]);
    await bo.page.getByLabel("Join code").fill(room.joinCode.toLowerCase());
    await bo.page.getByLabel("Your name").fill("Bo");
    await screenshot(bo.page, "join-390x844");
  });

  it("refuses a wrong code visibly and changes nothing", async () => {
    const members = await server.prisma.membership.count({ where: { seminarId: room.seminar.id } });
    await ada.page.getByLabel("Join code").fill("ZZZZZZ");
    await ada.page.getByLabel("Your name").fill("Ada");
    await ada.page.getByRole("button", { name: "Join", exact: true }).click();
    await expect.poll(() => ada.page.getByRole("alert").textContent()).toMatch(/No seminar has this code/);
    expect(await server.prisma.membership.count({ where: { seminarId: room.seminar.id } })).toBe(members);
  });

  it("both join by code and see each other present", async () => {
    await joinInBrowser(ada.page, server.url, room.joinCode, "Ada");
    await bo.page.getByRole("button", { name: "Join", exact: true }).click();
    await waitForLive(bo.page);
    // The moderator's socket, Ada and Bo.
    await expect.poll(() => ada.page.locator(".presence > button").textContent()).toMatch(/3 here/);
    await expect.poll(() => bo.page.locator(".presence > button").textContent()).toMatch(/3 here/);
    // Presence carries the names: the list shows everyone here though a participant's state holds
    // no roster.
    await ada.page.locator(".presence > button").click();
    await expect
      .poll(() => ada.page.locator("#presence-list .author").allTextContents())
      .toEqual(["Ada", "Bo", "Moderator"]);
    await ada.page.locator(".presence > button").click();
    const essay = ada.page.locator("article.essay");
    expect(await essay.getAttribute("lang")).toBe("zh-Hant");
    expect(await essay.locator("h1").textContent()).toBe(snapshot.essay.title);
    expect(await essay.locator(".byline").textContent()).toBe(snapshot.essay.byline);
    expect(await essay.locator(".section-marker").count()).toBe(3);
    expect(await essay.locator(".block.caption").count()).toBe(1);
  });

  it("annotates a selected span of a CJK paragraph with offsets in code points", async () => {
    const paragraph = paragraphWith(snapshot, "𠮷野家");
    const fragment = "在某些工具裡會被算成兩個字";
    await selectInParagraph(ada.page, paragraph.id, fragment);
    await ada.page.getByRole("button", { name: "Comment on selection" }).click();
    await expect.poll(() => ada.page.locator(".composer-quote blockquote").textContent()).toBe(fragment);
    await ada.page.getByLabel("Your comment").fill("兩個 𠮷 應該只算兩個字。");
    await ada.page.getByLabel(/^Tags/).fill("unicode, 開放");
    await ada.page.getByRole("button", { name: "Comment", exact: true }).click();

    const span = codePointSpan(paragraph.text, fragment);
    // 𠮷 appears twice before the span: UTF-16 would have put it two units later.
    expect(paragraph.text.indexOf(fragment)).toBe(span.start + 2);
    let stored: Awaited<ReturnType<typeof server.prisma.annotation.findFirst>> = null;
    await eventuallyStored(async () => {
      stored = await server.prisma.annotation.findFirst({ where: { seminarId: room.seminar.id } });
      return stored !== null;
    }, "Ada's annotation");
    expect(stored).toMatchObject({
      paragraphId: paragraph.id,
      startOffset: span.start,
      endOffset: span.end,
      quoteExact: fragment,
      body: "兩個 𠮷 應該只算兩個字。",
      tags: ["unicode", "開放"],
    });
    const id = stored!.id;
    await waitForHighlight(ada.page, id);
    await waitForHighlight(bo.page, id);
    expect(await bo.page.locator(`mark[data-ids~="${id}"]`).allTextContents()).toEqual([fragment]);
  });

  it("replies and reacts; each sees the other's change", async () => {
    const paragraph = paragraphWith(snapshot, "𠮷野家");
    const annotation = (await server.prisma.annotation.findFirst({ where: { seminarId: room.seminar.id } }))!;
    // Bo, on the phone, opens the highlight's thread by tapping it.
    await bo.page.locator(`mark[data-ids~="${annotation.id}"]`).first().click();
    const thread = bo.page.locator(".thread").first();
    await expect.poll(() => thread.locator(".body").first().textContent()).toBe("兩個 𠮷 應該只算兩個字。");
    // The author's name came with the annotation (Bo's state holds the members it refers to).
    expect(await thread.locator(".annotation .author").first().textContent()).toBe("Ada");
    await thread.getByRole("button", { name: "Reply" }).click();
    await bo.page.getByLabel("Your reply").fill("同意，offsets 要用 code points。");
    await bo.page.getByRole("button", { name: "Reply", exact: true }).last().click();
    await thread
      .getByRole("button", { name: /^Agree/ })
      .first()
      .click();

    // Ada has the paragraph open (she commented on it) and sees both.
    await openParagraph(ada.page, paragraph.id);
    const adaThread = ada.page.locator(".thread").first();
    await expect
      .poll(() => adaThread.locator(".replies .body").allTextContents())
      .toEqual(["同意，offsets 要用 code points。"]);
    await expect
      .poll(() =>
        adaThread
          .locator(".annotation")
          .first()
          .getByRole("button", { name: /^Agree/ })
          .textContent(),
      )
      .toBe("Agree1");
    // Ada reacts too; Bo sees the count move.
    await adaThread
      .locator(".annotation")
      .first()
      .getByRole("button", { name: /^Agree/ })
      .click();
    await expect
      .poll(() =>
        thread
          .locator(".annotation")
          .first()
          .getByRole("button", { name: /^Agree/ })
          .textContent(),
      )
      .toBe("Agree2");
    expect(
      await server.prisma.reaction.count({ where: { annotationId: annotation.id, kind: "agree" } }),
    ).toBe(2);
  });

  it("votes and watches the tally move on the other screen, announced politely", async () => {
    await openQuestions(ada.page);
    await openQuestions(bo.page);
    await vote(ada.page, "Yes");
    await expect
      .poll(() => bo.page.locator(".bar-figures").allTextContents())
      .toEqual(["1 · 100%", "0 · 0%", "0 · 0%"]);
    await vote(bo.page, "No");
    await expect
      .poll(() => ada.page.locator(".bar-figures").allTextContents())
      .toEqual(["1 · 50%", "1 · 50%", "0 · 0%"]);
    await expect
      .poll(() => ada.page.locator("[aria-live='polite'][data-testid='tally-announcer']").textContent())
      .toMatch(/Should DeepSeek be a national team\? Yes: 1 vote, 50 percent\. No: 1 vote, 50 percent\./);
    // Bo changes his mind.
    await vote(bo.page, "Not sure");
    await expect
      .poll(() => ada.page.locator(".bar-figures").allTextContents())
      .toEqual(["1 · 50%", "0 · 0%", "1 · 50%"]);
    await expect
      .poll(() => bo.page.locator(".vote-status").first().textContent())
      .toBe("Your vote: Not sure");
  });

  it("keeps the view through a network cut, sends what was done offline once, and ends equal", async () => {
    const paragraph = paragraphWith(snapshot, "國家隊");
    await bo.context.setOffline(true);
    await expect.poll(() => bo.page.locator(".connection").getAttribute("data-status")).toBe("offline");
    // Bo still sees the room as it was.
    expect(await bo.page.locator("mark.hl").count()).toBeGreaterThan(0);

    // Offline, Bo comments on a span and changes his vote: both wait in the outbox.
    await bo.page.locator(".panel-close").click();
    await selectInParagraph(bo.page, paragraph.id, "國家隊");
    await bo.page.getByRole("button", { name: "Comment on selection" }).click();
    await bo.page.getByLabel("Your comment").fill("離線時寫的留言");
    await bo.page.getByRole("button", { name: "Comment", exact: true }).click();
    await expect
      .poll(() => bo.page.locator(".annotation.pending .body").textContent())
      .toBe("離線時寫的留言");
    await screenshot(bo.page, "room-offline-390x844");
    await bo.page.locator(".panel-close").click();
    await vote(bo.page, "Yes");
    await expect
      .poll(() => bo.page.locator(".vote-status").first().textContent())
      .toMatch(/sent when you are back online/);
    expect(await server.prisma.annotation.count({ where: { body: "離線時寫的留言" } })).toBe(0);
    // A reaction cannot wait (it toggles): refused visibly, not queued.
    await openParagraph(bo.page, paragraphWith(snapshot, "𠮷野家").id);
    await bo.page
      .locator(".thread .annotation")
      .first()
      .getByRole("button", { name: /^Question/ })
      .click();
    await expect
      .poll(() => bo.page.locator(".thread .annotation [role='alert']").first().textContent())
      .toMatch(/offline/);
    await bo.page.locator(".panel-close").click();

    // Meanwhile Ada comments on the whole paragraph; Bo misses it while offline.
    await openParagraph(ada.page, paragraph.id);
    await ada.page.getByLabel("Your comment").fill("Ada 在 Bo 離線時的留言");
    await ada.page.getByRole("button", { name: "Comment", exact: true }).click();
    await eventuallyStored(
      async () => (await server.prisma.annotation.count({ where: { body: "Ada 在 Bo 離線時的留言" } })) === 1,
      "Ada's comment",
    );

    await bo.context.setOffline(false);
    await expect
      .poll(() => bo.page.locator(".connection").getAttribute("data-status"), { timeout: 15_000 })
      .toBe("live");
    await eventuallyStored(
      async () => (await server.prisma.annotation.count({ where: { body: "離線時寫的留言" } })) === 1,
      "Bo's offline comment",
    );
    await openQuestions(bo.page);
    await expect.poll(() => bo.page.locator(".vote-status").first().textContent()).toBe("Your vote: Yes");

    // Both see the same room: the same highlights, threads and tallies.
    await openParagraph(bo.page, paragraph.id);
    await expect.poll(async () => (await visibleRoom(bo.page)).threads.length).toBe(2);
    await expect.poll(async () => (await visibleRoom(ada.page)).threads.length).toBe(2);
    await openQuestions(ada.page);
    await openQuestions(bo.page);
    await expect
      .poll(() => ada.page.locator(".bar-figures").allTextContents())
      .toEqual(["2 · 100%", "0 · 0%", "0 · 0%"]);
    await expect
      .poll(() => bo.page.locator(".bar-figures").allTextContents())
      .toEqual(["2 · 100%", "0 · 0%", "0 · 0%"]);
    await openParagraph(ada.page, paragraph.id);
    await openParagraph(bo.page, paragraph.id);
    expect(await visibleRoom(bo.page)).toEqual(await visibleRoom(ada.page));

    // Stored once, whatever the retries: one comment, one ballot of Bo's, at its latest choice.
    expect(await server.prisma.annotation.count({ where: { body: "離線時寫的留言" } })).toBe(1);
    const boMember = await server.prisma.membership.findFirstOrThrow({
      where: { seminarId: room.seminar.id, displayName: "Bo" },
    });
    const ballots = await server.prisma.ballot.findMany({
      where: { memberId: boMember.id },
      include: { choices: { include: { option: true } } },
    });
    expect(ballots).toHaveLength(1);
    expect(ballots[0]!.choices.map((choice) => choice.option.label)).toEqual(["Yes"]);
  }, 90_000);

  it("shows the reading room accessibly at both sizes (screenshots for the docs)", async () => {
    await ada.page.getByRole("tab", { name: "Comments" }).click();
    await ada.page.locator(".thread").first().waitFor();
    expect(await seriousAxeViolations(ada.page)).toEqual([]);
    await screenshot(ada.page, "room-1280x800");
    await bo.page.locator(".panel-close").click();
    await bo.page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(bo.page, "room-390x844");
    expect(await seriousAxeViolations(bo.page)).toEqual([]);
    await openQuestions(bo.page);
    expect(await seriousAxeViolations(bo.page)).toEqual([]);
    await screenshot(bo.page, "room-questions-390x844");
    expect([...ada.errors, ...bo.errors]).toEqual([]);
    // The one refused request: the join with a wrong code. Bo's failures are his offline minutes.
    expect(ada.failedRequests).toEqual(["404 POST /api/seminars/join"]);
    expect(bo.failedRequests.every((line) => line.startsWith("failed GET /socket.io/"))).toBe(true);
  });
});
