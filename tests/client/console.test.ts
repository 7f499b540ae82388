/**
 * The moderator's live console and the projector view in real headless Chromium, against the
 * real server and PostgreSQL: a moderator and two participants in separate browser contexts. The
 * moderator signs in, creates the seminar from an uploaded file after checking the importer's
 * preview, opens its console and starts the session, opens a named prompt (the
 * participants vote and the tallies and voters show), spotlights a paragraph (the projector
 * follows), hides a comment (gone for participants, marked for the moderator), mutes and kicks a
 * participant (who sees it), runs the speaking queue, ends the session after a confirmation, and
 * downloads the transcript in every format, each file checked by content.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import type { RoomSnapshot, SeminarView } from "../../src/protocol/views.ts";
import {
  addQuestion,
  type BrowserUser,
  downloadFrom,
  expectUploadPreview,
  launchBrowser,
  MODERATOR_UPLOAD,
  openTab,
  openUser,
  screenshot,
  seriousAxeViolations,
  signInAsModerator,
  uploadEssay,
  VIEWPORTS,
} from "../helpers/browser.ts";
import {
  eventuallyStored,
  joinInBrowser,
  paragraphWith,
  selectInParagraph,
  waitForHighlight,
} from "../helpers/client-room.ts";
import { buildModerator, expectOk } from "../helpers/factories.ts";
import { connect, send, startTestServer } from "../helpers/server.ts";
import { readCsv, transcriptValidator, unzip } from "../helpers/transcripts.ts";

// Eight downloads and the moderation log within a minute: above the default per-member limit.
const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "100" });
const browser = await launchBrowser();

const QUESTION = "這段話有說服力嗎？ Convincing?";
const COMMENT = "這一段的說法需要更多證據。";
const QUOTE = "看著結果慢慢改變";
const EMAIL = "console.moderator@example.test";
/** The password buildModerator registers with. */
const MODERATOR = { email: EMAIL, password: "correct horse battery staple" };
const TITLE = "共讀 Reading Together — live";

/** Waits until a page's room connection is live. */
async function waitForConnection(page: Page) {
  await page.locator(".connection[data-status='live']").waitFor({ timeout: 15_000 });
}

/** The participant's vote on the first question. */
async function vote(page: Page, option: string) {
  const mobileNav = page.locator(".mobile-nav");
  if (await mobileNav.isVisible()) await mobileNav.getByRole("button", { name: /Questions/ }).click();
  else await page.getByRole("tab", { name: /Questions/ }).click();
  const card = page.locator(".prompt").first();
  await card.getByLabel(option, { exact: true }).check();
  await card.getByRole("button", { name: /^(Vote|Change vote)$/ }).click();
  await expect.poll(() => card.locator(".vote-status").first().textContent()).toBe(`Your vote: ${option}`);
}

