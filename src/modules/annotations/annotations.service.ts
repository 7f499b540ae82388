import { randomUUID } from "node:crypto";
import { Prisma, type PrismaClient, type Tx } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type {
  CreateAnnotationInput,
  DeleteAnnotationInput,
  EditAnnotationInput,
  ListAnnotationsQuery,
  ReactAnnotationInput,
  ReplyAnnotationInput,
  SelectorInput,
} from "../../protocol/annotations.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { AnnotationView, SeminarState } from "../../protocol/views.ts";
import type { EventAppender, RoomWriter } from "../../realtime/room-writer.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { codePointLength, quoteContext, sliceCodePoints } from "../essays/essay.text.ts";
import type { Actor, RoomState } from "../seminars/seminars.policy.ts";
import {
  annotateRefusal,
  audienceOf,
  canRespondTo,
  isAnnotatableBlock,
  isAuthor,
  isDeleted,
  isHidden,
  ROOM_AUDIENCE,
} from "./annotations.policy.ts";
import { presentAnnotation } from "./annotations.presenter.ts";

/** The fields every annotation read needs (what the presenter takes). */
const annotationColumns = {
  id: true,
  paragraphId: true,
  authorId: true,
  parentId: true,
  startOffset: true,
  endOffset: true,
  quoteExact: true,
  quotePrefix: true,
  quoteSuffix: true,
  body: true,
  tags: true,
  version: true,
  editedAt: true,
  deletedAt: true,
  hiddenAt: true,
  pinnedAt: true,
  createdAt: true,
} satisfies Prisma.AnnotationSelect;

/** Everything presentAnnotation needs, reactions included. */
export const annotationSelect = {
  ...annotationColumns,
  reactions: {
    select: { memberId: true, kind: true },
    orderBy: [{ createdAt: "asc" }, { memberId: "asc" }],
  },
} satisfies Prisma.AnnotationSelect;

/** An annotation as read by this service: exactly what `presentAnnotation` takes. */
export type AnnotationRow = Prisma.AnnotationGetPayload<{ select: typeof annotationSelect }>;

/** Oldest first; the id breaks ties between annotations stored in the same millisecond. */
const chronological = [
  { createdAt: "asc" },
  { id: "asc" },
] satisfies Prisma.AnnotationOrderByWithRelationInput[];

/** The annotations of a seminar as `viewer` may see them, oldest first. */
export async function listAnnotationViews(
  tx: Tx,
  seminarId: string,
  viewer: Actor,
): Promise<AnnotationView[]> {
  const rows = await tx.annotation.findMany({
    where: { seminarId },
    orderBy: chronological,
    select: annotationSelect,
  });
  const audience = audienceOf(viewer);
  return rows.map((row) => presentAnnotation(row, audience));
}

// ---------------------------------------------------------------------------------------------
// Anchoring

/** A highlight's selectors as stored: offsets from the client, quote and context from the paragraph. */
export interface StoredSelector {
  start: number;
  end: number;
  exact: string;
  prefix: string;
  suffix: string;
}

/** Whether `text` ends with `tail`, comparing whole code points. */
function endsWithCodePoints(text: string, tail: string): boolean {
  const length = codePointLength(text);
  const tailLength = codePointLength(tail);
  return tailLength <= length && sliceCodePoints(text, length - tailLength) === tail;
}

/** Whether `text` starts with `head`, comparing whole code points. */
function startsWithCodePoints(text: string, head: string): boolean {
  return sliceCodePoints(text, 0, codePointLength(head)) === head;
}

/**
 * Checks a client's selector against the paragraph's text and returns what is stored: the offsets
 * (code points), `exact` taken from the paragraph, and `prefix`/`suffix` computed from it (up to
 * `contextChars` code points). The client's `exact` must equal the text at the offsets, and a
 * `prefix`/`suffix` it sent must be the text just before/after the span (of any length).
 * Throws `validation_failed` with one `{ path, message }` detail per mismatch.
 */
