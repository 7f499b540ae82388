/**
 * Reads a seminar's transcript for one requester. The small parts (seminar, essay, roster, prompts
 * and current tallies) are read once when the download starts; the large ones (annotations,
 * ballots, tally history, moderation log, timeline) are read page by page while the response is
 * written, so memory stays bounded however long the session was. Every part is presented by the
 * live room's presenters for the requester's viewer (viewerOf(actor, anonymized)), so the
 * transcript holds exactly what that viewer could see in the room. It runs on an export thread
 * (transcript.worker.ts) with that thread's own connections, or on the main thread with the
 * embedded database, where each page starts on a new turn of the event loop.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { PrismaClient } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import { LIMITS } from "../../protocol/limits.ts";
import {
  type TimelineEntryView,
  TRANSCRIPT_SCHEMA_VERSION,
  type TranscriptAnnotationView,
  type TranscriptBallotView,
  type TranscriptDocument,
  type TranscriptTallySnapshotView,
} from "../../protocol/transcripts.ts";
import type { MemberView, ModerationLogEntryView } from "../../protocol/views.ts";
import { presentEvent } from "../../realtime/presenters.ts";
import { readEventsSince } from "../../realtime/room-log.ts";
import { loadSubjects } from "../../realtime/subjects.ts";
import { canReadHistory } from "../annotations/annotations.policy.ts";
import {
  type AnnotationRow,
  type AnnotationScope,
  listAnnotations,
  readRevisions,
} from "../annotations/annotations.service.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { presentModerationEntry } from "../moderation/moderation.presenter.ts";
import { readModerationLogPage } from "../moderation/moderation.service.ts";
import { canSeeVoters } from "../prompts/prompts.policy.ts";
import {
  listNamedBallots,
  listPromptFacts,
  listTallySnapshots,
  loadPromptState,
} from "../prompts/prompts.service.ts";
import { type Actor, viewerOf } from "../seminars/seminars.policy.ts";
import { presentMemberFor, presentSeminar, pseudonymsOf } from "../seminars/seminars.presenter.ts";
import type { SeminarRecord } from "../seminars/seminars.service.ts";
import { getSeminar, listMemberRecords, readEssayView } from "../seminars/seminars.service.ts";
import { canReadModerationLog, canReadTranscript, canSeeTallySnapshot } from "./transcripts.policy.ts";
import {
  eventEntry,
  presentNamedBallot,
  presentStoredTally,
  presentTranscriptAnnotation,
  pseudonymousIds,
  tallyEntry,
  withPseudonymousIds,
} from "./transcripts.presenter.ts";

/** The parts of the JSON transcript read once, before anything is written. */
export type TranscriptHead = Omit<
  TranscriptDocument,
  "ballots" | "tallyHistory" | "annotations" | "moderationLog" | "timeline"
>;

/** A thread as the Markdown transcript lays it out: a root the viewer sees (or null) and its replies. */
export interface TranscriptThread {
  /** Null when the viewer may not see the root (a moderator hid it) but sees replies in it. */
  root: TranscriptAnnotationView | null;
  replies: TranscriptAnnotationView[];
}

/**
 * A transcript being read: the head, the roster by (pseudonymous) id for naming people, and
 * readers of the large parts. Each reader yields pages and can be read more than once (the zip
 * reads annotations for every format).
 */
export interface TranscriptSource {
  head: TranscriptHead;
  /** Members by the id the transcript shows (pseudonymous when anonymised). */
  members: ReadonlyMap<string, MemberView>;
  /** Named prompts' ballots, for viewers who may see voters (empty for everyone else). */
  ballots(): AsyncIterable<TranscriptBallotView[]>;
  /** Stored tallies the viewer could watch, by time. */
  tallyHistory(): AsyncIterable<TranscriptTallySnapshotView[]>;
  /** Every annotation and reply the viewer may see, oldest first. */
  annotations(): AsyncIterable<TranscriptAnnotationView[]>;
  /** The threads on one paragraph, oldest root first, replies oldest first. */
  threads(paragraphId: string): AsyncIterable<TranscriptThread[]>;
  /** The moderation log, oldest first; null when the viewer may not read it. */
  moderationLog(): AsyncIterable<ModerationLogEntryView[]> | null;
  /** Room events up to head.asOfSeq merged with the tally history by time. */
  timeline(): AsyncIterable<TimelineEntryView[]>;
}

/** What reading a transcript needs besides the requester: a database and two settings. */
export interface TranscriptReader {
  db: PrismaClient;
  /** The server's JWT_SECRET, the root of the pseudonymous ids' keys. */
  secret: string;
  /** The public base URL (join links in a moderator's download). */
  publicUrl: string;
}

/**
 * The actor's seminar, if the actor may download its transcript now (the actor is resolved from
 * their token by the route: outside the seminar is `not_found`). Errors: forbidden (a participant
 * or observer while the host has not opened transcripts, or before the session started).
 */
