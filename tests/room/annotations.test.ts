import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  annotationSelect,
  listAnnotationRecords,
  readAnnotationRecords,
} from "../../src/modules/annotations/annotations.service.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { AnnotationView, ParagraphView, RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk, TEST_ESSAY } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

/** The essay of the rejection tests: TEST_ESSAY plus a section marker (not annotatable). */
const ESSAY_WITH_BREAK = `${TEST_ESSAY}\n\n* * *\n\nAfter the break.`;

/** Code-point offset of `part` in `text`. */
const offsetOf = (text: string, part: string) => {
  const index = text.indexOf(part);
  if (index < 0) throw new Error(`"${part}" is not in "${text}"`);
  return [...text.slice(0, index)].length;
};

const paragraphStarting = (state: RoomSnapshot | undefined, start: string): ParagraphView => {
  const paragraph = state?.essay.paragraphs.find((p) => p.text.startsWith(start));
  if (!paragraph) throw new Error(`no paragraph starting with ${start}`);
  return paragraph;
};

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

/** Reactions are sets of members per kind: compare them sorted. */
function normalized(list: AnnotationView[]) {
  return list
    .map((annotation) => ({
      ...annotation,
      reactions: Object.fromEntries(
        Object.entries(annotation.reactions).map(([kind, members]) => [kind, [...members].sort()]),
      ),
    }))
    .sort(byId);
}

/** What the database holds for a seminar's annotations, in view shape (built here, not by the presenter). */
async function storedAnnotations(seminarId: string) {
  const rows = await server.prisma.annotation.findMany({
    where: { seminarId },
    include: { reactions: true },
  });
  return rows
    .map((row) => {
      const reactions: Record<string, string[]> = {};
      for (const reaction of row.reactions) {
        reactions[reaction.kind] = [...(reactions[reaction.kind] ?? []), reaction.memberId];
      }
      for (const members of Object.values(reactions)) members.sort();
      return {
        id: row.id,
        paragraphId: row.paragraphId,
        authorId: row.authorId,
        parentId: row.parentId,
        selector:
          row.startOffset === null
            ? null
            : {
                start: row.startOffset,
                end: row.endOffset,
                exact: row.quoteExact,
                prefix: row.quotePrefix,
                suffix: row.quoteSuffix,
              },
        body: row.body,
        tags: row.tags,
        version: row.version,
        reactions,
        deleted: row.deletedAt !== null,
        hidden: row.hiddenAt !== null,
        pinned: row.pinnedAt !== null,
        createdAt: row.createdAt.toISOString(),
        editedAt: row.editedAt?.toISOString() ?? null,
      };
    })
    .sort(byId);
}

/** Everything a rejected command must leave untouched. */
async function footprint(seminarId: string) {
  const inSeminar = { annotation: { seminarId } };
  return {
    annotations: await server.prisma.annotation.count({ where: { seminarId } }),
    revisions: await server.prisma.annotationRevision.count({ where: inSeminar }),
    reactions: await server.prisma.reaction.count({ where: inSeminar }),
    events: await server.prisma.roomEvent.count({ where: { seminarId } }),
    lastSeq: (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } })).lastSeq,
  };
}

const lastSeq = async (seminarId: string) =>
  (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminarId } })).lastSeq;

function expectError(result: Result<unknown>, code: string) {
  expect(result, JSON.stringify(result)).toMatchObject({ ok: false, error: { code } });
  return (result as { error: { details?: unknown } }).error.details;
}