export function anchorSelector(
  text: string,
  selector: SelectorInput,
  contextChars: number = LIMITS.quoteContextChars,
): StoredSelector {
  const length = codePointLength(text);
  if (selector.start >= selector.end || selector.end > length) {
    throw fail.validation("The selector is outside the paragraph.", [
      {
        path: "selector.end",
        message: `start must be less than end, and end at most ${length} (the paragraph's length in code points)`,
        length,
      },
    ]);
  }
  const anchored = quoteContext(text, selector.start, selector.end, contextChars);
  const issues: { path: string; message: string; expected?: string }[] = [];
  if (selector.exact !== anchored.exact) {
    issues.push({
      path: "selector.exact",
      message: "does not match the paragraph at start..end",
      expected: anchored.exact,
    });
  }
  if (
    selector.prefix !== undefined &&
    !endsWithCodePoints(sliceCodePoints(text, 0, selector.start), selector.prefix)
  ) {
    issues.push({
      path: "selector.prefix",
      message: "is not the text just before the span",
      expected: anchored.prefix,
    });
  }
  if (
    selector.suffix !== undefined &&
    !startsWithCodePoints(sliceCodePoints(text, selector.end), selector.suffix)
  ) {
    issues.push({
      path: "selector.suffix",
      message: "is not the text just after the span",
      expected: anchored.suffix,
    });
  }
  if (issues.length > 0) throw fail.validation("The quote does not match the paragraph.", issues);
  return { start: selector.start, end: selector.end, ...anchored };
}

// ---------------------------------------------------------------------------------------------
// Writes

/**
 * Locks the seminar row for the rest of the transaction and reads its state. The lock is the one
 * appendEvent takes anyway; taking it first means a concurrent seminar:end (on any node) either
 * commits before we decide or waits until we are done, and retries with the same clientId are
 * serialised, so they find the stored annotation instead of racing the unique index.
 */
async function lockRoom(tx: Tx, seminarId: string): Promise<RoomState> {
  const rows = await tx.$queryRaw<{ state: SeminarState; locked: boolean }[]>`
    SELECT state::text AS state, locked FROM seminars WHERE id = ${seminarId}::uuid FOR NO KEY UPDATE`;
  const room = rows[0];
  if (!room) throw fail.notFound("Seminar");
  return room;
}

/** Throws unless the actor may write annotations in this room now. */
function assertMayAnnotate(actor: Actor, room: RoomState): void {
  const refusal = annotateRefusal(actor, room);
  if (refusal === "forbidden") throw fail.forbidden("Observers cannot annotate.");
  if (refusal === "room_closed") {
    throw fail.roomClosed(
      room.state === "ended" ? "This seminar has ended." : "The session has not started yet.",
    );
  }
}

/** Loads an annotation through the actor's seminar (never by bare id): `not_found` otherwise. */
async function loadAnnotation(tx: Tx, actor: Actor, annotationId: string): Promise<AnnotationRow> {
  const annotation = await tx.annotation.findFirst({
    where: { id: annotationId, seminarId: actor.seminarId },
    select: annotationSelect,
  });
  if (!annotation) throw fail.notFound("Annotation");
  return annotation;
}

/** The actor's annotation stored earlier with this clientId, if any (a retried create). */
async function findRetried(
  tx: Tx | PrismaClient,
  actor: Actor,
  clientId: string | undefined,
): Promise<AnnotationRow | null> {
  if (clientId === undefined) return null;
  return tx.annotation.findFirst({
    where: { authorId: actor.memberId, clientId, seminarId: actor.seminarId },
    select: annotationSelect,
  });
}

const clientIdReused = () => fail.conflict("That clientId was already used for another annotation.");

/** Appends an annotation event; its data is what the whole room may see. */
function appendAnnotationEvent(
  events: EventAppender,
  type: "annotation:created" | "annotation:updated" | "annotation:deleted",
  actor: Actor,
  annotation: AnnotationRow,
) {
  return events.append(type, actor.memberId, { annotation: presentAnnotation(annotation, ROOM_AUDIENCE) });
}

/**
 * Creates a top-level annotation on a paragraph of the actor's seminar: a highlight with a
 * selector, or a whole-paragraph comment without one; stores it with annotation:created.
 * A retry with the same clientId returns the stored annotation and appends nothing.
 * Errors: room_closed, forbidden (observer), not_found (paragraph), validation_failed (block kind,
 * selector), conflict (clientId used for another target).
 */
