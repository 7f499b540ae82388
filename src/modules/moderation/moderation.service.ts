/**
 * Moderation: members (mute, unmute, kick, ban, unban, role), the room (lock, slow mode,
 * spotlight, phases) and the speaking queue. Every command is one write through the room writer:
 * it asks the rights table (moderation.policy) with the actor as stored now, changes the rows,
 * writes its moderation log row and appends its room fact in the same transaction. Connections
 * are closed only after the commit (a kick that rolled back closes nothing).
 */
import type { Prisma, PrismaClient, Tx } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type { CloseReason } from "../../protocol/events.ts";
import type {
  MemberActionInput,
  MemberRoleInput,
  ModerationLogQuery,
  MuteMemberInput,
  PhaseInput,
  QueueCallInput,
  QueueLowerInput,
  ReasonInput,
  SlowModeInput,
  SpotlightInput,
} from "../../protocol/moderation.ts";
import type { ModerationDetails, PhaseKind, QueueEntryView } from "../../protocol/views.ts";
import type { MEMBER_MODERATIONS } from "../../realtime/room-facts.ts";
import type { ActedRoom, RoomTx, RoomWriter } from "../../realtime/room-writer.ts";
import { decodeCursor, encodeCursor } from "../annotations/annotations.service.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { codePointLength } from "../essays/essay.text.ts";
import { type Actor, isModerator } from "../seminars/seminars.policy.ts";
import type { MemberRecord } from "../seminars/seminars.presenter.ts";
import { freeName, getSeminar, memberSelect, seminarSelect } from "../seminars/seminars.service.ts";
import { logAction, logOrder, type ModerationLogRow, moderationLogSelect } from "./moderation.log.ts";
import { canLowerHandOf, isMuted, isRoleChangeable, outranks } from "./moderation.policy.ts";
import { type PhaseRecord, presentQueueEntry } from "./moderation.presenter.ts";
import { phaseSelect } from "./phases.ts";
import { assertRight } from "./rights.ts";

export type { ModerationLogRow } from "./moderation.log.ts";

/**
 * A seminar's whole moderation log, oldest first (createdAt, then id). For transcripts and other
 * readers that already decided the caller may read it (moderators only).
 */
export async function listModerationLog(
  db: PrismaClient | Tx,
  seminarId: string,
): Promise<ModerationLogRow[]> {
  return db.moderationAction.findMany({
    where: { seminarId },
    orderBy: [...logOrder],
    select: moderationLogSelect,
  });
}