describe("annotating together", () => {
  it("shows every change to everyone in order, and a reconnecting client catches up to the same state", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const adaGuest = await buildGuest(server, seminar.joinCode!, "Ada");
    const bobGuest = await buildGuest(server, seminar.joinCode!, "Bob");
    const danGuest = await buildGuest(server, seminar.joinCode!, "Dan");
    const ada = await RoomClient.join(server.url, { token: adaGuest.token });
    const bob = await RoomClient.join(server.url, { token: bobGuest.token });
    const watcher = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const leaver = await RoomClient.join(server.url, { token: danGuest.token });
    const startSeq = await lastSeq(seminar.id);
    await watcher.waitForSeq(startSeq);
    await leaver.waitForSeq(startSeq);

    const paragraph = paragraphStarting(ada.stream.state, "Emoji");
    const text = paragraph.text;
    expect(text).toBe("Emoji 😀 and rare characters 𠮷 count as one code point each.");

    // Ada highlights from the emoji to the Extension B character: code points, not UTF-16 units.
    const adaSpan = { start: offsetOf(text, "😀"), end: offsetOf(text, "𠮷") + 1 };
    expect(adaSpan).toEqual({ start: 6, end: 29 });
    const first = expectOk(
      await ada.send("annotation:create", {
        paragraphId: paragraph.id,
        selector: { ...adaSpan, exact: "😀 and rare characters 𠮷" },
        body: "  Both of these are one character to a reader.\r\nAnd to us. ",
        tags: ["Unicode", "emoji", "unicode"],
        clientId: "ada-1",
      }),
    );
    expect(first).toMatchObject({
      authorId: adaGuest.member.id,
      paragraphId: paragraph.id,
      parentId: null,
      selector: {
        ...adaSpan,
        exact: "😀 and rare characters 𠮷",
        prefix: "Emoji ",
        suffix: " count as one code point each.",
      },
      body: "Both of these are one character to a reader.\nAnd to us.",
      tags: ["unicode", "emoji"],
      version: 1,
      deleted: false,
      hidden: false,
      editedAt: null,
    });

    // Bob's span overlaps Ada's; he sends his own (shorter) context, which must match.
    const bobSpan = { start: offsetOf(text, "rare"), end: offsetOf(text, " as one") };
    const second = expectOk(
      await bob.send("annotation:create", {
        paragraphId: paragraph.id,
        selector: { ...bobSpan, exact: "rare characters 𠮷 count", prefix: "😀 and ", suffix: " as" },
        body: "Overlapping on purpose.",
      }),
    );
    expect(second.selector).toEqual({
      ...bobSpan,
      exact: "rare characters 𠮷 count",
      prefix: "Emoji 😀 and ",
      suffix: " as one code point each.",
    });

    // Dan's connection drops without a clean leave; the room keeps going.
    await watcher.waitForSeq(startSeq + 2);
    await leaver.waitForSeq(startSeq + 2);
    leaver.socket.io.engine.close();

    const reply = expectOk(
      await bob.send("annotation:reply", { parentId: first.id, body: "Agreed, mostly." }),
    );
    expect(reply).toMatchObject({ parentId: first.id, paragraphId: paragraph.id, selector: null });
    // A reply to a reply joins the thread's root.
    const nested = expectOk(await ada.send("annotation:reply", { parentId: reply.id, body: "Mostly?" }));
    expect(nested.parentId).toBe(first.id);

    // A retried create with the same clientId returns the stored annotation and stores no event.
    const seqBeforeRetry = await lastSeq(seminar.id);
    const retried = expectOk(
      await ada.send("annotation:create", {
        paragraphId: paragraph.id,
        selector: { ...adaSpan, exact: "😀 and rare characters 𠮷" },
        body: "Both of these are one character to a reader.",
        clientId: "ada-1",
      }),
    );
    expect(retried.id).toBe(first.id);
    expect(await lastSeq(seminar.id)).toBe(seqBeforeRetry);

    expect(expectOk(await bob.send("annotation:react", { annotationId: first.id, kind: "agree" }))).toEqual({
      active: true,
    });
    expect(
      expectOk(await ada.send("annotation:react", { annotationId: second.id, kind: "question" })),
    ).toEqual({
      active: true,
    });
    expect(expectOk(await bob.send("annotation:react", { annotationId: first.id, kind: "heart" }))).toEqual({
      active: true,
    });
    expect(expectOk(await bob.send("annotation:react", { annotationId: first.id, kind: "heart" }))).toEqual({
      active: false,
    });

    const edited = expectOk(
      await ada.send("annotation:edit", {
        annotationId: first.id,
        body: "Each is one code point.",
        tags: ["unicode"],
        version: 1,
      }),
    );
    expect(edited).toMatchObject({
      id: first.id,
      body: "Each is one code point.",
      tags: ["unicode"],
      version: 2,
    });
    expect(edited.editedAt).not.toBeNull();
    expect(edited.reactions).toEqual({ agree: [bobGuest.member.id] });
    const revisions = await server.prisma.annotationRevision.findMany({ where: { annotationId: first.id } });
    expect(revisions).toMatchObject([
      { version: 1, editorId: adaGuest.member.id, body: first.body, tags: ["unicode", "emoji"] },
    ]);

    // Ada deletes her reply; it stays as a tombstone in the thread.
    const tombstone = expectOk(await ada.send("annotation:delete", { annotationId: nested.id }));
    expect(tombstone).toMatchObject({ id: nested.id, parentId: first.id, deleted: true, body: "", tags: [] });
    expect(await ada.send("annotation:edit", { annotationId: nested.id, body: "Undo" })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });

    // The watcher saw every change, in order, and holds exactly what the database holds.
    const endSeq = await lastSeq(seminar.id);
    await watcher.waitForSeq(endSeq);
    const stored = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, seq: { gt: startSeq } },
      orderBy: { seq: "asc" },
    });
    const seen = watcher.stream.applied.filter((event) => event.seq > startSeq);
    expect(seen.map((event) => [event.seq, event.type])).toEqual(
      stored.map((event) => [event.seq, event.type]),
    );
    expect(seen.map((event) => event.type)).toEqual([
      "annotation:created",
      "annotation:created",
      "annotation:created",
      "annotation:created",
      "annotation:reacted",
      "annotation:reacted",
      "annotation:reacted",
      "annotation:reacted",
      "annotation:updated",
      "annotation:deleted",
    ]);
    expect(seen.at(-3)?.data).toEqual({
      annotationId: first.id,
      kind: "heart",
      memberId: bobGuest.member.id,
      active: false,
    });
    expect(normalized(watcher.stream.state!.annotations)).toEqual(await storedAnnotations(seminar.id));
    expect(watcher.stream.state!.annotations.find((a) => a.id === first.id)).toEqual(edited);
    await bob.waitForSeq(endSeq);
    expect(bob.stream.state!.annotations).toEqual(watcher.stream.state!.annotations);

    // Dan comes back with what he held: he gets exactly the missed events and the same room.
    const back = await RoomClient.join(server.url, { token: danGuest.token }, leaver.stream);
    expect(back.stream.seq).toBe(endSeq);
    expect(back.stream.state!.annotations).toEqual(watcher.stream.state!.annotations);
    const dansEvents = [...leaver.stream.applied, ...back.stream.applied]
      .map((event) => event.seq)
      .filter((s) => s > startSeq);
    expect(dansEvents).toEqual(Array.from({ length: endSeq - startSeq }, (_, i) => startSeq + 1 + i));
    // And a client joining now gets a snapshot that agrees.
    const fresh = await RoomClient.join(server.url, { token: danGuest.token });
    expect(normalized(fresh.stream.state!.annotations)).toEqual(
      normalized(watcher.stream.state!.annotations),
    );

    for (const client of [ada, bob, watcher, leaver, back, fresh]) client.close();
  });
});

