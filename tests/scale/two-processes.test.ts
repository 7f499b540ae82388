import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_CONSECUTIVE_FAILURES } from "../../src/modules/accounts/login-throttle.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { useTestDatabase } from "../helpers/database.ts";
import {
  buildGuest,
  buildModerator,
  buildSeminar,
  expectOk,
  type GuestSession,
  YES_NO,
} from "../helpers/factories.ts";
import { spawnServer } from "../helpers/process.ts";
import { redisEnv } from "../helpers/redis.ts";
import { connect, eventually, RoomClient } from "../helpers/server.ts";

// Two server processes on one PostgreSQL database and one Redis: a deployment of two nodes, with
// clients split between them.

const database = await useTestDatabase();
const env = {
  DATABASE_URL: database.url,
  JWT_SECRET: "two-processes-secret-two-processes-secret",
  ...redisEnv(),
};
const [nodeA, nodeB] = await Promise.all([spawnServer({ env }), spawnServer({ env })]);
const nodes = [nodeA, nodeB];

const GUESTS = 6;
const NOTES_PER_GUEST = 5;

/** What every participant must agree on at the end. */
function roomOf(state: RoomSnapshot) {
  return {
    seq: state.seq,
    annotations: state.annotations
      .map((a) => ({ id: a.id, body: a.body, version: a.version }))
      .sort((x, y) => x.id.localeCompare(y.id)),
    tallies: state.tallies.map((t) => ({ promptId: t.promptId, counts: t.counts, ballots: t.ballots })),
    presence: state.presence.map((p) => p.memberId).sort(),
  };
}

