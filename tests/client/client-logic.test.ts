/**
 * The web client's pure parts, without a browser: highlight segments in code points, selection
 * offsets, thread order and visibility, presence counts, tallies, comment checks, the outbox, close reasons and
 * retry hints.
 */
import { describe, expect, it } from "vitest";
import { afterClose } from "../../client/src/connection/closing.ts";
import { FocusReports } from "../../client/src/connection/focus-reports.ts";
import { busyHint, followingHints, retryAfterHeader } from "../../client/src/connection/http.ts";
import { Outbox } from "../../client/src/connection/outbox.ts";
import { checkComment, splitTags } from "../../client/src/features/annotations/comment-input.ts";
import { spanOfText } from "../../client/src/features/annotations/selection.ts";
import { threadsOf } from "../../client/src/features/annotations/threads.ts";
import { formatRemaining } from "../../client/src/features/console/countdown.ts";
import { highlightRanges, segmentText } from "../../client/src/features/essays/highlights.ts";
import {
  type PresenceState,
  readersByParagraph,
  readingInEssay,
  unlistedPresent,
} from "../../client/src/features/presence/counts.ts";
import { currentPrompt, resultsForRoom } from "../../client/src/features/projector/current.ts";
import { describeTally, tallyRows } from "../../client/src/features/prompts/tally.ts";
import { newClientId, plural } from "../../client/src/ui/text.ts";
import type { AnnotationView, PromptView, RoomSnapshot } from "../../src/protocol/views.ts";

function annotation(overrides: Partial<AnnotationView>): AnnotationView {
  return {
    id: "a",
    paragraphId: "p",
    authorId: "m1",
    parentId: null,
    selector: null,
    body: "text",
    tags: [],
    version: 1,
    reactions: {},
    deleted: false,
    hidden: false,
    pinned: false,
    createdAt: "2026-12-01T10:00:00.000Z",
    editedAt: null,
    ...overrides,
  };
}

const selector = (start: number, end: number) => ({ start, end, exact: "", prefix: "", suffix: "" });

describe("highlight segments", () => {
  it("cuts at code points, so text after 😀 and 𠮷 is highlighted where the server says", () => {
    const text = "A😀B𠮷CD";
    const segments = segmentText(text, [{ id: "x", start: 3, end: 5 }]);
    expect(segments.map((segment) => [segment.text, segment.ids])).toEqual([
      ["A😀B", []],
      ["𠮷C", ["x"]],
      ["D", []],
    ]);
    expect(segments.map((segment) => segment.text).join("")).toBe(text);
  });

  it("nests overlapping highlights, shortest first, and marks the draft span", () => {
    const segments = segmentText(
      "0123456789",
      [
        { id: "long", start: 0, end: 8 },
        { id: "short", start: 2, end: 4 },
      ],
      { start: 6, end: 10 },
    );
    expect(segments.map((segment) => [segment.text, segment.ids, segment.draft])).toEqual([
      ["01", ["long"], false],
      ["23", ["short", "long"], false],
      ["45", ["long"], false],
      ["67", ["long"], true],
      ["89", [], true],
    ]);
  });

  it("clamps ranges outside the text and ignores empty ones", () => {
    expect(
      segmentText("abc", [
        { id: "x", start: 2, end: 99 },
        { id: "y", start: 1, end: 1 },
      ]),
    ).toEqual([
      { text: "ab", start: 0, ids: [], draft: false },
      { text: "c", start: 2, ids: ["x"], draft: false },
    ]);
  });

  it("highlights visible roots with selectors only", () => {
    const ranges = highlightRanges([
      annotation({ id: "root", selector: selector(0, 2) }),
      annotation({ id: "whole" }),
      annotation({ id: "reply", parentId: "root" }),
      annotation({ id: "gone", selector: selector(1, 2), deleted: true }),
      annotation({ id: "hidden", selector: selector(1, 2), hidden: true }),
    ]);
    expect(ranges).toEqual([{ id: "root", start: 0, end: 2 }]);
  });
});

describe("selected spans", () => {
  it("converts UTF-16 positions to code points and trims white space", () => {
    const text = "有人 𠮷野家 的「𠮷」在某些工具裡";
    const from = text.indexOf(" 𠮷野家");
    const span = spanOfText("p", text, from, from + " 𠮷野家 ".length);
    expect(span).toEqual({
      paragraphId: "p",
      start: 3,
      end: 6,
      exact: "𠮷野家",
      prefix: "有人 ",
      suffix: " 的「𠮷」在某些工具裡",
    });
  });

  it("refuses a selection of nothing but white space", () => {
    expect(spanOfText("p", "a   b", 1, 4)).toBeUndefined();
  });
});