/** The newest `limit` entries of a seminar's moderation log, oldest first (for moderators' snapshots). */
export async function listRecentModerationLog(
  db: PrismaClient | Tx,
  seminarId: string,
  limit: number,
): Promise<ModerationLogRow[]> {
  const newest = await db.moderationAction.findMany({
    where: { seminarId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
    select: moderationLogSelect,
  });
  return newest.reverse();
}

/**
 * One page of the moderation log for GET /api/seminars/:id/moderation-log, oldest first.
 * `forbidden` unless the viewer (a resolved member of the seminar) is a moderator.
 */
export async function readModerationLogPage(
  db: PrismaClient,
  viewer: Actor,
  query: ModerationLogQuery,
): Promise<{ items: ModerationLogRow[]; nextCursor: string | null }> {
  if (!isModerator(viewer.role)) throw fail.forbidden("Only moderators read the moderation log.");
  const conditions: Prisma.ModerationActionWhereInput[] = [{ seminarId: viewer.seminarId }];
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    conditions.push({
      OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
    });
  }
  const rows = await db.moderationAction.findMany({
    where: { AND: conditions },
    orderBy: [...logOrder],
    take: query.limit + 1,
    select: moderationLogSelect,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/** Moderation log rows of a seminar by id (room events refer to them). */
export async function readModerationRows(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<ModerationLogRow[]> {
  if (ids.length === 0) return [];
  return db.moderationAction.findMany({ where: { seminarId, id: { in: ids } }, select: moderationLogSelect });
}

/** Phases of a seminar by id (room events refer to them). */
export async function readPhaseRecords(
  db: PrismaClient | Tx,
  seminarId: string,
  ids: string[],
): Promise<PhaseRecord[]> {
  if (ids.length === 0) return [];
  return db.phase.findMany({ where: { seminarId, id: { in: ids } }, select: phaseSelect });
}

/** The raised hands of a seminar, in the order they will be called. */
async function waitingHands(db: PrismaClient | Tx, seminarId: string) {
  return db.speakingQueueEntry.findMany({
    where: { seminarId, calledAt: null, loweredAt: null },
    orderBy: [{ raisedSeq: "asc" }, { id: "asc" }],
    select: { id: true, memberId: true, raisedAt: true },
  });
}

/** The moderation state of a room for its snapshot: the current phase and the queue. */
export async function readRoomModeration(
  db: PrismaClient | Tx,
  seminar: { id: string; currentPhaseId: string | null },
): Promise<{ phase: PhaseRecord | null; queue: QueueEntryView[] }> {
  const [phase, hands] = await Promise.all([
    seminar.currentPhaseId
      ? db.phase.findFirst({
          where: { id: seminar.currentPhaseId, seminarId: seminar.id },
          select: phaseSelect,
        })
      : null,
    waitingHands(db, seminar.id),
  ]);
  return { phase, queue: hands.map(presentQueueEntry) };
}

// ---------------------------------------------------------------------------------------------
// Writes

/** What the moderation commands need besides the room writer. */
export interface ModerationDeps {
  rooms: RoomWriter;
  /** Closes a member's connections on every node (after the commit). */
  closeMember(memberId: string, reason: CloseReason): void;
  /** Announces a phase's deadline when it passes (phase-timers.ts). */
  armPhaseDeadline(seminarId: string, phaseId: string, deadline: Date): void;
}

/** A member as the moderation commands read them: the view's fields plus what decisions need. */
const targetSelect = { ...memberSelect, accountId: true } as const satisfies Prisma.MembershipSelect;
type TargetRow = Prisma.MembershipGetPayload<{ select: typeof targetSelect }>;

/** Loads a member through the actor's seminar (never by bare id): `not_found` otherwise. */
async function loadTarget(tx: Tx, seminarId: string, memberId: string): Promise<TargetRow> {
  const target = await tx.membership.findFirst({ where: { id: memberId, seminarId }, select: targetSelect });
  if (!target) throw fail.notFound("Member");
  return target;
}

/** Throws `forbidden` unless the acting member outranks the target (moderation.policy outranks). */
function assertOutranks(room: ActedRoom, target: TargetRow): void {
  if (!outranks(room.member, target)) {
    throw fail.forbidden(
      target.id === room.member.id
        ? "You cannot moderate yourself."
        : "You can only moderate members ranked below you.",
    );
  }
}

/** Lowers a member's raised hand in the same write (they were kicked, banned or given another role). */
async function dropHand(tx: Tx, seminarId: string, memberId: string): Promise<void> {
  await tx.speakingQueueEntry.updateMany({
    where: { seminarId, memberId, calledAt: null, loweredAt: null },
    data: { loweredAt: new Date() },
  });
}

type MemberModeration = (typeof MEMBER_MODERATIONS)[number];

/** What one member command changes, decided inside the write from the target as stored. */
interface MemberChange {
  /** The row update, or null when the command changes nothing (acked without an event). */
  data: Prisma.MembershipUpdateInput | null;
  details?: ModerationDetails;
  /** Why the member's connections close after the commit (rights changes only). */
  close?: CloseReason;
}

/**
 * Runs a member command: the rights table, the target (through the actor's seminar, ranked below
 * the actor), the change, the log row and the member:moderated fact, in one write; connections
 * closed after the commit.
 */
async function moderateMember(
  deps: ModerationDeps,
  actor: Actor,
  action: MemberModeration,
  input: { memberId: string; reason?: string | undefined },
  decide: (target: TargetRow, now: Date) => MemberChange,
): Promise<MemberRecord> {
  let close: CloseReason | undefined;
  const member = await deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("moderate_members", room);
    const target = await loadTarget(tx, room.seminarId, input.memberId);
    assertOutranks(room, target);
    const change = decide(target, new Date());
    if (!change.data) return target;
    const updated = await tx.membership.update({
      where: { id: target.id },
      data: change.data,
      select: targetSelect,
    });
    if (change.close) await dropHand(tx, room.seminarId, target.id);
    const row = await logAction(write, {
      action: `member:${action}`,
      targetMemberId: target.id,
      reason: input.reason,
      details: change.details,
    });
    known.member(updated);
    await append("member:moderated", room.member.id, { memberId: target.id, action, actionId: row.id });
    close = change.close;
    return updated;
  });
  if (close) deps.closeMember(member.id, close);
  return member;
}

const conflictUnlessActive = (target: TargetRow) => {
  if (target.status !== "active") throw fail.conflict(`The member is ${target.status}.`);
};

/**
 * Mutes a member for `durationSeconds` or until unmuted: they keep reading and voting but cannot
 * post (the rights table). Their rights version stays (their token stays valid). Muting again sets
 * the new end. Errors: forbidden (rights, rank), not_found, conflict (not active).
 */
export function muteMember(deps: ModerationDeps, actor: Actor, input: MuteMemberInput) {
  return moderateMember(deps, actor, "mute", input, (target, now) => {
    conflictUnlessActive(target);
    const until = input.durationSeconds ? new Date(now.getTime() + input.durationSeconds * 1000) : null;
    return { data: { mutedAt: now, mutedUntil: until }, details: { until: until?.toISOString() ?? null } };
  });
}

/** Unmutes a member; one who is not muted is acked unchanged. Errors as muteMember. */
export function unmuteMember(deps: ModerationDeps, actor: Actor, input: MemberActionInput) {
  return moderateMember(deps, actor, "unmute", input, (target, now) => ({
    data: isMuted(target, now) ? { mutedAt: null, mutedUntil: null } : null,
  }));
}

/**
 * Kicks a member: status kicked, rights version raised (every token and connection of theirs is
 * refused from now on, on every node), hand lowered; their connections close with `kicked`. They
 * may join again by code. Kicking a kicked member acks it unchanged. Errors as muteMember, and
 * conflict for a banned member (unban first).
 */
export function kickMember(deps: ModerationDeps, actor: Actor, input: MemberActionInput) {
  return moderateMember(deps, actor, "kick", input, (target) => {
    if (target.status === "banned") throw fail.conflict("The member is banned; unban them first.");
    if (target.status === "kicked") return { data: null };
    return { data: { status: "kicked", rightsVersion: { increment: 1 } }, close: "kicked" };
  });
}

/**
 * Bans a member (active or kicked): as a kick, and coming back is refused, by code with their
 * resume secret, by the resume secret itself and by any old token. Errors as muteMember.
 */
export function banMember(deps: ModerationDeps, actor: Actor, input: MemberActionInput) {
  return moderateMember(deps, actor, "ban", input, (target) => {
    if (target.status === "banned") return { data: null };
    return { data: { status: "banned", rightsVersion: { increment: 1 } }, close: "banned" };
  });
}

/**
 * Lifts a ban: the member counts as kicked, so they may join again by code (as themselves with
 * their resume secret). One who is not banned is acked unchanged. Errors as muteMember.
 */
export function unbanMember(deps: ModerationDeps, actor: Actor, input: MemberActionInput) {
  return moderateMember(deps, actor, "unban", input, (target) => ({
    data: target.status === "banned" ? { status: "kicked" } : null,
  }));
}

/**
 * The host changes a member's role (co_moderator, participant, observer), by member id or by a
 * moderator account's e-mail (whose membership is created when it has none). The rights version
 * rises and the member's connections close with `rights_changed`: they reconnect with the new role
 * (guests get a fresh token with their resume secret). A hand stays raised only for participants.
 * Errors: forbidden (not the host, the host's own role), not_found (member, account), conflict
 * (member not active). The same role again acks the member unchanged.
 */
export async function changeMemberRole(
  deps: ModerationDeps,
  actor: Actor,
  input: MemberRoleInput,
): Promise<MemberRecord> {
  let changed = false;
  const member = await deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("change_roles", room);
    let target: TargetRow | null;
    if (input.memberId !== undefined) {
      target = await loadTarget(tx, room.seminarId, input.memberId);
    } else {
      const account = await tx.account.findUnique({
        where: { email: input.email ?? "" },
        select: { id: true, displayName: true },
      });
      if (!account) throw fail.notFound("Account with that e-mail");
      target = await tx.membership.findFirst({
        where: { seminarId: room.seminarId, accountId: account.id },
        select: targetSelect,
      });
      if (!target) return appointAccount(write, account, input);
    }
    if (!isRoleChangeable(target)) throw fail.forbidden("The host's role cannot change.");
    conflictUnlessActive(target);
    if (target.role === input.role) return target;
    const updated = await tx.membership.update({
      where: { id: target.id },
      data: { role: input.role, rightsVersion: { increment: 1 } },
      select: targetSelect,
    });
    if (input.role !== "participant") await dropHand(tx, room.seminarId, target.id);
    const row = await logAction(write, {
      action: "member:role",
      targetMemberId: target.id,
      reason: input.reason,
      details: { from: target.role, to: input.role },
    });
    known.member(updated);
    await append("member:moderated", room.member.id, {
      memberId: target.id,
      action: "role",
      actionId: row.id,
    });
    changed = true;
    return updated;
  });
  if (changed) deps.closeMember(member.id, "rights_changed");
  return member;
}