export async function admitTranscript(db: PrismaClient, actor: Actor): Promise<SeminarRecord> {
  const seminar = await getSeminar(db, actor.seminarId);
  if (!canReadTranscript(actor, seminar)) {
    throw fail.forbidden(
      seminar.state === "draft"
        ? "The transcript opens to participants once the session has started."
        : "The host has not made the transcript available to participants.",
    );
  }
  return seminar;
}

/**
 * Opens the transcript of the actor's seminar for the actor, checking again that they may read
 * it (admitTranscript: the route checked when the request came, this is when the reading starts).
 */
export async function openTranscript(
  reader: TranscriptReader,
  actor: Actor,
  options: { anonymized: boolean },
): Promise<TranscriptSource> {
  const { db } = reader;
  const seminar = await admitTranscript(db, actor);
  const { anonymized } = options;
  const viewer = viewerOf(actor, anonymized);
  const pageSize = LIMITS.transcriptPageSize;
  const [essay, roster, facts, promptState] = await Promise.all([
    frozenEssay(db, seminar.id).then(async (frozen) => frozen?.view ?? readEssayView(db, seminar.id)),
    listMemberRecords(db, seminar.id),
    listPromptFacts(db, seminar.id),
    // Counts and versions consistent with each other, as a snapshot reads them.
    db.$transaction((tx) => loadPromptState(tx, seminar.id, actor), { isolationLevel: "RepeatableRead" }),
  ]);
  const pseudonyms = anonymized ? pseudonymsOf(roster) : undefined;
  const ids = anonymized
    ? pseudonymousIds(
        reader.secret,
        seminar.id,
        roster.map((member) => member.id),
      )
    : new Map<string, string>();
  /** Applied to everything that leaves: member ids become pseudonymous ids when anonymised. */
  const shown = <T>(value: T): T => (anonymized ? withPseudonymousIds(value, ids) : value);
  const members = roster.map((member) => shown(presentMemberFor(viewer, member, pseudonyms)));
  const { publicUrl } = reader;

  const head: TranscriptHead = {
    schemaVersion: TRANSCRIPT_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    asOfSeq: seminar.lastSeq,
    anonymized,
    viewer: shown({ memberId: actor.memberId, role: actor.role, moderator: viewer.moderator }),
    // An anonymised transcript is meant to leave the room: it carries no way into it either.
    seminar: presentSeminar(seminar, { moderator: viewer.moderator && !anonymized, publicUrl }),
    essay,
    members,
    prompts: promptState.prompts,
    tallies: shown(promptState.tallies),
    myBallots: anonymized ? [] : promptState.myBallots,
  };
  const factsById = new Map(facts.map((prompt) => [prompt.id, prompt]));

  const presentAnnotations = async (rows: AnnotationRow[]) => {
    const withHistory = rows.filter((row) => canReadHistory(viewer, row)).map((row) => row.id);
    const revisions = await readRevisions(db, seminar.id, withHistory);
    return rows.flatMap((row) => {
      const view = presentTranscriptAnnotation(viewer, row, revisions.get(row.id));
      return view ? [shown(view)] : [];
    });
  };

  async function* annotationPages(paragraphId?: string, scope: AnnotationScope = {}) {
    let cursor: string | undefined;
    do {
      await nextTurn();
      const page = await listAnnotations(db, actor, { paragraphId, cursor, limit: pageSize }, scope);
      yield await presentAnnotations(page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  async function* threads(paragraphId: string): AsyncGenerator<TranscriptThread[]> {
    for await (const roots of annotationPages(paragraphId, { rootsOnly: true })) {
      if (roots.length === 0) continue;
      const replies = new Map<string, TranscriptAnnotationView[]>(roots.map((root) => [root.id, []]));
      // Root ids as stored (the views may carry pseudonymous ids only for members, never for annotations).
      for await (const page of annotationPages(undefined, { parentIds: roots.map((root) => root.id) })) {
        for (const reply of page) replies.get(reply.parentId ?? "")?.push(reply);
      }
      yield roots.map((root) => ({ root, replies: replies.get(root.id) ?? [] }));
    }
    // Replies the viewer sees in threads whose root was hidden from them.
    const orphans = new Map<string, TranscriptAnnotationView[]>();
    for await (const page of annotationPages(paragraphId, { underUnseenRoots: true })) {
      for (const reply of page) {
        const list = orphans.get(reply.parentId ?? "") ?? [];
        list.push(reply);
        orphans.set(reply.parentId ?? "", list);
      }
    }
    if (orphans.size > 0) yield [...orphans.values()].map((replies) => ({ root: null, replies }));
  }

  async function* tallyHistory(): AsyncGenerator<TranscriptTallySnapshotView[]> {
    let after: { takenAt: Date; id: string } | null = null;
    for (;;) {
      await nextTurn();
      const rows = await listTallySnapshots(db, seminar.id, after, pageSize);
      const last = rows.at(-1);
      if (!last) return;
      yield rows.flatMap((row) => {
        const prompt = factsById.get(row.promptId);
        return prompt && canSeeTallySnapshot(viewer, prompt, row.takenAt) ? [presentStoredTally(row)] : [];
      });
      after = last;
    }
  }

  async function* ballots(): AsyncGenerator<TranscriptBallotView[]> {
    for (const prompt of facts) {
      if (!canSeeVoters(actor, prompt)) continue;
      let afterId: string | null = null;
      for (;;) {
        await nextTurn();
        const rows = await listNamedBallots(db, actor, prompt, afterId, pageSize);
        const last = rows.at(-1);
        if (!last) break;
        yield rows.map((row) => shown(presentNamedBallot(row)));
        afterId = last.id;
      }
    }
  }

  async function* events(): AsyncGenerator<TimelineEntryView[]> {
    let since = 0;
    while (since < head.asOfSeq) {
      await nextTurn();
      const page = await readEventsSince(db, seminar.id, since, Math.min(pageSize, head.asOfSeq - since));
      const last = page.at(-1);
      if (!last) return;
      const subjects = await loadSubjects(db, seminar.id, page);
      const context = { viewer, subjects, publicUrl, pseudonyms };
      yield page.map((event) => eventEntry(shown(presentEvent(event, context))));
      since = last.seq;
    }
  }

  // Each list is read a page ahead of the writing, so the database's answer to the next query and
  // the rendering of the current page overlap (an export is otherwise mostly waiting for queries).
  return {
    head,
    members: new Map(members.map((member) => [member.id, member])),
    ballots: () => readAhead(ballots()),
    tallyHistory: () => readAhead(tallyHistory()),
    annotations: () => readAhead(annotationPages()),
    threads: (paragraphId) => readAhead(threads(paragraphId)),
    moderationLog: () =>
      canReadModerationLog(viewer) ? readAhead(moderationLogPages(db, actor, shown)) : null,
    timeline: () =>
      mergeByTime(readAhead(events()), mapPages(readAhead(tallyHistory()), tallyEntry), pageSize),
  };
}

/**
 * The moderation log of a seminar, oldest first, page by page, read and presented by the
 * moderation module (readModerationLogPage refuses anyone but moderators).
 */
async function* moderationLogPages(
  db: PrismaClient,
  actor: Actor,
  shown: <T>(value: T) => T,
): AsyncGenerator<ModerationLogEntryView[]> {
  let cursor: string | undefined;
  do {
    await nextTurn();
    const page = await readModerationLogPage(db, actor, { cursor, limit: LIMITS.transcriptPageSize });
    yield page.items.map((row) => shown(presentModerationEntry(row)));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/**
 * A list already in memory (the roster of a lecture hall, say) as pages, each on a new turn of the
 * event loop, so writing it out does not hold the live room up either.
 */
export async function* slices<T>(list: readonly T[], size = LIMITS.transcriptPageSize): AsyncGenerator<T[]> {
  for (let start = 0; start < list.length; start += size) {
    if (start > 0) await nextTurn();
    yield list.slice(start, start + size);
  }
}

/**
 * The pages of `source`, each next one already being read while the consumer works on the one it
 * has: at most two pages are held. When the consumer stops early, the read in flight is awaited
 * (its failure ignored: nobody wants its page) and the source is closed.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      // Awaited at the next turn, or in finally; until then a failure must not count as unhandled.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    if (!finished) {
      await next.catch(() => undefined);
      await iterator.return?.();
    }
  }
}

/** Pages of `source` with each item mapped. */
async function* mapPages<T, U>(source: AsyncIterable<T[]>, map: (item: T) => U): AsyncGenerator<U[]> {
  for await (const page of source) yield page.map(map);
}

/** Items one at a time from pages. */
async function* items<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}

/**
 * Merges two sequences of timeline entries, each in time order, into one in time order (the
 * first wins ties, so an event stays before a tally taken in the same millisecond), in pages.
 */
export async function* mergeByTime(
  first: AsyncIterable<TimelineEntryView[]>,
  second: AsyncIterable<TimelineEntryView[]>,
  pageSize: number,
): AsyncGenerator<TimelineEntryView[]> {
  const a = items(first)[Symbol.asyncIterator]();
  const b = items(second)[Symbol.asyncIterator]();
  let nextA = await a.next();
  let nextB = await b.next();
  let page: TimelineEntryView[] = [];
  while (!nextA.done || !nextB.done) {
    if (nextB.done || (!nextA.done && nextA.value.at <= nextB.value.at)) {
      page.push(nextA.value!);
      nextA = await a.next();
    } else {
      page.push(nextB.value);
      nextB = await b.next();
    }
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
