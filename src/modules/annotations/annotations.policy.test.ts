import { describe, expect, it } from "vitest";
import { type Actor, AUDIENCE_VIEWERS, viewerOf } from "../seminars/seminars.policy.ts";
import {
  annotateRefusal,
  canReadHistory,
  canRespondTo,
  canSeeAnnotation,
  isAnnotatableBlock,
  isAuthor,
} from "./annotations.policy.ts";

const actor = (role: Actor["role"], memberId = "m-1"): Actor => ({ memberId, seminarId: "s-1", role });
const live = { state: "live", locked: false } as const;
const annotation = (overrides: { deletedAt?: Date; hiddenAt?: Date } = {}) => ({
  authorId: "author",
  deletedAt: overrides.deletedAt ?? null,
  hiddenAt: overrides.hiddenAt ?? null,
});

describe("annotation policy", () => {
  it("lets writers annotate only while live; observers are forbidden, closed rooms room_closed", () => {
    expect(annotateRefusal(actor("participant"), live)).toBeNull();
    expect(annotateRefusal(actor("host"), live)).toBeNull();
    expect(annotateRefusal(actor("observer"), live)).toBe("forbidden");
    expect(annotateRefusal(actor("participant"), { state: "ended", locked: false })).toBe("room_closed");
    expect(annotateRefusal(actor("co_moderator"), { state: "draft", locked: false })).toBe("room_closed");
    expect(annotateRefusal(actor("observer"), { state: "ended", locked: false })).toBe("forbidden");
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