/**
 * Gives a moderator account that has no membership in the seminar one, with `input.role`, under
 * a free name: member:joined, then member:moderated (role) with its log row.
 */
async function appointAccount(
  write: RoomTx<ActedRoom>,
  account: { id: string; displayName: string },
  input: MemberRoleInput,
): Promise<TargetRow> {
  const { tx, room, append, known } = write;
  const taken = await tx.membership.findMany({
    where: {
      seminarId: room.seminarId,
      displayName: { startsWith: [...account.displayName].slice(0, 30).join(""), mode: "insensitive" },
    },
    select: { displayName: true },
  });
  const used = new Set(taken.map((member) => member.displayName.toLowerCase()));
  const created = await tx.membership.create({
    data: {
      seminarId: room.seminarId,
      accountId: account.id,
      role: input.role,
      displayName: freeName(account.displayName, used),
    },
    select: targetSelect,
  });
  const row = await logAction(write, {
    action: "member:role",
    targetMemberId: created.id,
    reason: input.reason,
    details: { to: input.role },
  });
  known.member(created);
  await append("member:joined", room.member.id, { memberId: created.id });
  await append("member:moderated", room.member.id, {
    memberId: created.id,
    action: "role",
    actionId: row.id,
  });
  return created;
}

// ---------------------------------------------------------------------------------------------
// The room

