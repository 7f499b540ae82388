import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisPresenceStore } from "../../src/realtime/presence.ts";
import { TEST_REDIS_URL } from "../helpers/redis.ts";

// The Redis presence store against a real Redis: the order in which one node's scripts can reach
// Redis must not change who is present.

const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
afterAll(() => redis.quit());

const TTL_MS = 60_000;
const store = () => new RedisPresenceStore(redis, `test-${randomUUID().slice(0, 13)}:`, TTL_MS);
const ada = { id: "ada", displayName: "Ada", moderator: false };

describe("the Redis presence store", () => {
  it("counts a socket once when its renewal reaches Redis before its admission", async () => {
    const presence = store();
    const room = randomUUID();
    // The heartbeat renewed the socket first (it went back in as a rejoin), then its admission ran.
    expect(await presence.renew(room, [{ socketId: "s1", member: ada }])).toEqual({
      expired: [],
      rejoined: ["ada"],
    });
    expect(await presence.add(room, ada, "s1", 3)).toMatchObject({ admitted: true, joined: false });
    // One socket: closing it is the member's last, and nobody is left listed.
    expect(await presence.remove(room, "ada", "s1")).toBe(true);
    expect((await presence.list(room)).present).toEqual([]);
  });

  it("lists a member with the name their first socket brought, until their last socket goes", async () => {
    const presence = store();
    const room = randomUUID();
    expect(await presence.add(room, ada, "s1", 3)).toMatchObject({ admitted: true, joined: true });
    expect(await presence.add(room, ada, "s2", 3)).toMatchObject({ admitted: true, joined: false });
    expect((await presence.list(room)).present).toEqual([
      { memberId: "ada", displayName: "Ada", paragraphId: null, moderator: false },
    ]);
    expect(await presence.remove(room, "ada", "s1")).toBe(false);
    expect((await presence.list(room)).present).toHaveLength(1);
    expect(await presence.remove(room, "ada", "s2")).toBe(true);
    expect((await presence.list(room)).present).toEqual([]);
  });

  it("refuses a socket over the cap and leaves no entry for it", async () => {
    const presence = store();
    const room = randomUUID();
    await presence.add(room, ada, "s1", 1);
    expect(await presence.add(room, ada, "s2", 1)).toMatchObject({ admitted: false });
    // The refused socket was never counted: closing the first is the member's last.
    expect(await presence.remove(room, "ada", "s2")).toBe(false);
    expect(await presence.remove(room, "ada", "s1")).toBe(true);
  });

  it("keeps who moderates with the name, and reads the time in Redis's clock", async () => {
    const presence = store();
    const room = randomUUID();
    const host = { id: "host", displayName: "m: Host", moderator: true };
    await presence.add(room, host, "s1", 3);
    await presence.renew(room, [{ socketId: "s2", member: ada }]);
    const before = Date.now();
    const { present, at } = await presence.list(room);
    expect(present.sort((x, y) => x.memberId.localeCompare(y.memberId))).toEqual([
      { memberId: "ada", displayName: "Ada", paragraphId: null, moderator: false },
      { memberId: "host", displayName: "m: Host", paragraphId: null, moderator: true },
    ]);
    // Same machine here: Redis's clock and ours agree to within a second.
    expect(Math.abs(at - before)).toBeLessThan(1_000);
  });
});