describe("rejected annotation commands", () => {
  it("answer typed errors and store nothing", async () => {
    const { seminar, moderator } = await buildSeminar(server, { essay: ESSAY_WITH_BREAK });
    const other = await buildSeminar(server);
    const ada = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Ada")).token,
    });
    const bob = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Bob")).token,
    });
    const observer = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Olive", true)).token,
    });
    const otherGuest = await RoomClient.join(server.url, {
      token: (await buildGuest(server, other.seminar.joinCode!, "Oz")).token,
    });
    const watcher = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });

    const state = ada.stream.state!;
    const emoji = paragraphStarting(state, "Emoji");
    const cjk = paragraphStarting(state, "開放");
    const marker = state.essay.paragraphs.find((p) => p.kind === "section_marker");
    if (!marker) throw new Error("the essay should have a section marker");
    const foreignParagraph = paragraphStarting(otherGuest.stream.state, "Emoji");
    const adas = expectOk(
      await ada.send("annotation:create", {
        paragraphId: cjk.id,
        body: "開放 is the key word.",
        clientId: "k1",
      }),
    );
    const foreign = expectOk(
      await otherGuest.send("annotation:create", {
        paragraphId: foreignParagraph.id,
        body: "Elsewhere",
      }),
    );

    const before = await footprint(seminar.id);
    const otherBefore = await footprint(other.seminar.id);
    await watcher.waitForSeq(before.lastSeq);
    const watcherReceived = watcher.received.length;
    const length = [...emoji.text].length;
    const span = { start: offsetOf(emoji.text, "rare"), end: offsetOf(emoji.text, " count") };
    const create = (extra: object) => ({ paragraphId: emoji.id, body: "Fine text", ...extra });

    // Offsets and quotes.
    const outside = expectError(
      await ada.send(
        "annotation:create",
        create({ selector: { start: length - 2, end: length + 1, exact: "h.x" } }),
      ),
      "validation_failed",
    );
    expect(outside).toEqual([expect.objectContaining({ path: "selector.end", length })]);
    const reversed = expectError(
      await ada.send("annotation:create", create({ selector: { start: 10, end: 4, exact: "abcdef" } })),
      "validation_failed",
    );
    expect(reversed).toEqual([expect.objectContaining({ path: "selector.end" })]);
    expectError(
      await ada.send("annotation:create", create({ selector: { start: -1, end: 4, exact: "Emoj" } })),
      "validation_failed",
    );
    const mismatch = expectError(
      await ada.send("annotation:create", create({ selector: { ...span, exact: "rare characters 𠮷!" } })),
      "validation_failed",
    );
    expect(mismatch).toEqual([
      expect.objectContaining({ path: "selector.exact", expected: "rare characters 𠮷" }),
    ]);
    // The same span in UTF-16 units (as String.prototype.indexOf counts) does not match.
    const utf16 = { start: emoji.text.indexOf("rare"), end: emoji.text.indexOf(" count") };
    expectError(
      await ada.send("annotation:create", create({ selector: { ...utf16, exact: "rare characters 𠮷" } })),
      "validation_failed",
    );
    const badContext = expectError(
      await ada.send(
        "annotation:create",
        create({ selector: { ...span, exact: "rare characters 𠮷", prefix: "Emoji 😀 or " } }),
      ),
      "validation_failed",
    );
    expect(badContext).toEqual([expect.objectContaining({ path: "selector.prefix" })]);
    expectError(
      await ada.send(
        "annotation:create",
        create({ selector: { ...span, exact: "rare characters 𠮷", suffix: "count" } }),
      ),
      "validation_failed",
    );

    // Paragraphs outside the seminar, unknown ones and blocks that cannot be annotated.
    expectError(
      await ada.send("annotation:create", create({ paragraphId: foreignParagraph.id })),
      "not_found",
    );
    expectError(
      await ada.send("annotation:create", create({ paragraphId: crypto.randomUUID() })),
      "not_found",
    );
    expectError(await ada.send("annotation:create", create({ paragraphId: marker.id })), "validation_failed");
    expectError(await ada.send("annotation:reply", { parentId: foreign.id, body: "Hi" }), "not_found");
    expectError(await ada.send("annotation:react", { annotationId: foreign.id, kind: "agree" }), "not_found");
    expectError(
      await otherGuest.send("annotation:edit", { annotationId: adas.id, body: "Mine now" }),
      "not_found",
    );

    // Bodies and tags.
    expectError(
      await ada.send("annotation:create", create({ body: "x".repeat(LIMITS.annotationBody.max + 1) })),
      "validation_failed",
    );
    expectError(await ada.send("annotation:create", create({ body: "   \n " })), "validation_failed");
    expectError(
      await ada.send("annotation:create", create({ body: "ring \u0007 ring" })),
      "validation_failed",
    );
    expectError(await ada.send("annotation:create", create({ tags: ["two words"] })), "validation_failed");
    expectError(
      await ada.send(
        "annotation:create",
        create({ tags: Array.from({ length: LIMITS.annotationTags.max + 1 }, (_, i) => `t${i}`) }),
      ),
      "validation_failed",
    );

    // Someone else's annotation, a stale version, a reused clientId.
    expectError(await bob.send("annotation:edit", { annotationId: adas.id, body: "Rewritten" }), "forbidden");
    expectError(await bob.send("annotation:delete", { annotationId: adas.id }), "forbidden");
    expect(
      expectError(
        await ada.send("annotation:edit", { annotationId: adas.id, body: "New", version: 7 }),
        "conflict",
      ),
    ).toEqual({
      version: 1,
    });
    expectError(await ada.send("annotation:create", create({ clientId: "k1" })), "conflict");
    expectError(
      await ada.send("annotation:reply", { parentId: adas.id, body: "Re", clientId: "k1" }),
      "conflict",
    );

    // Observers read along.
    expectError(await observer.send("annotation:create", create({})), "forbidden");
    expectError(
      await observer.send("annotation:react", { annotationId: adas.id, kind: "agree" }),
      "forbidden",
    );
    expectError(await observer.send("annotation:reply", { parentId: adas.id, body: "Me too" }), "forbidden");

    // Malformed payloads.
    const malformed: [string, unknown][] = [
      ["annotation:create", "hello"],
      ["annotation:create", null],
      ["annotation:create", {}],
      ["annotation:create", { paragraphId: "not-a-uuid", body: "x" }],
      ["annotation:create", { paragraphId: emoji.id, body: 42 }],
      ["annotation:create", create({ selector: { start: "0", end: 3, exact: "Emo" } })],
      ["annotation:create", create({ selector: [0, 3] })],
      ["annotation:create", create({ tags: "ethics" })],
      ["annotation:create", create({ clientId: "c".repeat(65) })],
      ["annotation:reply", { parentId: adas.id }],
      ["annotation:edit", { annotationId: adas.id }],
      ["annotation:edit", { annotationId: adas.id, body: "x", version: 0 }],
      ["annotation:delete", {}],
      ["annotation:react", { annotationId: adas.id, kind: "angry" }],
      ["annotation:react", { annotationId: adas.id }],
    ];
    for (const [event, payload] of malformed) {
      expectError(await ada.sendRaw(event, payload), "validation_failed");
    }

    expect(await footprint(seminar.id)).toEqual(before);
    expect(await footprint(other.seminar.id)).toEqual(otherBefore);
    // A round trip on the watcher's connection: whatever the refusals had broadcast is in by now.
    await watcher.sync();
    expect(watcher.received.length).toBe(watcherReceived);

    // After a delete (one event), a tombstone takes no edits, replies or reactions.
    expectOk(await ada.send("annotation:delete", { annotationId: adas.id }));
    const afterDelete = await footprint(seminar.id);
    expect(afterDelete.lastSeq).toBe(before.lastSeq + 1);
    expectError(await ada.send("annotation:edit", { annotationId: adas.id, body: "Back" }), "conflict");
    expectError(await bob.send("annotation:reply", { parentId: adas.id, body: "Gone?" }), "conflict");
    expectError(await bob.send("annotation:react", { annotationId: adas.id, kind: "heart" }), "conflict");
    // Deleting it again is answered with the tombstone and stores nothing.
    expect(expectOk(await ada.send("annotation:delete", { annotationId: adas.id }))).toMatchObject({
      deleted: true,
    });
    expect(await footprint(seminar.id)).toEqual(afterDelete);

    for (const client of [ada, bob, observer, otherGuest, watcher]) client.close();
  });

  it("answers room_closed before the session starts and after it ends, and stores nothing", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const guest = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Late")).token,
    });
    const paragraph = paragraphStarting(guest.stream.state, "A seminar");
    const mine = expectOk(
      await guest.send("annotation:create", {
        paragraphId: paragraph.id,
        body: "Before the end",
      }),
    );
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token));
    await eventually(
      () => guest.stream.state!.seminar.state === "ended",
      5_000,
      "the end to reach the guest",
    );
    const before = await footprint(seminar.id);
    expectError(
      await guest.send("annotation:create", { paragraphId: paragraph.id, body: "After the end" }),
      "room_closed",
    );
    expectError(
      await guest.send("annotation:reply", { parentId: mine.id, body: "After the end" }),
      "room_closed",
    );
    expectError(
      await guest.send("annotation:edit", { annotationId: mine.id, body: "After the end" }),
      "room_closed",
    );
    expectError(await guest.send("annotation:delete", { annotationId: mine.id }), "room_closed");
    expectError(
      await guest.send("annotation:react", { annotationId: mine.id, kind: "agree" }),
      "room_closed",
    );
    expect(await footprint(seminar.id)).toEqual(before);

    const draft = await buildSeminar(server, { start: false });
    const early = await RoomClient.join(server.url, {
      token: (await buildGuest(server, draft.seminar.joinCode!, "Early")).token,
    });
    const draftBefore = await footprint(draft.seminar.id);
    const draftParagraph = paragraphStarting(early.stream.state, "A seminar");
    expectError(
      await early.send("annotation:create", { paragraphId: draftParagraph.id, body: "Too soon" }),
      "room_closed",
    );
    expect(await footprint(draft.seminar.id)).toEqual(draftBefore);
    guest.close();
    early.close();
  });

  it("answers a retried reply with the stored one, from anywhere in its thread and after the end", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const ada = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Ada")).token,
    });
    const paragraph = paragraphStarting(ada.stream.state, "A seminar");
    const root = expectOk(await ada.send("annotation:create", { paragraphId: paragraph.id, body: "Root" }));
    const other = expectOk(await ada.send("annotation:create", { paragraphId: paragraph.id, body: "Other" }));
    const first = expectOk(await ada.send("annotation:reply", { parentId: root.id, body: "One" }));
    const keyed = expectOk(
      await ada.send("annotation:reply", { parentId: first.id, body: "Keyed", clientId: "r-1" }),
    );
    expect(keyed).toMatchObject({ parentId: root.id, paragraphId: paragraph.id, body: "Keyed" });
    const stored = await footprint(seminar.id);
    // The same clientId answering the root or another reply of the thread: the stored reply, no event.
    for (const parentId of [root.id, first.id, keyed.id]) {
      const again = expectOk(
        await ada.send("annotation:reply", { parentId, body: "Keyed", clientId: "r-1" }),
      );
      expect(again.id).toBe(keyed.id);
    }
    // Another thread, or an unknown parent, with that clientId: conflict and not_found.
    expectError(
      await ada.send("annotation:reply", { parentId: other.id, body: "Keyed", clientId: "r-1" }),
      "conflict",
    );
    expectError(
      await ada.send("annotation:reply", { parentId: randomUUID(), body: "Keyed", clientId: "r-1" }),
      "not_found",
    );
    expect(await footprint(seminar.id)).toEqual(stored);
    // After the end a retry is still acknowledged; a new reply is room_closed.
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token));
    const ended = await footprint(seminar.id);
    expect(
      expectOk(await ada.send("annotation:reply", { parentId: root.id, body: "Keyed", clientId: "r-1" })).id,
    ).toBe(keyed.id);
    expectError(
      await ada.send("annotation:reply", { parentId: root.id, body: "New", clientId: "r-2" }),
      "room_closed",
    );
    expect(await footprint(seminar.id)).toEqual(ended);
    ada.close();
  });
});