describe("two server processes, one database, one Redis", () => {
  it("gives clients split across the nodes the same events in the same order, the same tallies and the same presence", async () => {
    const { seminar, moderator } = await buildSeminar(nodeA, { prompts: [YES_NO] });
    const host = await RoomClient.join(nodeA.url, { token: moderator.token, seminarId: seminar.id });
    const guests: GuestSession[] = [];
    for (let i = 0; i < GUESTS; i++)
      guests.push(await buildGuest(nodes[i % 2]!, seminar.joinCode!, `Reader ${i}`));
    const readers = await Promise.all(
      guests.map((guest, i) => RoomClient.join(nodes[i % 2]!.url, { token: guest.token })),
    );
    const everyone = [host, ...readers];
    const memberIds = [...guests.map((g) => g.member.id), host.stream.state!.viewer.memberId].sort();
    // Everyone sees everyone present, whichever node they are on (snapshots and deltas agree).
    for (const [i, client] of everyone.entries())
      await eventually(
        () => JSON.stringify(roomOf(client.stream.state!).presence) === JSON.stringify(memberIds),
        10_000,
        "everyone present",
      ).catch((error: unknown) => {
        const seen = roomOf(client.stream.state!).presence;
        throw new Error(`client ${i}: present ${seen.join(",")}; expected ${memberIds.join(",")}`, {
          cause: error,
        });
      });
    const start = (await database.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await Promise.all(everyone.map((client) => client.waitForSeq(start)));

    const prompt = host.stream.state!.prompts[0]!;
    expectOk(await host.send("prompt:open", { promptId: prompt.id }));
    const paragraphs = host.stream.state!.essay.paragraphs.filter((p) => p.kind === "paragraph");
    // Every reader writes at once, on its own node: the nodes interleave in one room.
    await Promise.all(
      readers.map(async (reader, i) => {
        for (let k = 0; k < NOTES_PER_GUEST; k++) {
          expectOk(
            await reader.send("annotation:create", {
              paragraphId: paragraphs[k % paragraphs.length]!.id,
              body: `Note ${i}.${k}`,
            }),
          );
        }
        expectOk(
          await reader.send("prompt:vote", {
            promptId: prompt.id,
            optionIds: [prompt.options[i % 2]!.id],
            clientBallotId: randomUUID(),
          }),
        );
      }),
    );

    const final = (await database.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    expect(final).toBe(start + 1 + GUESTS * NOTES_PER_GUEST);
    await Promise.all(everyone.map((client) => client.waitForSeq(final)));
    for (const client of everyone)
      await eventually(
        () => client.stream.state!.tallies.some((t) => t.promptId === prompt.id && t.ballots === GUESTS),
        10_000,
        "the final tally",
      );

    // The same events in the same order for everyone: seq and type (and, for participants, the
    // whole view) of every event after the start.
    const eventsSinceStart = (client: RoomClient) =>
      client.stream.applied.filter((event) => event.seq > start);
    const order = eventsSinceStart(host).map((event) => `${event.seq} ${event.type}`);
    expect(order).toHaveLength(final - start);
    expect(order.map((line) => Number(line.split(" ")[0]))).toEqual(
      Array.from({ length: final - start }, (_, i) => start + 1 + i),
    );
    for (const reader of readers) {
      expect(eventsSinceStart(reader).map((event) => `${event.seq} ${event.type}`)).toEqual(order);
      expect(eventsSinceStart(reader)).toEqual(eventsSinceStart(readers[0]!));
    }
    // The same room at the end, on both nodes, equal to a fresh snapshot from either node.
    const expected = roomOf(readers[0]!.stream.state!);
    expect(expected.annotations).toHaveLength(GUESTS * NOTES_PER_GUEST);
    expect(Object.values(expected.tallies[0]!.counts).reduce((sum, count) => sum + count, 0)).toBe(GUESTS);
    for (const node of nodes) {
      const fresh = await RoomClient.join(node.url, { token: guests[0]!.token });
      await eventually(
        () => JSON.stringify(roomOf(fresh.stream.state!)) === JSON.stringify(expected),
        10_000,
        "a fresh snapshot equal to the live state",
      );
      fresh.close();
    }
    for (const client of everyone) expect(roomOf(client.stream.state!)).toEqual(expected);

    // A reader on B leaves: everyone, on both nodes, sees it.
    readers[1]!.close();
    const remaining = memberIds.filter((id) => id !== guests[1]!.member.id);
    for (const client of everyone.filter((c) => c !== readers[1]))
      await eventually(
        () => JSON.stringify(roomOf(client.stream.state!).presence) === JSON.stringify(remaining),
        10_000,
        "the leaver gone",
      );
    for (const client of everyone) client.close();
  }, 120_000);

  it("holds a member to the socket cap over both nodes", async () => {
    const { seminar } = await buildSeminar(nodeA);
    const guest = await buildGuest(nodeA, seminar.joinCode!, "Many tabs");
    const sockets = [];
    for (let i = 0; i < LIMITS.socketsPerMember; i++)
      sockets.push(await connect(nodes[i % 2]!.url, { token: guest.token }));
    for (const node of nodes) {
      await expect(connect(node.url, { token: guest.token })).rejects.toMatchObject({
        data: { code: "rate_limited" },
      });
    }
    // A slot freed on A is free on B.
    sockets.shift()!.close();
    await eventually(
      async () =>
        connect(nodeB.url, { token: guest.token }).then(
          (socket) => sockets.push(socket) > 0,
          () => false,
        ),
      10_000,
      "the freed slot on B",
    );
    for (const socket of sockets) socket.close();
  }, 60_000);

  it("counts a member's commands over both nodes against one limit", async () => {
    const { seminar } = await buildSeminar(nodeA);
    const guest = await buildGuest(nodeA, seminar.joinCode!, "Busy");
    // Full snapshots are limited per member per minute; each connection took one when it joined.
    const onA = await RoomClient.join(nodeA.url, { token: guest.token });
    const onB = await RoomClient.join(nodeB.url, { token: guest.token });
    // 20 more on each node: 40 in all, over what is left (28) but under what each node alone allows.
    const perNode = 20;
    const answers = await Promise.all(
      [onA, onB].flatMap((client) => Array.from({ length: perNode }, () => client.send("room:sync", {}))),
    );
    const granted = answers.filter((answer) => answer.ok).length;
    expect(granted).toBe(LIMITS.snapshotsPerMinute - 2);
    expect(answers.filter((answer) => !answer.ok && answer.error.code === "rate_limited")).toHaveLength(
      2 * perNode - granted,
    );
    onA.close();
    onB.close();
  }, 60_000);

  it("counts failed logins over both nodes: trying each node in turn gains nothing", async () => {
    const { email } = await buildModerator(nodeA);
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES; i++) {
      const answer = await nodes[i % 2]!.http("POST", "/api/auth/login", {
        email,
        password: "wrong password!",
      });
      expect(answer.body).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    }
    for (const node of nodes) {
      const answer = await node.http("POST", "/api/auth/login", { email, password: "wrong password!" });
      expect(answer.body).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    }
  }, 60_000);
});