/** Locks (new joins refused with room_closed; those inside stay) or unlocks the room. */
export function setRoomLock(deps: ModerationDeps, actor: Actor, locked: boolean, input: ReasonInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("lock_room", room);
    if (room.locked === locked) return { locked };
    known.seminar = await tx.seminar.update({
      where: { id: room.seminarId },
      data: { locked },
      select: seminarSelect,
    });
    const row = await logAction(write, {
      action: locked ? "room:lock" : "room:unlock",
      reason: input.reason,
    });
    await append("room:locked", room.member.id, { locked, actionId: row.id });
    return { locked };
  });
}

/** Sets slow mode (0 turns it off); the same value again is acked without an event. */
export function setSlowMode(deps: ModerationDeps, actor: Actor, input: SlowModeInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("slow_mode", room);
    if (room.slowModeSeconds === input.seconds) return { seconds: input.seconds };
    known.seminar = await tx.seminar.update({
      where: { id: room.seminarId },
      data: { slowModeSeconds: input.seconds },
      select: seminarSelect,
    });
    const row = await logAction(write, {
      action: "room:slow_mode",
      reason: input.reason,
      details: { seconds: input.seconds },
    });
    await append("room:slow_mode", room.member.id, { seconds: input.seconds, actionId: row.id });
    return { seconds: input.seconds };
  });
}

