import { LRUCache } from "lru-cache";
import { customAlphabet } from "nanoid";
import type { AppContext } from "../../context.ts";
import type { Prisma, PrismaClient, Tx } from "../../db/client.ts";
import { isUniqueViolation } from "../../db/errors.ts";
import { AppError, fail } from "../../errors.ts";
import { JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH } from "../../protocol/limits.ts";
import type { CreateSeminarInput, JoinSeminarInput, PromptInput } from "../../protocol/schemas.ts";
import type { SeminarSettingsInput } from "../../protocol/transcripts.ts";
import type { EssayView, MemberRole, MemberView } from "../../protocol/views.ts";
import type { Admission } from "../../realtime/admission.ts";
import type { RoomWriter } from "../../realtime/room-writer.ts";
import { hashResumeSecret, newResumeSecret } from "../accounts/resume-secrets.ts";
import type { GuestClaims } from "../accounts/tokens.ts";
import type { ImportedEssay } from "../essays/essay.importer.ts";
import { importEssayOffThread } from "../essays/essay.pool.ts";
import { endRunningPhase } from "../moderation/phases.ts";
import { assertRight } from "../moderation/rights.ts";
import { type Actor, canJoin, isActive, isModerator } from "./seminars.policy.ts";
import { type MemberRecord, presentEssay } from "./seminars.presenter.ts";

/** Join codes: nanoid's unbiased generator over our unambiguous alphabet. */
const generateJoinCode = customAlphabet(JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH);

/** The fields every seminar read needs. */
export const seminarSelect = {
  id: true,
  ownerId: true,
  title: true,
  state: true,
  joinCode: true,
  locked: true,
  slowModeSeconds: true,
  spotlightParagraphId: true,
  spotlightStart: true,
  spotlightEnd: true,
  currentPhaseId: true,
  transcriptAccess: true,
  startedAt: true,
  endedAt: true,
  createdAt: true,
  lastSeq: true,
} satisfies Prisma.SeminarSelect;

export type SeminarRecord = Prisma.SeminarGetPayload<{ select: typeof seminarSelect }>;

/**
 * Runs the importer on a worker thread (never on the event loop); its refusals are
 * `validation_failed`, a full import queue is `unavailable`.
 */
export function importOrFail(essay: CreateSeminarInput["essay"]): Promise<ImportedEssay> {
  return importEssayOffThread(essay.text, { format: essay.format, title: essay.title });
}

/** The stored form of an imported essay: its metadata, the source as submitted and its blocks in order. */
function essayRecord(essay: ImportedEssay, sourceText: string) {
  return {
    title: essay.title,
    byline: essay.byline,
    dateline: essay.dateline,
    language: essay.language,
    format: essay.format,
    sourceText,
    paragraphs: {
      create: essay.blocks.map((block, position) => ({
        position,
        kind: block.kind,
        level: block.level ?? null,
        text: block.text,
      })),
    },
  };
}

/** Creates the options rows of a prompt definition (scale points become options with values). */
export function promptOptionRows(
  prompt: PromptInput,
): { position: number; label: string; value: number | null }[] {
  if (prompt.kind !== "scale") {
    return prompt.options.map((label, position) => ({ position, label, value: null }));
  }
  if (prompt.max <= prompt.min || prompt.max - prompt.min > 10) {
    throw fail.validation("A scale needs 2 to 11 points (max greater than min).");
  }
  const rows = [];
  for (let value = prompt.min; value <= prompt.max; value++) {
    const label =
      value === prompt.min && prompt.minLabel
        ? `${value} ${prompt.minLabel}`
        : value === prompt.max && prompt.maxLabel
          ? `${value} ${prompt.maxLabel}`
          : String(value);
    rows.push({ position: value - prompt.min, label, value });
  }
  return rows;
}

/** Checks a prompt definition beyond its schema (limits that depend on other fields). */
export function checkPromptInput(prompt: PromptInput): void {
  if (prompt.kind === "multiple_choice" && prompt.maxChoices > prompt.options.length) {
    throw fail.validation("maxChoices cannot exceed the number of options.");
  }
  if (
    prompt.kind !== "scale" &&
    new Set(prompt.options.map((o) => o.toLowerCase())).size !== prompt.options.length
  ) {
    throw fail.validation("Options must be different from each other.");
  }
}

/**
 * Creates a seminar (draft) with its imported essay, prompts (draft) and the owner's host
 * membership, in one transaction. Retries on the rare join-code collision.
 */
