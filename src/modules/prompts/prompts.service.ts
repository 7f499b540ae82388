import { LRUCache } from "lru-cache";
import type { Prisma, PrismaClient, Tx } from "../../db/client.ts";
import { AppError, fail } from "../../errors.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { PromptStateView, PromptVoteInput, TallySnapshotView } from "../../protocol/prompts.ts";
import type { PromptInput } from "../../protocol/schemas.ts";
import type { BallotView, PromptKind, PromptView, ResultsVisibility } from "../../protocol/views.ts";
import type { RoomWriter } from "../../realtime/room-writer.ts";
import { asRole, refusalOf, roleRefusal } from "../moderation/moderation.policy.ts";
import { assertRight, assertRole } from "../moderation/rights.ts";
import type { Actor, RoomState } from "../seminars/seminars.policy.ts";
import { checkPromptInput, promptOptionRows } from "../seminars/seminars.service.ts";
import {
  type BallotOutcome,
  BallotQueue,
  type BallotQueueOptions,
  type QueuedBallot,
} from "./ballot-queue.ts";
import {
  type BallotRules,
  ballotProblem,
  canClose,
  canManagePrompts,
  canOpen,
  canReopen,
  canReveal,
  canSeeTally,
  canSeeVoters,
  isAcceptingBallots,
  isEditable,
  type PromptFacts,
} from "./prompts.policy.ts";
import {
  type PromptRecord,
  presentBallot,
  presentPrompt,
  presentTally,
  presentTallySnapshot,
  type TallyRecord,
} from "./prompts.presenter.ts";

/** Where stored ballot changes and visibility changes are reported (the tally coalescer). */
export interface TallySink {
  /** A ballot of `promptId` was stored (after commit): its tally is due at the next flush. */
  changed(seminarId: string, promptId: string): void;
  /** Sends `promptId`'s tally now (after a close or a reveal); resolves once it was sent. */
  sendNow(seminarId: string, promptId: string): Promise<void>;
}

/** What the prompt services need: the database, the room writer, the tally sink and the ballot queue. */
export interface PromptDeps {
  /** The database. */
  prisma: PrismaClient;
  /** Every life-cycle change goes through it (stored event, broadcast after commit). */
  rooms: RoomWriter;
  /** Receives stored ballots and visibility changes. */
  tallies: TallySink;
  /** Where ballots wait for their group's commit (createBallotQueue; one per node). */
  ballots: BallotQueue;
}

/** The fields every prompt read needs (with its options by position). */
const promptSelect = {
  id: true,
  position: true,
  kind: true,
  question: true,
  paragraphId: true,
  maxChoices: true,
  anonymous: true,
  resultsVisibility: true,
  state: true,
  revealedAt: true,
  openedAt: true,
  closedAt: true,
  options: { select: { id: true, position: true, label: true, value: true }, orderBy: { position: "asc" } },
} satisfies Prisma.PromptSelect;

type PromptRow = Prisma.PromptGetPayload<{ select: typeof promptSelect }>;

const ballotSelect = {
  promptId: true,
  clientBallotId: true,
  revision: true,
  choices: { select: { optionId: true } },
} satisfies Prisma.BallotSelect;

/** The database columns of a prompt's facts, as read under a row lock. */
interface LockedPromptRow {
  id: string;
  state: PromptFacts["state"];
  results_visibility: ResultsVisibility;
  revealed_at: Date | null;
  anonymous: boolean;
}

// ---------------------------------------------------------------------------------------------
// Reads

/**
 * Locks a prompt of the seminar (`not_found` outside it). FOR NO KEY UPDATE, the lock an UPDATE
 * takes: it waits for ballots being written (their tally-version increment holds the same lock)
 * but not for the key-share locks their foreign keys take, so a close and a vote serialise
 * without deadlocking.
 */
async function lockPrompt(
  tx: Tx,
  seminarId: string,
  promptId: string,
): Promise<PromptFacts & { id: string }> {
  const rows = await tx.$queryRaw<LockedPromptRow[]>`
    SELECT id::text AS id, state::text AS state, results_visibility::text AS results_visibility, revealed_at, anonymous
    FROM prompts WHERE id = ${promptId}::uuid AND seminar_id = ${seminarId}::uuid
    FOR NO KEY UPDATE`;
  const row = rows[0];
  if (!row) throw fail.notFound("Prompt");
  return {
    id: row.id,
    state: row.state,
    resultsVisibility: row.results_visibility,
    revealedAt: row.revealed_at,
    anonymous: row.anonymous,
  };
}

async function readPrompt(tx: Tx | PrismaClient, seminarId: string, promptId: string): Promise<PromptRow> {
  const prompt = await tx.prompt.findFirst({ where: { id: promptId, seminarId }, select: promptSelect });
  if (!prompt) throw fail.notFound("Prompt");
  return prompt;
}

/**
 * Reads the tallies of `prompts` from the stored ballots, in the caller's transaction: counts per
 * option by GROUP BY, never incremented in memory. Voters are read only for the prompt ids in
 * `withVoters` (named prompts a moderator sees).
 */