describe("the moderator's console and the projector view", () => {
  let moderator: Awaited<ReturnType<typeof buildModerator>>;
  let seminar: SeminarView;
  let snapshot: RoomSnapshot;
  let mod: BrowserUser;
  let projector: Page;
  let ada: BrowserUser;
  let bo: BrowserUser;
  let adaId: string;
  let boId: string;

  beforeAll(async () => {
    moderator = await buildModerator(server, { email: EMAIL, displayName: "Moderator" });
    mod = await openUser(browser, VIEWPORTS.laptop);
    ada = await openUser(browser, VIEWPORTS.laptop);
    bo = await openUser(browser, VIEWPORTS.phone);
  });
  afterAll(async () => {
    await Promise.all([mod.context.close(), ada.context.close(), bo.context.close()]);
  });

  it("signs in and creates the seminar from an uploaded file after checking the importer's preview", async () => {
    const { page } = mod;
    await signInAsModerator(page, server.url, MODERATOR);
    await page.getByRole("link", { name: "New seminar" }).first().click();
    await uploadEssay(page, MODERATOR_UPLOAD);
    await expectUploadPreview(page);

    // One named question with live results, written on the create page.
    await addQuestion(page, "new-prompt", {
      kind: "Single choice",
      question: QUESTION,
      options: ["是 Yes", "否 No", "不確定 Not sure"],
      named: true,
    });

    await page.getByLabel("Seminar title").fill(TITLE);
    await page.getByRole("button", { name: "Save as draft" }).click();
    await page.getByRole("heading", { name: TITLE, level: 1 }).waitFor();
    const seminarId = new URL(page.url()).pathname.split("/")[2]!;
    snapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminarId}`, undefined, moderator.token),
    );
    seminar = snapshot.seminar;
    expect(snapshot.prompts.map((prompt) => [prompt.question, prompt.anonymous, prompt.state])).toEqual([
      [QUESTION, false, "draft"],
    ]);
  });

  it("opens the console of the draft from the seminar page and starts the session", async () => {
    await mod.page.getByRole("link", { name: "Open console" }).click();
    await waitForConnection(mod.page);
    await mod.page.locator("article.essay h1").waitFor();
    expect(await mod.page.locator(".console-controls .badge").textContent()).toBe("Not started");
    await mod.page.getByRole("button", { name: "Start session" }).click();
    await expect.poll(() => mod.page.locator(".console-controls .badge").textContent()).toBe("Session live");
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).state).toBe("live");
  });

  it("asks whoever is not signed in to sign in, and shows no console", async () => {
    await ada.page.goto(`${server.url}/console/${seminar.id}`);
    await ada.page.getByRole("heading", { name: "Sign in to moderate" }).waitFor();
    expect(await ada.page.locator(".console-controls").count()).toBe(0);
  });

  it("the participants join; the roster shows them, connected", async () => {
    await joinInBrowser(ada.page, server.url, seminar.joinCode!, "Ada");
    await joinInBrowser(bo.page, server.url, seminar.joinCode!, "Bo");
    const members = await server.prisma.membership.findMany({ where: { seminarId: seminar.id } });
    adaId = members.find((member) => member.displayName === "Ada")!.id;
    boId = members.find((member) => member.displayName === "Bo")!.id;
    await openTab(mod.page, "People");
    const roster = mod.page.locator(".member-list").first();
    await expect
      .poll(() => roster.locator(".member-name").allTextContents())
      .toEqual(["Moderator", "Ada", "Bo"]);
    await expect.poll(() => roster.locator(".presence-dot.on").count()).toBe(3);
  });

  it("opens the named prompt; votes show as live tallies with the voters, and on the projector", async () => {
    projector = await mod.context.newPage();
    await projector.goto(`${server.url}/projector/${seminar.id}`);
    await projector.locator(".projector .connection[data-status='live']").waitFor({ timeout: 15_000 });
    await expect.poll(() => projector.locator(".join-code").textContent()).toBe(seminar.joinCode);

    await openTab(mod.page, "Questions");
    const card = mod.page.locator(".console-prompts .prompt").first();
    await card.getByRole("button", { name: "Open", exact: true }).click();
    await expect.poll(() => card.locator(".badge").textContent()).toBe("Open");

    await vote(ada.page, "是 Yes");
    await vote(bo.page, "否 No");
    const [yes, no] = snapshot.prompts[0]!.options;
    await expect
      .poll(() => card.locator(`.bar-figures[data-option="${yes!.id}"]`).textContent())
      .toBe("1 · 50%");
    await expect
      .poll(() => card.locator(`.bar-figures[data-option="${no!.id}"]`).textContent())
      .toBe("1 · 50%");
    await card.locator(".voters summary").click();
    await expect
      .poll(() => card.locator(".voter-row").allTextContents())
      .toEqual(["是 YesAda", "否 NoBo", "不確定 Not surenobody"]);

    await expect.poll(() => projector.locator("#projector-prompt-title").textContent()).toBe(QUESTION);
    await expect
      .poll(() => projector.locator(`.bar-figures[data-option="${yes!.id}"]`).textContent())
      .toBe("1 · 50%");
    // Ada changes her mind: the console and the projector follow.
    await vote(ada.page, "否 No");
    await expect
      .poll(() => card.locator(`.bar-figures[data-option="${no!.id}"]`).textContent())
      .toBe("2 · 100%");
    await expect
      .poll(() => projector.locator(`.bar-figures[data-option="${no!.id}"]`).textContent())
      .toBe("2 · 100%");
  });

  it("spotlights a paragraph by clicking it: participants and the projector follow", async () => {
    const paragraph = paragraphWith(snapshot, "𠮷 這個字");
    await mod.page.locator(`#p-${paragraph.id} .spotlight-button`).click();
    await expect
      .poll(() => mod.page.locator(".spotlight-status").textContent())
      .toMatch(/^Spotlight: paragraph \d+$/);
    await ada.page.locator(`#p-${paragraph.id}.spotlight`).waitFor();
    await expect.poll(() => projector.locator(".projector-paragraph").textContent()).toBe(paragraph.text);
    const stored = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect(stored.spotlightParagraphId).toBe(paragraph.id);
  });

  it("runs a phase whose countdown comes from the server's deadline", async () => {
    await mod.page.getByLabel("Phase").selectOption("discussion");
    await mod.page.getByLabel("Minutes").fill("3");
    await mod.page.getByRole("button", { name: "Start phase" }).click();
    const timer = mod.page.locator(".console-controls .countdown");
    await timer.waitFor();
    const phase = await server.prisma.phase.findFirstOrThrow({ where: { seminarId: seminar.id } });
    expect(await timer.getAttribute("data-deadline")).toBe(phase.deadlineAt!.toISOString());
    await expect.poll(() => timer.textContent()).toMatch(/^[23]:\d\d$/);
    // The participants and the projector show the same deadline.
    expect(await ada.page.locator(".countdown").getAttribute("data-deadline")).toBe(
      phase.deadlineAt!.toISOString(),
    );
    await expect
      .poll(() => projector.locator(".countdown").getAttribute("data-deadline"))
      .toBe(phase.deadlineAt!.toISOString());
  });

  it("hides a comment: gone for the participants, marked for the moderator; restores it", async () => {
    const paragraph = paragraphWith(snapshot, "𠮷 這個字");
    await selectInParagraph(ada.page, paragraph.id, QUOTE);
    await ada.page.getByRole("button", { name: "Comment on selection" }).click();
    await ada.page.getByLabel("Your comment").fill(COMMENT);
    await ada.page.getByRole("button", { name: "Comment", exact: true }).click();
    let id = "";
    await eventuallyStored(async () => {
      const stored = await server.prisma.annotation.findFirst({ where: { seminarId: seminar.id } });
      id = stored?.id ?? "";
      return stored !== null;
    }, "Ada's comment");
    await waitForHighlight(bo.page, id);
    await waitForHighlight(mod.page, id);

    await mod.page.locator(`mark[data-ids~="${id}"]`).first().click();
    const card = mod.page.locator(`#a-${id}`);
    await card.getByRole("button", { name: "Hide" }).click();
    await expect.poll(() => card.getAttribute("class")).toMatch(/is-hidden/);
    await expect.poll(() => card.locator(".hidden-badge").textContent()).toBe("Hidden");
    expect(await card.locator(".body").textContent()).toBe(COMMENT);
    // Gone for Bo (highlight and thread), still there for its author, marked.
    await expect.poll(() => bo.page.locator(`mark[data-ids~="${id}"]`).count()).toBe(0);
    await expect.poll(() => bo.page.locator(`#a-${id}`).count()).toBe(0);
    expect((await server.prisma.annotation.findUniqueOrThrow({ where: { id } })).hiddenAt).not.toBeNull();

    expect(await seriousAxeViolations(mod.page)).toEqual([]);

    await card.getByRole("button", { name: "Restore" }).click();
    await waitForHighlight(bo.page, id);
    await card.getByRole("button", { name: "Hide" }).click();
    await expect.poll(() => bo.page.locator(`mark[data-ids~="${id}"]`).count()).toBe(0);
  });

  it("removes a comment only with a reason; the reason is kept in the log", async () => {
    const paragraph = paragraphWith(snapshot, "When a reader marks");
    await ada.page.locator(`#p-${paragraph.id} .comments-button`).click();
    await ada.page.getByLabel("Your comment").fill("離題的留言");
    await ada.page.getByRole("button", { name: "Comment", exact: true }).click();
    let id = "";
    await eventuallyStored(async () => {
      const stored = await server.prisma.annotation.findFirst({
        where: { seminarId: seminar.id, body: "離題的留言" },
      });
      id = stored?.id ?? "";
      return stored !== null;
    }, "Ada's second comment");
    await mod.page.locator(`#p-${paragraph.id} .comments-button`).click();
    const card = mod.page.locator(`#a-${id}`);
    await card.getByRole("button", { name: "Remove…" }).click();
    const reason = card.getByLabel(/^Reason for removing/);
    expect(await reason.getAttribute("required")).not.toBeNull();
    await reason.fill("Off topic");
    await card.getByRole("button", { name: "Remove", exact: true }).click();
    await expect.poll(() => mod.page.locator(`#a-${id}`).count()).toBe(0);
    const removed = await server.prisma.annotation.findUniqueOrThrow({ where: { id } });
    expect(removed.deletedAt).not.toBeNull();
    expect(removed.body).toBe("");
    const logged = await server.prisma.moderationAction.findFirstOrThrow({
      where: { seminarId: seminar.id, targetAnnotationId: id },
    });
    expect(logged).toMatchObject({ action: "annotation:remove", reason: "Off topic" });
  });

  it("shows a refused command with the server's typed error, and changes nothing", async () => {
    // A custom phase whose name is only spaces: the server refuses it (it needs a label).
    await mod.page.getByLabel("Phase").selectOption("custom");
    await mod.page.getByLabel("Name", { exact: true }).fill("   ");
    await mod.page.getByRole("button", { name: "Start phase" }).click();
    const alert = mod.page.locator(".refusal");
    await expect.poll(() => alert.getAttribute("data-code")).toBe("validation_failed");
    expect(await alert.textContent()).toMatch(/^Start the Custom phase was refused: .+validation_failed/);
    expect(await server.prisma.phase.count({ where: { seminarId: seminar.id } })).toBe(1);
    await alert.getByRole("button", { name: "Dismiss" }).click();
    await expect.poll(() => alert.count()).toBe(0);
    await mod.page.getByLabel("Phase").selectOption("discussion");
  });

  it("runs the speaking queue: call next, call a chosen one, clear; the one called is told they have the floor", async () => {
    await openTab(mod.page, "Queue");
    await ada.page.getByRole("button", { name: "Raise hand" }).click();
    await expect.poll(() => ada.page.locator(".hand-button .hand-text").textContent()).toMatch(/1 in line/);
    await bo.page.getByRole("button", { name: "Raise hand" }).click();
    await expect.poll(() => bo.page.locator(".hand-button .hand-text").textContent()).toMatch(/2 in line/);
    await expect.poll(() => mod.page.locator(".hand .member-name").allTextContents()).toEqual(["Ada", "Bo"]);
    // The floor's live region is in the page before anyone is called, so what it says is announced.
    const adaFloor = ada.page.locator(".floor-live");
    const boFloor = bo.page.locator(".floor-live");
    expect(await adaFloor.getAttribute("aria-live")).toBe("assertive");
    expect(await adaFloor.textContent()).toBe("");

    await mod.page.getByRole("button", { name: "Call next" }).click();
    await expect.poll(() => mod.page.locator(".hand .member-name").allTextContents()).toEqual(["Bo"]);
    await expect.poll(() => mod.page.locator(".floor").textContent()).toMatch(/Last called: Ada/);
    await expect.poll(() => ada.page.locator(".hand-button .hand-text").textContent()).toBe("Raise hand");
    await expect.poll(() => adaFloor.textContent()).toMatch(/^You have the floor\./);
    expect(await boFloor.textContent()).toBe("");
    expect(await seriousAxeViolations(ada.page)).toEqual([]);

    // Her hand raised again: the floor has passed.
    await ada.page.getByRole("button", { name: "Raise hand" }).click();
    await expect.poll(() => adaFloor.textContent()).toBe("");
    await expect.poll(() => mod.page.locator(".hand .member-name").allTextContents()).toEqual(["Bo", "Ada"]);
    await mod.page.getByRole("button", { name: "Call Ada" }).click();
    await expect.poll(() => mod.page.locator(".hand .member-name").allTextContents()).toEqual(["Bo"]);
    await expect.poll(() => mod.page.locator(".floor").textContent()).toMatch(/Last called: Ada/);
    await expect.poll(() => adaFloor.textContent()).toMatch(/^You have the floor\./);

    // Clearing the queue ends the round.
    await mod.page.getByRole("button", { name: "Clear queue" }).click();
    await expect.poll(() => mod.page.locator(".hand").count()).toBe(0);
    await expect.poll(() => bo.page.locator(".hand-button .hand-text").textContent()).toBe("Raise hand");
    await expect.poll(() => adaFloor.textContent()).toBe("");
    const entries = await server.prisma.speakingQueueEntry.findMany({ where: { seminarId: seminar.id } });
    expect(entries.filter((entry) => !entry.calledAt && !entry.loweredAt)).toEqual([]);
    expect(entries.filter((entry) => entry.calledAt).map((entry) => entry.memberId)).toEqual([adaId, adaId]);

    // The next one called takes the floor from the one before (Bo on a phone); a notice can be dismissed.
    await bo.page.getByRole("button", { name: "Raise hand" }).click();
    await ada.page.getByRole("button", { name: "Raise hand" }).click();
    await expect.poll(() => mod.page.locator(".hand .member-name").allTextContents()).toEqual(["Bo", "Ada"]);
    await mod.page.getByRole("button", { name: "Call next" }).click();
    await expect.poll(() => boFloor.textContent()).toMatch(/^You have the floor\./);
    expect(await bo.page.locator(".floor-banner").isVisible()).toBe(true);
    await mod.page.getByRole("button", { name: "Call next" }).click();
    await expect.poll(() => adaFloor.textContent()).toMatch(/^You have the floor\./);
    await expect.poll(() => boFloor.textContent()).toBe("");
    await ada.page.locator(".floor-banner").getByRole("button", { name: "Dismiss" }).click();
    await expect.poll(() => adaFloor.textContent()).toBe("");
  });

  it("lifts a timed mute on the participant's screen when it runs out, with no event to say so", async () => {
    const socket = await connect(server.url, { token: moderator.token, seminarId: seminar.id });
    try {
      expectOk(await send(socket, "member:mute", { memberId: boId, durationSeconds: 3 }));
    } finally {
      socket.close();
    }
    const banner = bo.page.locator(".muted-banner");
    await expect.poll(() => banner.textContent()).toMatch(/A moderator muted you until/);
    const boRow = mod.page.locator(".member", { hasText: "Bo" });
    await openTab(mod.page, "People");
    await expect.poll(() => boRow.locator(".muted-badge").count()).toBe(1);
    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    // The end is not announced: the page redraws at the mute's end by itself.
    await expect.poll(() => banner.count(), { timeout: 8_000 }).toBe(0);
    await bo.page.getByRole("button", { name: "Raise hand" }).waitFor();
    await expect.poll(() => boRow.locator(".muted-badge").count()).toBe(0);
    expect(await boRow.getByLabel("Mute Bo for").isVisible()).toBe(true);
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq).toBe(seq);
  });

  it("mutes a participant with a reason: they see it and cannot raise a hand; the log shows it", async () => {
    await openTab(mod.page, "People");
    await mod.page.getByLabel("Reason for the next action").fill("Please let others speak");
    const boRow = mod.page.locator(".member", { hasText: "Bo" });
    await boRow.getByLabel("Mute Bo for").selectOption("0");
    await boRow.getByRole("button", { name: "Mute", exact: true }).click();
    await expect.poll(() => boRow.locator(".muted-badge").textContent()).toBe("Muted");
    await expect
      .poll(() => bo.page.locator(".muted-banner").textContent())
      .toMatch(/A moderator muted you\./);
    expect(await bo.page.getByRole("button", { name: "Raise hand" }).count()).toBe(0);
    const member = await server.prisma.membership.findUniqueOrThrow({ where: { id: boId } });
    expect(member.mutedAt).not.toBeNull();

    // The log shows it with its reason.
    await openTab(mod.page, "Log");
    // Newest first: this mute, then the timed one of the test before.
    const muted = mod.page.locator('.log-entry[data-action="member:mute"]').first();
    await expect
      .poll(() => muted.textContent())
      .toMatch(/Moderator muted Bo until unmuted.*Reason: Please let others speak/);
    await expect.poll(() => mod.page.locator('.log-entry[data-action="annotation:hide"]').count()).toBe(2);
  });

  it("kicks a participant, who sees that they were removed", async () => {
    await openTab(mod.page, "People");
    const adaRow = mod.page.locator(".member", { hasText: "Ada" });
    await adaRow.getByRole("button", { name: "Kick" }).click();
    await expect.poll(() => ada.page.getByRole("alert").first().textContent()).toMatch(/removed you/);
    await expect.poll(() => mod.page.locator(".member.status-kicked .member-name").textContent()).toBe("Ada");
    expect((await server.prisma.membership.findUniqueOrThrow({ where: { id: adaId } })).status).toBe(
      "kicked",
    );
  });

  it("passes axe and is screenshotted at both sizes, console and projector", async () => {
    await openTab(mod.page, "Questions");
    expect(await seriousAxeViolations(mod.page)).toEqual([]);
    await screenshot(mod.page, "console-1280x800");
    await projector.setViewportSize(VIEWPORTS.laptop);
    expect(await seriousAxeViolations(projector)).toEqual([]);
    await screenshot(projector, "projector-1280x800");

    const phone = await openUser(browser, VIEWPORTS.phone);
    await signInAsModerator(phone.page, server.url, MODERATOR);
    await phone.page.goto(`${server.url}/console/${seminar.id}`);
    await phone.page.locator(".connection[data-status='live']").waitFor({ timeout: 15_000 });
    // On a phone the controls bar is one line: state, countdown and a Controls button.
    const bar = phone.page.locator(".console-controls");
    expect((await bar.boundingBox())!.height).toBeLessThanOrEqual(64);
    expect(await bar.locator(".countdown").isVisible()).toBe(true);
    const toggle = phone.page.getByRole("button", { name: "Controls" });
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await phone.page.getByRole("button", { name: "End session…" }).isVisible()).toBe(false);
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await screenshot(phone.page, "console-390x844");
    // By keyboard: Enter opens the groups, Tab reaches them, and the button closes them again.
    await toggle.focus();
    await phone.page.keyboard.press("Enter");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("true");
    await phone.page.keyboard.press("Tab");
    expect(
      await phone.page.evaluate(() => document.activeElement?.closest("#console-control-groups") !== null),
    ).toBe(true);
    expect(await phone.page.getByRole("button", { name: "End session…" }).isVisible()).toBe(true);
    expect(await phone.page.getByRole("button", { name: /^(Lock room|Room locked)$/ }).isVisible()).toBe(
      true,
    );
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await screenshot(phone.page, "console-controls-390x844");
    await toggle.focus();
    await phone.page.keyboard.press(" ");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("false");
    expect((await bar.boundingBox())!.height).toBeLessThanOrEqual(64);
    await openTab(phone.page, "People");
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await phone.page.goto(`${server.url}/projector/${seminar.id}`);
    await phone.page.locator(".projector .connection[data-status='live']").waitFor({ timeout: 15_000 });
    expect(await seriousAxeViolations(phone.page)).toEqual([]);
    await screenshot(phone.page, "projector-390x844");
    await phone.context.close();
  }, 120_000);

  it("ends the session only after the confirmation", async () => {
    await mod.page.getByRole("button", { name: "End session…" }).click();
    const dialog = mod.page.getByRole("dialog", { name: "End the session?" });
    await dialog.waitFor();
    expect(await seriousAxeViolations(mod.page)).toEqual([]);
    await dialog.getByRole("button", { name: "Keep it running" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).state).toBe("live");

    await mod.page.getByRole("button", { name: "End session…" }).click();
    await dialog.getByRole("button", { name: "End the session" }).click();
    await expect.poll(() => mod.page.locator(".console-controls .badge").textContent()).toBe("Session ended");
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).state).toBe(
      "ended",
    );
    await expect
      .poll(() => bo.page.locator(".banner").allTextContents())
      .toContainEqual(expect.stringMatching(/ended/));
    await expect
      .poll(() => projector.locator(".projector-join").textContent())
      .toBe("The session has ended.");
  });

  it("downloads the transcript in every format from the seminar page, each checked by content", async () => {
    const { page } = mod;
    await page.goto(`${server.url}/seminars/${seminar.id}`);
    await page.getByRole("heading", { name: "Transcript" }).waitFor();

    const document = JSON.parse(
      (await downloadFrom(page, "JSON")).bytes.toString("utf8"),
    ) as TranscriptDocument;
    const validate = transcriptValidator();
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document.seminar.state).toBe("ended");
    expect(document.annotations.find((item) => item.body === COMMENT)?.hidden).toBe(true);
    expect(document.moderationLog?.map((entry) => entry.action)).toEqual(
      expect.arrayContaining([
        "annotation:hide",
        "annotation:remove",
        "member:mute",
        "member:kick",
        "queue:call",
        "queue:clear",
        "room:spotlight",
        "room:phase",
      ]),
    );

    const annotations = readCsv((await downloadFrom(page, "CSV: annotations")).bytes.toString("utf8"));
    expect(annotations.find((row) => row.body === COMMENT)).toMatchObject({
      author_name: "Ada",
      hidden: "true",
      quote_exact: QUOTE,
    });
    const ballots = readCsv((await downloadFrom(page, "CSV: ballots")).bytes.toString("utf8"));
    expect(ballots.map((row) => `${row.member_name}:${row.option_label}`).sort()).toEqual([
      "Ada:否 No",
      "Bo:否 No",
    ]);

    const markdown = (await downloadFrom(page, "Markdown")).bytes.toString("utf8");
    expect(markdown).toContain(TITLE);
    expect(markdown).toContain(QUESTION);
    expect(markdown).toContain(COMMENT);

    const jsonld = JSON.parse(
      (await downloadFrom(page, "JSON-LD (Web Annotations)")).bytes.toString("utf8"),
    ) as {
      first: { items: { target: { selector?: { type: string; exact?: string }[] } | string }[] };
    };
    const quotes = jsonld.first.items.flatMap((item) =>
      typeof item.target === "string"
        ? []
        : (item.target.selector ?? []).filter((selector) => selector.type === "TextQuoteSelector"),
    );
    expect(quotes.map((selector) => selector.exact)).toEqual([QUOTE]);

    const zip = await unzip((await downloadFrom(page, "Everything (ZIP)")).bytes);
    expect([...zip.keys()].map((name) => name.split("/").at(-1)).sort()).toEqual(
      [
        "annotations.csv",
        "annotations.jsonld",
        "ballots.csv",
        "members.csv",
        "tallies.csv",
        "timeline.csv",
        "transcript.json",
        "transcript.md",
      ].sort(),
    );
    const zipped = JSON.parse(
      [...zip].find(([name]) => name.endsWith("/transcript.json"))![1].toString("utf8"),
    ) as TranscriptDocument;
    expect(validate(zipped), JSON.stringify(validate.errors)).toBe(true);
    expect(zipped.annotations.map((item) => item.id)).toEqual(document.annotations.map((item) => item.id));
    expect(mod.errors).toEqual([]);
  }, 120_000);
});