/**
 * Spotlights a block of the seminar's essay, optionally a span of it (code points), or clears the
 * spotlight. Errors: not_found (a block of another essay), validation_failed (span past its end).
 * The same spotlight again is acked without an event.
 */
export function setSpotlight(deps: ModerationDeps, actor: Actor, input: SpotlightInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("spotlight", room);
    let spotlight: { paragraphId: string; start: number | null; end: number | null } | null = null;
    if (input.paragraphId !== null) {
      const block = (await frozenEssay(tx, room.seminarId))?.blocks.get(input.paragraphId);
      if (!block) throw fail.notFound("Paragraph");
      const length = codePointLength(block.text);
      if (input.end !== undefined && input.end > length) {
        throw fail.validation("The span is outside the paragraph.", [
          { path: "end", message: `must be at most ${length} (the paragraph's length in code points)` },
        ]);
      }
      spotlight = { paragraphId: input.paragraphId, start: input.start ?? null, end: input.end ?? null };
    }
    const current = await getSeminar(tx, room.seminarId);
    const same =
      current.spotlightParagraphId === (spotlight?.paragraphId ?? null) &&
      current.spotlightStart === (spotlight?.start ?? null) &&
      current.spotlightEnd === (spotlight?.end ?? null);
    if (same) return { spotlight };
    known.seminar = await tx.seminar.update({
      where: { id: room.seminarId },
      data: {
        spotlightParagraphId: spotlight?.paragraphId ?? null,
        spotlightStart: spotlight?.start ?? null,
        spotlightEnd: spotlight?.end ?? null,
      },
      select: seminarSelect,
    });
    const row = await logAction(write, {
      action: "room:spotlight",
      reason: input.reason,
      details: { spotlight },
    });
    await append("room:spotlight", room.member.id, { spotlight, actionId: row.id });
    return { spotlight };
  });
}

/** The name a phase gets when the moderator gives none. */
const PHASE_NAMES: Record<Exclude<PhaseKind, "custom">, string> = {
  reading: "Reading",
  discussion: "Discussion",
  voting: "Voting",
  wrap_up: "Wrap-up",
};

/**
 * Starts a phase (the current one ends now), with a deadline `durationSeconds` from now that the
 * server announces with room:phase_ended; or, with `phase: null`, ends the current one and leaves
 * phases (acked without an event when there is none).
 */