async function readTallies(
  tx: Tx,
  prompts: { id: string; options: { id: string }[] }[],
  withVoters: ReadonlySet<string>,
): Promise<TallyRecord[]> {
  if (prompts.length === 0) return [];
  const ids = prompts.map((prompt) => prompt.id);
  const picks = await tx.$queryRaw<{ option_id: string; picks: number }[]>`
    SELECT bc.option_id::text AS option_id, count(*)::int AS picks
    FROM ballots b JOIN ballot_choices bc ON bc.ballot_id = b.id
    WHERE b.prompt_id = ANY(${ids}::uuid[])
    GROUP BY bc.option_id`;
  // The version is the number of ballot writes (the sum of revisions): it grows with every stored
  // change and is read in the same snapshot as the counts.
  const totals = await tx.$queryRaw<{ prompt_id: string; ballots: number; version: number }[]>`
    SELECT prompt_id::text AS prompt_id, count(*)::int AS ballots, sum(revision)::int AS version
    FROM ballots WHERE prompt_id = ANY(${ids}::uuid[])
    GROUP BY prompt_id`;
  const named = ids.filter((id) => withVoters.has(id));
  const voterRows =
    named.length === 0
      ? []
      : await tx.$queryRaw<{ option_id: string; member_id: string }[]>`
          SELECT bc.option_id::text AS option_id, b.member_id::text AS member_id
          FROM ballots b JOIN ballot_choices bc ON bc.ballot_id = b.id
          WHERE b.prompt_id = ANY(${named}::uuid[])
          ORDER BY b.member_id`;
  const pickCount = new Map(picks.map((row) => [row.option_id, row.picks]));
  const ballotCount = new Map(totals.map((row) => [row.prompt_id, row]));
  const votersOf = groupVoters(voterRows);
  return prompts.map((prompt) =>
    tallyRecord(
      prompt.id,
      prompt.options.map((option) => option.id),
      pickCount,
      ballotCount.get(prompt.id),
      withVoters.has(prompt.id) ? votersOf : null,
    ),
  );
}

/** Voters by option, in the order of `rows`. */
function groupVoters(rows: readonly { option_id: string; member_id: string }[]): Map<string, string[]> {
  const votersOf = new Map<string, string[]>();
  for (const row of rows) {
    const list = votersOf.get(row.option_id) ?? [];
    list.push(row.member_id);
    votersOf.set(row.option_id, list);
  }
  return votersOf;
}

/**
 * A prompt's tally as read: every option in `optionIds`' order with its count (0 when nobody
 * picked it), the ballot count and version (0 without ballots), and the voters of each option
 * when `votersOf` is given (named prompts a moderator sees), null otherwise.
 */
function tallyRecord(
  promptId: string,
  optionIds: readonly string[],
  pickCount: ReadonlyMap<string, number>,
  totals: { ballots: number; version: number } | undefined,
  votersOf: ReadonlyMap<string, string[]> | null,
): TallyRecord {
  const counts: Record<string, number> = {};
  for (const id of optionIds) counts[id] = pickCount.get(id) ?? 0;
  let voters: Record<string, string[]> | null = null;
  if (votersOf) {
    voters = {};
    for (const id of optionIds) voters[id] = votersOf.get(id) ?? [];
  }
  return { promptId, version: totals?.version ?? 0, counts, ballots: totals?.ballots ?? 0, voters };
}

/**
 * The prompts of a seminar, the tallies `viewer` may see and the viewer's own ballots, read in
 * the caller's transaction (snapshots and room:sync run it in one repeatable-read transaction,
 * so every tally is consistent with its version). Voters only for moderators on named prompts.
 */
export async function loadPromptState(tx: Tx, seminarId: string, viewer: Actor): Promise<PromptStateView> {
  const [state] = await loadPromptStates(tx, seminarId, [viewer]);
  if (!state) throw new Error("loadPromptStates answered no state for its viewer");
  return state;
}

/**
 * loadPromptState for several viewers of one seminar at once (snapshots built together), in the
 * caller's transaction, in their order: the prompts once, the tallies once per distinct set the
 * viewers may see (by role), every viewer's ballots in one query.
 */
export async function loadPromptStates(
  tx: Tx,
  seminarId: string,
  viewers: readonly Actor[],
): Promise<PromptStateView[]> {
  const prompts = await readSeminarPrompts(tx, seminarId);
  const promptViews = prompts.map(presentPrompt);
  const ballots = await readViewersBallots(
    tx,
    prompts.map((prompt) => prompt.id),
    [...new Set(viewers.map((viewer) => viewer.memberId))],
  );
  const position = new Map(prompts.map((prompt) => [prompt.id, prompt.position]));
  ballots.sort((a, b) => (position.get(a.promptId) ?? 0) - (position.get(b.promptId) ?? 0));
  const tallySets = new Map<string, PromptStateView["tallies"]>();
  const states: PromptStateView[] = [];
  for (const viewer of viewers) {
    const visible = prompts.filter((prompt) => canSeeTally(viewer, prompt));
    const withVoters = new Set(
      visible.filter((prompt) => canSeeVoters(viewer, prompt)).map((prompt) => prompt.id),
    );
    const key = visible.map((prompt) => `${prompt.id}${withVoters.has(prompt.id) ? "+" : ""}`).join(",");
    let tallies = tallySets.get(key);
    if (!tallies) {
      const records = await readTallies(tx, visible, withVoters);
      tallies = records.map((tally) => presentTally(tally, { withVoters: withVoters.has(tally.promptId) }));
      tallySets.set(key, tallies);
    }
    states.push({
      prompts: promptViews,
      tallies,
      myBallots: ballots.filter((ballot) => ballot.memberId === viewer.memberId).map(presentBallot),
    });
  }
  return states;
}

/**
 * A seminar's prompts by position, each with its options by position, in one statement (an ORM
 * read with its options is two).
 */
