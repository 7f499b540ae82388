import { Prisma, type PrismaClient, type Tx } from "../../db/client.ts";
import { AppError, fail } from "../../errors.ts";
import type {
  CreateAnnotationInput,
  DeleteAnnotationInput,
  EditAnnotationInput,
  ListAnnotationsQuery,
  ModerateAnnotationInput,
  ReactAnnotationInput,
  ReplyAnnotationInput,
  SelectorInput,
} from "../../protocol/annotations.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { AnnotationView } from "../../protocol/views.ts";
import type { ANNOTATION_MODERATIONS } from "../../realtime/room-facts.ts";
import type { ActedRoom, RoomWriter } from "../../realtime/room-writer.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { codePointLength, quoteContext, sliceCodePoints } from "../essays/essay.text.ts";
import { logAction } from "../moderation/moderation.log.ts";
import { holderOf, isSlowed } from "../moderation/moderation.policy.ts";
import { assertRight } from "../moderation/rights.ts";
import { type Actor, isModerator, type Viewer, viewerOf } from "../seminars/seminars.policy.ts";
import {
  type AnnotationRight,
  annotateRefusal,
  canReadHistory,
  canRespondTo,
  isAnnotatableBlock,
  isAuthor,
  isDeleted,
  isHidden,
} from "./annotations.policy.ts";
import { presentAnnotationFor } from "./annotations.presenter.ts";

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

/** The annotations of a seminar that `viewer` may see, presented, oldest first. */
export async function listAnnotationViews(
  db: PrismaClient | Tx,
  seminarId: string,
  viewer: Viewer,
): Promise<AnnotationView[]> {
  return presentAnnotationsFor(viewer, await listAnnotationRecords(db, seminarId));
}

/** An annotation row as readAnnotationRows reads it, its reactions aggregated. */
interface AnnotationListRow {
  id: string;
  paragraph_id: string;
  author_id: string;
  parent_id: string | null;
  start_offset: number | null;
  end_offset: number | null;
  quote_exact: string | null;
  quote_prefix: string | null;
  quote_suffix: string | null;
  body: string;
  tags: string[];
  version: number;
  edited_at: Date | null;
  deleted_at: Date | null;
  hidden_at: Date | null;
  pinned_at: Date | null;
  created_at: Date;
  reactions: AnnotationRow["reactions"];
}

/** Every annotation of a seminar as stored, oldest first (snapshots built together present them per viewer). */
export function listAnnotationRecords(db: PrismaClient | Tx, seminarId: string): Promise<AnnotationRow[]> {
  return readAnnotationRows(db, seminarId);
}

/**
 * A seminar's annotations (all, or those of `ids`), oldest first, each with its reactions oldest
 * first, in one plain statement: the ORM read with its reactions is two statements and maps every
 * row in the server's process, which costs the server twice the CPU for a room's worth of
 * annotations (`bench/db-calls.ts`, docs/benchmarks.md 2026-12-03). The same rows and order as
 * `annotationSelect` and `chronological` read.
 */
async function readAnnotationRows(
  db: PrismaClient | Tx,
  seminarId: string,
  ids?: readonly string[],
): Promise<AnnotationRow[]> {
  const only = ids ? Prisma.sql`AND a.id = ANY(${ids}::uuid[])` : Prisma.empty;
  const rows = await db.$queryRaw<AnnotationListRow[]>`
    SELECT a.id::text AS id, a.paragraph_id::text AS paragraph_id, a.author_id::text AS author_id,
      a.parent_id::text AS parent_id, a.start_offset, a.end_offset, a.quote_exact, a.quote_prefix,
      a.quote_suffix, a.body, a.tags, a.version, a.edited_at, a.deleted_at, a.hidden_at,
      a.pinned_at, a.created_at,
      COALESCE((
        SELECT json_agg(json_build_object('memberId', r.member_id, 'kind', r.kind)
          ORDER BY r.created_at, r.member_id)
        FROM reactions r WHERE r.annotation_id = a.id
      ), '[]'::json) AS reactions
    FROM annotations a
    WHERE a.seminar_id = ${seminarId}::uuid ${only}
    ORDER BY a.created_at, a.id`;
  return rows.map((row) => ({
    id: row.id,
    paragraphId: row.paragraph_id,
    authorId: row.author_id,
    parentId: row.parent_id,
    startOffset: row.start_offset,
    endOffset: row.end_offset,
    quoteExact: row.quote_exact,
    quotePrefix: row.quote_prefix,
    quoteSuffix: row.quote_suffix,
    body: row.body,
    tags: row.tags,
    version: row.version,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    hiddenAt: row.hidden_at,
    pinnedAt: row.pinned_at,
    createdAt: row.created_at,
    reactions: row.reactions,
  }));
}

