import type { AppContext } from "../../context.ts";
import type { Tx } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { MemberRole, RoomSnapshot, SyncView } from "../../protocol/views.ts";
import type { Presence } from "../../realtime/presence.ts";
import { presentEvent } from "../../realtime/presenters.ts";
import { readEventsSince } from "../../realtime/room-log.ts";
import { loadSubjects } from "../../realtime/subjects.ts";
import { listAnnotationViews } from "../annotations/annotations.service.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { holderOf } from "../moderation/moderation.policy.ts";
import {
  presentModerationEntry,
  presentPhase,
  presentSpotlight,
} from "../moderation/moderation.presenter.ts";
import { listRecentModerationLog, readRoomModeration } from "../moderation/moderation.service.ts";
import { loadPromptState } from "../prompts/prompts.service.ts";
import { isActive, permissionsFor, viewerOf } from "./seminars.policy.ts";
import { presentMemberFor, presentSeminar } from "./seminars.presenter.ts";
import { listMemberRecords, readEssayView, seminarSelect } from "./seminars.service.ts";

/** Who the snapshot is for. */
export interface SnapshotViewer {
  seminarId: string;
  memberId: string;
  role: MemberRole;
  displayName: string;
  /** For a connection: the rights version it was admitted with (a newer stored one refuses). */
  rightsVersion?: number;
}

/**
 * Checks, inside the read, that the viewer is still an active member with the rights they were
 * admitted with (rights are decided when each command runs, not only at connect).
 */
async function assertStillMember(tx: Tx, viewer: SnapshotViewer) {
  const member = await tx.membership.findFirst({
    where: { id: viewer.memberId, seminarId: viewer.seminarId },
    select: { role: true, status: true, rightsVersion: true, mutedAt: true, mutedUntil: true },
  });
  if (!member) throw fail.notFound("Seminar");
  if (!isActive(member.status)) throw fail.forbidden(`You were ${member.status} from this seminar.`);
  if (viewer.rightsVersion !== undefined && viewer.rightsVersion !== member.rightsVersion)
    throw fail.unauthenticated("Your role in this seminar changed; reconnect to continue.");
  return member;
}

/**
 * The whole room at one sequence number, as `viewer` may see it, built by the same presenters as
 * live events. Read in one repeatable-read transaction so that everything in it is as of `seq`.
 */
export async function buildSnapshot(
  context: AppContext,
  presence: Presence,
  viewer: SnapshotViewer,
): Promise<RoomSnapshot> {
  // Presence is not in the database (it is read from the presence store, outside the read).
  const present = await presence.list(viewer.seminarId);
  return context.prisma.$transaction(
    async (tx) => {
      const stored = await assertStillMember(tx, viewer);
      const seminar = await tx.seminar.findUnique({ where: { id: viewer.seminarId }, select: seminarSelect });
      if (!seminar) throw fail.notFound("Seminar");
      // A frozen essay comes from memory (it never changes); a draft's is read each time.
      const essay = (await frozenEssay(tx, seminar.id))?.view ?? (await readEssayView(tx, seminar.id));
      const asViewer = viewerOf(viewer);
      const members = (await listMemberRecords(tx, seminar.id)).map((member) =>
        presentMemberFor(asViewer, member),
      );
      const annotations = await listAnnotationViews(tx, seminar.id, asViewer);
      const actor = { seminarId: seminar.id, memberId: viewer.memberId, role: viewer.role };
      const prompts = await loadPromptState(tx, seminar.id, actor);
      const moderation = await readRoomModeration(tx, seminar);
      // Moderators' snapshots carry the recent moderation log; later entries come with the events.
      const log = asViewer.moderator
        ? await listRecentModerationLog(tx, seminar.id, LIMITS.moderationLogInSnapshot)
        : null;
      return {
        seq: seminar.lastSeq,
        seminar: presentSeminar(seminar, { moderator: asViewer.moderator, publicUrl: context.publicUrl() }),
        essay,
        members,
        presence: present,
        annotations,
        prompts: prompts.prompts,
        tallies: prompts.tallies,
        myBallots: prompts.myBallots,
        viewer: {
          memberId: viewer.memberId,
          role: viewer.role,
          displayName: viewer.displayName,
          permissions: permissionsFor(holderOf(stored), seminar),
        },
        spotlight: presentSpotlight(seminar),
        phase: moderation.phase ? presentPhase(moderation.phase) : null,
        queue: moderation.queue,
        ...(log ? { moderationLog: log.map(presentModerationEntry) } : {}),
      };
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
  );
}

/**
 * What a (re)connecting client needs: the events after `since` in order, each presented for the
 * viewer from the current state of what it refers to (a later edit, deletion or hiding shows on
 * catch-up), or a snapshot when it has none, is ahead of the log (the database was restored) or
 * missed more than maxCatchUpEvents. `beforeSnapshot` runs before any snapshot is built (the
 * per-member snapshot limit: every snapshot counts, whatever asked for it).
 */
export async function syncRoom(
  context: AppContext,
  presence: Presence,
  viewer: SnapshotViewer,
  since: number | undefined,
  beforeSnapshot: () => Promise<void>,
): Promise<SyncView> {
  if (since !== undefined) {
    // Presence is not in the log: the catch-up carries it whole (read before the events, so that
    // a change after this read reaches the client as a delta after the answer's presence).
    const presentNow = await presence.list(viewer.seminarId);
    const caughtUp = await context.prisma.$transaction(
      async (tx) => {
        await assertStillMember(tx, viewer);
        const seminar = await tx.seminar.findUnique({
          where: { id: viewer.seminarId },
          select: { lastSeq: true },
        });
        if (!seminar) throw fail.notFound("Seminar");
        if (since > seminar.lastSeq || seminar.lastSeq - since > LIMITS.maxCatchUpEvents) return null;
        const stored = await readEventsSince(tx, viewer.seminarId, since, LIMITS.maxCatchUpEvents);
        const subjects = await loadSubjects(tx, viewer.seminarId, stored);
        const present = { viewer: viewerOf(viewer), subjects, publicUrl: context.publicUrl() };
        const events = stored.map((event) => presentEvent(event, present));
        const actor = { seminarId: viewer.seminarId, memberId: viewer.memberId, role: viewer.role };
        const { tallies } = await loadPromptState(tx, viewer.seminarId, actor);
        return { mode: "events" as const, seq: seminar.lastSeq, events, tallies, presence: presentNow };
      },
      { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
    );
    if (caughtUp) return caughtUp;
  }
  await beforeSnapshot();
  return { mode: "snapshot", snapshot: await buildSnapshot(context, presence, viewer) };
}