describe("threads", () => {
  const list = [
    annotation({ id: "old", createdAt: "2026-12-01T10:00:00.000Z" }),
    annotation({ id: "pinned", createdAt: "2026-12-01T10:05:00.000Z", pinned: true }),
    annotation({ id: "hidden", hidden: true, body: "" }),
    annotation({
      id: "mine-hidden",
      authorId: "me",
      hidden: true,
      body: "mine",
      createdAt: "2026-12-01T10:10:00.000Z",
    }),
    annotation({ id: "tomb", deleted: true, body: "" }),
    annotation({ id: "tomb-with-reply", deleted: true, body: "", createdAt: "2026-12-01T09:00:00.000Z" }),
    annotation({ id: "r2", parentId: "tomb-with-reply", createdAt: "2026-12-01T10:02:00.000Z" }),
    annotation({ id: "r1", parentId: "tomb-with-reply", createdAt: "2026-12-01T10:01:00.000Z" }),
    annotation({ id: "other", paragraphId: "q" }),
  ];

  it("puts pinned first, keeps a tombstone only with replies, hides what a moderator hid", () => {
    const threads = threadsOf(list, "p", "me");
    expect(threads.map((thread) => thread.root.id)).toEqual([
      "pinned",
      "tomb-with-reply",
      "old",
      "mine-hidden",
    ]);
    expect(threads[1]!.replies.map((reply) => reply.id)).toEqual(["r1", "r2"]);
  });

  it("shows a hidden comment to nobody but its author", () => {
    expect(threadsOf(list, "p", "someone").map((thread) => thread.root.id)).not.toContain("mine-hidden");
  });

  it("shows every hidden comment in the moderator's console (seesHidden), in the same order", () => {
    const ids = threadsOf(list, "p", "moderator", true).map((thread) => thread.root.id);
    // "hidden" and "old" were made at the same time: the id breaks the tie.
    expect(ids).toEqual(["pinned", "tomb-with-reply", "hidden", "old", "mine-hidden"]);
  });
});

describe("presence counts", () => {
  const paragraphs = ["p1", "p2", "p3"].map((id, position) => ({
    id,
    position,
    kind: "paragraph" as const,
    level: null,
    text: id,
  }));
  const room = (overrides: Partial<PresenceState>): PresenceState => ({
    essay: { paragraphs },
    viewer: { memberId: "me" },
    presence: [],
    presenceSummary: { at: 1, present: 0, reading: [], complete: true },
    ...overrides,
  });
  const entry = (memberId: string, paragraphId: string | null) => ({
    memberId,
    displayName: memberId,
    paragraphId,
  });

  it("counts others per paragraph from the summary, less the viewer's own entry in a complete list", () => {
    const complete = room({
      presence: [entry("me", "p1"), entry("a", "p1"), entry("b", "p2")],
      presenceSummary: {
        at: 1,
        present: 3,
        reading: [
          { paragraphId: "p1", count: 2 },
          { paragraphId: "p2", count: 1 },
        ],
        complete: true,
      },
    });
    // The connection's own report is not used when the list says where the viewer is.
    expect(Object.fromEntries(readersByParagraph(complete, "p2"))).toEqual({ p1: 1, p2: 1 });
    expect(unlistedPresent(complete)).toBe(0);
  });

  it("in a large room takes the viewer off the paragraph they reported, never below zero", () => {
    const large = room({
      presence: [entry("mod", "p3")],
      presenceSummary: {
        at: 1,
        present: 5_000,
        reading: [
          { paragraphId: "p2", count: 1_200 },
          { paragraphId: "p3", count: 1 },
        ],
        complete: false,
      },
    });
    expect(Object.fromEntries(readersByParagraph(large, "p2"))).toEqual({ p2: 1_199, p3: 1 });
    expect(Object.fromEntries(readersByParagraph(large, null))).toEqual({ p2: 1_200, p3: 1 });
    // Reported but not counted yet (the counts come with the next presence).
    expect(Object.fromEntries(readersByParagraph(large, "p1"))).toEqual({ p2: 1_200, p3: 1 });
    expect(unlistedPresent(large)).toBe(4_999);
    expect(readingInEssay(large).map(({ paragraph, count }) => [paragraph.id, count])).toEqual([
      ["p2", 1_200],
      ["p3", 1],
    ]);
  });
});

