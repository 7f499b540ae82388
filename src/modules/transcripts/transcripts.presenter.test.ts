import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pseudonymousIds, withPseudonymousIds } from "./transcripts.presenter.ts";

const SECRET = "a-secret-of-at-least-thirty-two-characters";

describe("pseudonymousIds", () => {
  it("gives each member a stable version-8 UUID per seminar, unrelated across seminars", () => {
    const members = [randomUUID(), randomUUID()];
    const seminar = randomUUID();
    const once = pseudonymousIds(SECRET, seminar, members);
    expect(pseudonymousIds(SECRET, seminar, members)).toEqual(once);
    for (const id of once.values()) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(once.values()).size).toBe(2);
    const elsewhere = pseudonymousIds(SECRET, randomUUID(), members);
    expect([...elsewhere.values()]).not.toContain(once.get(members[0]!));
    const otherSecret = pseudonymousIds(`${SECRET}!`, seminar, members);
    expect(otherSecret.get(members[0]!)).not.toBe(once.get(members[0]!));
  });
});

describe("withPseudonymousIds", () => {
  it("replaces member ids wherever they stand, values and keys, and nothing else", () => {
    const member = randomUUID();
    const other = randomUUID();
    const ids = new Map([[member, "p-1"]]);
    const view = {
      authorId: member,
      body: `mentions ${member} in text`,
      reactions: { agree: [member, other] },
      byMember: { [member]: 1 },
      nested: [{ actor: member, n: 3, flag: true, none: null }],
    };
    expect(withPseudonymousIds(view, ids)).toEqual({
      authorId: "p-1",
      body: `mentions ${member} in text`,
      reactions: { agree: ["p-1", other] },
      byMember: { "p-1": 1 },
      nested: [{ actor: "p-1", n: 3, flag: true, none: null }],
    });
    expect(view.authorId).toBe(member);
  });
});