export async function createSeminar(
  context: AppContext,
  account: { id: string; displayName: string },
  input: CreateSeminarInput,
): Promise<SeminarRecord> {
  const essay = await importOrFail(input.essay);
  for (const prompt of input.prompts) {
    checkPromptInput(prompt);
    if (prompt.paragraphId)
      throw fail.validation("Prompts can point at a paragraph once the seminar exists.");
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await context.prisma.$transaction(async (tx) => {
        const seminar = await tx.seminar.create({
          data: { ownerId: account.id, title: input.title, joinCode: generateJoinCode() },
          select: seminarSelect,
        });
        await tx.essay.create({
          data: { seminarId: seminar.id, ...essayRecord(essay, input.essay.text) },
        });
        await tx.membership.create({
          data: {
            seminarId: seminar.id,
            accountId: account.id,
            role: "host",
            displayName: account.displayName,
          },
        });
        for (const [position, prompt] of input.prompts.entries()) {
          await tx.prompt.create({
            data: {
              seminarId: seminar.id,
              position,
              kind: prompt.kind,
              question: prompt.question,
              maxChoices: prompt.kind === "multiple_choice" ? prompt.maxChoices : 1,
              anonymous: prompt.anonymous,
              resultsVisibility: prompt.resultsVisibility,
              options: { create: promptOptionRows(prompt) },
            },
          });
        }
        return seminar;
      });
    } catch (error) {
      if (!isUniqueViolation(error, "join_code") || attempt >= 5) throw error;
    }
  }
}

/** The seminars an account owns or co-moderates, newest first. */
export async function listSeminars(prisma: PrismaClient, accountId: string): Promise<SeminarRecord[]> {
  return prisma.seminar.findMany({
    where: { memberships: { some: { accountId, role: { in: ["host", "co_moderator"] } } } },
    orderBy: { createdAt: "desc" },
    select: seminarSelect,
    take: 200,
  });
}

/**
 * An account's active membership in a seminar (host or co-moderator, or whatever role the host
 * gave it since); `not_found` when it has none (outside is not_found, and so is kicked or banned).
 */
export async function accountMembership(prisma: PrismaClient | Tx, accountId: string, seminarId: string) {
  const member = await prisma.membership.findFirst({
    where: { seminarId, accountId, status: "active" },
  });
  if (!member) throw fail.notFound("Seminar");
  return member;
}

/** Loads a seminar by id; callers pass the seminar id of the actor's verified membership. */
export async function getSeminar(prisma: PrismaClient | Tx, seminarId: string): Promise<SeminarRecord> {
  // The plain statement snapshots read it with (an ORM read costs the server more CPU).
  const { seminar } = await readSeminarAsMembers(prisma, seminarId, []);
  if (!seminar) throw fail.notFound("Seminar");
  return seminar;
}

/** The fields a member view is built from. */
export const memberSelect = {
  id: true,
  displayName: true,
  role: true,
  status: true,
  createdAt: true,
  mutedAt: true,
  mutedUntil: true,
} satisfies Prisma.MembershipSelect;

/** Members of a seminar by id (those of other seminars are not found). */
export async function readMemberRecords(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<MemberRecord[]> {
  if (ids.length === 0) return [];
  return db.membership.findMany({ where: { seminarId, id: { in: ids } }, select: memberSelect });
}

/** A member row of a raw query, as a member view is built from it. */
interface MemberRow {
  id: string;
  display_name: string;
  role: MemberView["role"];
  status: MemberView["status"];
  created_at: Date;
  muted_at: Date | null;
  muted_until: Date | null;
}

function memberRecordOf(row: MemberRow): MemberRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    createdAt: row.created_at,
    mutedAt: row.muted_at,
    mutedUntil: row.muted_until,
  };
}

/**
 * Every member of a seminar, oldest first (joinedAt, then id): moderators' snapshots, transcripts.
 * The rows come from one plain query (Prisma's per-row mapping of N rows was a large cost).
 */
export async function listMemberRecords(db: PrismaClient | Tx, seminarId: string): Promise<MemberRecord[]> {
  const rows = await db.$queryRaw<MemberRow[]>`
    SELECT id::text AS id, display_name, role::text AS role, status::text AS status, created_at,
      muted_at, muted_until
    FROM memberships WHERE seminar_id = ${seminarId}::uuid ORDER BY created_at, id`;
  return rows.map(memberRecordOf);
}

/**
 * The roster of a participant's or observer's room state: the seminar's moderators and the
 * members `ids` names (those its state refers to: room-state.ts, isReferencedMember), oldest
 * first, in one query.
 */