export async function createAnnotation(rooms: RoomWriter, actor: Actor, input: CreateAnnotationInput) {
  return rooms.writeStatement(actor.seminarId, async (db) => {
    const retried = await findRetried(db, actor, input.clientId);
    if (retried) {
      if (retried.parentId !== null || retried.paragraphId !== input.paragraphId) throw clientIdReused();
      return { result: retried, events: [] };
    }
    // Only a live session has a frozen essay; its blocks come from memory. A block of another
    // seminar's essay is simply not in this one.
    const essay = await frozenEssay(db, actor.seminarId);
    assertMayAnnotate(actor, { state: essay ? "live" : "draft", locked: false });
    const block = essay?.blocks.get(input.paragraphId);
    if (!block) throw fail.notFound("Paragraph");
    if (!isAnnotatableBlock(block.kind)) {
      throw fail.validation(`A ${block.kind} block cannot be annotated.`, [
        { path: "paragraphId", message: `is a ${block.kind} block` },
      ]);
    }
    const anchor = input.selector ? anchorSelector(block.text, input.selector) : null;
    // Everything the event says is known before the write (id and time chosen here), so the
    // annotation, its sequence number and its event are stored by one statement.
    const created: AnnotationRow = {
      id: randomUUID(),
      paragraphId: input.paragraphId,
      authorId: actor.memberId,
      parentId: null,
      startOffset: anchor?.start ?? null,
      endOffset: anchor?.end ?? null,
      quoteExact: anchor?.exact ?? null,
      quotePrefix: anchor?.prefix ?? null,
      quoteSuffix: anchor?.suffix ?? null,
      body: input.body,
      tags: input.tags ?? [],
      version: 1,
      editedAt: null,
      deletedAt: null,
      hiddenAt: null,
      pinnedAt: null,
      createdAt: new Date(),
      reactions: [],
    };
    const data = { annotation: presentAnnotation(created, ROOM_AUDIENCE) };
    let rows: { seq: number; created_at: Date }[];
    try {
      rows = await insertAnnotationWithEvent(db, actor, created, input.clientId ?? null, data);
    } catch (error) {
      // The same clientId sent twice at once: the unique index let one in; answer with it.
      const again = isUniqueViolation(error) ? await findRetried(db, actor, input.clientId) : null;
      if (!again) throw error;
      return { result: again, events: [] };
    }
    const row = rows[0];
    if (!row) {
      // The statement only writes while the session is live: it ended (or never started) meanwhile.
      const seminar = await db.seminar.findUnique({
        where: { id: actor.seminarId },
        select: { state: true },
      });
      if (!seminar) throw fail.notFound("Seminar");
      if (seminar.state !== "live") assertMayAnnotate(actor, { state: seminar.state, locked: false });
      throw fail.roomClosed();
    }
    const event = {
      seq: row.seq,
      type: "annotation:created" as const,
      at: row.created_at.toISOString(),
      actor: actor.memberId,
      data,
    };
    return { result: created, events: [event] };
  });
}

/**
 * One statement: takes the room's next sequence number only while the session is live (locking the
 * seminar row as any room write does), inserts the annotation and its annotation:created event.
 * No row back means the session was not live and nothing was written.
 */
function insertAnnotationWithEvent(
  db: PrismaClient,
  actor: Actor,
  a: AnnotationRow,
  clientId: string | null,
  data: { annotation: AnnotationView },
) {
  return db.$queryRaw<{ seq: number; created_at: Date }[]>`
    WITH room AS (
      UPDATE seminars SET last_seq = last_seq + 1
      WHERE id = ${actor.seminarId}::uuid AND state = 'live'
      RETURNING last_seq
    ),
    note AS (
      INSERT INTO annotations (id, seminar_id, paragraph_id, author_id, client_id, start_offset, end_offset,
        quote_exact, quote_prefix, quote_suffix, body, tags, created_at, updated_at)
      SELECT ${a.id}::uuid, ${actor.seminarId}::uuid, ${a.paragraphId}::uuid, ${actor.memberId}::uuid, ${clientId},
        ${a.startOffset}::int, ${a.endOffset}::int, ${a.quoteExact}, ${a.quotePrefix}, ${a.quoteSuffix}, ${a.body},
        ${a.tags}::text[], ${a.createdAt}, ${a.createdAt}
      FROM room
      RETURNING id
    )
    INSERT INTO room_events (seminar_id, seq, type, actor_id, data)
    SELECT ${actor.seminarId}::uuid, room.last_seq, 'annotation:created', ${actor.memberId}::uuid, ${JSON.stringify(data)}::jsonb
    FROM room, note
    RETURNING seq, created_at`;
}

/** A unique-index violation, as Prisma reports it for typed and raw queries. */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  return (
    error.code === "P2002" ||
    (error.code === "P2010" && /23505|unique/i.test(JSON.stringify(error.meta ?? {}) + error.message))
  );
}

