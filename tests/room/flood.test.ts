import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../src/protocol/result.ts";
import { buildSeminar, type GuestSession } from "../helpers/factories.ts";
import { RoomClient, startTestServer, waitAsHinted } from "../helpers/server.ts";

// A pool of two connections and a room flooded with many times that many joins, connections and
// snapshots at once: what the database cannot serve now must be answered `unavailable` with a
// retry hint (never `internal`), and clients that follow the hint all get in.
const POOL_SIZE = 2;
const GUESTS = 120;

const server = await startTestServer({ DATABASE_POOL_SIZE: String(POOL_SIZE) });

/** Every refusal seen, by step and code, with whether it carried a retry hint. */
const refusals: { step: string; code: string; retryAfterMs: unknown }[] = [];

function note(step: string, error: ErrorBody) {
  const details = error.details as { retryAfterMs?: unknown } | undefined;
  refusals.push({ step, code: error.code, retryAfterMs: details?.retryAfterMs });
}

async function joinFollowingHints(joinCode: string, name: string): Promise<GuestSession> {
  for (;;) {
    const answer = await server.http<GuestSession>("POST", "/api/seminars/join", {
      code: joinCode,
      displayName: name,
    });
    if (answer.body.ok) return answer.body.data;
    note("join", answer.body.error);
    if (answer.body.error.code !== "unavailable") throw new Error(`join refused: ${answer.body.error.code}`);
    await waitAsHinted(answer.body.error);
  }
}

describe("a room flooded beyond the database pool", () => {
  it(`admits ${GUESTS} guests joining, connecting and loading the room at once on a pool of ${POOL_SIZE}`, {
    timeout: 120_000,
  }, async () => {
    const { seminar } = await buildSeminar(server);
    const guests = await Promise.all(
      Array.from({ length: GUESTS }, (_, i) => joinFollowingHints(seminar.joinCode!, `Guest ${i}`)),
    );
    const clients = await Promise.all(
      guests.map((guest) =>
        RoomClient.join(server.url, { token: guest.token }, undefined, {
          onRefused: (step, error) => note(step, error),
        }),
      ),
    );
    try {
      // Everyone got in and holds the whole room as of one sequence number at least as late as
      // the last join.
      const lastSeq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
      for (const client of clients) {
        expect(client.stream.state).not.toBeNull();
        await client.waitForSeq(lastSeq);
      }
      expect(
        await server.prisma.membership.count({ where: { seminarId: seminar.id, role: "participant" } }),
      ).toBe(GUESTS);
      // The flood did go beyond the pool: requests queued at the node's gate.
      const gate = server.app.realtime.admission.stats();
      expect(gate.peakWaiting).toBeGreaterThan(POOL_SIZE);
      // Whatever was refused was refused as retryable, with a hint.
      for (const refusal of refusals) {
        expect(refusal.code).toBe("unavailable");
        expect(refusal.retryAfterMs).toEqual(expect.any(Number));
      }
    } finally {
      for (const client of clients) client.close();
    }
  });

  it(`catches up ${GUESTS} members reconnecting at once after losing their connections, on a pool of ${POOL_SIZE}`, {
    timeout: 120_000,
  }, async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const guests = await Promise.all(
      Array.from({ length: GUESTS }, (_, i) => joinFollowingHints(seminar.joinCode!, `Reader ${i}`)),
    );
    const first = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    // Everyone loses the connection; the room moves on while they are away.
    const held = first.map((client) => client.stream);
    for (const client of first) client.close();
    const paragraph = host.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!;
    for (let i = 0; i < 3; i++) {
      expect(
        (await host.send("annotation:create", { paragraphId: paragraph.id, body: `While away ${i}` })).ok,
      ).toBe(true);
    }
    const lastSeq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    expect(held.every((stream) => stream.seq < lastSeq)).toBe(true);
    const before = refusals.length;
    // All come back at once, each with the state it held: room:sync { since } (a catch-up).
    const back = await Promise.all(
      guests.map((guest, i) =>
        RoomClient.join(server.url, { token: guest.token }, held[i], {
          onRefused: (step, error) => note(step, error),
        }),
      ),
    );
    try {
      for (const client of back) {
        expect(client.stream.seq).toBe(lastSeq);
        const bodies = client.stream.state!.annotations.map((annotation) => annotation.body);
        expect(bodies).toEqual(expect.arrayContaining(["While away 0", "While away 1", "While away 2"]));
      }
      for (const refusal of refusals.slice(before)) {
        expect(refusal.code).toBe("unavailable");
        expect(refusal.retryAfterMs).toEqual(expect.any(Number));
      }
    } finally {
      for (const client of [...back, host]) client.close();
    }
  });
});
