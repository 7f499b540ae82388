import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PresenceDelta, PresenceUpdate } from "../protocol/events.ts";
import { LIMITS } from "../protocol/limits.ts";
import { type Listing, MemoryPresenceStore, Presence, presenceFor, presenceIntervalMs } from "./presence.ts";

const SMALL = "seminar-small";
const HALL = "seminar-hall";
const FLUSH_MS = LIMITS.presenceFlushMs;

/** Presence over the in-memory store, with rooms of the given sizes and every delta recorded. */
function build(sockets: Record<string, number>) {
  const sent: { seminarId: string; delta: PresenceDelta }[] = [];
  const updates: { seminarId: string; update: PresenceUpdate }[] = [];
  const presence = new Presence(
    new MemoryPresenceStore(),
    {
      delta: (seminarId, delta) => sent.push({ seminarId, delta }),
      update: (seminarId, update) => updates.push({ seminarId, update }),
    },
    pino({ enabled: false }),
    { flushMs: FLUSH_MS, listedMax: 2, audience: (seminarId) => sockets[seminarId] ?? 0 },
  );
  return { presence, sent, updates };
}

const arrive = (presence: Presence, seminarId: string, n: number) =>
  presence.connect(seminarId, { id: `m${n}`, displayName: `Reader ${n}`, moderator: false }, `s${n}`, 5);

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
    await presence.close();
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
    await presence.close();
    expect(sent).toHaveLength(3);
    expect(sent.at(-1)!.delta.joined.map((entry) => entry.memberId)).toEqual(["m3"]);
  });
});

describe("presence as each viewer gets it", () => {
  const at = 1_700_000_000_000;
  const entry = (id: string, paragraphId: string | null, moderator = false) => ({
    memberId: id,
    displayName: `Name ${id}`,
    paragraphId,
    moderator,
  });
  const listing: Listing = {
    at,
    present: [entry("a", "p2"), entry("host", "p1", true), entry("b", "p2"), entry("c", null)],
  };
  const named = (ids: string[]) =>
    ids.map((id) => ({
      memberId: id,
      displayName: `Name ${id}`,
      paragraphId: listing.present.find((e) => e.memberId === id)!.paragraphId,
    }));
  const counts = [
    { paragraphId: "p1", count: 1 },
    { paragraphId: "p2", count: 2 },
  ];

  it("names everyone to moderators, and to everyone in a room of at most listedMax present", () => {
    const all = named(["a", "host", "b", "c"]);
    const presenceSummary = { at, present: 4, reading: counts, complete: true };
    expect(presenceFor(listing, true, 2)).toEqual({ presence: all, presenceSummary });
    expect(presenceFor(listing, false, 4)).toEqual({ presence: all, presenceSummary });
  });

  it("names only the moderators to the others of a larger room, and counts everyone", () => {
    expect(presenceFor(listing, false, 3)).toEqual({
      presence: named(["host"]),
      presenceSummary: { at, present: 4, reading: counts, complete: false },
    });
  });

  it("sends the moderators the delta and the others the room's presence read again", async () => {
    const { presence, sent, updates } = build({ [SMALL]: 3 });
    await arrive(presence, SMALL, 1);
    await presence.connect(SMALL, { id: "host", displayName: "Host", moderator: true }, "sh", 5);
    await arrive(presence, SMALL, 2);
    await presence.focus(SMALL, { id: "m2", displayName: "Reader 2", moderator: false }, "p9");
    presence.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.delta.joined.map((view) => [view.memberId, view.paragraphId])).toEqual([
      ["m1", null],
      ["host", null],
      ["m2", "p9"],
    ]);
    // The update is read from the store after the delta went.
    await vi.waitFor(() => expect(updates).toHaveLength(1));
    const { update } = updates[0]!;
    expect(update.presence).toEqual([{ memberId: "host", displayName: "Host", paragraphId: null }]);
    expect(update.presenceSummary).toMatchObject({
      present: 3,
      reading: [{ paragraphId: "p9", count: 1 }],
      complete: false,
    });
    await presence.close();
  });
});