export async function startPhase(
  deps: ModerationDeps,
  actor: Actor,
  input: PhaseInput,
): Promise<{ phase: PhaseRecord | null }> {
  const result = await deps.rooms.write(actor, async (write) => {
    const { tx, room, append, known } = write;
    assertRight("phase", room);
    const seminar = await getSeminar(tx, room.seminarId);
    if (input.phase === null && seminar.currentPhaseId === null) return { phase: null };
    const now = new Date();
    await tx.phase.updateMany({
      where: { seminarId: room.seminarId, endedAt: null },
      data: { endedAt: now },
    });
    let phase: PhaseRecord | null = null;
    if (input.phase !== null) {
      const last = await tx.phase.aggregate({
        where: { seminarId: room.seminarId },
        _max: { position: true },
      });
      const deadline = input.durationSeconds ? new Date(now.getTime() + input.durationSeconds * 1000) : null;
      phase = await tx.phase.create({
        data: {
          seminarId: room.seminarId,
          position: (last._max.position ?? -1) + 1,
          kind: input.phase,
          title: input.label ?? (input.phase === "custom" ? "" : PHASE_NAMES[input.phase]),
          durationSeconds: input.durationSeconds ?? null,
          deadlineAt: deadline,
          startedAt: now,
        },
        select: phaseSelect,
      });
      known.phase(phase);
    }
    known.seminar = await tx.seminar.update({
      where: { id: room.seminarId },
      data: { currentPhaseId: phase?.id ?? null },
      select: seminarSelect,
    });
    const row = await logAction(write, {
      action: "room:phase",
      reason: input.reason,
      details: {
        phase: phase
          ? { kind: phase.kind, label: phase.title, deadline: phase.deadlineAt?.toISOString() ?? null }
          : null,
      },
    });
    await append("room:phase", room.member.id, { phaseId: phase?.id ?? null, actionId: row.id });
    return { phase };
  });
  if (result.phase?.deadlineAt)
    deps.armPhaseDeadline(actor.seminarId, result.phase.id, result.phase.deadlineAt);
  return result;
}

/**
 * Announces that a phase's deadline passed (the phase timers call it; any node may, more than
 * once): if the phase is still the room's current one, running, and due, it ends at its deadline
 * with room:phase_ended (actor: the system). Otherwise nothing happens. Returns whether it ended.
 */
export function endDuePhase(rooms: RoomWriter, seminarId: string, phaseId: string): Promise<boolean> {
  return rooms.writeForRoom(seminarId, async ({ tx, room, append, known }) => {
    if (room.state !== "live") return false;
    const seminar = await getSeminar(tx, seminarId);
    const phase = await tx.phase.findFirst({ where: { id: phaseId, seminarId }, select: phaseSelect });
    if (!phase || seminar.currentPhaseId !== phase.id || phase.endedAt || !phase.deadlineAt) return false;
    if (phase.deadlineAt.getTime() > Date.now()) return false;
    const ended = await tx.phase.update({
      where: { id: phase.id },
      data: { endedAt: phase.deadlineAt },
      select: phaseSelect,
    });
    known.phase(ended);
    await append("room:phase_ended", null, { phaseId: phase.id });
    return true;
  });
}

/** Running phases of live seminars whose deadline is before `before` (for the phase timers). */
export async function listPhaseDeadlines(
  db: PrismaClient,
  before: Date,
): Promise<{ seminarId: string; phaseId: string; deadline: Date }[]> {
  const rows = await db.phase.findMany({
    where: {
      endedAt: null,
      deadlineAt: { not: null, lte: before },
      currentIn: { some: { state: "live" } },
    },
    select: { id: true, seminarId: true, deadlineAt: true },
    orderBy: { deadlineAt: "asc" },
    take: 1_000,
  });
  return rows.flatMap((row) =>
    row.deadlineAt ? [{ seminarId: row.seminarId, phaseId: row.id, deadline: row.deadlineAt }] : [],
  );
}

// ---------------------------------------------------------------------------------------------
// The speaking queue

/** The queue after a change, as acked. */
async function queueNow(tx: Tx, seminarId: string): Promise<{ queue: QueueEntryView[] }> {
  return { queue: (await waitingHands(tx, seminarId)).map(presentQueueEntry) };
}

/**
 * Raises the caller's hand. The queue's order is the order of the raise events in the room log
 * (their seq), which the room's lock makes the order the room accepted them in. A raised hand is
 * acked unchanged.
 */
