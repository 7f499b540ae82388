import { describe, expect, it } from "vitest";
import { type Actor, AUDIENCE_VIEWERS, type RoomState, viewerOf } from "../seminars/seminars.policy.ts";
import {
  annotateRefusal,
  canReadHistory,
  canRespondTo,
  canSeeAnnotation,
  isAnnotatableBlock,
  isAuthor,
} from "./annotations.policy.ts";

const actor = (role: Actor["role"], memberId = "m-1"): Actor => ({ memberId, seminarId: "s-1", role });
const live: RoomState = { state: "live", locked: false };
const annotation = (overrides: { deletedAt?: Date; hiddenAt?: Date } = {}) => ({
  authorId: "author",
  deletedAt: overrides.deletedAt ?? null,
  hiddenAt: overrides.hiddenAt ?? null,
});

describe("annotation policy", () => {
  it("lets writers annotate only while live; observers are forbidden, closed rooms room_closed", () => {
    const code = (role: Actor["role"], room = live, muted = false) =>
      annotateRefusal("post", { role, status: "active", muted }, room)?.code ?? null;
    expect(code("participant")).toBeNull();
    expect(code("host")).toBeNull();
    expect(code("observer")).toBe("forbidden");
    expect(code("participant", { state: "ended", locked: false })).toBe("room_closed");
    expect(code("co_moderator", { state: "draft", locked: false })).toBe("room_closed");
    expect(code("observer", { state: "ended", locked: false })).toBe("forbidden");
  });

  it("refuses a muted member's posts, edits and reactions with reason muted, but lets them delete their own", () => {
    const muted = { role: "participant", status: "active", muted: true } as const;
    for (const right of ["post", "edit_own", "react"] as const) {
      expect(annotateRefusal(right, muted, live)).toMatchObject({
        code: "forbidden",
        details: { reason: "muted" },
      });
    }
    expect(annotateRefusal("delete_own", muted, live)).toBeNull();
    // A closed room is what a muted member is told first: muting changes nothing there.
    expect(annotateRefusal("post", muted, { state: "ended", locked: false })?.code).toBe("room_closed");
  });

  it("gives kicked and banned members no right at all", () => {
    for (const status of ["kicked", "banned"] as const) {
      expect(
        annotateRefusal("delete_own", { role: "participant", status, muted: false }, live),
      ).toMatchObject({
        code: "forbidden",
        details: { reason: "inactive" },
      });
    }
  });

  it("allows annotating body blocks and headings, not section markers", () => {
    for (const kind of ["paragraph", "quote", "list_item", "caption", "heading"] as const) {
      expect(isAnnotatableBlock(kind)).toBe(true);
    }
    expect(isAnnotatableBlock("section_marker")).toBe(false);
  });

  it("recognises the author only by membership id", () => {
    expect(isAuthor(actor("participant", "author"), annotation())).toBe(true);
    expect(isAuthor(actor("host", "someone"), annotation())).toBe(false);
  });

  it("shows a hidden annotation to moderators and the author only; the participants' room never sees it", () => {
    const hidden = annotation({ hiddenAt: new Date() });
    expect(canSeeAnnotation(viewerOf(actor("participant", "author")), hidden)).toBe(true);
    expect(canSeeAnnotation(viewerOf(actor("co_moderator")), hidden)).toBe(true);
    expect(canSeeAnnotation(viewerOf(actor("participant")), hidden)).toBe(false);
    expect(canSeeAnnotation(viewerOf(actor("observer")), hidden)).toBe(false);
    expect(canSeeAnnotation(AUDIENCE_VIEWERS.participants, hidden)).toBe(false);
    expect(canSeeAnnotation(AUDIENCE_VIEWERS.moderators, hidden)).toBe(true);
    expect(canSeeAnnotation(AUDIENCE_VIEWERS.participants, annotation())).toBe(true);
  });

  it("lets moderators and the author read earlier versions, nobody else", () => {
    expect(canReadHistory(viewerOf(actor("participant", "author")), annotation())).toBe(true);
    expect(canReadHistory(viewerOf(actor("co_moderator")), annotation())).toBe(true);
    expect(canReadHistory(viewerOf(actor("participant")), annotation())).toBe(false);
    expect(canReadHistory(viewerOf(actor("observer")), annotation())).toBe(false);
  });

  it("refuses replies and reactions to tombstones, and to hidden annotations unless a moderator", () => {
    expect(canRespondTo(actor("participant"), annotation())).toBe(true);
    expect(canRespondTo(actor("host"), annotation({ deletedAt: new Date() }))).toBe(false);
    expect(canRespondTo(actor("participant"), annotation({ hiddenAt: new Date() }))).toBe(false);
    expect(canRespondTo(actor("host"), annotation({ hiddenAt: new Date() }))).toBe(true);
  });
});