async function readSeminarPrompts(tx: Tx, seminarId: string): Promise<PromptRecord[]> {
  const rows = await tx.$queryRaw<
    {
      id: string;
      position: number;
      kind: PromptRecord["kind"];
      question: string;
      paragraph_id: string | null;
      max_choices: number;
      anonymous: boolean;
      results_visibility: PromptRecord["resultsVisibility"];
      state: PromptRecord["state"];
      revealed_at: Date | null;
      opened_at: Date | null;
      closed_at: Date | null;
      options: PromptRecord["options"];
    }[]
  >`
    SELECT p.id::text AS id, p.position, p.kind::text AS kind, p.question,
      p.paragraph_id::text AS paragraph_id, p.max_choices, p.anonymous,
      p.results_visibility::text AS results_visibility, p.state::text AS state,
      p.revealed_at, p.opened_at, p.closed_at,
      COALESCE((
        SELECT json_agg(json_build_object('id', o.id, 'position', o.position, 'label', o.label, 'value', o.value)
          ORDER BY o.position)
        FROM prompt_options o WHERE o.prompt_id = p.id
      ), '[]'::json) AS options
    FROM prompts p
    WHERE p.seminar_id = ${seminarId}::uuid
    ORDER BY p.position`;
  return rows.map((row) => ({
    id: row.id,
    position: row.position,
    kind: row.kind,
    question: row.question,
    paragraphId: row.paragraph_id,
    maxChoices: row.max_choices,
    anonymous: row.anonymous,
    resultsVisibility: row.results_visibility,
    state: row.state,
    revealedAt: row.revealed_at,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    options: row.options,
  }));
}

/** A ballot as the snapshot reads it: with its member and the options chosen. */
interface ViewerBallot {
  promptId: string;
  memberId: string;
  clientBallotId: string;
  revision: number;
  choices: { optionId: string }[];
}

/**
 * The ballots of `memberIds` on `promptIds`, each with its choices, in one statement (the pair is
 * the ballots' unique key). No prompts, no ballots: nothing is read.
 */
async function readViewersBallots(tx: Tx, promptIds: string[], memberIds: string[]): Promise<ViewerBallot[]> {
  if (promptIds.length === 0 || memberIds.length === 0) return [];
  const rows = await tx.$queryRaw<
    {
      prompt_id: string;
      member_id: string;
      client_ballot_id: string;
      revision: number;
      option_ids: string[];
    }[]
  >`
    SELECT b.prompt_id::text AS prompt_id, b.member_id::text AS member_id,
      b.client_ballot_id::text AS client_ballot_id, b.revision,
      COALESCE(array_agg(c.option_id::text) FILTER (WHERE c.option_id IS NOT NULL), '{}') AS option_ids
    FROM ballots b
    LEFT JOIN ballot_choices c ON c.ballot_id = b.id
    WHERE b.prompt_id = ANY(${promptIds}::uuid[]) AND b.member_id = ANY(${memberIds}::uuid[])
    GROUP BY b.id`;
  return rows.map((row) => ({
    promptId: row.prompt_id,
    memberId: row.member_id,
    clientBallotId: row.client_ballot_id,
    revision: row.revision,
    choices: row.option_ids.map((optionId) => ({ optionId })),
  }));
}

/** Reads a seminar's prompt state for `viewer` in its own repeatable-read transaction (REST). */
export async function readPromptState(prisma: PrismaClient, viewer: Actor): Promise<PromptStateView> {
  return prisma.$transaction((tx) => loadPromptState(tx, viewer.seminarId, viewer), {
    isolationLevel: "RepeatableRead",
  });
}

/** One prompt of the viewer's seminar with its tally (when they may see it) and their ballot. */
export async function readOnePrompt(
  prisma: PrismaClient,
  viewer: Actor,
  promptId: string,
): Promise<PromptStateView> {
  return prisma.$transaction(
    async (tx) => {
      const prompt = await readPrompt(tx, viewer.seminarId, promptId);
      const visible = canSeeTally(viewer, prompt);
      const withVoters = new Set(visible && canSeeVoters(viewer, prompt) ? [prompt.id] : []);
      const tallies = visible ? await readTallies(tx, [prompt], withVoters) : [];
      const ballot = await tx.ballot.findUnique({
        where: { promptId_memberId: { promptId: prompt.id, memberId: viewer.memberId } },
        select: ballotSelect,
      });
      return {
        prompts: [toPromptView(prompt)],
        tallies: tallies.map((tally) => presentTally(tally, { withVoters: withVoters.has(tally.promptId) })),
        myBallots: ballot ? [presentBallot(ballot)] : [],
      };
    },
    { isolationLevel: "RepeatableRead" },
  );
}

/** What the tally coalescer needs to send one prompt's tally: its facts and counts at one version. */
export interface TallyReading {
  /** The prompt's seminar (the rooms to send to). */
  seminarId: string;
  /** State, visibility, reveal and anonymity, as of the counts. */
  facts: PromptFacts;
  /** Counts at `version`; voters filled for named prompts (moderators only receive them). */
  tally: TallyRecord;
}

/** A prompt's facts and tally as recordTally reads them (one row). */
interface PublishingRow {
  seminar_id: string;
  state: PromptFacts["state"];
  results_visibility: ResultsVisibility;
  revealed_at: Date | null;
  anonymous: boolean;
  ballots: number;
  version: number;
  /** The prompt's options in position order, and how many ballots picked each (same order). */
  option_ids: string[];
  picks: number[];
  /** "optionId memberId" for every choice, by member id; empty for anonymous prompts. */
  choices: string[];
}

