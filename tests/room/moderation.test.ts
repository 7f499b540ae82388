/**
 * Moderation through real sockets on a real PostgreSQL: mute, kick, ban and their way back (by
 * code, resume secret, old token), the lock and slow mode across reconnects, the speaking queue
 * across a reconnect and a server restart, roles, the spotlight, phases and the moderation log.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CloseReason } from "../../src/protocol/events.ts";
import type { ModerationLogEntryView, RoomSnapshot } from "../../src/protocol/views.ts";
import {
  buildCoModerator,
  buildGuest,
  buildModerator,
  buildSeminar,
  expectOk,
  type GuestSession,
  YES_NO,
} from "../helpers/factories.ts";
import { type ClientSocket, connect, eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

/** The reason of the next connection:closing a socket receives. */
function closingReason(socket: ClientSocket): Promise<CloseReason> {
  return new Promise((resolve) => socket.once("connection:closing", (info) => resolve(info.reason)));
}

/** The error code a refused connection gets (fails the test when the connection is accepted). */
async function refusedConnection(auth: { token: string; seminarId?: string }): Promise<string | undefined> {
  try {
    const socket = await connect(server.url, auth);
    socket.close();
  } catch (error) {
    return (error as Error & { data?: { code: string } }).data?.code;
  }
  throw new Error("expected the connection to be refused");
}

/** A live seminar with its host in the room. */
async function buildRoom(options: { prompts?: unknown[] } = {}) {
  const { seminar, moderator } = await buildSeminar(server, { prompts: options.prompts ?? [] });
  const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
  const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
  return { seminar, moderator, host, paragraph };
}

/** Waits until a client has applied an event of `type`, and returns the last one. */
async function nextOfType(client: RoomClient, type: string) {
  await eventually(() => client.received.some((event) => event.type === type), 5_000, type);
  return client.received.filter((event) => event.type === type).at(-1)!;
}

describe("muting", () => {
  it("refuses a muted member's posts with a typed error, lets them read and vote, and tells only them why", async () => {
    const { seminar, host, paragraph } = await buildRoom({ prompts: [YES_NO] });
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const bob = await buildGuest(server, seminar.joinCode!, "Bob");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const b = await RoomClient.join(server.url, { token: bob.token });
    const bobsNote = expectOk(
      await b.send("annotation:create", { paragraphId: paragraph.id, body: "Bob's" }),
    );

    const muted = expectOk(
      await host.send("member:mute", { memberId: ada.member.id, durationSeconds: 600, reason: "cool down" }),
    );
    expect(muted).toMatchObject({ id: ada.member.id, muted: true, mutedUntil: expect.any(String) });
    const refusal = { code: "forbidden", details: { reason: "muted", until: muted.mutedUntil } };
    expect(await a.send("annotation:create", { paragraphId: paragraph.id, body: "x" })).toMatchObject({
      ok: false,
      error: refusal,
    });
    expect(await a.send("annotation:reply", { parentId: bobsNote.id, body: "x" })).toMatchObject({
      ok: false,
      error: refusal,
    });
    expect(await a.send("annotation:react", { annotationId: bobsNote.id, kind: "agree" })).toMatchObject({
      ok: false,
      error: refusal,
    });
    expect(await a.send("queue:raise", {})).toMatchObject({ ok: false, error: refusal });
    // Reading and voting stay.
    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    expectOk(
      await a.send("prompt:vote", {
        promptId: prompt.id,
        optionIds: [prompt.options[0]!.id],
        clientBallotId: randomUUID(),
      }),
    );
    await a.sync();

    // Ada is told why, Bob sees that she is muted but not why, the host sees why and the log entry.
    const toAda = await nextOfType(a, "member:moderated");
    const toBob = await nextOfType(b, "member:moderated");
    const toHost = await nextOfType(host, "member:moderated");
    expect(toAda.data).toMatchObject({
      action: "mute",
      reason: "cool down",
      log: null,
      member: { muted: true },
    });
    expect(toBob.data).toMatchObject({ action: "mute", reason: null, log: null, member: { muted: true } });
    expect(toHost.data).toMatchObject({
      action: "mute",
      reason: "cool down",
      log: { action: "member:mute", targetMemberId: ada.member.id, details: { until: muted.mutedUntil } },
    });
    // Permissions are decided per snapshot; a fresh one says what a muted member may do.
    const mine = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, ada.token),
    );
    expect(mine.viewer.permissions).toMatchObject({ annotate: false, vote: true, raiseHand: false });
    // Ada's own state and the moderators' roster show the mute; Bob's state holds only the members
    // it refers to, and Ada is not one of them (the event's view of her was not kept).
    expect(a.stream.state!.members.find((m) => m.id === ada.member.id)).toMatchObject({ muted: true });
    expect(host.stream.state!.members.find((m) => m.id === ada.member.id)).toMatchObject({ muted: true });
    expect(b.stream.state!.members.find((m) => m.id === ada.member.id)).toBeUndefined();

    // The token stayed valid (a mute is not a rights change); unmuting gives the voice back.
    expect(a.socket.connected).toBe(true);
    expect(expectOk(await host.send("member:unmute", { memberId: ada.member.id }))).toMatchObject({
      muted: false,
    });
    expectOk(await a.send("annotation:create", { paragraphId: paragraph.id, body: "back" }));
    for (const client of [host, a, b]) client.close();
  });

  it("ends a timed mute by itself", async () => {
    const { seminar, host, paragraph } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    expectOk(await host.send("member:mute", { memberId: ada.member.id, durationSeconds: 1 }));
    const first = await a.send("annotation:create", { paragraphId: paragraph.id, body: "too soon" });
    expect(first).toMatchObject({ ok: false, error: { code: "forbidden" } });
    await eventually(
      async () => (await a.send("annotation:create", { paragraphId: paragraph.id, body: "later" })).ok,
      5_000,
      "the mute to run out",
    );
    for (const client of [host, a]) client.close();
  });
});

