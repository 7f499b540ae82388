import { describe, expect, it } from "vitest";
import { AUDIENCE_VIEWERS } from "../seminars/seminars.policy.ts";
import { type AnnotationRecord, presentAnnotation, presentAnnotationFor } from "./annotations.presenter.ts";

const viewer = (memberId: string | null, moderator = false) => ({ memberId, moderator, anonymized: false });

const base: AnnotationRecord = {
  id: "a-1",
  paragraphId: "p-1",
  authorId: "author",
  parentId: null,
  startOffset: 6,
  endOffset: 7,
  quoteExact: "😀",
  quotePrefix: "Emoji ",
  quoteSuffix: " and",
  body: "A face",
  tags: ["emoji"],
  version: 2,
  editedAt: new Date("2026-01-02T03:04:05.678Z"),
  deletedAt: null,
  hiddenAt: null,
  pinnedAt: null,
  createdAt: new Date("2026-01-01T00:00:00.000Z"),
  reactions: [
    { memberId: "m-2", kind: "agree" },
    { memberId: "m-3", kind: "question" },
    { memberId: "m-1", kind: "agree" },
  ],
};

describe("presentAnnotation", () => {
  it("lists every field explicitly, with selectors and reactions grouped by kind in order", () => {
    expect(presentAnnotation(base)).toEqual({
      id: "a-1",
      paragraphId: "p-1",
      authorId: "author",
      parentId: null,
      selector: { start: 6, end: 7, exact: "😀", prefix: "Emoji ", suffix: " and" },
      body: "A face",
      tags: ["emoji"],
      version: 2,
      reactions: { agree: ["m-2", "m-1"], question: ["m-3"] },
      deleted: false,
      hidden: false,
      pinned: false,
      createdAt: "2026-01-01T00:00:00.000Z",
      editedAt: "2026-01-02T03:04:05.678Z",
    });
  });

  it("has no selector for a whole-paragraph comment or a reply", () => {
    const whole = {
      ...base,
      startOffset: null,
      endOffset: null,
      quoteExact: null,
      quotePrefix: null,
      quoteSuffix: null,
    };
    expect(presentAnnotation(whole).selector).toBeNull();
  });

  it("leaves a hidden annotation out for participants and the room, not for moderators or the author", () => {
    const hidden = { ...base, hiddenAt: new Date(), pinnedAt: new Date() };
    expect(presentAnnotationFor(viewer("m-9"), hidden)).toBeNull();
    expect(presentAnnotationFor(AUDIENCE_VIEWERS.participants, hidden)).toBeNull();
    expect(presentAnnotationFor(viewer("author"), hidden)).toMatchObject({
      body: "A face",
      hidden: true,
      pinned: true,
      selector: { exact: "😀" },
    });
    expect(presentAnnotationFor(viewer("m-9", true), hidden)).toMatchObject({
      body: "A face",
      tags: ["emoji"],
      hidden: true,
    });
  });

  it("presents a tombstone as deleted with what storage holds (body and tags already cleared)", () => {
    const tombstone = { ...base, body: "", tags: [], deletedAt: new Date() };
    expect(presentAnnotationFor(AUDIENCE_VIEWERS.participants, tombstone)).toMatchObject({
      deleted: true,
      body: "",
      tags: [],
    });
  });
});
