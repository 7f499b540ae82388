/**
 * The reading room's behaviour around the main scenario, in real Chromium against the real
 * server: output safety, resuming after a reload, following the spotlight, editing and deleting
 * one's own comment, refreshing the token, and what the client does when the server closes it.
 */
import type { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientServerEvents } from "../../client/src/connection/closing.ts";
import { seminarSelect } from "../../src/modules/seminars/seminars.service.ts";
import type { ClientToServerEvents } from "../../src/protocol/events.ts";
import { roomOf } from "../../src/realtime/server.ts";
import {
  type BrowserUser,
  launchBrowser,
  openUser,
  seriousAxeViolations,
  VIEWPORTS,
} from "../helpers/browser.ts";
import { buildLiveRoom, joinInBrowser, paragraphWith, waitForLive } from "../helpers/client-room.ts";
import { buildGuest, expectOk } from "../helpers/factories.ts";
import { connect, eventually, send, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();
const browser = await launchBrowser();

/** The server as it will be once it announces closes: the shared map plus connection:closing. */
const closingServer = () =>
  server.app.realtime.io as unknown as Server<ClientToServerEvents, ClientServerEvents>;

describe("the reading room", () => {
  let room: Awaited<ReturnType<typeof buildLiveRoom>>;
  let ada: BrowserUser;
  let adaId: string;

  beforeAll(async () => {
    room = await buildLiveRoom(server, {
      prompts: [
        {
          kind: "single_choice",
          question: '<em>Open</em> weights? <script>window.__pwned = "prompt"</script>',
          options: ["<b>yes</b>", "**no**"],
        },
      ],
    });
    ada = await openUser(browser, VIEWPORTS.laptop);
    await joinInBrowser(ada.page, server.url, room.joinCode, "Ada");
    adaId = (await server.prisma.membership.findFirstOrThrow({ where: { displayName: "Ada" } })).id;
  });
  afterAll(() => room.moderatorSocket.close());

  it("renders names, comments and questions full of HTML, script and Markdown as text", async () => {
    const name = "<img src=x onerror=alert(1)>**Eve**";
    const body = [
      '<script>window.__pwned = "body"</script><b>bold</b>',
      "**markdown** _em_ [link](javascript:alert(1))",
      "<img src=x onerror=window.__pwned=2> &amp; &lt;",
    ].join("\n");
    const eve = await buildGuest(server, room.joinCode, name);
    const socket = await connect(server.url, { token: eve.token });
    const paragraph = paragraphWith(room.snapshot, "國家隊");
    expectOk(await send(socket, "annotation:create", { paragraphId: paragraph.id, body }));

    await ada.page.locator(`#p-${paragraph.id} .comments-button`).click();
    const card = ada.page.locator(".thread .annotation").first();
    await expect.poll(() => card.locator(".body").textContent()).toBe(body);
    expect(await card.locator(".author").textContent()).toBe(name);
    expect(await card.locator(".body").innerHTML()).not.toContain("<b>");
    await ada.page.getByRole("tab", { name: /Questions/ }).click();
    expect(await ada.page.locator(".prompt h3").textContent()).toBe(
      '<em>Open</em> weights? <script>window.__pwned = "prompt"</script>',
    );
    expect(await ada.page.locator(".prompt .option").allTextContents()).toEqual(["<b>yes</b>", "**no**"]);
    await ada.page.locator(".presence > button").click();
    await expect.poll(() => ada.page.locator(".presence-popover").textContent()).toContain(name);
    await ada.page.locator(".presence > button").click();

    expect(await ada.page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await ada.page.locator("main img, aside img, .topbar img, script:not([src])").count()).toBe(0);
    expect(await ada.page.locator(".panel b, .panel em, .panel a[href]").count()).toBe(0);
    expect(await seriousAxeViolations(ada.page)).toEqual([]);
    socket.close();
  });

  it("edits and deletes one's own comment; the room sees the new text, then a tombstone", async () => {
    const paragraph = paragraphWith(room.snapshot, "開放的模型");
    await ada.page.locator(`#p-${paragraph.id} .comments-button`).click();
    await ada.page.getByLabel("Your comment").fill("First thought");
    await ada.page.getByRole("button", { name: "Comment", exact: true }).click();
    const card = ada.page.locator(".thread .annotation").first();
    await card.getByRole("button", { name: "Edit" }).click();
    await ada.page.getByLabel("Edit your comment").fill("Second thought");
    await ada.page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => card.locator(".body").textContent()).toBe("Second thought");
    expect(await card.locator(".edited").textContent()).toBe("edited");
    const stored = await server.prisma.annotation.findFirstOrThrow({ where: { authorId: adaId } });
    expect(stored).toMatchObject({ body: "Second thought", version: 2 });

    await card.getByRole("button", { name: "Delete" }).click();
    await card.getByRole("button", { name: "Yes, delete" }).click();
    // A tombstone without replies leaves the thread list; the database keeps the row.
    await expect.poll(() => ada.page.locator(".thread").count()).toBe(0);
    expect(await ada.page.locator(`#p-${paragraph.id} .comments-button.has-comments`).count()).toBe(0);
    const deleted = await server.prisma.annotation.findUniqueOrThrow({ where: { id: stored.id } });
    expect(deleted.deletedAt).not.toBeNull();
    expect(deleted.body).toBe("");
  });

  it("follows the moderator's spotlight, and stops following when asked", async () => {
    const paragraphs = room.snapshot.essay.paragraphs.filter((item) => item.kind === "paragraph");
    const spotlight = async (paragraphId: string) =>
      server.app.realtime.rooms.writeForRoom(room.seminar.id, async ({ tx, append, known }) => {
        known.seminar = await tx.seminar.update({
          where: { id: room.seminar.id },
          data: { spotlightParagraphId: paragraphId },
          select: seminarSelect,
        });
        await append("seminar:updated", null, { changed: ["spotlightParagraphId"] });
      });
    const inView = (paragraphId: string) =>
      ada.page.evaluate((id) => {
        const rect = document.getElementById(`p-${id}`)!.getBoundingClientRect();
        return rect.top >= 0 && rect.bottom <= window.innerHeight;
      }, paragraphId);

    await ada.page.evaluate(() => window.scrollTo(0, 0));
    const last = paragraphs.at(-1)!;
    await spotlight(last.id);
    await expect.poll(() => ada.page.locator(`#p-${last.id}.spotlight`).count()).toBe(1);
    await expect.poll(() => inView(last.id)).toBe(true);
    const toggle = ada.page.getByRole("button", { name: "Following the moderator" });
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");

    await toggle.click();
    expect(
      await ada.page.getByRole("button", { name: "Follow the moderator" }).getAttribute("aria-pressed"),
    ).toBe("false");
    await ada.page.evaluate(() => window.scrollTo(0, 0));
    await spotlight(paragraphs[0]!.id);
    await spotlight(last.id);
    await expect.poll(() => ada.page.locator(`#p-${last.id}.spotlight`).count()).toBe(1);
    expect(await ada.page.evaluate(() => window.scrollY)).toBe(0);
    expect(await inView(last.id)).toBe(false);
  });

  it("resumes as the same member after a reload and after expiry (resume secret), else asks to join again", async () => {
    const members = await server.prisma.membership.count({ where: { seminarId: room.seminar.id } });
    const url = ada.page.url();
    expect(url).toBe(`${server.url}/room/${room.seminar.id}`);
    await ada.page.reload();
    await waitForLive(ada.page);
    await ada.page.locator(".presence > button").click();
    await expect
      .poll(() => ada.page.locator(".presence-popover li", { hasText: "You" }).textContent())
      .toMatch(/^Ada/);
    expect(await server.prisma.membership.count({ where: { seminarId: room.seminar.id } })).toBe(members);

    // A token past its expiry resumes through the resume secret, as the same member.
    const expireTokens = (dropSecret: boolean) =>
      ada.page.evaluate((drop) => {
        const key = "stepstone.sessions.v1";
        const sessions = JSON.parse(localStorage.getItem(key)!) as Record<
          string,
          { expiresAt: string; resumeSecret?: string }
        >;
        for (const session of Object.values(sessions)) {
          session.expiresAt = new Date(Date.now() - 1000).toISOString();
          if (drop) delete session.resumeSecret;
        }
        localStorage.setItem(key, JSON.stringify(sessions));
      }, dropSecret);
    await expireTokens(false);
    await ada.page.reload();
    await waitForLive(ada.page);
    expect(new URL(ada.page.url()).pathname).toBe(`/room/${room.seminar.id}`);
    const renewed = await ada.page.evaluate(
      () =>
        Object.values(JSON.parse(localStorage.getItem("stepstone.sessions.v1")!))[0] as { expiresAt: string },
    );
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.now());
    expect(await server.prisma.membership.count({ where: { seminarId: room.seminar.id } })).toBe(members);

    // Without a secret (another browser, or cleared storage) an expired token means: join again.
    await expireTokens(true);
    await ada.page.reload();
    await expect.poll(() => ada.page.getByRole("status").first().textContent()).toMatch(/session expired/);
    expect(new URL(ada.page.url()).pathname).toBe(`/join/${room.joinCode}`);
    expect(await ada.page.getByLabel("Join code").inputValue()).toBe(room.joinCode);
    await joinInBrowser(ada.page, server.url, room.joinCode, "Ada");
    adaId = (
      await server.prisma.membership.findFirstOrThrow({
        where: { seminarId: room.seminar.id, displayName: { startsWith: "Ada" } },
        orderBy: { createdAt: "desc" },
      })
    ).id;
  });

  it("refreshes its token when the server says it expires soon", async () => {
    const tokenOf = () =>
      ada.page.evaluate(() => Object.values(JSON.parse(localStorage.getItem("stepstone.sessions.v1")!))[0]);
    const before = (await tokenOf()) as { token: string };
    // Tokens carry their issue time in whole seconds: let one pass, so the new token differs.
    const issuedAt = (
      JSON.parse(Buffer.from(before.token.split(".")[1]!, "base64url").toString()) as { iat: number }
    ).iat;
    await eventually(() => Date.now() / 1000 >= issuedAt + 1, 3_000, "the next second");
    server.app.realtime.io
      .to(roomOf.member(adaId))
      .emit("auth:expiring", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await expect.poll(async () => ((await tokenOf()) as { token: string }).token).not.toBe(before.token);
    // The new token is the one the next connection uses: drop the socket, it comes back.
    server.app.realtime.io.in(roomOf.member(adaId)).disconnectSockets(true);
    await expect.poll(() => ada.page.locator(".connection").getAttribute("data-status")).toBe("live");
  });

  it("reconnects when the server restarts, and stops with the reason when removed", async () => {
    const sockets = () => server.app.realtime.io.in(roomOf.member(adaId)).fetchSockets();
    closingServer()
      .to(roomOf.member(adaId))
      .emit("connection:closing", { reason: "shutting_down", message: "The server is restarting." });
    server.app.realtime.io.in(roomOf.member(adaId)).disconnectSockets(true);
    await eventually(async () => (await sockets()).length === 1, 10_000, "Ada reconnecting");
    await expect.poll(() => ada.page.locator(".connection").getAttribute("data-status")).toBe("live");

    closingServer().to(roomOf.member(adaId)).emit("connection:closing", {
      reason: "kicked",
      message: "A moderator removed you from this seminar.",
    });
    server.app.realtime.io.in(roomOf.member(adaId)).disconnectSockets(true);
    await expect.poll(() => ada.page.locator(".connection").getAttribute("data-status")).toBe("ended");
    await expect
      .poll(() => ada.page.getByRole("alert").first().textContent())
      .toMatch(/A moderator removed you from this seminar\./);
    // What was shown stays on the page.
    expect(await ada.page.locator("article.essay h1").textContent()).toBe(room.snapshot.essay.title);
    expect(await sockets()).toHaveLength(0);
    expect(ada.errors).toEqual([]);
  });
});