describe("kick and ban", () => {
  it("disconnects a kicked guest, refuses their old token, and lets them back by code as themselves or anew", async () => {
    const { seminar, host, paragraph } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const note = expectOk(await a.send("annotation:create", { paragraphId: paragraph.id, body: "mine" }));
    const closing = closingReason(a.socket);
    const kicked = expectOk(await host.send("member:kick", { memberId: ada.member.id, reason: "test" }));
    expect(kicked.status).toBe("kicked");
    expect(await closing).toBe("kicked");
    await eventually(() => !a.socket.connected, 5_000, "the kicked socket to close");
    expect(await refusedConnection({ token: ada.token })).toBe("forbidden");
    const resumed = await server.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret });
    expect(resumed.body).toMatchObject({
      ok: false,
      error: { code: "forbidden", details: { reason: "kicked" } },
    });

    // By code with the secret: the same member, active again, still the author of their note.
    const back = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/join", {
        code: seminar.joinCode,
        displayName: "Someone else",
        resumeSecret: ada.resumeSecret,
      }),
    );
    expect(back.member).toMatchObject({ id: ada.member.id, displayName: "Ada", status: "active" });
    const again = await RoomClient.join(server.url, { token: back.token });
    expect(again.stream.state!.annotations.find((n) => n.id === note.id)?.authorId).toBe(ada.member.id);
    expectOk(await again.send("annotation:edit", { annotationId: note.id, body: "still mine" }));
    // Without the secret: a new member.
    const fresh = await buildGuest(server, seminar.joinCode!, "Ada");
    expect(fresh.member.id).not.toBe(ada.member.id);
    expect(fresh.member.displayName).toBe("Ada 2");
    for (const client of [host, again]) client.close();
  });

  it("keeps a banned guest out by code, by resume secret and by old token, until unbanned", async () => {
    const { seminar, host } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const closing = closingReason(a.socket);
    expectOk(await host.send("member:ban", { memberId: ada.member.id, reason: "abuse" }));
    expect(await closing).toBe("banned");
    expect(await refusedConnection({ token: ada.token })).toBe("forbidden");
    const rest = await server.http("GET", `/api/seminars/${seminar.id}`, undefined, ada.token);
    expect(rest.body).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const resumed = await server.http("POST", "/api/seminars/resume", { secret: ada.resumeSecret });
    expect(resumed.body).toMatchObject({
      ok: false,
      error: { code: "forbidden", details: { reason: "banned" } },
    });
    const byCode = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "Ada",
      resumeSecret: ada.resumeSecret,
    });
    expect(byCode.body).toMatchObject({
      ok: false,
      error: { code: "forbidden", details: { reason: "banned" } },
    });
    // A kicked member cannot be kicked into a weaker state than banned.
    expect(await host.send("member:kick", { memberId: ada.member.id })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });

    // Unbanned: the member counts as kicked and may come back by code as themselves.
    expect(expectOk(await host.send("member:unban", { memberId: ada.member.id })).status).toBe("kicked");
    const back = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/join", {
        code: seminar.joinCode,
        displayName: "Ada",
        resumeSecret: ada.resumeSecret,
      }),
    );
    expect(back.member.id).toBe(ada.member.id);
    host.close();
  });

  it("bans a member on every path at once: a second connection of theirs is closed too", async () => {
    const { seminar, host } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const one = await RoomClient.join(server.url, { token: ada.token });
    const two = await RoomClient.join(server.url, { token: ada.token });
    expectOk(await host.send("member:ban", { memberId: ada.member.id }));
    await eventually(() => !one.socket.connected && !two.socket.connected, 5_000, "both sockets to close");
    host.close();
  });
});

