import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { PRESENCE_MISSED_HEARTBEATS } from "../../src/realtime/server.ts";
import { type Acked, FailoverClient, type Write } from "../helpers/cluster.ts";
import { useTestDatabase } from "../helpers/database.ts";
import { buildGuest, buildSeminar } from "../helpers/factories.ts";
import { spawnServer } from "../helpers/process.ts";
import { redisEnv } from "../helpers/redis.ts";
import { coveredSeqs, eventually, RoomClient } from "../helpers/server.ts";

// Two server processes; one is killed with SIGKILL while its clients write. They reconnect to the
// other, catch up and retry; the clients that do not come back vanish from presence within the
// documented bound (docs/scaling.md): PRESENCE_MISSED_HEARTBEATS + 1 heartbeats and a flush.

const HEARTBEAT_MS = 250;
const PRESENCE_BOUND_MS = (PRESENCE_MISSED_HEARTBEATS + 1) * HEARTBEAT_MS + LIMITS.presenceFlushMs;
/** Room on a machine this loaded for timers that fire late; the measured time is printed. */
const TIMER_SLACK_MS = 2_000;
const WRITERS = 4;
const NOTES = 15;
const KILL_AFTER_ACKS = 20;

const database = await useTestDatabase();
const env = {
  DATABASE_URL: database.url,
  JWT_SECRET: "failover-secret-failover-secret-failover",
  PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
  ...redisEnv(),
};
const [nodeA, nodeB] = await Promise.all([spawnServer({ env }), spawnServer({ env })]);
const urls = () => [nodeA.url, nodeB.url];

const presenceOf = (state: RoomSnapshot) => state.presence.map((p) => p.memberId).sort();

describe("failover: a node killed with SIGKILL mid-session", () => {
  it("moves its clients to the other node with nothing lost or duplicated; those who do not return leave presence within the bound", async () => {
    const { seminar, moderator } = await buildSeminar(nodeA);
    const host = await RoomClient.join(nodeB.url, { token: moderator.token, seminarId: seminar.id });
    const guests = [];
    for (let i = 0; i < WRITERS + 2; i++)
      guests.push(await buildGuest(i % 2 === 0 ? nodeA : nodeB, seminar.joinCode!, `Reader ${i}`));
    // Writers 0 and 2 start on A, 1 and 3 on B; two more readers on A never come back.
    const writers = await Promise.all(
      guests.slice(0, WRITERS).map((guest, i) => FailoverClient.join(urls, guest.token, i % 2)),
    );
    const leavers = await Promise.all(
      guests.slice(WRITERS).map((guest) => RoomClient.join(nodeA.url, { token: guest.token })),
    );
    const leaverIds = guests.slice(WRITERS).map((guest) => guest.member.id);
    const everyone = [...guests.map((g) => g.member.id), host.stream.state!.viewer.memberId].sort();
    await eventually(
      () => JSON.stringify(presenceOf(host.stream.state!)) === JSON.stringify(everyone),
      10_000,
      "everyone present",
    );

    const paragraphs = host.stream.state!.essay.paragraphs.filter((p) => p.kind === "paragraph");
    const plans: Write[][] = writers.map((_, i) =>
      Array.from({ length: NOTES }, (_, k) => ({
        kind: "annotation" as const,
        payload: {
          paragraphId: paragraphs[k % paragraphs.length]!.id,
          body: `Note ${i}.${k}`,
          clientId: `w${i}-${k}`,
        },
      })),
    );
    // When the host (on B) last saw a lost reader go from presence.
    let leftAt = 0;
    host.socket.on("presence:delta", (delta) => {
      if (delta.left.some((id) => leaverIds.includes(id))) leftAt = Date.now();
    });
    let acks = 0;
    let killedAt = 0;
    const results: (Acked | undefined)[][] = await Promise.all(
      writers.map(async (writer, i) => {
        const done: (Acked | undefined)[] = [];
        for (const write of plans[i]!) {
          done.push(await writer.write(write));
          if (++acks === KILL_AFTER_ACKS) {
            killedAt = Date.now();
            nodeA.child.kill("SIGKILL");
          }
        }
        return done;
      }),
    );
    expect(await nodeA.exited).toBe("SIGKILL");
    expect(killedAt).toBeGreaterThan(0);

    // The readers that do not come back disappear from presence, on the surviving node, in time.
    await eventually(
      () => !presenceOf(host.stream.state!).some((id) => leaverIds.includes(id)),
      PRESENCE_BOUND_MS + TIMER_SLACK_MS,
      "the lost readers to leave presence",
    );
    const ghostsFor = leftAt - killedAt;
    expect(ghostsFor).toBeGreaterThan(0);
    expect(ghostsFor).toBeLessThanOrEqual(PRESENCE_BOUND_MS + TIMER_SLACK_MS);

    // Every write was acknowledged, each stored once under the id it was acknowledged with.
    for (const writer of writers) expect(writer.errors).toEqual([]);
    const annotations = await database.prisma.annotation.findMany({ where: { seminarId: seminar.id } });
    expect(annotations).toHaveLength(WRITERS * NOTES);
    for (const [i, done] of results.entries())
      for (const [k, acked] of done.entries()) {
        const stored = annotations.filter((a) => a.clientId === `w${i}-${k}`);
        expect(stored.map((a) => a.id)).toEqual([acked!.id]);
      }
    const created = await database.prisma.roomEvent.count({
      where: { seminarId: seminar.id, type: "annotation:created" },
    });
    expect(created).toBe(WRITERS * NOTES);
    // The writers that were on A moved to B.
    for (const i of [0, 2]) expect(writers[i]!.nodes).toEqual([0, 1]);
    expect(results.flat().some((acked) => acked!.attempts > 1)).toBe(true);

    // Every writer caught up: its events are gap-free and in order over both connections, and its
    // room is a fresh snapshot's, presence included (the reconnected writers are back, the lost gone).
    const { lastSeq } = await database.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    await Promise.all(writers.map((writer) => writer.current.waitForSeq(lastSeq)));
    const present = everyone.filter((id) => !leaverIds.includes(id));
    const fresh = await RoomClient.join(nodeB.url, { token: guests[1]!.token });
    const expected = fresh.stream.state!.annotations.map((a) => a.id).sort();
    expect(expected).toHaveLength(WRITERS * NOTES);
    for (const writer of writers) {
      const seqs = coveredSeqs(writer.applied);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(seqs.at(-1)).toBe(lastSeq);
      const state = writer.current.stream.state!;
      expect(state.annotations.map((a) => a.id).sort()).toEqual(expected);
      await expect.poll(() => presenceOf(writer.current.stream.state!)).toEqual(present);
    }
    expect(presenceOf(fresh.stream.state!)).toEqual(present);
    console.info(
      `failover: killed A after ${KILL_AFTER_ACKS} acks; lost readers left presence ${ghostsFor} ms after the kill (bound ${PRESENCE_BOUND_MS} ms)`,
    );
    for (const client of [...writers]) client.close();
    for (const client of [host, fresh, ...leavers]) client.close();
  }, 180_000);
});
