import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PresenceDelta } from "../protocol/events.ts";
import { LIMITS } from "../protocol/limits.ts";
import { MemoryPresenceStore, Presence, presenceIntervalMs } from "./presence.ts";

const SMALL = "seminar-small";
const HALL = "seminar-hall";
const FLUSH_MS = LIMITS.presenceFlushMs;

/** Presence over the in-memory store, with rooms of the given sizes and every delta recorded. */
function build(sockets: Record<string, number>) {
  const sent: { seminarId: string; delta: PresenceDelta }[] = [];
  const presence = new Presence(
    new MemoryPresenceStore(),
    (seminarId, delta) => sent.push({ seminarId, delta }),
    pino({ enabled: false }),
    { flushMs: FLUSH_MS, audience: (seminarId) => sockets[seminarId] ?? 0 },
  );
  return { presence, sent };
}

const arrive = (presence: Presence, seminarId: string, n: number) =>
  presence.connect(seminarId, { id: `m${n}`, displayName: `Reader ${n}` }, `s${n}`, 5);

afterEach(() => {
  vi.useRealTimers();
});

describe("presence deltas", () => {
  it("go out every interval in a small room and less often in a large one, the large one's changes merged", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    const { presence, sent } = build({ [SMALL]: 20, [HALL]: 5_000 });
    const interval = presenceIntervalMs(FLUSH_MS, 5_000);
    expect(interval).toBe(5_000 * LIMITS.presenceFlushPerSocketMs);
    expect(interval).toBeGreaterThan(FLUSH_MS);

    await arrive(presence, SMALL, 1);
    await arrive(presence, HALL, 2);
    presence.flush();
    expect(sent.map((entry) => entry.seminarId)).toEqual([SMALL, HALL]);

    // Half an interval of the hall later: the small room's change goes, the hall's waits.
    await arrive(presence, SMALL, 3);
    await arrive(presence, HALL, 4);
    vi.advanceTimersByTime(FLUSH_MS);
    expect(sent.map((entry) => entry.seminarId)).toEqual([SMALL, HALL, SMALL]);

    // The hall's next change joins the waiting one; both go out once its interval has passed.
    await arrive(presence, HALL, 5);
    vi.advanceTimersByTime(interval - FLUSH_MS);
    expect(sent.map((entry) => entry.seminarId)).toEqual([SMALL, HALL, SMALL, HALL]);
    expect(sent.at(-1)!.delta.joined.map((entry) => entry.memberId)).toEqual(["m4", "m5"]);
    presence.close();
  });

  it("never waits longer than presenceFlushMaxMs, and sends everything pending on close", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    const { presence, sent } = build({ [HALL]: 1_000_000 });
    expect(presenceIntervalMs(FLUSH_MS, 1_000_000)).toBe(LIMITS.presenceFlushMaxMs);
    await arrive(presence, HALL, 1);
    presence.flush();
    await arrive(presence, HALL, 2);
    vi.advanceTimersByTime(LIMITS.presenceFlushMaxMs - FLUSH_MS);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(FLUSH_MS);
    expect(sent).toHaveLength(2);
    await arrive(presence, HALL, 3);
    presence.close();
    expect(sent).toHaveLength(3);
    expect(sent.at(-1)!.delta.joined.map((entry) => entry.memberId)).toEqual(["m3"]);
  });
});