describe("the lock and slow mode", () => {
  it("refuses joins while locked, keeps those inside, and holds across their reconnects", async () => {
    const { seminar, host } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    expect(expectOk(await host.send("room:lock", { reason: "full" }))).toEqual({ locked: true });
    await eventually(() => a.stream.state!.seminar.locked, 5_000, "the lock to reach Ada");
    const refused = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "Late",
    });
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({ ok: false, error: { code: "room_closed" } });

    // Ada reconnects (same token, then a resumed one): she is inside, the lock does not keep her out.
    a.close();
    const again = await RoomClient.join(server.url, { token: ada.token });
    expect(again.stream.state!.seminar.locked).toBe(true);
    const resumed = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/resume", { secret: ada.resumeSecret }),
    );
    expect(resumed.member.id).toBe(ada.member.id);
    const third = await RoomClient.join(server.url, { token: resumed.token });
    expect(third.stream.state!.viewer.memberId).toBe(ada.member.id);
    // Still locked for newcomers after all that.
    const stillRefused = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "Later",
    });
    expect(stillRefused.body).toMatchObject({ ok: false, error: { code: "room_closed" } });
    expectOk(await host.send("room:unlock", {}));
    expectOk(await server.http("POST", "/api/seminars/join", { code: seminar.joinCode, displayName: "Now" }));
    for (const client of [host, again, third]) client.close();
  });

  it("spaces a participant's posts by the slow-mode interval, across reconnects, but not a moderator's", async () => {
    const { seminar, host, paragraph } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    expect(expectOk(await host.send("room:slow_mode", { seconds: 2 }))).toEqual({ seconds: 2 });
    const first = await a.send("annotation:create", { paragraphId: paragraph.id, body: "one" });
    const posted = Date.now();
    expectOk(first);
    const second = await a.send("annotation:create", { paragraphId: paragraph.id, body: "two" });
    expect(second).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    const wait = (second as { error: { details: { retryAfterMs: number } } }).error.details.retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2_000);
    // A reply is a post too; a reconnect changes nothing (the interval is read from the database).
    a.close();
    const again = await RoomClient.join(server.url, { token: ada.token });
    const reply = await again.send("annotation:reply", {
      parentId: first.ok ? first.data.id : "",
      body: "r",
    });
    expect(reply).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    // Moderators are not slowed.
    expectOk(await host.send("annotation:create", { paragraphId: paragraph.id, body: "host one" }));
    expectOk(await host.send("annotation:create", { paragraphId: paragraph.id, body: "host two" }));
    // Once the interval has passed, the participant posts again.
    await eventually(
      async () => (await again.send("annotation:create", { paragraphId: paragraph.id, body: "two" })).ok,
      6_000,
      "the slow-mode interval to pass",
    );
    expect(Date.now() - posted).toBeGreaterThanOrEqual(1_900);
    for (const client of [host, again]) client.close();
  });
});