/**
 * Replies in a thread: the reply's parent is the thread's root (a reply to a reply attaches to its
 * root) and it sits on the root's paragraph; stored with annotation:created. A retry with the same
 * clientId returns the stored reply. Errors: room_closed, forbidden, not_found (parent), conflict
 * (parent deleted, or hidden for non-moderators; clientId used for another target).
 */
export async function replyToAnnotation(rooms: RoomWriter, actor: Actor, input: ReplyAnnotationInput) {
  return rooms.write(actor.seminarId, async (tx, events): Promise<AnnotationRow> => {
    const room = await lockRoom(tx, actor.seminarId);
    const retried = await findRetried(tx, actor, input.clientId);
    if (retried) {
      const target = await loadAnnotation(tx, actor, input.parentId);
      if (retried.parentId === null || retried.parentId !== (target.parentId ?? target.id))
        throw clientIdReused();
      return retried;
    }
    assertMayAnnotate(actor, room);
    const target = await loadAnnotation(tx, actor, input.parentId);
    if (!canRespondTo(actor, target)) {
      throw fail.conflict(`You cannot reply to a ${isDeleted(target) ? "deleted" : "hidden"} annotation.`);
    }
    const root = target.parentId === null ? target : await loadAnnotation(tx, actor, target.parentId);
    // The reply is stored under the root, so the root must accept replies too: answering a reply
    // must not reopen a thread a moderator hid.
    if (!canRespondTo(actor, root)) {
      throw fail.conflict(`You cannot reply in a ${isDeleted(root) ? "deleted" : "hidden"} thread.`);
    }
    const created = await tx.annotation.create({
      data: {
        seminarId: actor.seminarId,
        paragraphId: root.paragraphId,
        authorId: actor.memberId,
        parentId: root.id,
        clientId: input.clientId ?? null,
        body: input.body,
        tags: input.tags,
      },
      select: annotationSelect,
    });
    await appendAnnotationEvent(events, "annotation:created", actor, created);
    return created;
  });
}

const sameTags = (a: string[], b: string[]) => a.length === b.length && a.every((tag, i) => tag === b[i]);

/**
 * Edits the actor's own annotation: keeps the previous body and tags as a revision, bumps the
 * version, sets editedAt; stored with annotation:updated. An edit that changes nothing returns the
 * annotation without an event. Errors: room_closed, forbidden (observer, someone else's),
 * not_found, conflict (deleted, hidden, or `version` no longer current).
 */
export async function editAnnotation(rooms: RoomWriter, actor: Actor, input: EditAnnotationInput) {
  return rooms.write(actor.seminarId, async (tx, events): Promise<AnnotationRow> => {
    assertMayAnnotate(actor, await lockRoom(tx, actor.seminarId));
    const current = await loadAnnotation(tx, actor, input.annotationId);
    if (!isAuthor(actor, current)) throw fail.forbidden("Only its author can edit an annotation.");
    if (isDeleted(current)) throw fail.conflict("A deleted annotation cannot be edited.");
    if (isHidden(current)) throw fail.conflict("A moderator hid this annotation; it cannot be edited.");
    if (input.version !== undefined && input.version !== current.version) {
      throw fail.conflict("The annotation changed since you loaded it.", { version: current.version });
    }
    const tags = input.tags ?? current.tags;
    if (input.body === current.body && sameTags(tags, current.tags)) return current;
    await tx.annotationRevision.create({
      data: {
        annotationId: current.id,
        editorId: actor.memberId,
        version: current.version,
        body: current.body,
        tags: current.tags,
      },
    });
    const updated = await tx.annotation.update({
      where: { id: current.id },
      data: { body: input.body, tags, version: { increment: 1 }, editedAt: new Date() },
      select: annotationSelect,
    });
    await appendAnnotationEvent(events, "annotation:updated", actor, updated);
    return updated;
  });
}

/**
 * Deletes the actor's own annotation, leaving a tombstone: body and tags cleared, deletedAt set,
 * version bumped, and its earlier revisions removed (the author withdrew the text, so no copy of
 * it stays behind); replies stay. Stored with annotation:deleted. Deleting a tombstone again
 * returns it without an event. Errors: room_closed, forbidden (observer, someone else's), not_found.
 */