describe("tallies", () => {
  const prompt = {
    question: "Q?",
    options: [
      { id: "y", position: 0, label: "Yes", value: null },
      { id: "n", position: 1, label: "No", value: null },
    ],
  } as PromptView;

  it("gives counts and whole percentages of ballots, and a sentence for screen readers", () => {
    const tally = { promptId: "p", version: 3, counts: { y: 2, n: 1 }, ballots: 3 };
    expect(tallyRows(prompt, tally).map((row) => [row.label, row.count, row.percent])).toEqual([
      ["Yes", 2, 67],
      ["No", 1, 33],
    ]);
    expect(describeTally(prompt, tally)).toBe(
      "Q? Yes: 2 votes, 67 percent. No: 1 vote, 33 percent. 3 ballots in total.",
    );
    expect(tallyRows(prompt, { ...tally, counts: {}, ballots: 0 }).map((row) => row.percent)).toEqual([0, 0]);
  });
});

describe("the projector and the countdown", () => {
  const prompt = (overrides: Partial<PromptView>) =>
    ({
      id: "p",
      state: "open",
      revealed: false,
      resultsVisibility: "live",
      openedAt: null,
      closedAt: null,
      ...overrides,
    }) as PromptView;
  const room = (prompts: PromptView[]) => ({ prompts }) as RoomSnapshot;

  it("shows the question opened last, else the one closed last, never a draft", () => {
    const early = prompt({ id: "early", openedAt: "2026-12-01T10:00:00.000Z" });
    const late = prompt({ id: "late", openedAt: "2026-12-01T10:05:00.000Z" });
    const closed = prompt({ id: "closed", state: "closed", closedAt: "2026-12-01T10:09:00.000Z" });
    const older = prompt({ id: "older", state: "closed", closedAt: "2026-12-01T09:00:00.000Z" });
    const draft = prompt({ id: "draft", state: "draft" });
    expect(currentPrompt(room([early, late, closed, draft]))?.id).toBe("late");
    expect(currentPrompt(room([older, closed, draft]))?.id).toBe("closed");
    expect(currentPrompt(room([draft]))).toBeUndefined();
  });

  it("puts counts on the room's screen only when participants could see them", () => {
    expect(resultsForRoom(prompt({ resultsVisibility: "live" }))).toBe(true);
    expect(resultsForRoom(prompt({ resultsVisibility: "after_close" }))).toBe(false);
    expect(resultsForRoom(prompt({ resultsVisibility: "after_close", state: "closed" }))).toBe(true);
    expect(resultsForRoom(prompt({ resultsVisibility: "moderators", state: "closed" }))).toBe(false);
    expect(resultsForRoom(prompt({ resultsVisibility: "moderators", revealed: true }))).toBe(true);
  });

  it("writes the time left as m:ss or h:mm:ss, never below zero", () => {
    expect(formatRemaining(125_000)).toBe("2:05");
    expect(formatRemaining(124_001)).toBe("2:05");
    expect(formatRemaining(3_723_000)).toBe("1:02:03");
    expect(formatRemaining(-5_000)).toBe("0:00");
  });
});

describe("comments and ids", () => {
  it("checks bodies and tags with the protocol's rules", () => {
    expect(checkComment("  hello\r\nthere ", "Ethics, 開放 #policy")).toEqual({
      ok: true,
      body: "hello\nthere",
      tags: ["ethics", "開放", "policy"],
    });
    expect(checkComment("   ", "")).toMatchObject({ ok: false });
    expect(checkComment("fine", "no<script>")).toMatchObject({ ok: false });
    expect(splitTags("a，b、c")).toEqual(["a", "b", "c"]);
  });

  it("makes UUID v4 client ids without crypto.randomUUID", () => {
    const id = newClientId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientId()).not.toBe(id);
  });
});

describe("the outbox", () => {
  it("keeps one waiting ballot per prompt, the newest, and sends again what was in flight", () => {
    const outbox = new Outbox("s", "m");
    const vote = (promptId: string, id: string) =>
      outbox.add({ event: "prompt:vote", payload: { promptId, optionIds: ["o"], clientBallotId: id } });
    vote("p1", "b1");
    outbox.add({ event: "annotation:create", payload: { paragraphId: "x", body: "hi", clientId: "c1" } });
    vote("p1", "b2");
    vote("p2", "b3");
    expect(outbox.items.value.map((item) => item.key)).toEqual(["c1", "b2", "b3"]);
    outbox.mark("c1", "sending");
    expect(outbox.next()?.key).toBe("b2");
    outbox.requeueSending();
    expect(outbox.next()?.key).toBe("c1");
    outbox.mark("b3", "refused", { code: "conflict", message: "closed" });
    outbox.remove("c1");
    outbox.remove("b2");
    expect(outbox.next()).toBeUndefined();
    expect(outbox.items.value).toHaveLength(1);
  });
});