describe("a moderator's socket and a participant's view agree on the prompts", () => {
  it("hides draft prompts and shows one opened later, live", async () => {
    const room = await buildLiveRoom(server, { prompts: [] });
    const user = await openUser(browser, VIEWPORTS.phone);
    await joinInBrowser(user.page, server.url, room.joinCode, "Cy");
    const draft = expectOk(
      await send(room.moderatorSocket, "prompt:create", {
        kind: "scale",
        question: "How open should models be?",
        min: 1,
        max: 5,
        minLabel: "Closed",
        maxLabel: "Open",
      }),
    );
    await user.page
      .locator(".mobile-nav")
      .getByRole("button", { name: /Questions/ })
      .click();
    await expect.poll(() => user.page.locator(".prompts .hint").textContent()).toMatch(/No questions yet/);
    expectOk(await send(room.moderatorSocket, "prompt:open", { promptId: draft.id }));
    await expect.poll(() => user.page.locator(".prompt h3").textContent()).toBe("How open should models be?");
    expect(await user.page.locator(".prompt .option").count()).toBe(5);
    await user.page.locator(".prompt .option").nth(3).click();
    await user.page.getByRole("button", { name: "Vote" }).click();
    await expect.poll(() => user.page.locator(".ballots").textContent()).toBe("1 vote");
    expect(await seriousAxeViolations(user.page)).toEqual([]);
    room.moderatorSocket.close();
  });
});