/**
 * Reads a prompt's tally version, counts and visibility, and keeps that version in the prompt's
 * history (tally_snapshots; a version already stored, by another node or an earlier flush, is
 * left as it is: its counts are the same by construction), in one statement: the counts are
 * exactly those of the version (a statement sees one snapshot of the database), and what is sent
 * is in the history. Null when the prompt no longer exists. A lecture hall's tallies go out
 * several times a second, and a room with a vote every few seconds publishes one per ballot: one
 * round trip instead of a transaction of seven statements and an insert.
 */
export async function recordTally(prisma: PrismaClient, promptId: string): Promise<TallyReading | null> {
  const rows = await prisma.$queryRaw<PublishingRow[]>`
    WITH prompt AS (
      SELECT id, seminar_id, state, results_visibility, revealed_at, anonymous
      FROM prompts WHERE id = ${promptId}::uuid
    ), totals AS (
      SELECT count(*)::int AS ballots, coalesce(sum(revision), 0)::int AS version
      FROM ballots WHERE prompt_id = ${promptId}::uuid
    ), options AS (
      SELECT o.id, o.position,
        (SELECT count(*)::int FROM ballot_choices bc JOIN ballots b ON b.id = bc.ballot_id
         WHERE bc.option_id = o.id AND b.prompt_id = o.prompt_id) AS picks
      FROM prompt_options o WHERE o.prompt_id = ${promptId}::uuid
    ), kept AS (
      INSERT INTO tally_snapshots (prompt_id, version, counts, ballots)
      SELECT prompt.id, totals.version,
        coalesce((SELECT jsonb_object_agg(options.id::text, options.picks) FROM options), '{}'::jsonb),
        totals.ballots
      FROM prompt, totals
      ON CONFLICT (prompt_id, version) DO NOTHING
    )
    SELECT prompt.seminar_id::text AS seminar_id, prompt.state::text AS state,
      prompt.results_visibility::text AS results_visibility, prompt.revealed_at, prompt.anonymous,
      totals.ballots, totals.version,
      ARRAY(SELECT options.id::text FROM options ORDER BY options.position) AS option_ids,
      ARRAY(SELECT options.picks FROM options ORDER BY options.position) AS picks,
      ARRAY(
        SELECT bc.option_id::text || ' ' || b.member_id::text
        FROM ballots b JOIN ballot_choices bc ON bc.ballot_id = b.id
        WHERE b.prompt_id = prompt.id AND NOT prompt.anonymous
        ORDER BY b.member_id
      ) AS choices
    FROM prompt, totals`;
  const row = rows[0];
  if (!row) return null;
  const pickCount = new Map(row.option_ids.map((id, i) => [id, row.picks[i] ?? 0]));
  const choices = row.choices.map((choice) => {
    const [option_id = "", member_id = ""] = choice.split(" ");
    return { option_id, member_id };
  });
  return {
    seminarId: row.seminar_id,
    facts: {
      state: row.state,
      resultsVisibility: row.results_visibility,
      revealedAt: row.revealed_at,
      anonymous: row.anonymous,
    },
    tally: tallyRecord(promptId, row.option_ids, pickCount, row, row.anonymous ? null : groupVoters(choices)),
  };
}

/**
 * A prompt's stored tallies by version, for the transcript. Moderators only (`forbidden`);
 * `not_found` outside the actor's seminar. Counts only: history never carries voters.
 */
export async function listTallyHistory(
  prisma: PrismaClient,
  actor: Actor,
  promptId: string,
): Promise<TallySnapshotView[]> {
  if (!canManagePrompts(actor)) throw fail.forbidden("Only moderators can read a prompt's tally history.");
  const prompt = await prisma.prompt.findFirst({
    where: { id: promptId, seminarId: actor.seminarId },
    select: { id: true },
  });
  if (!prompt) throw fail.notFound("Prompt");
  const rows = await prisma.tallySnapshot.findMany({
    where: { promptId: prompt.id },
    orderBy: { version: "asc" },
    select: { version: true, counts: true, ballots: true, takenAt: true },
  });
  return rows.map(presentTallySnapshot);
}

/** The facts of every prompt of a seminar that decide who sees its counts, with when it closed. */
export async function listPromptFacts(
  db: PrismaClient | Tx,
  seminarId: string,
): Promise<(PromptFacts & { id: string; closedAt: Date | null })[]> {
  return db.prompt.findMany({
    where: { seminarId },
    orderBy: { position: "asc" },
    select: {
      id: true,
      state: true,
      resultsVisibility: true,
      revealedAt: true,
      anonymous: true,
      closedAt: true,
    },
  });
}

/** A stored ballot with its voter, for the transcript of a named prompt. */
export interface NamedBallotRow {
  id: string;
  promptId: string;
  memberId: string;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  /** The options picked, in id order. */
  optionIds: string[];
}

/**
 * One page of a named prompt's ballots with their voters, by ballot id after `afterId`, for a
 * viewer allowed to see voters (canSeeVoters: moderators, named prompts). Anonymous prompts never
 * reach the query (nor does the query answer for them). One plain query with the choices
 * aggregated: a transcript reads every ballot of a seminar this way, and Prisma's relation loading
 * and per-row mapping were the export thread's largest cost (docs/benchmarks.md, Transcripts).
 */
