import type { AppContext } from "../../context.ts";
import { LIMITS } from "../../protocol/limits.ts";
import { holdsWholeRoster, referencedMemberIds } from "../../protocol/room-state.ts";
import type { MemberRole, RoomSnapshot, SyncView } from "../../protocol/views.ts";
import type { Presence } from "../../realtime/presence.ts";
import { compactOmitted, presentForRoom } from "../../realtime/presenters.ts";
import { readEventsSince } from "../../realtime/room-log.ts";
import { loadReferencedMembers, loadSubjects } from "../../realtime/subjects.ts";
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
import { permissionsFor, viewerOf } from "./seminars.policy.ts";
import { presentMemberFor, presentSeminar } from "./seminars.presenter.ts";
import {
  listMemberRecords,
  listReferencedMemberRecords,
  readEssayView,
  readSeminarAsMember,
} from "./seminars.service.ts";

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
      const { seminar, member: stored } = await readSeminarAsMember(tx, viewer);
      // A frozen essay comes from memory (it never changes); a draft's is read each time.
      const essay = (await frozenEssay(tx, seminar.id))?.view ?? (await readEssayView(tx, seminar.id));
      const asViewer = viewerOf(viewer);
      const annotations = await listAnnotationViews(tx, seminar.id, asViewer);
      const actor = { seminarId: seminar.id, memberId: viewer.memberId, role: viewer.role };
      const prompts = await loadPromptState(tx, seminar.id, actor);
      const moderation = await readRoomModeration(tx, seminar);
      // Moderators hold the whole roster; a participant's or observer's state only the members it
      // refers to (the rule applyRoomEvent keeps live), so a lecture hall's snapshots stay small.
      const records = holdsWholeRoster(viewer.role)
        ? await listMemberRecords(tx, seminar.id)
        : await listReferencedMemberRecords(tx, seminar.id, [
            ...referencedMemberIds({ viewer, annotations, queue: moderation.queue }),
          ]);
      const members = records.map((member) => presentMemberFor(asViewer, member));
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
        const { seminar } = await readSeminarAsMember(tx, viewer);
        if (since > seminar.lastSeq || seminar.lastSeq - since > LIMITS.maxCatchUpEvents) return null;
        const stored = await readEventsSince(tx, viewer.seminarId, since, LIMITS.maxCatchUpEvents);
        const loaded = await loadSubjects(tx, viewer.seminarId, stored);
        const subjects = await loadReferencedMembers(tx, viewer.seminarId, stored, loaded);
        const present = { viewer: viewerOf(viewer), subjects, publicUrl: context.publicUrl() };
        const events = compactOmitted(stored.map((event) => presentForRoom(event, present)));
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