/** The annotations `viewer` may see among `rows`, presented, in their order. */
export function presentAnnotationsFor(viewer: Viewer, rows: readonly AnnotationRow[]): AnnotationView[] {
  return rows.flatMap((row) => presentAnnotationFor(viewer, row) ?? []);
}

/** Annotations of a seminar by id, as stored now (those of other seminars are not found). */
export async function readAnnotationRecords(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<AnnotationRow[]> {
  if (ids.length === 0) return [];
  return readAnnotationRows(db, seminarId, ids);
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

/** Throws unless the actor (as stored now: role, status, mute) may use `right` in this room now. */
function assertMayAnnotate(room: ActedRoom, right: AnnotationRight): void {
  const refusal = annotateRefusal(right, holderOf(room.member), room);
  if (refusal) throw fail.refused(refusal);
}

/**
 * Slow mode: a participant's posts (annotations and replies) must be room.slowModeSeconds apart.
 * Their latest post is read under the room's lock, so two racing posts cannot both pass; the wait
 * is computed by the database's clock, which stamped the posts. `rate_limited` with retryAfterMs.
 */
async function assertSlowMode(tx: Tx, room: ActedRoom): Promise<void> {
  if (room.slowModeSeconds === 0 || !isSlowed(room.actor.role)) return;
  const rows = await tx.$queryRaw<{ wait_ms: number | null }[]>`
    SELECT CEIL(EXTRACT(EPOCH FROM MAX(created_at) + make_interval(secs => ${room.slowModeSeconds}::int)
      - clock_timestamp()) * 1000)::int AS wait_ms
    FROM annotations WHERE seminar_id = ${room.seminarId}::uuid AND author_id = ${room.member.id}::uuid`;
  const wait = rows[0]?.wait_ms ?? null;
  if (wait !== null && wait > 0) {
    throw new AppError("rate_limited", `Slow mode: one post every ${room.slowModeSeconds} s.`, {
      retryAfterMs: wait,
      slowModeSeconds: room.slowModeSeconds,
    });
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

/**
 * Creates a top-level annotation on a paragraph of the actor's seminar: a highlight with a
 * selector, or a whole-paragraph comment without one; stored with annotation:created.
 * A retry with the same clientId returns the stored annotation and appends nothing.
 * Errors: room_closed, forbidden (observer), not_found (paragraph), validation_failed (block kind,
 * selector), conflict (clientId used for another target).
 */
export async function createAnnotation(rooms: RoomWriter, actor: Actor, input: CreateAnnotationInput) {
  return rooms.write(actor, async ({ tx, room, append, known }): Promise<AnnotationRow> => {
    // A retry (same clientId) is answered with the stored annotation. It is looked up only when
    // needed: when a check refuses (a retry after the session ended is still acknowledged) or when
    // the insert finds the clientId taken; a first attempt costs no extra query.
    const retriedOr = async (refusal: unknown): Promise<AnnotationRow> => {
      const retried = await findRetried(tx, actor, input.clientId);
      if (!retried) throw refusal;
      if (retried.parentId !== null || retried.paragraphId !== input.paragraphId) throw clientIdReused();
      return retried;
    };
    let anchor: StoredSelector | null;
    try {
      assertMayAnnotate(room, "post");
      await assertSlowMode(tx, room);
      // Only a live session has a frozen essay; its blocks come from memory. A block of another
      // seminar's essay is simply not in this one.
      const block = (await frozenEssay(tx, actor.seminarId))?.blocks.get(input.paragraphId);
      if (!block) throw fail.notFound("Paragraph");
      if (!isAnnotatableBlock(block.kind)) {
        throw fail.validation(`A ${block.kind} block cannot be annotated.`, [
          { path: "paragraphId", message: `is a ${block.kind} block` },
        ]);
      }
      anchor = input.selector ? anchorSelector(block.text, input.selector) : null;
    } catch (refusal) {
      if (input.clientId === undefined) throw refusal;
      return retriedOr(refusal);
    }
    const created = await insertAnnotation(tx, {
      seminarId: actor.seminarId,
      paragraphId: input.paragraphId,
      authorId: actor.memberId,
      parentId: null,
      clientId: input.clientId,
      anchor,
      body: input.body,
      tags: input.tags,
    });
    if (!created) return retriedOr(clientIdReused());
    known.annotation(created);
    await append("annotation:created", actor.memberId, { annotationId: created.id });
    return created;
  });
}

/**
 * Replies in a thread: the reply's parent is the thread's root (a reply to a reply attaches to its
 * root) and it sits on the root's paragraph; stored with annotation:created. A retry with the same
 * clientId returns the stored reply. Errors: room_closed, forbidden, not_found (parent), conflict
 * (parent deleted, or hidden for non-moderators; clientId used for another target).
 */
export async function replyToAnnotation(rooms: RoomWriter, actor: Actor, input: ReplyAnnotationInput) {
  return rooms.write(actor, async ({ tx, room, append, known }): Promise<AnnotationRow> => {
    // A retry (same clientId) is answered with the stored reply, looked up only when a check
    // refuses or the insert finds the clientId taken, as createAnnotation does.
    const retriedOr = async (refusal: unknown): Promise<AnnotationRow> => {
      const retried = await findRetried(tx, actor, input.clientId);
      if (!retried) throw refusal;
      const { root } = await loadThread(tx, actor, input.parentId);
      if (retried.parentId === null || retried.parentId !== root.id) throw clientIdReused();
      return retried;
    };
    let root: ThreadMember & { paragraphId: string };
    try {
      assertMayAnnotate(room, "post");
      await assertSlowMode(tx, room);
      const thread = await loadThread(tx, actor, input.parentId);
      if (!canRespondTo(room.actor, thread.target)) {
        const state = isDeleted(thread.target) ? "deleted" : "hidden";
        throw fail.conflict(`You cannot reply to a ${state} annotation.`);
      }
      // The reply is stored under the root, so the root must accept replies too: answering a
      // reply must not reopen a thread a moderator hid.
      if (!canRespondTo(room.actor, thread.root)) {
        throw fail.conflict(`You cannot reply in a ${isDeleted(thread.root) ? "deleted" : "hidden"} thread.`);
      }
      root = thread.root;
    } catch (refusal) {
      if (input.clientId === undefined) throw refusal;
      return retriedOr(refusal);
    }
    const created = await insertAnnotation(tx, {
      seminarId: actor.seminarId,
      paragraphId: root.paragraphId,
      authorId: actor.memberId,
      parentId: root.id,
      clientId: input.clientId,
      anchor: null,
      body: input.body,
      tags: input.tags,
    });
    if (!created) return retriedOr(clientIdReused());
    known.annotation(created);
    await append("annotation:created", actor.memberId, { annotationId: created.id });
    return created;
  });
}

/**
 * Stores a new annotation or reply. Everything the row holds is known to the caller but its id and
 * time: one INSERT, which does nothing for a clientId the author already used (the room lock
 * serialises such retries), and the row as stored, or null when the clientId was taken.
 */
async function insertAnnotation(
  tx: Tx,
  row: {
    seminarId: string;
    paragraphId: string;
    authorId: string;
    parentId: string | null;
    clientId: string | undefined;
    anchor: StoredSelector | null;
    body: string;
    tags: readonly string[];
  },
): Promise<AnnotationRow | null> {
  const { anchor } = row;
  const [stored] = await tx.$queryRaw<{ id: string; created_at: Date }[]>`
    INSERT INTO annotations (seminar_id, paragraph_id, author_id, parent_id, client_id, start_offset, end_offset,
      quote_exact, quote_prefix, quote_suffix, body, tags, updated_at)
    VALUES (${row.seminarId}::uuid, ${row.paragraphId}::uuid, ${row.authorId}::uuid, ${row.parentId}::uuid,
      ${row.clientId ?? null}, ${anchor?.start ?? null}::int, ${anchor?.end ?? null}::int, ${anchor?.exact ?? null},
      ${anchor?.prefix ?? null}, ${anchor?.suffix ?? null}, ${row.body}, ${row.tags}::text[], now())
    ON CONFLICT (author_id, client_id) DO NOTHING
    RETURNING id::text AS id, created_at`;
  if (!stored) return null;
  return {
    id: stored.id,
    paragraphId: row.paragraphId,
    authorId: row.authorId,
    parentId: row.parentId,
    startOffset: anchor?.start ?? null,
    endOffset: anchor?.end ?? null,
    quoteExact: anchor?.exact ?? null,
    quotePrefix: anchor?.prefix ?? null,
    quoteSuffix: anchor?.suffix ?? null,
    body: row.body,
    tags: [...row.tags],
    version: 1,
    editedAt: null,
    deletedAt: null,
    hiddenAt: null,
    pinnedAt: null,
    createdAt: stored.created_at,
    reactions: [],
  };
}

/** An annotation of a thread as a reply needs it: whether it still takes replies. */
interface ThreadMember {
  id: string;
  authorId: string;
  deletedAt: Date | null;
  hiddenAt: Date | null;
}

/**
 * The annotation a reply answers and its thread's root (itself when it is top-level), through the
 * actor's seminar, in one statement: `not_found` otherwise.
 */
async function loadThread(
  tx: Tx,
  actor: Actor,
  annotationId: string,
): Promise<{ target: ThreadMember; root: ThreadMember & { paragraphId: string } }> {
  const rows = await tx.$queryRaw<
    {
      id: string;
      author_id: string;
      deleted_at: Date | null;
      hidden_at: Date | null;
      root_id: string | null;
      root_paragraph_id: string;
      root_author_id: string;
      root_deleted_at: Date | null;
      root_hidden_at: Date | null;
    }[]
  >`
    SELECT t.id::text AS id, t.author_id::text AS author_id, t.deleted_at, t.hidden_at,
      r.id::text AS root_id, r.paragraph_id::text AS root_paragraph_id, r.author_id::text AS root_author_id,
      r.deleted_at AS root_deleted_at, r.hidden_at AS root_hidden_at
    FROM annotations t
    LEFT JOIN annotations r ON r.id = coalesce(t.parent_id, t.id) AND r.seminar_id = t.seminar_id
    WHERE t.id = ${annotationId}::uuid AND t.seminar_id = ${actor.seminarId}::uuid`;
  const row = rows[0];
  if (!row || row.root_id === null) throw fail.notFound("Annotation");
  return {
    target: { id: row.id, authorId: row.author_id, deletedAt: row.deleted_at, hiddenAt: row.hidden_at },
    root: {
      id: row.root_id,
      paragraphId: row.root_paragraph_id,
      authorId: row.root_author_id,
      deletedAt: row.root_deleted_at,
      hiddenAt: row.root_hidden_at,
    },
  };
}

const sameTags = (a: string[], b: string[]) => a.length === b.length && a.every((tag, i) => tag === b[i]);

/**
 * Edits the actor's own annotation: keeps the previous body and tags as a revision, bumps the
 * version, sets editedAt; stored with annotation:updated. An edit that changes nothing returns the
 * annotation without an event. Errors: room_closed, forbidden (observer, someone else's),
 * not_found, conflict (deleted, hidden, or `version` no longer current).
 */
export async function editAnnotation(rooms: RoomWriter, actor: Actor, input: EditAnnotationInput) {
  return rooms.write(actor, async ({ tx, room, append, known }): Promise<AnnotationRow> => {
    assertMayAnnotate(room, "edit_own");
    const current = await loadAnnotation(tx, actor, input.annotationId);
    if (!isAuthor(room.actor, current)) throw fail.forbidden("Only its author can edit an annotation.");
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
    known.annotation(updated);
    await append("annotation:updated", actor.memberId, {
      annotationId: updated.id,
      version: updated.version,
    });
    return updated;
  });
}

/**
 * Deletes the actor's own annotation, leaving a tombstone: body and tags erased, deletedAt set,
 * version bumped, and its earlier versions erased too (the author withdrew the text, so no copy
 * of it stays behind; the log holds no text, so it is gone from every view); replies stay. Stored
 * with annotation:deleted. Deleting a tombstone again returns it without an event.
 * Errors: room_closed, forbidden (observer, someone else's), not_found.
 */
export async function deleteAnnotation(rooms: RoomWriter, actor: Actor, input: DeleteAnnotationInput) {
  return rooms.write(actor, async ({ tx, room, append, known }): Promise<AnnotationRow> => {
    assertMayAnnotate(room, "delete_own");
    const current = await loadAnnotation(tx, actor, input.annotationId);
    if (!isAuthor(room.actor, current)) throw fail.forbidden("Only its author can delete an annotation.");
    if (isDeleted(current)) return current;
    await tx.annotationRevision.deleteMany({ where: { annotationId: current.id } });
    const deleted = await tx.annotation.update({
      where: { id: current.id },
      data: { body: "", tags: [], version: { increment: 1 }, deletedAt: new Date() },
      select: annotationSelect,
    });
    known.annotation(deleted);
    await append("annotation:deleted", actor.memberId, { annotationId: deleted.id });
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
  return rooms.write(actor, async ({ tx, room, append, known }) => {
    assertMayAnnotate(room, "react");
    const annotation = await loadAnnotation(tx, actor, input.annotationId);
    if (!canRespondTo(room.actor, annotation)) {
      throw fail.conflict(
        `You cannot react to a ${isDeleted(annotation) ? "deleted" : "hidden"} annotation.`,
      );
    }
    const key = { annotationId: annotation.id, memberId: actor.memberId, kind: input.kind };
    const removed = await tx.reaction.deleteMany({ where: key });
    const active = removed.count === 0;
    if (active) await tx.reaction.create({ data: key });
    const reactions = active
      ? [...annotation.reactions, { memberId: key.memberId, kind: key.kind }]
      : annotation.reactions.filter((r) => !(r.memberId === key.memberId && r.kind === key.kind));
    known.annotation({ ...annotation, reactions });
    await append("annotation:reacted", actor.memberId, { ...key, active });
    return { active };
  });
}

/** A moderator's action on an annotation. */
export type AnnotationModeration = (typeof ANNOTATION_MODERATIONS)[number];

/** What each moderation action writes, and whether it applies to the annotation as it is now. */
const MODERATIONS: Record<
  AnnotationModeration,
  { applies: (a: AnnotationRow) => boolean; data: (now: Date, by: string) => Prisma.AnnotationUpdateInput }
> = {
  hide: {
    applies: (a) => a.hiddenAt === null,
    data: (now, by) => ({ hiddenAt: now, hiddenBy: { connect: { id: by } } }),
  },
  restore: {
    applies: (a) => a.hiddenAt !== null,
    data: () => ({ hiddenAt: null, hiddenBy: { disconnect: true } }),
  },
  pin: {
    applies: (a) => a.pinnedAt === null,
    data: (now, by) => ({ pinnedAt: now, pinnedBy: { connect: { id: by } } }),
  },
  unpin: {
    applies: (a) => a.pinnedAt !== null,
    data: () => ({ pinnedAt: null, pinnedBy: { disconnect: true } }),
  },
  remove: {
    applies: () => true,
    data: (now) => ({ body: "", tags: [], version: { increment: 1 }, deletedAt: now }),
  },
};

/**
 * A moderator hides, restores, pins, unpins or removes an annotation of their seminar: stored with
 * annotation:moderated and a row in the moderation log (with the reason). Removing leaves a
 * tombstone and erases the text and earlier versions, as a deletion does. An action that changes
 * nothing (hiding what is hidden) acks the annotation without an event or log row.
 * Errors: forbidden (not a moderator), room_closed (draft), not_found, conflict (deleted).
 */
export async function moderateAnnotation(
  rooms: RoomWriter,
  actor: Actor,
  action: AnnotationModeration,
  input: ModerateAnnotationInput,
): Promise<AnnotationRow> {
  return rooms.write(actor, async ({ tx, room, append, known }) => {
    assertRight("moderate_annotations", room);
    const current = await loadAnnotation(tx, actor, input.annotationId);
    if (isDeleted(current)) throw fail.conflict("The annotation was deleted; nothing is left to moderate.");
    const step = MODERATIONS[action];
    if (!step.applies(current)) return current;
    if (action === "remove") await tx.annotationRevision.deleteMany({ where: { annotationId: current.id } });
    const updated = await tx.annotation.update({
      where: { id: current.id },
      data: step.data(new Date(), actor.memberId),
      select: annotationSelect,
    });
    const logged = await logAction(
      { tx, room, known },
      {
        action: `annotation:${action}`,
        targetAnnotationId: current.id,
        targetMemberId: current.authorId,
        reason: input.reason,
      },
    );
    known.annotation(updated);
    await append("annotation:moderated", actor.memberId, {
      annotationId: updated.id,
      action,
      reason: input.reason ?? null,
      actionId: logged.id,
    });
    return updated;
  });
}

/**
 * The earlier versions of annotations of the seminar, oldest first per annotation (for viewers the
 * caller checked with canReadHistory). A deleted annotation has none left.
 */
export async function readRevisions(
  db: PrismaClient | Tx,
  seminarId: string,
  annotationIds: readonly string[],
): Promise<Map<string, RevisionRow[]>> {
  const byAnnotation = new Map<string, RevisionRow[]>();
  if (annotationIds.length === 0) return byAnnotation;
  const rows = await db.annotationRevision.findMany({
    where: { annotationId: { in: [...annotationIds] }, annotation: { seminarId } },
    orderBy: [{ annotationId: "asc" }, { version: "asc" }],
    select: { annotationId: true, version: true, body: true, tags: true, createdAt: true },
  });
  for (const { annotationId, ...revision } of rows) {
    const list = byAnnotation.get(annotationId) ?? [];
    list.push(revision);
    byAnnotation.set(annotationId, list);
  }
  return byAnnotation;
}

/** An earlier version of an annotation (GET …/annotations/:id/history). */
export interface RevisionRow {
  version: number;
  body: string;
  tags: string[];
  createdAt: Date;
}

/**
 * An annotation's current version and its earlier versions, newest first, for a viewer allowed
 * to read them (annotations.policy canReadHistory: moderators and the author). A deleted
 * annotation has none left. Errors: not_found (outside the seminar, or hidden from the viewer),
 * forbidden (not allowed to read its history).
 */
export async function readAnnotationHistory(
  db: PrismaClient,
  viewer: Actor,
  annotationId: string,
): Promise<{ annotation: AnnotationRow; revisions: RevisionRow[] }> {
  const annotation = await db.annotation.findFirst({
    where: { id: annotationId, seminarId: viewer.seminarId },
    select: annotationSelect,
  });
  const asViewer = viewerOf(viewer);
  if (!annotation || !presentAnnotationFor(asViewer, annotation)) throw fail.notFound("Annotation");
  if (!canReadHistory(asViewer, annotation))
    throw fail.forbidden("Only moderators and its author read an annotation's earlier versions.");
  const revisions = await db.annotationRevision.findMany({
    where: { annotationId },
    orderBy: { version: "desc" },
    select: { version: true, body: true, tags: true, createdAt: true },
  });
  return { annotation, revisions };
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

/** Narrower reads for documents laid out by thread (the Markdown transcript). */
export interface AnnotationScope {
  /** Only top-level annotations (thread roots). */
  rootsOnly?: boolean;
  /** Only replies in the threads of these roots. */
  parentIds?: readonly string[];
  /** Only replies whose root the viewer may not see (it was hidden from them). */
  underUnseenRoots?: boolean;
}

/**
 * One page of a seminar's annotations that the viewer may see (replies and tombstones included),
 * ordered by createdAt then id, filtered by paragraph, author and tag (and `scope`). The caller
 * must be a member (resolveMember).
 */
export async function listAnnotations(
  prisma: PrismaClient | Tx,
  viewer: Actor,
  query: ListAnnotationsQuery,
  scope: AnnotationScope = {},
): Promise<{ items: AnnotationRow[]; nextCursor: string | null }> {
  const conditions: Prisma.AnnotationWhereInput[] = [{ seminarId: viewer.seminarId }];
  if (query.paragraphId) conditions.push({ paragraphId: query.paragraphId });
  if (query.authorId) conditions.push({ authorId: query.authorId });
  if (query.tag) conditions.push({ tags: { has: query.tag } });
  if (scope.rootsOnly) conditions.push({ parentId: null });
  if (scope.parentIds) conditions.push({ parentId: { in: [...scope.parentIds] } });
  // The visibility rule (canSeeAnnotation) as a filter, so pages stay full: what a moderator hid
  // is absent for everyone but moderators and its author.
  const unseen = (moderator: boolean): Prisma.AnnotationWhereInput =>
    moderator ? { id: { in: [] } } : { hiddenAt: { not: null }, authorId: { not: viewer.memberId } };
  if (!isModerator(viewer.role)) {
    conditions.push({
      OR: [{ hiddenAt: null }, { authorId: viewer.memberId }],
    });
  }
  if (scope.underUnseenRoots) conditions.push({ parent: unseen(isModerator(viewer.role)) });
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    // The plain lower bound lets PostgreSQL range-scan (seminar_id, created_at) instead of testing
    // the OR on every earlier row: without it, reading a long session page by page is quadratic.
    conditions.push(
      { createdAt: { gte: after.createdAt } },
      { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] },
    );
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
