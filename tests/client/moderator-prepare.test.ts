/**
 * The moderator's preparing pages in real headless Chromium against the real server and
 * PostgreSQL: sign up and sign in, create a seminar from an uploaded CJK + English file after
 * checking the importer's preview, write a question of every kind (in the create form and on the
 * draft's page, which sends `prompt:create` over Socket.IO), replace the essay, start, find the
 * seminar live in the list with its code, link and QR code, download the transcript in every
 * format (files checked by content) and open or close the transcript to participants.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CSV_COLUMNS } from "../../src/modules/transcripts/transcript.csv.ts";
import { type ErrorBody, retryAfterMs } from "../../src/protocol/result.ts";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import {
  addQuestion,
  type BrowserUser,
  downloadFrom,
  expectUploadPreview,
  fillQuestion,
  launchBrowser,
  MODERATOR_UPLOAD,
  openUser,
  screenshot,
  seminarsListed,
  seriousAxeViolations,
  signInAsModerator,
  storedAccountToken,
  uploadEssay,
  VIEWPORTS,
} from "../helpers/browser.ts";
import { buildGuest, expectOk, type GuestSession, TEST_ESSAY } from "../helpers/factories.ts";
import { type ClientSocket, connect, send, startTestServer } from "../helpers/server.ts";
import { download, readCsv, transcriptValidator, unzip } from "../helpers/transcripts.ts";

// Twelve downloads in this file's minute: above the default per-member limit of ten.
const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "100" });
const browser = await launchBrowser();

const EMAIL = "lin.moderator@example.test";
const PASSWORD = "a long enough passphrase";
const SEMINAR_TITLE = "共讀 Reading Together — week 1";

describe("the moderator prepares a seminar in the web client", () => {
  let lin: BrowserUser;
  let seminarId: string;
  let joinUrl: string;
  let guest: GuestSession;
  let guestSocket: ClientSocket | undefined;

  beforeAll(async () => {
    lin = await openUser(browser, VIEWPORTS.laptop);
  });
  afterAll(() => {
    guestSocket?.close();
  });

  it("signs up, refusing a short password and a taken e-mail with the server's reasons", async () => {
    const { page } = lin;
    // From the participants' join page to sign-in, then to sign-up, without a page load.
    await page.goto(`${server.url}/`);
    await page.getByRole("link", { name: "Moderating? Sign in" }).click();
    await page.getByRole("heading", { name: "Sign in to moderate" }).waitFor();
    await page.getByRole("link", { name: "Create a moderator account" }).click();
    await page.getByRole("heading", { name: "Create a moderator account" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/signup");
    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByLabel("Password").fill("short");
    await page.getByLabel("Your name").fill("林老師 Lin");
    await page.getByRole("button", { name: "Create account" }).click();
    // Refused by the protocol's own schema before sending: the field says why.
    await expect
      .poll(() => page.locator("#signin-password-error").textContent())
      .toBe("Password must be at least 10 characters long.");
    expect(await page.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
    expect(await server.prisma.account.count({ where: { email: EMAIL } })).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A taken e-mail is refused by the server (conflict), shown as such.
    expectOk(
      await server.http("POST", "/api/auth/register", {
        email: "taken@example.test",
        password: PASSWORD,
        displayName: "Someone",
      }),
    );
    await page.getByLabel("E-mail").fill("Taken@Example.test");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/already exists/);

    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByRole("button", { name: "Create account" }).click();
    await seminarsListed(page);
    expect(new URL(page.url()).pathname).toBe("/seminars");
    const account = await server.prisma.account.findUniqueOrThrow({ where: { email: EMAIL } });
    expect(account.displayName).toBe("林老師 Lin");
    const stored = await page.evaluate(() =>
      JSON.parse(localStorage.getItem("stepstone.account.v1") ?? "null"),
    );
    expect(stored).toMatchObject({ accountId: account.id, email: EMAIL, displayName: "林老師 Lin" });
    expect(Date.parse(stored.expiresAt)).toBeGreaterThan(Date.now());
    await expect.poll(() => page.locator("main").textContent()).toContain("No seminars yet");
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it("signs out, refuses a wrong password, and signs in again", async () => {
    const { page } = lin;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to moderate" }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("stepstone.account.v1"))).toBeNull();
    // A moderator page without a session asks to sign in.
    await page.goto(`${server.url}/seminars`);
    await page.getByRole("heading", { name: "Sign in to moderate" }).waitFor();

    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("The e-mail or the password is not right.");
    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await seminarsListed(page);
  });

  it("exchanges a token close to its expiry for a fresh one on the next request", async () => {
    const { page } = lin;
    const read = () =>
      page.evaluate(() => JSON.parse(localStorage.getItem("stepstone.account.v1") ?? "null"));
    const soon = new Date(Date.now() + 5 * 60_000).toISOString();
    await page.evaluate((expiresAt) => {
      const stored = JSON.parse(localStorage.getItem("stepstone.account.v1") ?? "null");
      localStorage.setItem("stepstone.account.v1", JSON.stringify({ ...stored, expiresAt }));
    }, soon);
    await page.reload();
    await seminarsListed(page);
    await expect.poll(async () => (await read()).expiresAt).not.toBe(soon);
    const refreshed = await read();
    expect(Date.parse(refreshed.expiresAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
    const me = expectOk(
      await server.http<{ email: string }>("GET", "/api/auth/me", undefined, refreshed.token),
    );
    expect(me.email).toBe(EMAIL);
  });

  it("creates a seminar from an uploaded file after checking the importer's preview", async () => {
    const { page } = lin;
    await page.getByRole("link", { name: "New seminar" }).first().click();
    await page.getByRole("heading", { name: "New seminar", level: 1 }).waitFor();
    await uploadEssay(page, MODERATOR_UPLOAD);
    await expect
      .poll(() => page.locator("#new-essay-file-note").textContent())
      .toMatch(/^Read moderator-upload/);

    // Saving before a preview is refused on the page, and nothing is stored.
    await page.getByRole("button", { name: "Save as draft" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/must be previewed/);
    expect(await server.prisma.seminar.count()).toBe(0);

    const preview = await expectUploadPreview(page);
    // The blocks shown are the server's preview of exactly this text.
    const moderatorToken = await storedAccountToken(page);
    const served = expectOk(
      await server.http<{ blocks: { kind: string; text: string }[] }>(
        "POST",
        "/api/essays/preview",
        { text: readFileSync(MODERATOR_UPLOAD, "utf8"), format: "text" },
        moderatorToken,
      ),
    );
    expect(await preview.locator(".block-text").allTextContents()).toEqual(served.blocks.map((b) => b.text));
    // The seminar's title is the essay's until the moderator writes another.
    expect(await page.getByLabel("Seminar title").inputValue()).toBe("共讀的練習 Reading Together");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await preview.scrollIntoViewIfNeeded();
    await page.locator("#essay-title").scrollIntoViewIfNeeded();
    await screenshot(page, "create-1280x800");

    // Changing the text makes the preview stale: saving waits for a new one.
    await page.getByLabel("Essay text").press("End");
    await page.getByLabel("Essay text").type("\n\nOne more paragraph.");
    await expect.poll(() => page.getByRole("button", { name: "Preview again" }).count()).toBe(1);
    await page.getByLabel("Essay text").fill(readFileSync(MODERATOR_UPLOAD, "utf8"));
  });

  it("writes a question of every kind, refusing incomplete ones field by field", async () => {
    const { page } = lin;
    // One option is not enough: the schema's reason is shown on the field.
    await page.locator("#new-prompt-question").fill("Too few?");
    await page.locator("#new-prompt-options").fill("Only one");
    await page.locator("form.prompt-editor").getByRole("button", { name: "Add question" }).click();
    await expect
      .poll(() => page.locator("#new-prompt-options-error").textContent())
      .toBe("Options need at least 2 entries.");
    // A limit above the options is refused before sending.
    await page.locator("form.prompt-editor").getByLabel("Multiple choice", { exact: true }).check();
    await page.locator("#new-prompt-options").fill("A\nB");
    await page.locator("#new-prompt-max-choices").fill("3");
    await page.locator("form.prompt-editor").getByRole("button", { name: "Add question" }).click();
    await expect
      .poll(() => page.locator("#new-prompt-max-choices-error").textContent())
      .toMatch(/at most the number of options \(2\)/);

    await addQuestion(page, "new-prompt", {
      kind: "Single choice",
      question: "這段話有說服力嗎？ Convincing?",
      options: ["是 Yes", "否 No"],
    });
    await addQuestion(page, "new-prompt", {
      kind: "Multiple choice",
      question: "Which passages should we discuss?",
      options: ["01", "02", "The caption"],
      maxChoices: 2,
      named: true,
    });
    await addQuestion(page, "new-prompt", {
      kind: "Scale",
      question: "How much do you agree?",
      scale: { min: 1, max: 5, minLabel: "Disagree", maxLabel: "Agree" },
      results: "After the question closes",
    });
    await expect.poll(() => page.locator(".prompt-drafts > li").count()).toBe(3);
    expect(await page.locator(".prompt-drafts .prompt-options").nth(2).textContent()).toBe(
      "1 Disagree · 2 · 3 · 4 · 5 Agree",
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it("saves the draft with its essay and questions", async () => {
    const { page } = lin;
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    await page.locator(".essay-preview .preview-title").waitFor();
    await page.getByLabel("Seminar title").fill(SEMINAR_TITLE);
    await page.getByRole("button", { name: "Save as draft" }).click();
    await page.getByRole("heading", { name: SEMINAR_TITLE, level: 1 }).waitFor();
    seminarId = new URL(page.url()).pathname.split("/")[2]!;

    const stored = await server.prisma.seminar.findUniqueOrThrow({
      where: { id: seminarId },
      include: {
        essay: { include: { paragraphs: true } },
        prompts: { include: { options: true }, orderBy: { position: "asc" } },
      },
    });
    expect(stored.title).toBe(SEMINAR_TITLE);
    expect(stored.state).toBe("draft");
    expect(stored.essay?.byline).toBe("文／林小雨 Lin Xiaoyu");
    expect(stored.essay?.paragraphs.filter((block) => block.kind === "paragraph")).toHaveLength(4);
    expect(
      stored.prompts.map((prompt) => ({
        kind: prompt.kind,
        question: prompt.question,
        maxChoices: prompt.maxChoices,
        anonymous: prompt.anonymous,
        resultsVisibility: prompt.resultsVisibility,
        options: prompt.options.sort((a, b) => a.position - b.position).map((option) => option.label),
      })),
    ).toEqual([
      {
        kind: "single_choice",
        question: "這段話有說服力嗎？ Convincing?",
        maxChoices: 1,
        anonymous: true,
        resultsVisibility: "live",
        options: ["是 Yes", "否 No"],
      },
      {
        kind: "multiple_choice",
        question: "Which passages should we discuss?",
        maxChoices: 2,
        anonymous: false,
        resultsVisibility: "live",
        options: ["01", "02", "The caption"],
      },
      {
        kind: "scale",
        question: "How much do you agree?",
        maxChoices: 1,
        anonymous: true,
        resultsVisibility: "after_close",
        options: ["1 Disagree", "2", "3", "4", "5 Agree"],
      },
    ]);
    expect(await page.locator(".essay-counts").textContent()).toBe("4 paragraphs, 2 sections");
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it("adds a question to the draft (prompt:create over Socket.IO) and replaces its essay", async () => {
    const { page } = lin;
    await addQuestion(page, "seminar-prompt", {
      kind: "Single choice",
      question: "Ready to start?",
      options: ["Yes", "Not yet"],
      results: "Moderators only (reveal later)",
    });
    await expect.poll(() => page.locator(".prompt-drafts > li").count()).toBe(4);
    const added = await server.prisma.prompt.findFirstOrThrow({
      where: { seminarId, question: "Ready to start?" },
    });
    expect({ state: added.state, resultsVisibility: added.resultsVisibility }).toEqual({
      state: "draft",
      resultsVisibility: "moderators",
    });

    await page.getByRole("button", { name: "Replace the essay" }).click();
    await page.locator("#replace-essay-text").fill(TEST_ESSAY);
    await page.getByRole("button", { name: "Replace with this essay" }).click();
    await expect.poll(() => page.locator(".replace-essay [role=alert]").textContent()).toMatch(/Preview/);
    await page.locator(".replace-essay").getByRole("button", { name: "Preview", exact: true }).click();
    await expect
      .poll(() => page.locator(".replace-essay .preview-title").textContent())
      .toBe("Reading Together");
    await page.getByRole("button", { name: "Replace with this essay" }).click();
    await expect.poll(() => page.locator(".essay-title").textContent()).toBe("Reading Together");
    expect(await page.locator(".essay-counts").textContent()).toBe("4 paragraphs, 2 sections");
    const essay = await server.prisma.essay.findUniqueOrThrow({ where: { seminarId } });
    expect(essay.title).toBe("Reading Together");

    // Back to the uploaded essay for the session.
    await page.getByRole("button", { name: "Replace the essay" }).click();
    await uploadEssay(page, MODERATOR_UPLOAD);
    await page.locator(".replace-essay").getByRole("button", { name: "Preview", exact: true }).click();
    await page.locator(".replace-essay .preview-title").waitFor();
    await page.getByRole("button", { name: "Replace with this essay" }).click();
    await expect.poll(() => page.locator(".essay-title").textContent()).toBe("共讀的練習 Reading Together");
  });

  it("edits and deletes draft questions on the seminar page, checked as the create form checks them", async () => {
    const { page } = lin;
    const questions = page.locator(".prompt-drafts > li");
    const storedQuestions = () =>
      server.prisma.prompt.findMany({
        where: { seminarId },
        orderBy: { position: "asc" },
        include: { options: { orderBy: { position: "asc" } } },
      });

    // Edit the fourth: the form comes filled in with what is stored.
    await page.getByRole("button", { name: "Edit question 4" }).click();
    const editor = page.locator("form.prompt-editor:has(#edit-prompt-4-question)");
    expect(await editor.getByRole("heading").textContent()).toBe("Edit the question");
    expect(await page.locator("#edit-prompt-4-question").inputValue()).toBe("Ready to start?");
    expect(await page.locator("#edit-prompt-4-options").inputValue()).toBe("Yes\nNot yet");
    expect(await page.locator("#edit-prompt-4-visibility").inputValue()).toBe("moderators");
    expect(await seriousAxeViolations(page)).toEqual([]);
    // One option is refused on its field before anything is sent.
    await page.locator("#edit-prompt-4-options").fill("Only one");
    await editor.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(() => page.locator("#edit-prompt-4-options-error").textContent())
      .toBe("Options need at least 2 entries.");
    expect((await storedQuestions())[3]!.options.map((option) => option.label)).toEqual(["Yes", "Not yet"]);
    // Cancel keeps what is stored; the next edit is saved.
    await editor.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => editor.count()).toBe(0);
    await page.getByRole("button", { name: "Edit question 4" }).click();
    await fillQuestion(page, "edit-prompt-4", {
      kind: "Multiple choice",
      question: "Ready to start now?",
      options: ["Yes", "Not yet", "Later"],
      maxChoices: 2,
      named: true,
    });
    await editor.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(() => questions.nth(3).locator(".prompt-question").textContent())
      .toMatch(/Ready to start now\?$/);
    const edited = (await storedQuestions())[3]!;
    expect({
      kind: edited.kind,
      question: edited.question,
      maxChoices: edited.maxChoices,
      anonymous: edited.anonymous,
      resultsVisibility: edited.resultsVisibility,
      options: edited.options.map((option) => option.label),
      state: edited.state,
    }).toEqual({
      kind: "multiple_choice",
      question: "Ready to start now?",
      maxChoices: 2,
      anonymous: false,
      resultsVisibility: "moderators",
      options: ["Yes", "Not yet", "Later"],
      state: "draft",
    });

    // Delete asks first; "Keep it" keeps it.
    await addQuestion(page, "seminar-prompt", {
      kind: "Single choice",
      question: "Throwaway?",
      options: ["A", "B"],
    });
    await expect.poll(() => questions.count()).toBe(5);
    await page.getByRole("button", { name: "Delete… question 5" }).click();
    await questions.nth(4).getByRole("button", { name: "Keep it" }).click();
    expect(await storedQuestions()).toHaveLength(5);
    await page.getByRole("button", { name: "Delete… question 5" }).click();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await questions.nth(4).getByRole("button", { name: "Delete the question" }).click();
    await expect.poll(() => questions.count()).toBe(4);
    expect((await storedQuestions()).map((prompt) => prompt.question)).not.toContain("Throwaway?");

    // A question deleted meanwhile elsewhere (another tab): this page's delete is refused, with the code.
    await addQuestion(page, "seminar-prompt", {
      kind: "Single choice",
      question: "Raced?",
      options: ["A", "B"],
    });
    await expect.poll(() => questions.count()).toBe(5);
    const raced = (await storedQuestions())[4]!;
    const elsewhere = await connect(server.url, { token: await storedAccountToken(page), seminarId });
    try {
      expectOk(await send(elsewhere, "prompt:delete", { promptId: raced.id }));
    } finally {
      elsewhere.close();
    }
    await page.getByRole("button", { name: "Delete… question 5" }).click();
    await questions.nth(4).getByRole("button", { name: "Delete the question" }).click();
    const refusal = questions.nth(4).getByRole("alert");
    await expect.poll(() => refusal.getAttribute("data-code")).toBe("not_found");
    expect(await refusal.locator(".error-code").textContent()).toBe("not_found");
    await page.reload();
    await expect.poll(() => questions.count()).toBe(4);
  });

  it("starts the seminar after a confirmation", async () => {
    const { page } = lin;
    await page.getByRole("button", { name: "Start the seminar" }).click();
    await page.getByRole("button", { name: "Not yet" }).click();
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } })).state).toBe("draft");
    await page.getByRole("button", { name: "Start the seminar" }).click();
    await page.getByRole("button", { name: "Yes, start now" }).click();
    await expect.poll(() => page.locator("#join-title .badge").textContent()).toBe("Live");
    const stored = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } });
    expect(stored.state).toBe("live");
    expect(await page.getByRole("button", { name: "Replace the essay" }).count()).toBe(0);
  });

  it("lists the seminar as live with its join code, link and a QR code of the link", async () => {
    const { page } = lin;
    await page.getByRole("link", { name: "Your seminars" }).click();
    const card = page.locator(".seminar-card", { hasText: SEMINAR_TITLE });
    await card.waitFor();
    const stored = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } });
    joinUrl = `${server.url}/join/${stored.joinCode}`;
    expect(await card.locator(".badge").textContent()).toBe("Live");
    expect(await card.locator(".code").textContent()).toBe(stored.joinCode);
    expect(await card.locator("a.join-url").getAttribute("href")).toBe(joinUrl);
    const qr = card.getByRole("img", { name: `QR code of the join link ${joinUrl}` });
    expect(await qr.evaluate((svg) => svg.tagName.toLowerCase())).toBe("svg");
    // A QR code's matrix: at least version 1 (21 modules) plus the quiet zone, with dark modules drawn.
    const viewBox = (await qr.getAttribute("viewBox"))!.split(" ").map(Number);
    expect(viewBox[2]).toBeGreaterThanOrEqual(25);
    expect((await qr.locator("path").getAttribute("d"))!.length).toBeGreaterThan(100);
    expect(await card.getByRole("link", { name: /^Open console/ }).getAttribute("href")).toBe(
      `/console/${seminarId}`,
    );
    expect(await card.getByRole("link", { name: /^Projector/ }).getAttribute("href")).toBe(
      `/projector/${seminarId}`,
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, "seminars-1280x800");
  });

  it("downloads the transcript in every format, anonymised or not, checked by content", async () => {
    const { page } = lin;
    guest = await buildGuest(server, joinUrl.split("/").pop()!, "Bo 博");
    guestSocket = await connect(server.url, { token: guest.token });
    const snapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminarId}`, undefined, guest.token),
    );
    const paragraph = snapshot.essay.paragraphs.find((block) => block.text.includes("𠮷"))!;
    expectOk(
      await send(guestSocket, "annotation:create", {
        paragraphId: paragraph.id,
        body: "一個字元 one code point",
      }),
    );

    await page
      .locator(".seminar-card", { hasText: SEMINAR_TITLE })
      .getByRole("link", { name: /^Details/ })
      .click();
    await page.getByRole("heading", { name: "Transcript" }).waitFor();
    const validate = transcriptValidator();

    const json = await downloadFrom(page, "JSON");
    expect(json.name).toMatch(/-transcript\.json$/);
    const document = JSON.parse(json.bytes.toString("utf8")) as TranscriptDocument;
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document.anonymized).toBe(false);
    expect(document.seminar.title).toBe(SEMINAR_TITLE);
    expect(document.prompts).toHaveLength(4);
    expect(document.members.map((member) => member.displayName)).toContain("Bo 博");
    expect(document.annotations.map((annotation) => annotation.body)).toEqual(["一個字元 one code point"]);

    const markdown = (await downloadFrom(page, "Markdown")).bytes.toString("utf8");
    expect(markdown).toContain(SEMINAR_TITLE);
    expect(markdown).toContain("一個字元 one code point");

    const jsonld = JSON.parse((await downloadFrom(page, "JSON-LD (Web Annotations)")).bytes.toString("utf8"));
    expect(JSON.stringify(jsonld["@context"])).toContain("http://www.w3.org/ns/anno.jsonld");
    expect(jsonld.first.items.map((item: { body: { value: string }[] }) => item.body[0]?.value)).toEqual([
      "一個字元 one code point",
    ]);

    const annotations = readCsv((await downloadFrom(page, "CSV: annotations")).bytes.toString("utf8"));
    expect(annotations.map((row) => row.body)).toEqual(["一個字元 one code point"]);
    const members = readCsv((await downloadFrom(page, "CSV: members")).bytes.toString("utf8"));
    expect(members.map((row) => row.display_name).sort()).toEqual(["Bo 博", "林老師 Lin"].sort());
    for (const table of ["ballots", "tallies", "timeline"] as const) {
      const file = await downloadFrom(page, `CSV: ${table}`);
      expect(file.name).toMatch(new RegExp(`-${table}\\.csv$`));
      const text = file.bytes.toString("utf8");
      expect(text.replace(/^\uFEFF/, "").split("\r\n")[0]).toBe(CSV_COLUMNS[table].join(","));
      const rows = readCsv(text);
      // No question was opened: no ballots and no tallies yet; the timeline has the session's events.
      if (table === "timeline") expect(rows.map((row) => row.type)).toContain("annotation:created");
      else expect(rows).toEqual([]);
    }

    const zip = await unzip((await downloadFrom(page, "Everything (ZIP)")).bytes);
    const names = [...zip.keys()];
    expect(names.some((name) => name.endsWith("transcript.json"))).toBe(true);
    expect(names.some((name) => name.endsWith(".md"))).toBe(true);
    expect(names.filter((name) => name.endsWith(".csv")).length).toBe(5);

    await page.getByLabel(/^Anonymised/).check();
    const anonymous = await downloadFrom(page, "JSON");
    expect(anonymous.name).toMatch(/-anonymized\.json$/);
    const anonymised = JSON.parse(anonymous.bytes.toString("utf8")) as TranscriptDocument;
    expect(validate(anonymised), JSON.stringify(validate.errors)).toBe(true);
    expect(anonymised.anonymized).toBe(true);
    expect(anonymous.bytes.toString("utf8")).not.toContain("Bo 博");
    const anonymousMembers = (await downloadFrom(page, "CSV: members")).bytes.toString("utf8");
    expect(anonymousMembers).not.toContain("Bo 博");
    expect(readCsv(anonymousMembers)).toHaveLength(2);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 120_000);

  it("opens and closes the transcript to participants", async () => {
    const { page } = lin;
    const asGuest = () => download(server, seminarId, guest.token, "format=json");
    expect((await asGuest()).status).toBe(403);

    await page.getByLabel("Participants and observers may download the transcript").check();
    await expect
      .poll(() => page.locator(".transcripts [role=status]").textContent())
      .toBe("Participants may now download the transcript.");
    const stored = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } });
    expect(stored.transcriptAccess).toBe(true);
    const granted = await asGuest();
    expect(granted.status).toBe(200);
    const theirs = JSON.parse(granted.text) as TranscriptDocument;
    expect(theirs.viewer.moderator).toBe(false);
    expect(theirs.moderationLog).toBeNull();

    await page.getByLabel("Participants and observers may download the transcript").uncheck();
    await expect
      .poll(() => page.locator(".transcripts [role=status]").textContent())
      .toBe("Only moderators may download the transcript now.");
    expect((await asGuest()).status).toBe(403);
    // A reload shows what is stored.
    await page.reload();
    await page.getByRole("heading", { name: "Transcript" }).waitFor();
    expect(await page.getByLabel("Participants and observers may download the transcript").isChecked()).toBe(
      false,
    );
  });

  it("follows a busy server's retry hint: the seminar's page loads once the admission gate has room", async () => {
    const busy = await openUser(browser, VIEWPORTS.laptop);
    await signInAsModerator(busy.page, server.url, { email: EMAIL, password: PASSWORD });
    const token = await storedAccountToken(busy.page);
    // Real load on the node's admission gate: a snapshot request in every slot, each waiting for a
    // lock that a second database session holds on a table snapshots read.
    const locker = new pg.Client({ connectionString: server.db.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE speaking_queue IN ACCESS EXCLUSIVE MODE");
    const gate = server.app.realtime.admission;
    const slots = server.app.context.config.databasePoolSize - 1;
    const holders = Array.from({ length: slots }, () =>
      server.http("GET", `/api/seminars/${seminarId}`, undefined, token),
    );
    let released = false;
    try {
      await expect.poll(() => gate.stats().running).toBe(slots);

      // The page's request queues behind them and is refused `unavailable` with a hint.
      const refused = busy.page.waitForResponse(
        (response) => new URL(response.url()).pathname === `/api/seminars/${seminarId}`,
        { timeout: 15_000 },
      );
      const retried = new Promise<number>((resolve) => {
        let seen = 0;
        busy.page.on("request", (request) => {
          if (new URL(request.url()).pathname !== `/api/seminars/${seminarId}`) return;
          if (++seen === 2) resolve(Date.now());
        });
      });
      await busy.page.goto(`${server.url}/seminars/${seminarId}`);
      const answer = await refused;
      const refusedAt = Date.now();
      expect(answer.status()).toBe(503);
      const body = (await answer.json()) as { ok: false; error: ErrorBody };
      expect(body.error.code).toBe("unavailable");
      const hint = retryAfterMs(body.error)!;
      expect(hint).toBeGreaterThanOrEqual(250);
      expect(Number(answer.headers()["retry-after"])).toBe(Math.ceil(hint / 1000));
      // Still waiting, not showing the refusal.
      expect(await busy.page.getByRole("status").textContent()).toBe("Loading the seminar…");

      // The load goes; the page asks again after the hinted wait, and shows the seminar.
      await locker.query("COMMIT");
      released = true;
      await Promise.all(holders);
      expect((await retried) - refusedAt).toBeGreaterThanOrEqual(hint - 100);
      await busy.page.getByRole("heading", { name: SEMINAR_TITLE, level: 1 }).waitFor();
      expect(await busy.page.locator(".form-error").count()).toBe(0);
      expect(busy.failedRequests).toEqual([`503 GET /api/seminars/${seminarId}`]);
      expect(busy.errors).toEqual([]);
    } finally {
      if (!released) await locker.query("COMMIT");
      await locker.end();
      await busy.context.close();
    }
  });

  it("works on a phone: create page with its preview and the list, accessible", async () => {
    const phone = await openUser(browser, VIEWPORTS.phone);
    const { page } = phone;
    await signInAsModerator(page, server.url, { email: EMAIL, password: PASSWORD });
    await page.locator(".seminar-card").first().waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, "seminars-390x844");
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await page.goto(`${server.url}/seminars/new`);
    await uploadEssay(page, MODERATOR_UPLOAD);
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    await page.locator(".essay-preview .preview-title").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.locator(".essay-preview").scrollIntoViewIfNeeded();
    await screenshot(page, "create-390x844");
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it("raised no page errors and no unexpected failed requests", () => {
    expect(lin.errors).toEqual([]);
    // The refusals the tests provoked on purpose, and nothing else.
    expect(lin.failedRequests.sort()).toEqual(
      ["401 POST /api/auth/login", "409 POST /api/auth/register"].sort(),
    );
  });
});