describe("close reasons", () => {
  it("reconnects after a restart or a change of rights, resumes an expired token, stops otherwise", () => {
    expect(afterClose("shutting_down")).toBe("reconnect");
    expect(afterClose("rights_changed")).toBe("reconnect");
    expect(afterClose("token_expired")).toBe("resume");
    for (const reason of ["kicked", "banned", "session_ended"]) expect(afterClose(reason)).toBe("stop");
  });
});

describe("retry hints", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-12-03T10:00:00.000Z");
    expect(retryAfterHeader("3", now)).toBe(3000);
    expect(retryAfterHeader(" 0 ", now)).toBe(0);
    expect(retryAfterHeader("Thu, 03 Dec 2026 10:00:05 GMT", now)).toBe(5000);
    expect(retryAfterHeader("Thu, 03 Dec 2026 09:59:00 GMT", now)).toBe(0);
    expect(retryAfterHeader("soon", now)).toBeUndefined();
    expect(retryAfterHeader(null, now)).toBeUndefined();
  });

  it("follows only an unavailable answer's hint", () => {
    expect(busyHint({ code: "unavailable", message: "", details: { retryAfterMs: 40 } })).toBe(40);
    expect(busyHint({ code: "unavailable", message: "" })).toBeUndefined();
    expect(busyHint({ code: "rate_limited", message: "", details: { retryAfterMs: 40 } })).toBeUndefined();
  });

  it("tries again after each hint, a bounded number of times, and not after a long hint", async () => {
    let calls = 0;
    const always = await followingHints(
      async () => ++calls,
      () => 1,
    );
    expect(always).toBe(9);
    expect(calls).toBe(9);
    calls = 0;
    const untilDone = await followingHints(
      async () => ++calls,
      (n) => (n < 3 ? 1 : undefined),
    );
    expect(untilDone).toBe(3);
    calls = 0;
    await followingHints(
      async () => ++calls,
      () => 60_000,
    );
    expect(calls).toBe(1);
  });
});

describe("plural", () => {
  it("picks the word by the count and writes the count in the reader's locale", () => {
    expect(plural(1, "person", "people")).toBe("1 person");
    expect(plural(0, "person", "people")).toBe("0 people");
    // The locale's digits and grouping ("4,812" here, where the tests run in en-US).
    expect(plural(4_812, "person", "people")).toBe(`${(4_812).toLocaleString()} people`);
  });
});

describe("where the presence counts the reader (a large room's margin)", () => {
  it("moves with a report only once the server acknowledged it before the presence arrived", () => {
    const focus = new FocusReports();
    const first = focus.send();
    focus.acknowledge(first, "a");
    focus.presenceArrived();
    expect(focus.countedAt).toBe("a");
    // The reader moves on; a presence sent before the server stored the move still counts them at a.
    const second = focus.send();
    focus.presenceArrived();
    expect(focus.countedAt).toBe("a");
    focus.acknowledge(second, "b");
    expect(focus.countedAt).toBe("a");
    focus.presenceArrived();
    expect(focus.countedAt).toBe("b");
  });

  it("ignores an acknowledgement older than one already taken", () => {
    const focus = new FocusReports();
    const first = focus.send();
    const second = focus.send();
    focus.acknowledge(second, "b");
    focus.acknowledge(first, "a");
    focus.presenceArrived();
    expect(focus.countedAt).toBe("b");
  });

  it("starts again with no paragraph on a new connection, whatever the old one acknowledges late", () => {
    const focus = new FocusReports();
    const before = focus.send();
    focus.acknowledge(before, "a");
    focus.presenceArrived();
    focus.reconnected();
    expect(focus.countedAt).toBeNull();
    focus.acknowledge(before, "a");
    focus.presenceArrived();
    expect(focus.countedAt).toBeNull();
    const again = focus.send();
    focus.acknowledge(again, "c");
    focus.presenceArrived();
    expect(focus.countedAt).toBe("c");
  });
});
