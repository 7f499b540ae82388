import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { COMMAND_INPUTS } from "../../protocol/commands.ts";
import {
  COMMAND_RIGHTS,
  canLowerHandOf,
  holderOf,
  holdsRight,
  isMuted,
  isRoleChangeable,
  isSlowed,
  outranks,
  RIGHTS,
  type RightHolder,
  refusalOf,
  roleRefusal,
} from "./moderation.policy.ts";
import { normalizeTable, RIGHTS_TABLE_MARKERS, renderRightsTable, withRightsTable } from "./rights-table.ts";

const holder = (role: RightHolder["role"], extra: Partial<RightHolder> = {}): RightHolder => ({
  role,
  status: "active",
  muted: false,
  ...extra,
});

describe("the rights table", () => {
  it("gives every command of the registry a right, and every right a command", () => {
    expect(Object.keys(COMMAND_RIGHTS).sort()).toEqual(Object.keys(COMMAND_INPUTS).sort());
    const used = new Set(Object.values(COMMAND_RIGHTS));
    expect(Object.keys(RIGHTS).filter((right) => !used.has(right as keyof typeof RIGHTS))).toEqual([]);
  });

  it("refuses in a fixed order: inactive, role, state, mute", () => {
    const kickedObserver = holder("observer", { status: "kicked" });
    expect(refusalOf("post", kickedObserver, "ended")?.details.reason).toBe("inactive");
    expect(refusalOf("post", holder("observer", { muted: true }), "ended")?.details.reason).toBe("role");
    expect(refusalOf("post", holder("participant", { muted: true }), "ended")).toMatchObject({
      code: "room_closed",
      details: { reason: "state", state: "ended" },
    });
    const until = new Date("2030-01-01T00:00:00.000Z");
    expect(refusalOf("post", holder("participant", { muted: true, mutedUntil: until }), "live")).toEqual({
      code: "forbidden",
      message: expect.any(String),
      details: { right: "post", reason: "muted", until: until.toISOString() },
    });
    expect(refusalOf("post", holder("participant", { muted: true }), "live")?.details.until).toBeNull();
  });

  it("answers starting and ending in the wrong state with conflict, other rights with room_closed", () => {
    expect(refusalOf("start", holder("host"), "live")?.code).toBe("conflict");
    expect(refusalOf("end", holder("co_moderator"), "draft")?.code).toBe("conflict");
    expect(refusalOf("spotlight", holder("host"), "ended")?.code).toBe("room_closed");
  });

  it("keeps reading, voting, deleting one's own and lowering one's hand for muted members", () => {
    const muted = holder("participant", { muted: true });
    for (const right of ["read", "vote", "delete_own", "lower_hand"] as const) {
      expect(holdsRight(right, muted, "live"), right).toBe(true);
    }
    for (const right of ["post", "edit_own", "react", "raise_hand"] as const) {
      expect(holdsRight(right, muted, "live"), right).toBe(false);
    }
  });

  it("lets only the host change roles and only moderators moderate", () => {
    expect(holdsRight("change_roles", holder("host"), "live")).toBe(true);
    expect(holdsRight("change_roles", holder("co_moderator"), "live")).toBe(false);
    for (const role of ["participant", "observer"] as const) {
      expect(holdsRight("moderate_members", holder(role), "live")).toBe(false);
      expect(roleRefusal("run_prompts", role)?.details.reason).toBe("role");
    }
    expect(roleRefusal("run_prompts", "co_moderator")).toBeNull();
  });

  it("prints the same table in docs/moderation.md", async () => {
    const document = await readFile(new URL("../../../docs/moderation.md", import.meta.url), "utf8");
    const start = document.indexOf(RIGHTS_TABLE_MARKERS.start);
    const end = document.indexOf(RIGHTS_TABLE_MARKERS.end);
    expect(start, "the start marker").toBeGreaterThanOrEqual(0);
    expect(end, "the end marker").toBeGreaterThan(start);
    // Compared cell by cell: Biome aligns the columns of the document's tables.
    expect(
      normalizeTable(document.slice(start + RIGHTS_TABLE_MARKERS.start.length, end)),
      "docs/moderation.md is out of date: run npx tsx scripts/rights-table.ts",
    ).toBe(normalizeTable(renderRightsTable()));
    expect(normalizeTable(withRightsTable(document))).toBe(normalizeTable(document));
  });
});

describe("who acts on whom", () => {
  const member = (id: string, role: RightHolder["role"]) => ({ id, role });

  it("lets members act only on those ranked below them, never on themselves", () => {
    expect(outranks(member("h", "host"), member("c", "co_moderator"))).toBe(true);
    expect(outranks(member("c", "co_moderator"), member("p", "participant"))).toBe(true);
    expect(outranks(member("c", "co_moderator"), member("o", "observer"))).toBe(true);
    expect(outranks(member("c", "co_moderator"), member("c2", "co_moderator"))).toBe(false);
    expect(outranks(member("c", "co_moderator"), member("h", "host"))).toBe(false);
    expect(outranks(member("h", "host"), member("h", "host"))).toBe(false);
    expect(outranks(member("p", "participant"), member("o", "observer"))).toBe(false);
  });

  it("never changes the host's role, lowers hands of one's own or (moderators) anyone's, slows participants", () => {
    expect(isRoleChangeable({ role: "host" })).toBe(false);
    expect(isRoleChangeable({ role: "co_moderator" })).toBe(true);
    expect(canLowerHandOf(member("p", "participant"), "p")).toBe(true);
    expect(canLowerHandOf(member("p", "participant"), "q")).toBe(false);
    expect(canLowerHandOf(member("c", "co_moderator"), "q")).toBe(true);
    expect(isSlowed("participant")).toBe(true);
    expect(isSlowed("co_moderator")).toBe(false);
  });
});

describe("mutes", () => {
  const now = new Date("2026-12-01T12:00:00.000Z");
  const later = new Date("2026-12-01T12:10:00.000Z");

  it("counts a mute until its end, or until unmuted when it has none", () => {
    expect(isMuted({ mutedAt: null, mutedUntil: null }, now)).toBe(false);
    expect(isMuted({ mutedAt: now, mutedUntil: null }, later)).toBe(true);
    expect(isMuted({ mutedAt: now, mutedUntil: later }, now)).toBe(true);
    expect(isMuted({ mutedAt: now, mutedUntil: later }, later)).toBe(false);
  });

  it("turns a stored member into a holder, with the end of a running mute only", () => {
    const stored = {
      role: "participant" as const,
      status: "active" as const,
      mutedAt: now,
      mutedUntil: later,
    };
    expect(holderOf(stored, now)).toEqual({
      role: "participant",
      status: "active",
      muted: true,
      mutedUntil: later,
    });
    expect(holderOf(stored, later)).toEqual({
      role: "participant",
      status: "active",
      muted: false,
      mutedUntil: null,
    });
  });
});