describe("the speaking queue", () => {
  it("keeps the order of raised hands across a reconnect and a server restart, and calls them in it", async () => {
    const { seminar, moderator, host } = await buildRoom();
    const guests = [];
    for (const name of ["Ada", "Bob", "Cy"]) guests.push(await buildGuest(server, seminar.joinCode!, name));
    const clients = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    // Bob, then Cy, then Ada.
    for (const index of [1, 2, 0]) expectOk(await clients[index]!.send("queue:raise", {}));
    const order = [guests[1]!.member.id, guests[2]!.member.id, guests[0]!.member.id];
    // Raising again changes nothing.
    expect(expectOk(await clients[1]!.send("queue:raise", {})).queue.map((h) => h.memberId)).toEqual(order);
    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await host.waitForSeq(seq);
    expect(host.stream.state!.queue.map((hand) => hand.memberId)).toEqual(order);

    clients[0]!.close();
    const reconnected = await RoomClient.join(server.url, { token: guests[0]!.token });
    expect(reconnected.stream.state!.queue.map((hand) => hand.memberId)).toEqual(order);

    for (const client of [host, reconnected, clients[1]!, clients[2]!]) client.close();
    await server.restart();
    const hostAgain = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(hostAgain.stream.state!.queue.map((hand) => hand.memberId)).toEqual(order);

    // A participant lowers only their own hand; a moderator lowers anyone's; calls follow the order.
    const cy = await RoomClient.join(server.url, { token: guests[2]!.token });
    expect(await cy.send("queue:lower", { memberId: guests[1]!.member.id })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    const called = expectOk(await hostAgain.send("queue:call", { reason: "first in line" }));
    expect(called.queue.map((hand) => hand.memberId)).toEqual(order.slice(1));
    expect(expectOk(await cy.send("queue:lower", {})).queue.map((h) => h.memberId)).toEqual([order[2]]);
    expect(await hostAgain.send("queue:call", { memberId: guests[1]!.member.id })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(expectOk(await hostAgain.send("queue:clear", {})).queue).toEqual([]);
    expect(await hostAgain.send("queue:call", {})).toMatchObject({ ok: false, error: { code: "conflict" } });
    // The client that applied every event agrees with a fresh snapshot.
    const end = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await hostAgain.waitForSeq(end);
    const fresh = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(hostAgain.stream.state!.queue).toEqual(fresh.stream.state!.queue);
    expect(hostAgain.stream.state!.moderationLog).toEqual(fresh.stream.state!.moderationLog);
    for (const client of [hostAgain, cy, fresh]) client.close();
  });

  it("lowers a kicked member's hand", async () => {
    const { seminar, moderator, host } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    expectOk(await a.send("queue:raise", {}));
    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await host.waitForSeq(seq);
    expect(host.stream.state!.queue.map((hand) => hand.memberId)).toEqual([ada.member.id]);
    expectOk(await host.send("member:kick", { memberId: ada.member.id }));
    await host.waitForSeq(seq + 1);
    expect(host.stream.state!.queue).toEqual([]);
    const fresh = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(fresh.stream.state!.queue).toEqual([]);
    for (const client of [host, fresh]) client.close();
  });
});

describe("roles", () => {
  it("lets the host promote a guest to co-moderator, who resumes with the new role", async () => {
    const { seminar, host } = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const closing = closingReason(a.socket);
    const promoted = expectOk(
      await host.send("member:role", { memberId: ada.member.id, role: "co_moderator" }),
    );
    expect(promoted.role).toBe("co_moderator");
    expect(await closing).toBe("rights_changed");
    expect(await refusedConnection({ token: ada.token })).toBe("unauthenticated");
    const resumed = expectOk(
      await server.http<GuestSession>("POST", "/api/seminars/resume", {
        seminarId: seminar.id,
        secret: ada.resumeSecret,
      }),
    );
    const asCo = await RoomClient.join(server.url, { token: resumed.token });
    expect(asCo.stream.state!.viewer).toMatchObject({
      role: "co_moderator",
      permissions: { moderate: true },
    });
    expect(asCo.stream.state!.moderationLog?.at(-1)).toMatchObject({
      action: "member:role",
      details: { from: "participant", to: "co_moderator" },
    });
    // Only the host changes roles; nobody changes the host's.
    const bob = await buildGuest(server, seminar.joinCode!, "Bob");
    expect(await asCo.send("member:role", { memberId: bob.member.id, role: "co_moderator" })).toMatchObject({
      ok: false,
      error: { code: "forbidden", details: { reason: "role" } },
    });
    const hostId = host.stream.state!.viewer.memberId;
    expect(await host.send("member:role", { memberId: hostId, role: "participant" })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    // A co-moderator cannot act on the host or another co-moderator, only below them.
    expect(await asCo.send("member:kick", { memberId: hostId })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expectOk(await asCo.send("member:mute", { memberId: bob.member.id }));
    for (const client of [host, asCo]) client.close();
  });

  it("appoints a moderator account by e-mail and removes it again", async () => {
    const { seminar, host } = await buildRoom();
    const colleague = await buildModerator(server, { displayName: "Colleague" });
    expect(await refusedConnection({ token: colleague.token, seminarId: seminar.id })).toBe("not_found");
    const appointed = expectOk(
      await host.send("member:role", { email: colleague.email, role: "co_moderator" }),
    );
    expect(appointed).toMatchObject({ role: "co_moderator", displayName: "Colleague" });
    const co = await RoomClient.join(server.url, { token: colleague.token, seminarId: seminar.id });
    expect(co.stream.state!.viewer.role).toBe("co_moderator");
    const closing = closingReason(co.socket);
    const demoted = expectOk(
      await host.send("member:role", { email: colleague.email.toUpperCase(), role: "observer" }),
    );
    expect(demoted).toMatchObject({ id: appointed.id, role: "observer" });
    expect(await closing).toBe("rights_changed");
    const asObserver = await RoomClient.join(server.url, { token: colleague.token, seminarId: seminar.id });
    expect(asObserver.stream.state!.viewer).toMatchObject({
      role: "observer",
      permissions: { moderate: false },
    });
    expect(asObserver.stream.state!.moderationLog).toBeUndefined();
    expect(
      await host.send("member:role", { email: "nobody@example.test", role: "co_moderator" }),
    ).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    for (const client of [host, co, asObserver]) client.close();
  });
});

describe("spotlight and phases", () => {
  it("spotlights a paragraph or a span of it, and refuses another seminar's paragraph or a span past the end", async () => {
    const { seminar, host, paragraph } = await buildRoom();
    const other = await buildRoom();
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const length = [...paragraph.text].length;
    expect(
      expectOk(await host.send("room:spotlight", { paragraphId: paragraph.id, start: 0, end: 5 })),
    ).toEqual({ spotlight: { paragraphId: paragraph.id, start: 0, end: 5 } });
    await eventually(() => a.stream.state!.spotlight?.end === 5, 5_000, "the spotlight to reach Ada");
    expect(a.stream.state!.seminar.spotlightParagraphId).toBe(paragraph.id);
    expect(await host.send("room:spotlight", { paragraphId: other.paragraph.id })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(
      await host.send("room:spotlight", { paragraphId: paragraph.id, start: 0, end: length + 1 }),
    ).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expectOk(await host.send("room:spotlight", { paragraphId: null }));
    await eventually(() => a.stream.state!.spotlight === null, 5_000, "the spotlight to clear");
    const fresh = await RoomClient.join(server.url, { token: ada.token });
    expect(fresh.stream.state!.spotlight).toBeNull();
    for (const client of [host, other.host, a, fresh]) client.close();
  });

  it("announces a phase's deadline when it passes, also after a restart", async () => {
    const { seminar, moderator, host } = await buildRoom();
    const started = expectOk(await host.send("room:phase", { phase: "reading", durationSeconds: 1 }));
    expect(started.phase).toMatchObject({ kind: "reading", label: "Reading", endedAt: null });
    const ended = await nextOfType(host, "room:phase_ended");
    expect(ended.actor).toBeNull();
    expect(ended.data).toMatchObject({ phase: { id: started.phase!.id, endedAt: started.phase!.deadline } });
    expect(host.stream.state!.phase).toMatchObject({
      id: started.phase!.id,
      endedAt: started.phase!.deadline,
    });

    // A deadline that passes while the server is down is announced when it is back.
    const next = expectOk(
      await host.send("room:phase", { phase: "custom", label: "Small groups", durationSeconds: 2 }),
    );
    expect(next.phase).toMatchObject({ kind: "custom", label: "Small groups" });
    host.close();
    await server.restart();
    await eventually(
      async () =>
        (await server.prisma.phase.findUniqueOrThrow({ where: { id: next.phase!.id } })).endedAt !== null,
      10_000,
      "the deadline to be announced after the restart",
    );
    const after = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(after.stream.state!.phase).toMatchObject({ id: next.phase!.id, endedAt: next.phase!.deadline });
    const events = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, type: "room:phase_ended" },
    });
    expect(events).toHaveLength(2);
    // Leaving phases.
    expect(expectOk(await after.send("room:phase", { phase: null }))).toEqual({ phase: null });
    after.close();
  });

  it("refuses a custom phase without a label and a duration over the limit", async () => {
    const { host } = await buildRoom();
    expect(await host.send("room:phase", { phase: "custom" })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    expect(await host.send("room:phase", { phase: "voting", durationSeconds: 100_000 })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    host.close();
  });
});

describe("the moderation log", () => {
  it("is readable by moderators over REST, in their snapshots and with each event, and by nobody else", async () => {
    const { seminar, moderator, host, paragraph } = await buildRoom();
    const co = await buildCoModerator(server, seminar.id);
    const ada = await buildGuest(server, seminar.joinCode!, "Ada");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const note = expectOk(await a.send("annotation:create", { paragraphId: paragraph.id, body: "hm" }));
    expectOk(await host.send("annotation:hide", { annotationId: note.id, reason: "spoiler" }));
    expectOk(await host.send("room:lock", { reason: "we are complete" }));
    expectOk(await host.send("room:slow_mode", { seconds: 30 }));
    expectOk(await host.send("member:mute", { memberId: ada.member.id }));
    const path = `/api/seminars/${seminar.id}/moderation-log`;
    const page = expectOk(
      await server.http<{ items: ModerationLogEntryView[]; nextCursor: string | null }>(
        "GET",
        path,
        undefined,
        co.token,
      ),
    );
    expect(page.items.map((entry) => entry.action)).toEqual([
      "annotation:hide",
      "room:lock",
      "room:slow_mode",
      "member:mute",
    ]);
    expect(page.items[0]).toMatchObject({
      reason: "spoiler",
      targetAnnotationId: note.id,
      targetMemberId: ada.member.id,
    });
    expect(page.items[2]!.details).toEqual({ seconds: 30 });
    const firstTwo = expectOk(
      await server.http<{ items: ModerationLogEntryView[]; nextCursor: string }>(
        "GET",
        `${path}?limit=2`,
        undefined,
        moderator.token,
      ),
    );
    const rest = expectOk(
      await server.http<{ items: ModerationLogEntryView[]; nextCursor: string | null }>(
        "GET",
        `${path}?limit=2&cursor=${firstTwo.nextCursor}`,
        undefined,
        moderator.token,
      ),
    );
    expect([...firstTwo.items, ...rest.items]).toEqual(page.items);
    expect(rest.nextCursor).toBeNull();

    expect((await server.http("GET", path, undefined, ada.token)).body).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    const outsider = await buildSeminar(server);
    expect((await server.http("GET", path, undefined, outsider.moderator.token)).body).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });

    // Snapshots: moderators get the log, participants do not; live events agree with it.
    const snapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, co.token),
    );
    expect(snapshot.moderationLog).toEqual(page.items);
    const guestView = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, ada.token),
    );
    expect(guestView.moderationLog).toBeUndefined();
    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await host.waitForSeq(seq);
    await a.waitForSeq(seq);
    expect(host.stream.state!.moderationLog).toEqual(page.items);
    expect(a.stream.state!.moderationLog).toBeUndefined();
    expect(
      a.received.flatMap((event) => ("log" in event.data && event.data.log ? [event.data.log] : [])),
    ).toEqual([]);
    // The room sees the lock and slow mode, but not the moderators' reasons.
    expect(a.received.find((event) => event.type === "room:locked")?.data).toMatchObject({
      locked: true,
      reason: null,
    });
    for (const client of [host, a]) client.close();
  });
});
