import { describe, expect, it } from "vitest";
import type { Actor } from "../seminars/seminars.policy.ts";
import {
  annotateRefusal,
  audienceOf,
  canRespondTo,
  canSeeContent,
  isAnnotatableBlock,
  isAuthor,
  ROOM_AUDIENCE,
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

  it("shows hidden content to moderators and the author only; the room audience never sees it", () => {
    const hidden = annotation({ hiddenAt: new Date() });
    expect(canSeeContent(audienceOf(actor("participant", "author")), hidden)).toBe(true);
    expect(canSeeContent(audienceOf(actor("co_moderator")), hidden)).toBe(true);
    expect(canSeeContent(audienceOf(actor("participant")), hidden)).toBe(false);
    expect(canSeeContent(audienceOf(actor("observer")), hidden)).toBe(false);
    expect(canSeeContent(ROOM_AUDIENCE, hidden)).toBe(false);
    expect(canSeeContent(ROOM_AUDIENCE, annotation())).toBe(true);
  });

  it("refuses replies and reactions to tombstones, and to hidden annotations unless a moderator", () => {
    expect(canRespondTo(actor("participant"), annotation())).toBe(true);
    expect(canRespondTo(actor("host"), annotation({ deletedAt: new Date() }))).toBe(false);
    expect(canRespondTo(actor("participant"), annotation({ hiddenAt: new Date() }))).toBe(false);
    expect(canRespondTo(actor("host"), annotation({ hiddenAt: new Date() }))).toBe(true);
  });
});