export async function listReferencedMemberRecords(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<MemberRecord[]> {
  const rows = await db.$queryRaw<MemberRow[]>`
    SELECT id::text AS id, display_name, role::text AS role, status::text AS status, created_at,
      muted_at, muted_until
    FROM memberships
    WHERE seminar_id = ${seminarId}::uuid AND (role IN ('host', 'co_moderator') OR id = ANY(${ids}::uuid[]))
    ORDER BY created_at, id`;
  return rows.map(memberRecordOf);
}

/** A member's standing as a snapshot or catch-up checks it (see readSeminarAsMember). */
export interface MemberStanding {
  role: MemberRole;
  status: MemberView["status"];
  rightsVersion: number;
  mutedAt: Date | null;
  mutedUntil: Date | null;
}

interface SeminarMemberRow {
  id: string;
  owner_id: string;
  title: string;
  state: SeminarRecord["state"];
  join_code: string;
  locked: boolean;
  slow_mode_seconds: number;
  spotlight_paragraph_id: string | null;
  spotlight_start: number | null;
  spotlight_end: number | null;
  current_phase_id: string | null;
  transcript_access: boolean;
  started_at: Date | null;
  ended_at: Date | null;
  created_at: Date;
  last_seq: number;
  member_id: string | null;
  role: MemberRole | null;
  status: MemberView["status"] | null;
  rights_version: number | null;
  muted_at: Date | null;
  muted_until: Date | null;
}

/** Who a snapshot or catch-up reads the room for: the member and, for a connection, its rights version. */
export interface MemberScope {
  seminarId: string;
  memberId: string;
  rightsVersion?: number | undefined;
}

/**
 * The seminar and the viewer's membership in it, in one statement, checking that they are still
 * an active member with the rights version they were admitted with (rights are decided when each
 * request runs, not only at connect). Errors: not_found (no such seminar, or not a member of it),
 * forbidden (kicked or banned), unauthenticated (the rights version changed).
 */
export async function readSeminarAsMember(
  db: PrismaClient | Tx,
  viewer: MemberScope,
): Promise<{ seminar: SeminarRecord; member: MemberStanding }> {
  const { seminar, standings } = await readSeminarAsMembers(db, viewer.seminarId, [viewer]);
  const standing = standings.get(viewer.memberId);
  if (!seminar || !standing) throw fail.notFound("Seminar");
  if (standing instanceof AppError) throw standing;
  return { seminar, member: standing };
}

/**
 * The seminar and each viewer's standing in it (one statement for all of them): their membership,
 * or the error readSeminarAsMember would throw for them. The seminar is null when there is none.
 */
export async function readSeminarAsMembers(
  db: PrismaClient | Tx,
  seminarId: string,
  viewers: readonly MemberScope[],
): Promise<{ seminar: SeminarRecord | null; standings: Map<string, MemberStanding | AppError> }> {
  const ids = viewers.map((viewer) => viewer.memberId);
  const rows = await db.$queryRaw<SeminarMemberRow[]>`
    SELECT s.id::text AS id, s.owner_id::text AS owner_id, s.title, s.state::text AS state, s.join_code,
      s.locked, s.slow_mode_seconds, s.spotlight_paragraph_id::text AS spotlight_paragraph_id,
      s.spotlight_start, s.spotlight_end, s.current_phase_id::text AS current_phase_id,
      s.transcript_access, s.started_at, s.ended_at, s.created_at, s.last_seq,
      m.id::text AS member_id, m.role::text AS role, m.status::text AS status, m.rights_version,
      m.muted_at, m.muted_until
    FROM seminars s
    LEFT JOIN memberships m ON m.id = ANY(${ids}::uuid[]) AND m.seminar_id = s.id
    WHERE s.id = ${seminarId}::uuid`;
  const standings = new Map<string, MemberStanding | AppError>();
  const row = rows[0];
  if (!row) {
    for (const viewer of viewers) standings.set(viewer.memberId, fail.notFound("Seminar"));
    return { seminar: null, standings };
  }
  const found = new Map(
    rows.flatMap((item) => (item.member_id === null ? [] : [[item.member_id, item] as const])),
  );
  for (const viewer of viewers)
    standings.set(viewer.memberId, standingOf(viewer, found.get(viewer.memberId)));
  return {
    seminar: {
      id: row.id,
      ownerId: row.owner_id,
      title: row.title,
      state: row.state,
      joinCode: row.join_code,
      locked: row.locked,
      slowModeSeconds: row.slow_mode_seconds,
      spotlightParagraphId: row.spotlight_paragraph_id,
      spotlightStart: row.spotlight_start,
      spotlightEnd: row.spotlight_end,
      currentPhaseId: row.current_phase_id,
      transcriptAccess: row.transcript_access,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      createdAt: row.created_at,
      lastSeq: row.last_seq,
    },
    standings,
  };
}

function standingOf(viewer: MemberScope, row: SeminarMemberRow | undefined): MemberStanding | AppError {
  if (!row || row.role === null || row.status === null || row.rights_version === null)
    return fail.notFound("Seminar");
  if (!isActive(row.status)) return fail.forbidden(`You were ${row.status} from this seminar.`);
  if (viewer.rightsVersion !== undefined && viewer.rightsVersion !== row.rights_version)
    return fail.unauthenticated("Your role in this seminar changed; reconnect to continue.");
  return {
    role: row.role,
    status: row.status,
    rightsVersion: row.rights_version,
    mutedAt: row.muted_at,
    mutedUntil: row.muted_until,
  };
}

/** Whether a paragraph (block) belongs to the seminar's essay. */
export async function paragraphInSeminar(db: PrismaClient | Tx, seminarId: string, paragraphId: string) {
  const found = await db.paragraph.findFirst({
    where: { id: paragraphId, essay: { seminarId } },
    select: { id: true },
  });
  return found !== null;
}

/** The essay of a seminar as presented (frozen or draft); `not_found` when it has none. */
export async function readEssayView(db: PrismaClient | Tx, seminarId: string): Promise<EssayView> {
  const essay = await db.essay.findUnique({
    where: { seminarId },
    include: { paragraphs: { orderBy: { position: "asc" } } },
  });
  if (!essay) throw fail.notFound("Essay");
  return presentEssay(essay);
}

/** The first of "Ada", "Ada 2", "Ada 3", … not in `used` (lower-cased names), within 40 characters. */
export function freeName(wanted: string, used: ReadonlySet<string>): string {
  if (!used.has(wanted.toLowerCase())) return wanted;
  for (let n = 2; ; n++) {
    const suffix = ` ${n}`;
    const candidate = [...wanted].slice(0, 40 - suffix.length).join("") + suffix;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
}

/** A guest waiting to be admitted. */
interface PendingJoin {
  displayName: string;
  role: MemberRole;
  /** The hash of the resume secret made for them. */
  secretHash: string;
  resolve(value: Admitted): void;
  reject(error: unknown): void;
}

/** A stored membership, every column. */
type Membership = Prisma.MembershipGetPayload<object>;

type Admitted = { seminar: SeminarRecord; member: Membership };

/** A guest admitted by code: the seminar, their membership and their resume secret (shown once). */
export type JoinResult = Admitted & { resumeSecret: string };

/**
 * Seminars by join code, once found, per application (RoomWriter). A join code never changes and names one seminar for good, so
 * a lecture hall joining by the same code reads it once: lru-cache's `fetch` gives every lookup of
 * a code that arrives while the first is in the database the same answer, and remembers a code
 * once found (not one that names nothing). Whether the room admits anyone is decided in the
 * admission's transaction (lockRoom), never from this.
 */
const seminarsByCode = new WeakMap<RoomWriter, LRUCache<string, { id: string }>>();

/**
 * The seminar a join code names (null: none). A code not remembered is looked up at the node's
 * admission gate (`unavailable` with a retry hint when the node is too busy).
 */
async function seminarByCode(
  context: AppContext,
  node: { rooms: RoomWriter; admission: Admission },
  code: string,
): Promise<{ id: string } | null> {
  let cache = seminarsByCode.get(node.rooms);
  if (!cache) {
    cache = new LRUCache<string, { id: string }>({
      max: 10_000,
      fetchMethod: async (joinCode) =>
        (await node.admission.run(() =>
          context.prisma.seminar.findUnique({ where: { joinCode }, select: { id: true } }),
        )) ?? undefined,
    });
    seminarsByCode.set(node.rooms, cache);
  }
  return (await cache.fetch(code)) ?? null;
}

/** Guests waiting per room, per application (RoomWriter). */
const joinQueues = new WeakMap<RoomWriter, Map<string, PendingJoin[]>>();

/**
 * At most this many guests are admitted in one transaction. A lecture hall arriving at 1,000 a
 * second fills a batch of 200 while the one before commits, so the room's queue keeps up.
 */
const JOIN_BATCH = 200;

/** An ILIKE pattern for names starting with `prefix` (its own % _ and \\ taken literally). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, "\\$&")}%`;
}

/**
 * Joins a seminar by code as a guest (participant, or observer on request). Creates the
 * membership and a member:joined event. `not_found` for an unknown code, `room_closed` when the
 * seminar has ended or is locked.
 *
 * Guests who arrive while the room is admitting others wait and are then admitted together in one
 * transaction (group commit): a lecture hall joining at once costs one commit per batch instead of
 * one per guest. Each guest's acknowledgement still follows the commit that stored them.
 */
export async function joinByCode(
  context: AppContext,
  node: { rooms: RoomWriter; admission: Admission },
  input: JoinSeminarInput,
): Promise<JoinResult> {
  const { rooms } = node;
  const found = await seminarByCode(context, node, input.code);
  if (!found) throw fail.notFound("Seminar with that code");
  if (input.resumeSecret !== undefined) {
    const returning = await rejoin(context, rooms, found.id, input.resumeSecret);
    if (returning) return returning;
  }
  const role: MemberRole = input.asObserver ? "observer" : "participant";
  const { secret, hash } = newResumeSecret();
  let queues = joinQueues.get(rooms);
  if (!queues) {
    queues = new Map();
    joinQueues.set(rooms, queues);
  }
  const waiting = queues.get(found.id);
  const admitted = await new Promise<Admitted>((resolve, reject) => {
    const join = { displayName: input.displayName, role, secretHash: hash, resolve, reject };
    if (waiting) {
      waiting.push(join);
      return;
    }
    queues.set(found.id, [join]);
    void admitQueued(rooms, queues, found.id);
  });
  return { ...admitted, resumeSecret: secret };
}

/**
 * A guest joining by code with the resume secret of a membership in this seminar comes back as
 * that member: an active one simply gets a fresh token (they are inside already, so a lock does
 * not keep them out); a kicked one is active again (member:joined) if the room admits joins now
 * (room_closed otherwise); a banned one is `forbidden`. A secret of another seminar, revoked or
 * unknown, is no membership: null (the guest joins as a new member).
 */
async function rejoin(
  context: AppContext,
  rooms: RoomWriter,
  seminarId: string,
  secret: string,
): Promise<JoinResult | null> {
  const member = await context.prisma.membership.findUnique({
    where: { resumeSecretHash: hashResumeSecret(secret) },
    select: { id: true, seminarId: true },
  });
  if (!member || member.seminarId !== seminarId) return null;
  const admitted = await rooms.writeForRoom(seminarId, async ({ tx, room, append, known }) => {
    const current = await tx.membership.findUniqueOrThrow({ where: { id: member.id } });
    if (current.status === "banned") throw bannedError();
    if (current.status === "active") return { seminar: await getSeminar(tx, seminarId), member: current };
    if (!canJoin(room)) {
      throw fail.roomClosed(room.state === "ended" ? "This seminar has ended." : "This room is locked.");
    }
    const back = await tx.membership.update({ where: { id: current.id }, data: { status: "active" } });
    known.member(back);
    await append("member:joined", back.id, { memberId: back.id, rejoined: true });
    return { seminar: await getSeminar(tx, seminarId), member: back };
  });
  return { ...admitted, resumeSecret: secret };
}

const bannedError = () =>
  new AppError("forbidden", "A moderator banned you from this seminar.", { reason: "banned" });

/**
 * A fresh guest token for the membership a resume secret belongs to (after the token expired, a
 * reload, on another device): the same member, with their annotations and ballots. Errors:
 * unauthenticated (unknown or revoked secret), not_found (`seminarId` given and not the
 * secret's), forbidden with details.reason "kicked" (join again by code) or "banned".
 */
export async function resumeMembership(
  prisma: PrismaClient,
  input: { seminarId?: string | undefined; secret: string },
): Promise<Admitted> {
  const member = await prisma.membership.findUnique({
    where: { resumeSecretHash: hashResumeSecret(input.secret) },
  });
  if (!member) throw fail.unauthenticated("That resume secret is not valid (unknown or revoked).");
  if (input.seminarId !== undefined && input.seminarId !== member.seminarId) throw fail.notFound("Seminar");
  if (member.status === "banned") throw bannedError();
  if (member.status === "kicked") {
    throw new AppError("forbidden", "A moderator removed you from this seminar; join again with the code.", {
      reason: "kicked",
    });
  }
  return { seminar: await getSeminar(prisma, member.seminarId), member };
}

/**
 * Revokes a resume secret: from now on it resumes nothing and a join by code with it makes a new
 * member. The guest's current token stays valid until it expires. Errors: unauthenticated
 * (unknown or already revoked).
 */
export async function revokeResumeSecret(prisma: PrismaClient, secret: string): Promise<void> {
  const revoked = await prisma.membership.updateMany({
    where: { resumeSecretHash: hashResumeSecret(secret) },
    data: { resumeSecretHash: null },
  });
  if (revoked.count === 0)
    throw fail.unauthenticated("That resume secret is not valid (unknown or revoked).");
}

/** Admits the room's waiting guests, a batch at a time, until nobody waits. */
async function admitQueued(rooms: RoomWriter, queues: Map<string, PendingJoin[]>, seminarId: string) {
  const queue = queues.get(seminarId)!;
  while (queue.length > 0) {
    const batch = queue.splice(0, JOIN_BATCH);
    try {
      const admitted = await admit(rooms, seminarId, batch);
      for (const [i, join] of batch.entries()) join.resolve(admitted[i]!);
    } catch (error) {
      if (error instanceof AppError || batch.length === 1) {
        for (const join of batch) join.reject(error);
        continue;
      }
      // Something refused one of them (for example a name taken on another node at the same
      // moment): admit each on its own so one guest's problem is not everyone's.
      for (const join of batch) {
        await admitOne(rooms, seminarId, join).then(join.resolve, join.reject);
      }
    }
  }
  queues.delete(seminarId);
}

/** Admits one guest, picking another free name if a concurrent join took theirs. */
async function admitOne(rooms: RoomWriter, seminarId: string, join: PendingJoin): Promise<Admitted> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await admit(rooms, seminarId, [join]))[0]!;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

/**
 * One transaction for a batch of guests: check the room is open, pick a free name for each (one
 * query for the names in use), insert them in one statement and their member:joined facts in
 * another, so a batch costs a handful of statements however many guests it holds.
 */
function admit(rooms: RoomWriter, seminarId: string, joins: PendingJoin[]): Promise<Admitted[]> {
  return rooms.writeForRoom(seminarId, async ({ tx, room, appendMany, known }) => {
    if (!canJoin(room)) {
      throw fail.roomClosed(room.state === "ended" ? "This seminar has ended." : "This room is locked.");
    }
    const seminar = await getSeminar(tx, seminarId);
    // The names in use that the wanted ones could collide with, in one plain statement: a
    // 30-character prefix also finds the shortened forms "a long name… 12" of long names.
    const prefixes = [
      ...new Set(joins.map((join) => likePrefix([...join.displayName].slice(0, 30).join("")))),
    ];
    const taken = await tx.$queryRaw<{ display_name: string }[]>`
      SELECT display_name FROM memberships
      WHERE seminar_id = ${seminarId}::uuid AND display_name ILIKE ANY(${prefixes}::text[])`;
    const used = new Set(taken.map((member) => member.display_name.toLowerCase()));
    const names = joins.map((join) => {
      const name = freeName(join.displayName, used);
      used.add(name.toLowerCase());
      return name;
    });
    const created = await insertGuests(
      tx,
      seminarId,
      joins.map((join, i) => ({ role: join.role, displayName: names[i]!, secretHash: join.secretHash })),
    );
    const byName = new Map(created.map((member) => [member.displayName, member]));
    const members = names.map((name) => byName.get(name)!);
    for (const member of members) known.member(member);
    await appendMany(
      members.map((member) => ({ type: "member:joined", actorId: member.id, fact: { memberId: member.id } })),
    );
    return members.map((member) => ({ seminar, member }));
  });
}

/** A membership row as an INSERT … RETURNING of insertGuests reads it. */
interface InsertedMemberRow extends ResolvedRow {
  muted_at: Date | null;
  muted_until: Date | null;
  resume_secret_hash: string | null;
  created_at: Date;
  last_seen_at: Date | null;
}

/**
 * Inserts a batch of guests' memberships in one plain statement (rows from arrays) and returns
 * them whole. Prisma's createManyAndReturn of the same rows costs the server 5.3-5.4 ms of CPU for
 * a batch of 14, this statement 1.0-1.1 ms (`bench/db-calls.ts`, docs/benchmarks.md 2026-12-03):
 * in a join storm it was the largest part of a guest's HTTP join.
 */
async function insertGuests(
  tx: Tx,
  seminarId: string,
  guests: readonly { role: MemberRole; displayName: string; secretHash: string }[],
): Promise<Membership[]> {
  const rows = await tx.$queryRaw<InsertedMemberRow[]>`
    INSERT INTO memberships (seminar_id, role, display_name, resume_secret_hash)
    SELECT ${seminarId}::uuid, guest.role::member_role, guest.display_name, guest.secret_hash
    FROM unnest(
      ${guests.map((guest) => guest.role)}::text[],
      ${guests.map((guest) => guest.displayName)}::text[],
      ${guests.map((guest) => guest.secretHash)}::text[]
    ) AS guest(role, display_name, secret_hash)
    RETURNING id::text AS id, seminar_id::text AS seminar_id, account_id::text AS account_id,
      role::text AS role, display_name, status::text AS status, muted_at, muted_until,
      rights_version, resume_secret_hash, created_at, last_seen_at`;
  return rows.map((row) => ({
    ...resolvedOf(row),
    mutedAt: row.muted_at,
    mutedUntil: row.muted_until,
    resumeSecretHash: row.resume_secret_hash,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  }));
}

/**
 * Replaces the essay of a draft seminar (re-imported from the new text); once the session has
 * started the essay is frozen and this is a `conflict`, so annotations stay anchored.
 * `forbidden` unless moderator.
 */
export async function replaceEssay(rooms: RoomWriter, actor: Actor, input: CreateSeminarInput["essay"]) {
  if (!isModerator(actor.role)) throw fail.forbidden("Only moderators edit the essay.");
  const essay = await importOrFail(input);
  return rooms.write(actor, async ({ tx, room, append, known }) => {
    if (!isModerator(room.actor.role)) throw fail.forbidden("Only moderators edit the essay.");
    const stored = await tx.essay.findUnique({
      where: { seminarId: actor.seminarId },
      select: { id: true, frozenAt: true },
    });
    if (!stored) throw fail.notFound("Essay");
    if (room.state !== "draft" || stored.frozenAt) {
      throw fail.conflict("The essay is frozen once the session has started.");
    }
    await tx.paragraph.deleteMany({ where: { essayId: stored.id } });
    const updated = await tx.essay.update({
      where: { id: stored.id },
      data: essayRecord(essay, input.text),
      include: { paragraphs: { orderBy: { position: "asc" } } },
    });
    known.essay = presentEssay(updated);
    await append("essay:replaced", actor.memberId, {});
    return known.essay;
  });
}

/** Starts the session: freezes the essay, makes the room writable. `conflict` unless draft. */
export async function startSession(rooms: RoomWriter, actor: Actor) {
  return rooms.write(actor, async ({ tx, room, append, known }) => {
    assertRight("start", room);
    const now = new Date();
    known.seminar = await tx.seminar.update({
      where: { id: actor.seminarId },
      data: { state: "live", startedAt: now },
      select: seminarSelect,
    });
    await tx.essay.update({ where: { seminarId: actor.seminarId }, data: { frozenAt: now } });
    return append("seminar:started", actor.memberId, {});
  });
}

/**
 * Changes the room settings only moderators decide (today: whether participants and observers may
 * download the transcript), in any state of the session, stored with seminar:updated naming the
 * changed fields. Setting a value it already has changes nothing and appends no event.
 * Errors: forbidden (not a moderator), not_found.
 */
export async function updateSeminarSettings(
  rooms: RoomWriter,
  actor: Actor,
  input: SeminarSettingsInput,
): Promise<SeminarRecord> {
  if (!isModerator(actor.role)) throw fail.forbidden("Only moderators change the seminar's settings.");
  return rooms.write(actor, async ({ tx, room, append, known }) => {
    if (!isModerator(room.actor.role)) throw fail.forbidden("Only moderators change the seminar's settings.");
    const current = await getSeminar(tx, actor.seminarId);
    const changed: string[] = [];
    if (input.transcriptAccess !== undefined && input.transcriptAccess !== current.transcriptAccess) {
      changed.push("transcriptAccess");
    }
    if (changed.length === 0) return current;
    known.seminar = await tx.seminar.update({
      where: { id: actor.seminarId },
      data: { transcriptAccess: input.transcriptAccess },
      select: seminarSelect,
    });
    await append("seminar:updated", actor.memberId, { changed });
    return known.seminar;
  });
}

/**
 * Ends the session: the room becomes read-only and a running phase ends with it (room:phase_ended
 * before seminar:ended). `conflict` unless live.
 */
export async function endSession(rooms: RoomWriter, actor: Actor) {
  return rooms.write(actor, async (scope) => {
    const { tx, room, append, known } = scope;
    assertRight("end", room);
    // Open prompts are closed first (closeOpenPrompts); one reopened meanwhile refuses the end, so
    // an ended seminar never has an open prompt.
    const open = await tx.prompt.count({ where: { seminarId: actor.seminarId, state: "open" } });
    if (open > 0)
      throw fail.conflict("A prompt is open; close it before ending the session.", { openPrompts: open });
    const { currentPhaseId } = await getSeminar(tx, actor.seminarId);
    await endRunningPhase(scope, actor.seminarId, currentPhaseId);
    known.seminar = await tx.seminar.update({
      where: { id: actor.seminarId },
      data: { state: "ended", endedAt: new Date() },
      select: seminarSelect,
    });
    return append("seminar:ended", actor.memberId, {});
  });
}

/** The member behind a socket or request, as resolveMember reads it. */
export interface ResolvedMember {
  id: string;
  seminarId: string;
  accountId: string | null;
  role: MemberRole;
  displayName: string;
  status: MemberView["status"];
  rightsVersion: number;
}

interface ResolvedRow {
  id: string;
  seminar_id: string;
  account_id: string | null;
  role: MemberRole;
  display_name: string;
  status: MemberView["status"];
  rights_version: number;
}

/**
 * Resolves the member behind a socket or request in a seminar, checking that they are still
 * active and that a guest token is not older than their rights, with one statement that reads
 * only what a connection keeps. Errors: unauthenticated (unknown member, another seminar's, or
 * rights changed), forbidden (kicked or banned), not_found (a moderator outside the seminar),
 * validation_failed (a moderator token without seminarId).
 */
export async function resolveMember(
  prisma: PrismaClient,
  claims: { kind: "moderator"; sub: string } | GuestClaims,
  seminarId: string | undefined,
): Promise<ResolvedMember> {
  if (claims.kind === "guest") {
    const [member] = await resolveGuests(prisma, [{ claims, seminarId }]);
    if (!member) throw fail.unauthenticated("The token is not valid.");
    if (member instanceof AppError) throw member;
    return member;
  }
  if (!seminarId) throw fail.validation("seminarId is required with a moderator token.");
  // Outside the seminar (or kicked, banned) is not_found, as accountMembership answers.
  const rows = await prisma.$queryRaw<ResolvedRow[]>`
    SELECT id::text AS id, seminar_id::text AS seminar_id, account_id::text AS account_id,
      role::text AS role, display_name, status::text AS status, rights_version
    FROM memberships
    WHERE seminar_id = ${seminarId}::uuid AND account_id = ${claims.sub}::uuid AND status = 'active'`;
  if (!rows[0]) throw fail.notFound("Seminar");
  return resolvedOf(rows[0]);
}

/**
 * resolveMember for several guest tokens at once (connections arriving together), with one
 * statement: each entry is the member, or the error resolveMember would throw for that token.
 */
export async function resolveGuests(
  prisma: PrismaClient,
  requests: readonly { claims: GuestClaims; seminarId?: string | undefined }[],
): Promise<(ResolvedMember | AppError)[]> {
  const ids = [...new Set(requests.map((request) => request.claims.sub))];
  const rows = await prisma.$queryRaw<ResolvedRow[]>`
    SELECT id::text AS id, seminar_id::text AS seminar_id, account_id::text AS account_id,
      role::text AS role, display_name, status::text AS status, rights_version
    FROM memberships WHERE id = ANY(${ids}::uuid[])`;
  const found = new Map(rows.map((row) => [row.id, resolvedOf(row)]));
  return requests.map(({ claims, seminarId }) => {
    if (seminarId && seminarId !== claims.sem) return fail.notFound("Seminar");
    const member = found.get(claims.sub);
    if (!member || member.seminarId !== claims.sem) return fail.unauthenticated("The token is not valid.");
    if (!isActive(member.status)) return fail.forbidden(`You were ${member.status} from this seminar.`);
    if (member.rightsVersion !== claims.rv) return fail.unauthenticated("Your rights changed; join again.");
    return member;
  });
}

function resolvedOf(row: ResolvedRow): ResolvedMember {
  return {
    id: row.id,
    seminarId: row.seminar_id,
    accountId: row.account_id,
    role: row.role,
    displayName: row.display_name,
    status: row.status,
    rightsVersion: row.rights_version,
  };
}
