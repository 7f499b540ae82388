import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { RoomSnapshot, RoomStreamEvent } from "../../src/protocol/views.ts";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../helpers/factories.ts";
import { connect, coveredSeqs, eventually, RoomClient, send, startTestServer } from "../helpers/server.ts";

const SECRET = "test-secret-test-secret-test-secret-1234";
const server = await startTestServer({ JWT_SECRET: SECRET });

/**
 * The parts of a room state that must agree between two clients of the same audience (a
 * participant's state also holds the participant: that entry is left out).
 */
function comparable(state: RoomSnapshot | undefined) {
  if (!state) throw new Error("no state");
  return {
    seq: state.seq,
    seminar: state.seminar,
    members: state.members.filter((member) => member.id !== state.viewer.memberId),
    essay: state.essay,
    annotations: state.annotations,
  };
}

function expectContiguous(seqs: number[], from: number) {
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => from + i));
}

async function connectError(auth: Record<string, unknown>) {
  try {
    const socket = await connect(server.url, auth as { token: string });
    socket.close();
  } catch (error) {
    return (error as Error & { data?: { code: string } }).data?.code;
  }
  throw new Error("expected the connection to be refused");
}

describe("the live room", () => {
  it("lets several guests join by code and see each other's presence and focus", async () => {
    const { seminar } = await buildSeminar(server);
    const ada = await buildGuest(server, seminar.joinCode!.toLowerCase(), "Ada");
    const bob = await buildGuest(server, seminar.joinCode!, "Bob");
    const a = await RoomClient.join(server.url, { token: ada.token });
    const b = await RoomClient.join(server.url, { token: bob.token });
    const snapshot = a.stream.state!;
    expect(snapshot.viewer).toMatchObject({ memberId: ada.member.id, role: "participant" });
    expect(snapshot.seminar.joinCode).toBeUndefined();
    // A participant's state holds the moderators and itself, not the roster; presence names who is here.
    expect(snapshot.members.map((m) => m.displayName)).toEqual(["Moderator", "Ada"]);
    expect(snapshot.essay.paragraphs.length).toBeGreaterThan(3);

    const paragraph = snapshot.essay.paragraphs[1]!.id;
    expectOk(await b.send("presence:focus", { paragraphId: paragraph }));
    await eventually(
      () => a.stream.state!.presence.some((p) => p.memberId === bob.member.id && p.paragraphId === paragraph),
      5_000,
      "Bob's focus to reach Ada",
    );
    expect(a.stream.state!.presence.find((p) => p.memberId === bob.member.id)?.displayName).toBe("Bob");
    b.close();
    await eventually(
      () => !a.stream.state!.presence.some((p) => p.memberId === bob.member.id),
      5_000,
      "Bob to leave",
    );
    a.close();
  });

  it("suffixes duplicate display names and rejects control characters", async () => {
    const { seminar } = await buildSeminar(server);
    const first = await buildGuest(server, seminar.joinCode!, "  Chen   Wei ");
    const second = await buildGuest(server, seminar.joinCode!, "Chen Wei");
    expect(first.member.displayName).toBe("Chen Wei");
    expect(second.member.displayName).toBe("Chen Wei 2");
    // Names with LIKE's wildcards are compared as text: "a_b%" is not "aXb%", and is itself taken.
    const wild = await buildGuest(server, seminar.joinCode!, "a_b%");
    const other = await buildGuest(server, seminar.joinCode!, "aXb%");
    const again = await buildGuest(server, seminar.joinCode!, "A_B%");
    expect([wild.member.displayName, other.member.displayName, again.member.displayName]).toEqual([
      "a_b%",
      "aXb%",
      "A_B% 2",
    ]);
    const bad = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "a\u0007b",
    });
    expect(bad.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const unknown = await server.http("POST", "/api/seminars/join", { code: "ZZZZZZ", displayName: "X" });
    expect(unknown.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    const misread = await server.http("POST", "/api/seminars/join", { code: "O0I1L0", displayName: "X" });
    expect(misread.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
  });

  it("admits a crowd joining at once under distinct names, and refuses them all once the room is closed", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const joined = await Promise.all(
      Array.from({ length: 30 }, () => buildGuest(server, seminar.joinCode!, "Ada")),
    );
    const names = joined.map((guest) => guest.member.displayName);
    expect(new Set(names).size).toBe(30);
    expect(names).toContain("Ada");
    expect(names).toContain("Ada 30");
    expect(
      await server.prisma.membership.count({
        where: { seminarId: seminar.id, displayName: { startsWith: "Ada" } },
      }),
    ).toBe(30);

    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token));
    const before = await server.prisma.membership.count({ where: { seminarId: seminar.id } });
    const late = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        server.http("POST", "/api/seminars/join", { code: seminar.joinCode, displayName: `Late ${i}` }),
      ),
    );
    expect(late.every((answer) => !answer.body.ok && answer.body.error.code === "room_closed")).toBe(true);
    expect(await server.prisma.membership.count({ where: { seminarId: seminar.id } })).toBe(before);
  });

  it("gives concurrent writers distinct consecutive sequence numbers", async () => {
    const { seminar } = await buildSeminar(server);
    const before = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => buildGuest(server, seminar.joinCode!, `Racer ${i}`)),
    );
    const events = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id },
      orderBy: { seq: "asc" },
    });
    const joined = events.filter((event) => event.seq > before.lastSeq);
    expect(joined).toHaveLength(25);
    expectContiguous(
      joined.map((event) => event.seq),
      before.lastSeq + 1,
    );
    const after = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect(after.lastSeq).toBe(before.lastSeq + 25);
  });

  it("gives two sockets writing at the same moment distinct consecutive sequence numbers, delivered in order", async () => {
    const { seminar } = await buildSeminar(server);
    const a = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Writer A")).token,
    });
    const b = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Writer B")).token,
    });
    const watcher = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Watcher")).token,
    });
    const start = watcher.stream.seq;
    const paragraphId = a.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    const acks = await Promise.all(
      Array.from({ length: 15 }, (_, i) => [
        a.send("annotation:create", { paragraphId, body: `a${i}` }),
        b.send("annotation:create", { paragraphId, body: `b${i}` }),
      ]).flat(),
    );
    expect(acks.every((ack) => ack.ok)).toBe(true);
    await watcher.waitForSeq(start + 30);
    const received = watcher.received.filter((event) => event.seq > start).map((event) => event.seq);
    expectContiguous(received, start + 1);
    const stored = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, seq: { gt: start } },
      orderBy: { seq: "asc" },
    });
    expectContiguous(
      stored.map((event) => event.seq),
      start + 1,
    );
    expect(new Set(stored.map((event) => (event.data as { annotationId: string }).annotationId)).size).toBe(
      30,
    );
    for (const client of [a, b, watcher]) client.close();
  });

  it("batches a burst of joins into few messages, in order, flushed before any other event", async () => {
    const { seminar } = await buildSeminar(server);
    const watcher = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Counter")).token,
    });
    // Count only messages that carry events after `start`: the watcher's own join (batched too)
    // may still arrive, whenever it does, and is not part of the burst.
    const start = watcher.stream.seq;
    const messages: number[] = [];
    const count = (events: RoomStreamEvent[]) => {
      const fresh = coveredSeqs(events).filter((seq) => seq > start).length;
      if (fresh > 0) messages.push(fresh);
    };
    watcher.socket.on("room:event", (event) => count([event]));
    watcher.socket.on("room:events", count);
    const writer = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => buildGuest(server, seminar.joinCode!, `Burst ${i}`)),
      )
    )[0]!;
    // An annotation right after the burst must not overtake the joins still waiting in the batch.
    const author = await RoomClient.join(server.url, { token: writer.token });
    const paragraphId = author.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    expectOk(await author.send("annotation:create", { paragraphId, body: "after the burst" }));
    await watcher.waitForSeq(start + 21);
    const seqs = coveredSeqs(watcher.received).filter((seq) => seq > start);
    expectContiguous(seqs, start + 1);
    expect(watcher.received.at(-1)!.type).toBe("annotation:created");
    expect(messages.reduce((sum, n) => sum + n, 0)).toBe(21);
    expect(messages.length).toBeLessThan(15);
    // A participant gets the arrivals as omitted ranges (the roster is the moderators').
    expect(watcher.received.filter((event) => event.type === "member:joined")).toEqual([]);
    watcher.close();
    author.close();
  });

  it("catches up a client cut off mid-session: same state as one that never left, no gaps or repeats", async () => {
    const { seminar } = await buildSeminar(server);
    const stay = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Stay")).token,
    });
    const leaverGuest = await buildGuest(server, seminar.joinCode!, "Leaver");
    const leaver = await RoomClient.join(server.url, { token: leaverGuest.token });
    const seqAtCut = leaver.stream.seq;

    // Cut the transport (no clean leave), then change the room while it is away.
    leaver.socket.io.engine.close();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => buildGuest(server, seminar.joinCode!, `Late ${i}`)),
    );
    const target = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await stay.waitForSeq(target);

    const back = await RoomClient.join(server.url, { token: leaverGuest.token }, leaver.stream);
    expect(back.stream.seq).toBe(target);
    expect(comparable(back.stream.state)).toEqual(comparable(stay.stream.state));
    const seen = coveredSeqs([...leaver.stream.applied, ...back.stream.applied]);
    expect(seen.filter((seq) => seq > seqAtCut)).toEqual(
      Array.from({ length: target - seqAtCut }, (_, i) => seqAtCut + 1 + i),
    );
    stay.close();
    back.close();
    leaver.close();
  });

  it("catches up after a server restart", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Survivor");
    const client = await RoomClient.join(server.url, { token: guest.token });
    const held = client.stream;
    await server.restart();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => buildGuest(server, seminar.joinCode!, `After ${i}`)),
    );
    const again = await RoomClient.join(server.url, { token: guest.token }, held);
    const fresh = await RoomClient.join(server.url, { token: guest.token });
    expect(comparable(again.stream.state)).toEqual(comparable(fresh.stream.state));
    expectContiguous(coveredSeqs(again.stream.applied), held.seq + 1);
    again.close();
    fresh.close();
    client.close();
  });

  it("lets a moderator enter as host with the account token and start and end the session", async () => {
    const moderator = await buildModerator(server);
    const { seminar } = await buildSeminar(server, { moderator, start: false });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    expect(host.stream.state!.viewer.role).toBe("host");
    expect(host.stream.state!.seminar.joinCode).toBe(seminar.joinCode);
    expect(host.stream.state!.essay.frozen).toBe(false);
    expectOk(await host.send("seminar:start", {}));
    await eventually(() => host.stream.state!.seminar.state === "live", 5_000, "live");
    expect(host.stream.state!.essay.frozen).toBe(true);
    const again = await host.send("seminar:start", {});
    expect(again).toMatchObject({ ok: false, error: { code: "conflict" } });
    expectOk(await host.send("seminar:end", {}));
    const late = await server.http("POST", "/api/seminars/join", {
      code: seminar.joinCode,
      displayName: "Late",
    });
    expect(late.body).toMatchObject({ ok: false, error: { code: "room_closed" } });
    host.close();
  });

  it("refuses participants' moderator commands with forbidden and stores nothing", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Pat")).token,
    });
    const seq = guest.stream.seq;
    expect(await guest.send("seminar:end", {})).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const stored = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect(stored.state).toBe("live");
    expect(stored.lastSeq).toBe(seq);
    guest.close();
  });
});