export async function deleteAnnotation(rooms: RoomWriter, actor: Actor, input: DeleteAnnotationInput) {
  return rooms.write(actor.seminarId, async (tx, events): Promise<AnnotationRow> => {
    assertMayAnnotate(actor, await lockRoom(tx, actor.seminarId));
    const current = await loadAnnotation(tx, actor, input.annotationId);
    if (!isAuthor(actor, current)) throw fail.forbidden("Only its author can delete an annotation.");
    if (isDeleted(current)) return current;
    await tx.annotationRevision.deleteMany({ where: { annotationId: current.id } });
    // The room log holds the text too (annotation:created/updated); catch-up replays it to anyone,
    // so the withdrawn body and tags are blanked there as well.
    await tx.$executeRaw`
      UPDATE room_events
      SET data = jsonb_set(jsonb_set(data, '{annotation,body}', '""'), '{annotation,tags}', '[]')
      WHERE seminar_id = ${actor.seminarId}::uuid
        AND type IN ('annotation:created', 'annotation:updated')
        AND data->'annotation'->>'id' = ${current.id}`;
    const deleted = await tx.annotation.update({
      where: { id: current.id },
      data: { body: "", tags: [], version: { increment: 1 }, deletedAt: new Date() },
      select: annotationSelect,
    });
    await appendAnnotationEvent(events, "annotation:deleted", actor, deleted);
    return deleted;
  });
}

/**
 * Toggles the actor's reaction of one kind on an annotation; stored with annotation:reacted.
 * Errors: room_closed, forbidden (observer), not_found, conflict (deleted, or hidden for
 * non-moderators).
 */
export async function reactToAnnotation(
  rooms: RoomWriter,
  actor: Actor,
  input: ReactAnnotationInput,
): Promise<{ active: boolean }> {
  return rooms.write(actor.seminarId, async (tx, events) => {
    assertMayAnnotate(actor, await lockRoom(tx, actor.seminarId));
    const annotation = await loadAnnotation(tx, actor, input.annotationId);
    if (!canRespondTo(actor, annotation)) {
      throw fail.conflict(
        `You cannot react to a ${isDeleted(annotation) ? "deleted" : "hidden"} annotation.`,
      );
    }
    const key = { annotationId: annotation.id, memberId: actor.memberId, kind: input.kind };
    const removed = await tx.reaction.deleteMany({ where: key });
    const active = removed.count === 0;
    if (active) await tx.reaction.create({ data: key });
    await events.append("annotation:reacted", actor.memberId, { ...key, active });
    return { active };
  });
}

// ---------------------------------------------------------------------------------------------
// REST reads

/** The position after which a page continues: the last item's createdAt and id. */
interface Cursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Encodes a cursor as an opaque string. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`, "utf8").toString("base64url");
}

/** Decodes a cursor made by `encodeCursor`; anything else is `validation_failed`. */
export function decodeCursor(value: string): Cursor {
  const [at, id, ...rest] = Buffer.from(value, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  // Only what encodeCursor writes: a canonical ISO time in years 1-9999 (a date PostgreSQL cannot
  // hold would fail in the query and answer `internal`).
  const year = createdAt.getUTCFullYear();
  const canonical = year >= 1 && year <= 9999 && createdAt.toISOString() === at;
  if (rest.length > 0 || id === undefined || !UUID.test(id) || !canonical) {
    throw fail.validation("The cursor is not valid.", [{ path: "cursor", message: "is not valid" }]);
  }
  return { createdAt, id };
}

/**
 * One page of a seminar's annotations (replies and tombstones included), ordered by createdAt then
 * id, filtered by paragraph, author and tag. The caller must be a member (resolveMember). A tag
 * filter does not match annotations hidden from the viewer, since their tags are not shown to them.
 */
export async function listAnnotations(
  prisma: PrismaClient | Tx,
  viewer: Actor,
  query: ListAnnotationsQuery,
): Promise<{ items: AnnotationRow[]; nextCursor: string | null }> {
  const conditions: Prisma.AnnotationWhereInput[] = [{ seminarId: viewer.seminarId }];
  if (query.paragraphId) conditions.push({ paragraphId: query.paragraphId });
  if (query.authorId) conditions.push({ authorId: query.authorId });
  if (query.tag) {
    conditions.push({ tags: { has: query.tag } });
    if (!audienceOf(viewer).moderator)
      conditions.push({ OR: [{ hiddenAt: null }, { authorId: viewer.memberId }] });
  }
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    conditions.push({
      OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
    });
  }
  const rows = await prisma.annotation.findMany({
    where: { AND: conditions },
    orderBy: chronological,
    take: query.limit + 1,
    select: annotationSelect,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor(last) : null;
  return { items, nextCursor };
}