export async function listNamedBallots(
  db: PrismaClient | Tx,
  viewer: Actor,
  prompt: { id: string; anonymous: boolean },
  afterId: string | null,
  limit: number,
): Promise<NamedBallotRow[]> {
  if (!canSeeVoters(viewer, prompt)) throw fail.forbidden("Only moderators see who voted, on named prompts.");
  return db.$queryRaw<NamedBallotRow[]>`
    SELECT b.id::text AS "id", b.prompt_id::text AS "promptId", b.member_id::text AS "memberId",
      b.revision AS "revision", b.created_at AS "createdAt", b.updated_at AS "updatedAt",
      array(SELECT c.option_id::text FROM ballot_choices c WHERE c.ballot_id = b.id ORDER BY c.option_id)
        AS "optionIds"
    FROM ballots b JOIN prompts p ON p.id = b.prompt_id
    WHERE b.prompt_id = ${prompt.id}::uuid AND p.seminar_id = ${viewer.seminarId}::uuid AND NOT p.anonymous
      AND (${afterId}::uuid IS NULL OR b.id > ${afterId}::uuid)
    ORDER BY b.id
    LIMIT ${limit}`;
}

/** A stored tally of one of a seminar's prompts. */
export interface TallySnapshotRow {
  id: string;
  promptId: string;
  version: number;
  counts: unknown;
  ballots: number;
  takenAt: Date;
}

/**
 * One page of the stored tallies of every prompt of a seminar, by time (takenAt, then id) after
 * `after`. Counts only: the history never carries voters. The caller decides who may see which
 * (transcripts.policy).
 */