describe("connection and command rejections", () => {
  const signed = (claims: object, options: jwt.SignOptions = {}, secret = SECRET) =>
    jwt.sign(claims, secret, {
      algorithm: "HS256",
      issuer: "stepstone",
      audience: "stepstone",
      expiresIn: 600,
      ...options,
    });

  it("refuses connections without a valid token, with typed errors", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Mallory");
    const other = await buildSeminar(server);
    const noAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(
      JSON.stringify({
        kind: "guest",
        sub: guest.member.id,
        sem: seminar.id,
        rv: 0,
        iss: "stepstone",
        aud: "stepstone",
      }),
    ).toString("base64url")}.`;
    expect(await connectError({})).toBe("unauthenticated");
    expect(await connectError({ token: "garbage" })).toBe("unauthenticated");
    expect(await connectError({ token: noAlg })).toBe("unauthenticated");
    expect(
      await connectError({
        token: signed(
          { kind: "guest", sem: seminar.id, rv: 0 },
          { subject: guest.member.id, expiresIn: -10 },
        ),
      }),
    ).toBe("unauthenticated");
    expect(
      await connectError({
        token: signed(
          { kind: "guest", sem: seminar.id, rv: 0 },
          { subject: guest.member.id },
          "another-secret-another-secret-1234567",
        ),
      }),
    ).toBe("unauthenticated");
    // A guest token scoped to one seminar cannot enter another.
    expect(await connectError({ token: guest.token, seminarId: other.seminar.id })).toBe("not_found");
    // A moderator cannot enter a seminar that is not theirs.
    expect(await connectError({ token: other.moderator.token, seminarId: seminar.id })).toBe("not_found");
  });

  it("answers malformed payloads and unknown events with typed errors and changes nothing", async () => {
    const { seminar } = await buildSeminar(server);
    const client = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Fuzz")).token,
    });
    const seq = client.stream.seq;
    expect(await client.sendRaw("room:sync", { since: "yesterday" })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    expect(await client.send("presence:focus", { paragraphId: "not-a-uuid" })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    expect(await client.sendRaw("room:destroy", {})).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    // A command sent with only an ack (no payload) is answered, not a crash.
    const raw = client.socket as unknown as {
      timeout(ms: number): { emitWithAck(event: string): Promise<unknown> };
    };
    const bare = await raw.timeout(5_000).emitWithAck("seminar:end");
    expect(bare).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const missing = await raw.timeout(5_000).emitWithAck("presence:focus");
    expect(missing).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq).toBe(seq);
    client.close();
  });

  it("drops a connection that sends an oversized message", async () => {
    const { seminar } = await buildSeminar(server);
    const socket = await connect(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Big")).token,
    });
    const disconnected = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    socket.emit("presence:focus", { paragraphId: "x".repeat(LIMITS.maxSocketMessageBytes + 10) }, () => {});
    expect(await disconnected).toMatch(/transport/);
  });

  it("rate-limits a socket that sends too many events per second", async () => {
    const { seminar } = await buildSeminar(server);
    const socket = await connect(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Spam")).token,
    });
    const results = await Promise.all(
      Array.from({ length: LIMITS.socketEventsBurst + 10 }, () =>
        send(socket, "presence:focus", { paragraphId: null }),
      ),
    );
    const limited = results.filter((result) => !result.ok && result.error.code === "rate_limited");
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(results.filter((result) => result.ok).length).toBeLessThanOrEqual(LIMITS.socketEventsBurst);
    socket.close();
  });

  it("caps the number of sockets one member may hold", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Tabs");
    const sockets = await Promise.all(
      Array.from({ length: LIMITS.socketsPerMember }, () => connect(server.url, { token: guest.token })),
    );
    expect(await connectError({ token: guest.token })).toBe("rate_limited");
    for (const socket of sockets) socket.close();
  });
});

describe("rights changes", () => {
  it("disconnects a member's sockets when their rights change, and refuses them at connect", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Troll");
    const first = await connect(server.url, { token: guest.token });
    const second = await connect(server.url, { token: guest.token });
    const gone = Promise.all(
      [first, second].map((s) => new Promise<string>((resolve) => s.once("disconnect", resolve))),
    );
    await server.prisma.membership.update({
      where: { id: guest.member.id },
      data: { status: "banned", rightsVersion: 1 },
    });
    const told = Promise.all(
      [first, second].map((s) => new Promise((resolve) => s.once("connection:closing", resolve))),
    );
    server.app.realtime.notifier.closeMember(guest.member.id, "banned");
    expect(await told).toEqual([
      expect.objectContaining({ reason: "banned" }),
      expect.objectContaining({ reason: "banned" }),
    ]);
    expect(await gone).toEqual(["io server disconnect", "io server disconnect"]);
    expect(await connectError({ token: guest.token })).toBe("forbidden");
  });

  it("authenticates a recovered connection again instead of trusting the old session", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Recovering");
    const socket = await connect(server.url, { token: guest.token }, { reconnection: true });
    const refused = new Promise<string | undefined>((resolve) =>
      socket.io.on("reconnect_attempt", () =>
        socket.once("connect_error", (error) =>
          resolve((error as Error & { data?: { code: string } }).data?.code),
        ),
      ),
    );
    await server.prisma.membership.update({ where: { id: guest.member.id }, data: { status: "kicked" } });
    socket.io.engine.close();
    expect(await refused).toBe("forbidden");
    socket.close();
  });
});

describe("token expiry", async () => {
  const shortLived = await startTestServer({ JWT_SECRET: SECRET, GUEST_TOKEN_TTL: "4" });

  it("disconnects a socket whose token expires, unless it refreshed", async () => {
    const { seminar } = await buildSeminar(shortLived);
    const guest = await buildGuest(shortLived, seminar.joinCode!, "Expiring");
    const lazy = await connect(shortLived.url, { token: guest.token });
    const diligent = await connect(shortLived.url, { token: guest.token });
    const goneAt = (socket: typeof lazy) =>
      new Promise<{ reason: string; at: number }>((resolve) =>
        socket.once("disconnect", (reason) => resolve({ reason, at: Date.now() })),
      );
    const lazyGone = goneAt(lazy);
    const diligentGone = goneAt(diligent);
    // JWT expiry has one-second resolution: refresh once a new second has begun, so that the
    // refreshed token expires at least a second after the first one.
    const expiry = (token: string) =>
      JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number; iat: number };
    const original = expiry(guest.token);
    await eventually(() => Math.floor(Date.now() / 1000) > original.iat, 2_000, "the next second");
    const refreshed = await send(diligent, "auth:refresh", {});
    if (!refreshed.ok) throw new Error(refreshed.error.message);
    const renewed = expiry(refreshed.data.token);
    expect(renewed.exp).toBeGreaterThan(original.exp);
    const lazyEnd = await lazyGone;
    expect(lazyEnd.reason).toBe("io server disconnect");
    // Each socket is disconnected at its own token's expiry: the refreshed one at the later one,
    // which is at least a second after the first token's.
    const diligentEnd = await diligentGone;
    expect(diligentEnd.reason).toBe("io server disconnect");
    expect(lazyEnd.at).toBeGreaterThanOrEqual(original.exp * 1000 - 100);
    expect(diligentEnd.at).toBeGreaterThanOrEqual(renewed.exp * 1000 - 100);
  });
});

describe("short token lifetimes", async () => {
  const shortLived = await startTestServer({ JWT_SECRET: SECRET, GUEST_TOKEN_TTL: "4" });

  it("warns halfway through a lifetime under two minutes, so a client that refreshes on every warning does not loop", async () => {
    const { seminar } = await buildSeminar(shortLived);
    const guest = await buildGuest(shortLived, seminar.joinCode!, "Refreshing");
    const socket = await connect(shortLived.url, { token: guest.token });
    // What the web client does: refresh on every auth:expiring.
    const notices: number[] = [];
    const refreshes: { at: number; expiresAt: number }[] = [];
    socket.on("auth:expiring", () => {
      notices.push(Date.now());
      void send(socket, "auth:refresh", {}).then((result) => {
        if (result.ok) refreshes.push({ at: Date.now(), expiresAt: Date.parse(result.data.expiresAt) });
      });
    });
    await eventually(() => refreshes.length >= 3, 20_000, "three refreshes");
    socket.close();
    // Each warning after a refresh comes at least half of the new token's lifetime later. With the
    // warning a fixed minute before expiry it came at once, and the refreshes never stopped.
    for (let i = 1; i < 3; i++) {
      const refresh = refreshes[i - 1]!;
      expect(notices[i]! - refresh.at).toBeGreaterThanOrEqual((refresh.expiresAt - refresh.at) / 2 - 100);
    }
    expect(notices.length).toBeLessThanOrEqual(refreshes.length + 1);
  });
});

describe("resource limits", () => {
  it("releases a connection slot when the client leaves during authentication", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Flaky");
    const { io: connectClient } = await import("socket.io-client");
    // Hold the membership table so authentication waits, and drop each client meanwhile.
    const locker = await import("pg").then(
      ({ default: pg }) => new pg.Client({ connectionString: server.db.url }),
    );
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE");
    // Authentications waiting for the lock, in this file's database only.
    const waiting = async () => {
      const rows = await server.db.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'memberships' AND NOT l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      return rows[0]!.n;
    };
    const engine = server.app.realtime.io.engine;
    const openBefore = engine.clientsCount;
    for (let i = 0; i < LIMITS.socketsPerMember; i++) {
      const socket = connectClient(server.url, {
        auth: { token: guest.token },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
      });
      // Wait until the server has the CONNECT packet (the client's engine is open), then leave.
      await new Promise((resolve) =>
        socket.io.engine?.readyState === "open" ? resolve(null) : socket.io.once("open", () => resolve(null)),
      );
      // The server is authenticating it (its query waits for the lock, or it waits to be looked up
      // with the guests connecting at the same moment): now leave.
      const inProgress = async () => (await waiting()) + server.app.realtime.admission.stats().waiting;
      await eventually(async () => (await inProgress()) > i, 5_000, "the authentication to wait");
      socket.close();
    }
    // Unlock only once the server has seen every one of them go.
    await eventually(() => engine.clientsCount <= openBefore, 5_000, "the clients to be gone");
    await locker.query("COMMIT");
    await locker.end();

    await eventually(
      async () =>
        !(await server.app.realtime.presence.list(seminar.id)).present.some(
          (p) => p.memberId === guest.member.id,
        ),
      5_000,
      "slots released",
    );
    const socket = await connect(server.url, { token: guest.token });
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it("limits full snapshots per member, not catch-ups", async () => {
    const { seminar } = await buildSeminar(server);
    const client = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Hungry")).token,
    });
    const results = [];
    for (let i = 0; i < LIMITS.snapshotsPerMinute + 2; i++) results.push(await client.send("room:sync", {}));
    // One snapshot was taken at join; the rest of the minute's allowance is used, then refused.
    expect(results.filter((result) => result.ok)).toHaveLength(LIMITS.snapshotsPerMinute - 1);
    expect(results.at(-1)).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect(await client.send("room:sync", { since: client.stream.seq })).toMatchObject({
      ok: true,
      data: { mode: "events" },
    });
    client.close();
  });
});

describe("per-member limits", () => {
  it("rate-limits a member across all their sockets, not only per socket", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Multi");
    const sockets = await Promise.all(
      Array.from({ length: 3 }, () => connect(server.url, { token: guest.token })),
    );
    // 3 sockets x 35 events stays under each socket's burst (40) but over the member's (60).
    const results = await Promise.all(
      sockets.flatMap((socket) =>
        Array.from({ length: 35 }, () => send(socket, "presence:focus", { paragraphId: null })),
      ),
    );
    const ok = results.filter((result) => result.ok).length;
    expect(ok).toBeLessThanOrEqual(LIMITS.memberEventsBurst);
    expect(results.filter((result) => !result.ok && result.error.code === "rate_limited").length).toBe(
      105 - ok,
    );
    for (const socket of sockets) socket.close();
  });
});