export function raiseHand(deps: ModerationDeps, actor: Actor) {
  return deps.rooms.write(actor, async ({ tx, room, append }) => {
    assertRight("raise_hand", room);
    const hands = await waitingHands(tx, room.seminarId);
    if (hands.some((hand) => hand.memberId === room.member.id))
      return { queue: hands.map(presentQueueEntry) };
    const raisedAt = new Date();
    const event = await append("queue:updated", room.member.id, {
      action: "raise",
      memberId: room.member.id,
      raisedAt: raisedAt.toISOString(),
      actionId: null,
    });
    await tx.speakingQueueEntry.create({
      data: { seminarId: room.seminarId, memberId: room.member.id, raisedSeq: event.seq, raisedAt },
    });
    return queueNow(tx, room.seminarId);
  });
}

/**
 * Lowers a hand: the caller's own, or (moderators) anyone's, which is logged. A hand that is not
 * raised is acked unchanged. Errors: forbidden (someone else's), not_found (not a member).
 */
export function lowerHand(deps: ModerationDeps, actor: Actor, input: QueueLowerInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append } = write;
    assertRight("lower_hand", room);
    const memberId = input.memberId ?? room.member.id;
    if (!canLowerHandOf(room.member, memberId)) throw fail.forbidden("You can lower only your own hand.");
    if (memberId !== room.member.id) await loadTarget(tx, room.seminarId, memberId);
    const lowered = await tx.speakingQueueEntry.updateMany({
      where: { seminarId: room.seminarId, memberId, calledAt: null, loweredAt: null },
      data: { loweredAt: new Date() },
    });
    if (lowered.count === 0) return queueNow(tx, room.seminarId);
    const row =
      memberId === room.member.id
        ? null
        : await logAction(write, { action: "queue:lower", targetMemberId: memberId, reason: input.reason });
    await append("queue:updated", room.member.id, {
      action: "lower",
      memberId,
      raisedAt: null,
      actionId: row?.id ?? null,
    });
    return queueNow(tx, room.seminarId);
  });
}

/**
 * Gives the floor to the first raised hand, or to the chosen member's raised hand; it leaves the
 * queue. Errors: conflict (the queue is empty, the member's hand is not raised), not_found.
 */
export function callHand(deps: ModerationDeps, actor: Actor, input: QueueCallInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append } = write;
    assertRight("run_queue", room);
    if (input.memberId !== undefined) await loadTarget(tx, room.seminarId, input.memberId);
    const hands = await waitingHands(tx, room.seminarId);
    const hand = input.memberId === undefined ? hands[0] : hands.find((h) => h.memberId === input.memberId);
    if (!hand) {
      throw fail.conflict(
        input.memberId === undefined ? "Nobody's hand is raised." : "That member's hand is not raised.",
      );
    }
    await tx.speakingQueueEntry.update({ where: { id: hand.id }, data: { calledAt: new Date() } });
    const row = await logAction(write, {
      action: "queue:call",
      targetMemberId: hand.memberId,
      reason: input.reason,
    });
    await append("queue:updated", room.member.id, {
      action: "call",
      memberId: hand.memberId,
      raisedAt: null,
      actionId: row.id,
    });
    return queueNow(tx, room.seminarId);
  });
}

/** Lowers every raised hand; an empty queue is acked without an event. */
export function clearQueue(deps: ModerationDeps, actor: Actor, input: ReasonInput) {
  return deps.rooms.write(actor, async (write) => {
    const { tx, room, append } = write;
    assertRight("run_queue", room);
    const cleared = await tx.speakingQueueEntry.updateMany({
      where: { seminarId: room.seminarId, calledAt: null, loweredAt: null },
      data: { loweredAt: new Date() },
    });
    if (cleared.count === 0) return { queue: [] };
    const row = await logAction(write, { action: "queue:clear", reason: input.reason });
    await append("queue:updated", room.member.id, {
      action: "clear",
      memberId: null,
      raisedAt: null,
      actionId: row.id,
    });
    return { queue: [] };
  });
}