export async function listTallySnapshots(
  db: PrismaClient | Tx,
  seminarId: string,
  after: { takenAt: Date; id: string } | null,
  limit: number,
): Promise<TallySnapshotRow[]> {
  return db.tallySnapshot.findMany({
    where: {
      prompt: { seminarId },
      ...(after
        ? {
            takenAt: { gte: after.takenAt },
            OR: [{ takenAt: { gt: after.takenAt } }, { takenAt: after.takenAt, id: { gt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ takenAt: "asc" }, { id: "asc" }],
    take: limit,
    select: { id: true, promptId: true, version: true, counts: true, ballots: true, takenAt: true },
  });
}

function toPromptView(prompt: PromptRow): PromptView {
  const record: PromptRecord = prompt;
  return presentPrompt(record);
}

/** Prompts of a seminar by id, presented (the same for every viewer; those of other seminars are not found). */
export async function readPromptViews(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<PromptView[]> {
  if (ids.length === 0) return [];
  const rows = await db.prompt.findMany({ where: { seminarId, id: { in: ids } }, select: promptSelect });
  return rows.map(toPromptView);
}

// ---------------------------------------------------------------------------------------------
// Life cycle (room events)

/** The definition columns of a prompt input (options are written separately). */
function definitionOf(input: PromptInput) {
  return {
    kind: input.kind,
    question: input.question,
    paragraphId: input.paragraphId ?? null,
    maxChoices: input.kind === "multiple_choice" ? input.maxChoices : 1,
    anonymous: input.anonymous,
    resultsVisibility: input.resultsVisibility,
  };
}

/** A prompt may point at a block of its own seminar's essay only (`validation_failed`). */
async function checkParagraph(tx: Tx, seminarId: string, paragraphId: string | undefined): Promise<void> {
  if (!paragraphId) return;
  const paragraph = await tx.paragraph.findFirst({
    where: { id: paragraphId, essay: { seminarId } },
    select: { id: true },
  });
  if (!paragraph) throw fail.validation("paragraphId is not a paragraph of this seminar's essay.");
}

/**
 * Creates a draft prompt at the end of the seminar's list and appends `prompt:created`.
 * `forbidden` unless moderator, `validation_failed` for a bad definition, a foreign paragraph or
 * too many prompts, `room_closed` once the seminar has ended.
 */
export async function createPrompt(deps: PromptDeps, actor: Actor, input: PromptInput): Promise<PromptView> {
  assertRole("prepare_prompts", actor);
  checkPromptInput(input);
  const options = promptOptionRows(input);
  return deps.rooms.write(actor, async ({ tx, room, append, known }) => {
    assertRight("prepare_prompts", room);
    await checkParagraph(tx, actor.seminarId, input.paragraphId);
    // Positions are taken under the seminar lock, so concurrent creates get distinct ones.
    const { _count, _max } = await tx.prompt.aggregate({
      where: { seminarId: actor.seminarId },
      _count: { _all: true },
      _max: { position: true },
    });
    if (_count._all >= LIMITS.promptsPerSeminar) {
      throw fail.validation(`A seminar has at most ${LIMITS.promptsPerSeminar} prompts.`);
    }
    const prompt = await tx.prompt.create({
      data: {
        seminarId: actor.seminarId,
        position: (_max.position ?? -1) + 1,
        ...definitionOf(input),
        options: { create: options },
      },
      select: promptSelect,
    });
    const view = toPromptView(prompt);
    known.prompt(view);
    await append("prompt:created", actor.memberId, { promptId: view.id });
    return view;
  });
}

/**
 * Replaces a draft prompt's definition and options and appends `prompt:updated`. `forbidden`
 * unless moderator, `not_found` outside the seminar, `conflict` once opened, `room_closed` once
 * the seminar has ended, `validation_failed` for a bad definition.
 */
export async function updatePrompt(
  deps: PromptDeps,
  actor: Actor,
  promptId: string,
  input: PromptInput,
): Promise<PromptView> {
  assertRole("prepare_prompts", actor);
  checkPromptInput(input);
  const options = promptOptionRows(input);
  return deps.rooms.write(actor, async ({ tx, room, append, known }) => {
    assertRight("prepare_prompts", room);
    const locked = await lockPrompt(tx, actor.seminarId, promptId);
    if (!isEditable(locked)) throw fail.conflict(`The prompt is ${locked.state}; only drafts can be edited.`);
    await checkParagraph(tx, actor.seminarId, input.paragraphId);
    // A draft has no ballots, so its options can be replaced outright.
    await tx.promptOption.deleteMany({ where: { promptId: locked.id } });
    const prompt = await tx.prompt.update({
      where: { id: locked.id },
      data: { ...definitionOf(input), options: { create: options } },
      select: promptSelect,
    });
    const view = toPromptView(prompt);
    known.prompt(view);
    await append("prompt:updated", actor.memberId, { promptId: view.id });
    return view;
  });
}

/**
 * Deletes a draft prompt (its options go with it; a draft has no ballots) and appends
 * `prompt:deleted`. A prompt that was ever opened is part of the session's record and stays:
 * `conflict`. `forbidden` unless moderator, `not_found` outside the seminar, `room_closed` once
 * the seminar has ended.
 */
export async function deletePrompt(
  deps: PromptDeps,
  actor: Actor,
  promptId: string,
): Promise<{ promptId: string }> {
  assertRole("prepare_prompts", actor);
  return deps.rooms.write(actor, async ({ tx, room, append }) => {
    assertRight("prepare_prompts", room);
    const locked = await lockPrompt(tx, actor.seminarId, promptId);
    if (!isEditable(locked))
      throw fail.conflict(`The prompt is ${locked.state}; only drafts can be deleted.`);
    await tx.prompt.delete({ where: { id: locked.id } });
    await append("prompt:deleted", actor.memberId, { promptId: locked.id });
    return { promptId: locked.id };
  });
}

/** A life-cycle step: when it applies, what it writes, which room event it is. */
interface Transition {
  allowed: (prompt: PromptFacts) => boolean;
  refusal: (prompt: PromptFacts) => string;
  data: (now: Date) => Prisma.PromptUpdateInput;
  event: "prompt:opened" | "prompt:closed" | "prompt:revealed";
}

/** The life-cycle steps after creation; reopening keeps the first openedAt and the ballots. */
const TRANSITIONS = {
  open: {
    allowed: canOpen,
    refusal: (prompt) => `The prompt is ${prompt.state}; only a draft can be opened.`,
    data: (now) => ({ state: "open", openedAt: now }),
    event: "prompt:opened",
  },
  close: {
    allowed: canClose,
    refusal: (prompt) => `The prompt is ${prompt.state}; only an open prompt can be closed.`,
    data: (now) => ({ state: "closed", closedAt: now }),
    event: "prompt:closed",
  },
  reopen: {
    allowed: canReopen,
    refusal: (prompt) => `The prompt is ${prompt.state}; only a closed prompt can be reopened.`,
    data: () => ({ state: "open", closedAt: null }),
    event: "prompt:opened",
  },
  reveal: {
    allowed: canReveal,
    refusal: (prompt) =>
      prompt.state === "draft"
        ? "A draft prompt has no results to reveal."
        : "The results are already revealed.",
    data: (now) => ({ revealedAt: now }),
    event: "prompt:revealed",
  },
} satisfies Record<string, Transition>;

/** The name of a life-cycle step. */
export type PromptStep = keyof typeof TRANSITIONS;

/**
 * Moves a prompt through its life cycle (open, close, reopen, reveal), appends the room event
 * and, once committed, sends the prompt's tally at once (a close or reveal changes who may see
 * it; an open shows the empty tally). `forbidden` unless moderator, `not_found` outside the
 * seminar, `room_closed` unless the seminar is live, `conflict` when the step does not apply.
 */
export async function changePromptState(
  deps: PromptDeps,
  actor: Actor,
  promptId: string,
  step: PromptStep,
): Promise<PromptView> {
  assertRole("run_prompts", actor);
  const transition: Transition = TRANSITIONS[step];
  const view = await deps.rooms.write(actor, async ({ tx, room, append, known }) => {
    assertRight("run_prompts", room);
    // The prompt lock makes this wait for ballots being written: they are stored and counted
    // before the close, or they see the closed prompt and are refused.
    const locked = await lockPrompt(tx, actor.seminarId, promptId);
    if (!transition.allowed(locked)) throw fail.conflict(transition.refusal(locked));
    const prompt = await tx.prompt.update({
      where: { id: locked.id },
      data: transition.data(new Date()),
      select: promptSelect,
    });
    const presented = toPromptView(prompt);
    known.prompt(presented);
    await append(transition.event, actor.memberId, { promptId: presented.id });
    return presented;
  });
  await deps.tallies.sendNow(actor.seminarId, view.id);
  return view;
}

// ---------------------------------------------------------------------------------------------
// Ballots (not room events: tallies follow through the coalescer)

/**
 * Stores the actor's ballot on an open prompt of their seminar, replacing an earlier one, and
 * answers with the stored ballot once it is committed. Ballots of one prompt are committed in
 * groups (BallotQueue: those that arrive while the previous group is written go together in one
 * transaction), each checked and answered on its own. A retry with the same clientBallotId is
 * answered with the stored ballot and counts nothing new. `not_found` outside the seminar;
 * `forbidden` unless an active participant (as stored when the ballot is written); `room_closed`
 * unless the seminar is live; `conflict` unless the prompt is open (also when it closes while the
 * ballot waits: then nothing is stored); `validation_failed` for options not of the prompt or the
 * wrong number of them; `unavailable` (retryable, nothing stored) when its group failed in the
 * database.
 */
export function castVote(deps: PromptDeps, actor: Actor, input: PromptVoteInput): Promise<BallotView> {
  return deps.ballots.submit(actor, input);
}

/** A ballot queue whose groups are written by castBallotGroup with these dependencies. */
export function createBallotQueue(
  deps: Pick<PromptDeps, "prisma" | "tallies">,
  options: Omit<BallotQueueOptions, "write">,
): BallotQueue {
  return new BallotQueue({
    ...options,
    write: (seminarId, promptId, group) => castBallotGroup(deps, seminarId, promptId, group),
  });
}

const accepted = (ballot: BallotView): BallotOutcome => ({ ok: true, ballot });
const refused = (error: AppError): BallotOutcome => ({ ok: false, error });

/**
 * Writes one group of ballots for a prompt of `seminarId` (BallotQueue's writer) and answers an
 * outcome per ballot, in the group's order. The common case is one round trip: an open prompt's
 * options and rules never change (only drafts are edited), so they are remembered once seen and
 * every ballot is checked in memory, and the database function checks that the prompt is still
 * open and each voter's rights. When the rules are not known, or the prompt turned out not to be
 * open, the full path reads the prompt and the seminar and answers each ballot precisely.
 * Throws only when the database failed the group as a whole (nothing of it stored).
 */
export async function castBallotGroup(
  deps: Pick<PromptDeps, "prisma" | "tallies">,
  seminarId: string,
  promptId: string,
  group: readonly QueuedBallot[],
): Promise<BallotOutcome[]> {
  const known = openPromptRules.get(promptId);
  if (known && known.seminarId === seminarId) {
    const outcomes = await writeBallotGroup(deps, seminarId, promptId, group, known, null);
    if (outcomes) return outcomes;
    openPromptRules.delete(promptId);
  }
  const target = await readBallotTarget(deps.prisma, seminarId, promptId);
  if (!target) return group.map(() => refused(fail.notFound("Prompt")));
  if (!isAcceptingBallots(target)) return answerClosedPrompt(deps.prisma, target, group);
  // Options of an open prompt never change (only drafts are edited), so these rules stay true.
  rememberOpenPrompt(target, seminarId);
  const outcomes = await writeBallotGroup(deps, seminarId, promptId, group, target, target.seminar.state);
  // The prompt closed between the read and the write: nothing of the group was stored.
  return (
    outcomes ??
    group.map(() =>
      refused(fail.conflict("The prompt closed before the ballot was stored; it was not counted.")),
    )
  );
}

/**
 * Why one ballot is refused before it is written, or null: the rights table for the role the
 * connection was admitted with (and the seminar's state when it was read), then the picks
 * against the prompt's rules. The write checks the stored membership again.
 */
function ballotRefusal(
  { actor, input }: QueuedBallot,
  rules: BallotRules,
  seminarState: RoomState["state"] | null,
): AppError | null {
  const refusal =
    seminarState === null
      ? roleRefusal("vote", actor.role)
      : refusalOf("vote", asRole(actor.role), seminarState);
  if (refusal) return fail.refused(refusal);
  const problem = ballotProblem(rules, input.optionIds);
  if (problem) return fail.validation(problem, [{ path: "optionIds", message: problem }]);
  return null;
}

/**
 * Answers a group whose prompt is not open: the rights table's refusal first (as for any
 * ballot), then a retry of a ballot stored before the close gets its acknowledgement, and
 * everything else is `conflict`.
 */
async function answerClosedPrompt(
  prisma: PrismaClient,
  target: BallotTarget,
  group: readonly QueuedBallot[],
): Promise<BallotOutcome[]> {
  const refusals = group.map(({ actor }) => refusalOf("vote", asRole(actor.role), target.seminar.state));
  const members = [...new Set(group.filter((_, i) => !refusals[i]).map(({ actor }) => actor.memberId))];
  const stored =
    members.length === 0
      ? []
      : await prisma.ballot.findMany({
          where: { promptId: target.id, memberId: { in: members } },
          select: { ...ballotSelect, memberId: true },
        });
  const storedBy = new Map(stored.map((ballot) => [ballot.memberId, ballot]));
  return group.map(({ actor, input }, i) => {
    const refusal = refusals[i];
    if (refusal) return refused(fail.refused(refusal));
    const ballot = storedBy.get(actor.memberId);
    if (ballot?.clientBallotId === input.clientBallotId) return accepted(presentBallot(ballot));
    return refused(fail.conflict(`The prompt is ${target.state}; ballots are accepted while it is open.`));
  });
}

/** What a ballot is checked against, for prompts seen open (bounded; least recently used forgotten first). */
const openPromptRules = new LRUCache<string, BallotRules & { seminarId: string; optionIds: string[] }>({
  max: 10_000,
});

function rememberOpenPrompt(target: BallotTarget, seminarId: string): void {
  openPromptRules.set(target.id, {
    seminarId,
    kind: target.kind,
    maxChoices: target.maxChoices,
    optionIds: target.optionIds,
  });
}

interface BallotTarget {
  id: string;
  kind: PromptKind;
  maxChoices: number;
  state: PromptFacts["state"];
  optionIds: string[];
  seminar: RoomState;
}

/** The prompt of the actor's seminar a ballot is for, with its options and the seminar's state. */
async function readBallotTarget(
  prisma: PrismaClient,
  seminarId: string,
  promptId: string,
): Promise<BallotTarget | null> {
  const rows = await prisma.$queryRaw<
    {
      id: string;
      kind: PromptKind;
      max_choices: number;
      state: PromptFacts["state"];
      option_ids: string[];
      seminar_state: RoomState["state"];
      locked: boolean;
    }[]
  >`
    SELECT p.id::text AS id, p.kind::text AS kind, p.max_choices, p.state::text AS state,
      ARRAY(SELECT o.id::text FROM prompt_options o WHERE o.prompt_id = p.id ORDER BY o.position) AS option_ids,
      s.state::text AS seminar_state, s.locked
    FROM prompts p JOIN seminars s ON s.id = p.seminar_id
    WHERE p.id = ${promptId}::uuid AND p.seminar_id = ${seminarId}::uuid`;
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    maxChoices: row.max_choices,
    state: row.state,
    optionIds: row.option_ids,
    seminar: { state: row.seminar_state, locked: row.locked },
  };
}

/** One row of stepstone_cast_ballots: what became of the ballot at `ordinal` (1-based). */
interface CastRow {
  ordinal: number;
  outcome: "stored" | "unchanged" | "not_a_voter";
  stored_revision: number | null;
  stored_options: string[] | null;
}

/**
 * The group write: the ballots that pass the checks in memory go to one call of the database
 * function stepstone_cast_ballots (migration 20261202021500), one statement and so one
 * transaction and one commit for the group. It first takes a shared lock on the prompt and checks
 * it is open (else it stores nothing: then this answers null): groups run side by side, a close
 * waits for those in flight, and later ones see it closed. Then, ballot after ballot in the order
 * given, it checks the voter's stored rights (refusing that ballot alone), upserts the ballot row
 * (INSERT … ON CONFLICT (prompt_id, member_id) DO UPDATE: one row per member and prompt; a retry
 * with the same clientBallotId changes nothing and answers what is stored) and replaces its
 * choices. Nothing is written to the prompt row, so groups of one prompt do not queue behind each
 * other in the database.
 */
async function writeBallotGroup(
  deps: Pick<PromptDeps, "prisma" | "tallies">,
  seminarId: string,
  promptId: string,
  group: readonly QueuedBallot[],
  rules: BallotRules,
  seminarState: RoomState["state"] | null,
): Promise<BallotOutcome[] | null> {
  const outcomes: BallotOutcome[] = new Array(group.length);
  const valid: number[] = [];
  group.forEach((ballot, index) => {
    const refusal = ballotRefusal(ballot, rules, seminarState);
    if (refusal) outcomes[index] = refused(refusal);
    else valid.push(index);
  });
  if (valid.length === 0) return outcomes;
  // By member id (a stable sort: one member's ballots keep their order), so that groups written
  // at the same time by other nodes lock ballot rows in the same order and cannot deadlock.
  valid.sort((a, b) => compareIds(group[a]!.actor.memberId, group[b]!.actor.memberId));
  const members: string[] = [];
  const rights: (number | null)[] = [];
  const clients: string[] = [];
  const counts: number[] = [];
  const options: string[] = [];
  for (const index of valid) {
    const { actor, input } = group[index]!;
    members.push(actor.memberId);
    rights.push(actor.rightsVersion ?? null);
    clients.push(input.clientBallotId);
    counts.push(input.optionIds.length);
    options.push(...input.optionIds);
  }
  let rows: CastRow[];
  try {
    rows = await deps.prisma.$queryRaw<CastRow[]>`
      SELECT ordinal, outcome, stored_revision, stored_options::text[] AS stored_options
      FROM stepstone_cast_ballots(${promptId}::uuid, ${seminarId}::uuid, ${members}::uuid[],
        ${rights}::int[], ${clients}::uuid[], ${counts}::int[], ${options}::uuid[])`;
  } catch (error) {
    if (error instanceof Error && error.message.includes("stepstone:prompt_not_open")) return null;
    throw error;
  }
  let stored = 0;
  for (const row of rows) {
    const index = valid[row.ordinal - 1]!;
    const { input } = group[index]!;
    if (row.outcome === "not_a_voter") {
      // The voter's rights as stored now (kicked, banned or given another role since their
      // connection was admitted), whatever the connection believed.
      outcomes[index] = refused(
        fail.forbidden("Only active participants vote; your rights in this seminar changed."),
      );
      continue;
    }
    if (row.outcome === "stored") stored++;
    const optionIds = row.outcome === "stored" ? input.optionIds : (row.stored_options ?? []);
    outcomes[index] = accepted(
      presentBallot({
        promptId,
        clientBallotId: input.clientBallotId,
        revision: row.stored_revision ?? 0,
        choices: optionIds.map((optionId) => ({ optionId })),
      }),
    );
  }
  for (let i = 0; i < stored; i++) deps.tallies.changed(seminarId, promptId);
  return outcomes;
}

/** Orders ids as text (the same order for every node). */
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Closes every open prompt of the actor's seminar (used when the session ends, so that final
 * tallies are sent and every prompt's state says what happened). A prompt that another moderator
 * closed meanwhile is skipped. `forbidden` unless moderator.
 */
export async function closeOpenPrompts(deps: PromptDeps, actor: Actor): Promise<void> {
  assertRole("run_prompts", actor);
  const open = await deps.prisma.prompt.findMany({
    where: { seminarId: actor.seminarId, state: "open" },
    select: { id: true },
    orderBy: { position: "asc" },
  });
  for (const prompt of open) {
    await changePromptState(deps, actor, prompt.id, "close").catch((error: unknown) => {
      if (!(error instanceof AppError && error.code === "conflict")) throw error;
    });
  }
}