describe("a room's annotations as snapshots read them", () => {
  it("are the rows and reactions the ORM reads, in the same order", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const [adaGuest, bobGuest] = await Promise.all(
      ["Ada", "Bob"].map((name) => buildGuest(server, seminar.joinCode!, name)),
    );
    const ada = await RoomClient.join(server.url, { token: adaGuest!.token });
    const bob = await RoomClient.join(server.url, { token: bobGuest!.token });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const paragraph = paragraphStarting(ada.stream.state, "Emoji");
    const start = offsetOf(paragraph.text, "rare");
    // A highlight with tags, a whole-paragraph comment, a reply, an edit, a deletion, a hidden and
    // a pinned one, and reactions by two members of two kinds.
    const highlight = expectOk(
      await ada.send("annotation:create", {
        paragraphId: paragraph.id,
        selector: { start, end: start + 4, exact: "rare" },
        body: "A highlight.",
        tags: ["unicode", "emoji"],
      }),
    );
    const comment = expectOk(
      await bob.send("annotation:create", { paragraphId: paragraph.id, body: "A comment." }),
    );
    expectOk(
      await ada.send("annotation:reply", { parentId: comment.id, body: "A reply.", tags: ["answer"] }),
    );
    expectOk(await bob.send("annotation:edit", { annotationId: comment.id, body: "A comment, edited." }));
    const gone = expectOk(await bob.send("annotation:create", { paragraphId: paragraph.id, body: "Gone." }));
    expectOk(await bob.send("annotation:delete", { annotationId: gone.id }));
    expectOk(await bob.send("annotation:react", { annotationId: highlight.id, kind: "agree" }));
    expectOk(await ada.send("annotation:react", { annotationId: highlight.id, kind: "agree" }));
    expectOk(await ada.send("annotation:react", { annotationId: comment.id, kind: "question" }));
    expectOk(await bob.send("annotation:react", { annotationId: comment.id, kind: "heart" }));
    expectOk(await host.send("annotation:hide", { annotationId: highlight.id, reason: "Off topic." }));
    expectOk(await host.send("annotation:pin", { annotationId: comment.id }));

    const plain = await listAnnotationRecords(server.prisma, seminar.id);
    const orm = await server.prisma.annotation.findMany({
      where: { seminarId: seminar.id },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: annotationSelect,
    });
    expect(plain).toHaveLength(4);
    expect(plain).toEqual(orm);
    // By id (catch-ups read the annotations their events name): the same rows.
    const named = await readAnnotationRecords(server.prisma, seminar.id, [comment.id, highlight.id]);
    expect(named).toEqual(orm.filter((row) => row.id === comment.id || row.id === highlight.id));
    expect(named).toHaveLength(2);
    expect(plain.find((row) => row.id === highlight.id)!.reactions).toEqual([
      { memberId: bobGuest!.member.id, kind: "agree" },
      { memberId: adaGuest!.member.id, kind: "agree" },
    ]);
    for (const client of [ada, bob, host]) client.close();
  });
});
