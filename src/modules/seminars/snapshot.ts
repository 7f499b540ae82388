import type { AppContext } from "../../context.ts";
import { AppError, fail } from "../../errors.ts";
import type { PresenceUpdate } from "../../protocol/events.ts";
import { LIMITS } from "../../protocol/limits.ts";
import { holdsWholeRoster, isReferencedMember, referencedMemberIds } from "../../protocol/room-state.ts";
import type { MemberRole, RoomSnapshot, SyncView } from "../../protocol/views.ts";
import type { Admission } from "../../realtime/admission.ts";
import type { Presence } from "../../realtime/presence.ts";
import { compactOmitted, presentForRoom } from "../../realtime/presenters.ts";
import { readEventsSince } from "../../realtime/room-log.ts";
import { loadReferencedMembers, loadSubjects } from "../../realtime/subjects.ts";
import { listAnnotationRecords, presentAnnotationsFor } from "../annotations/annotations.service.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { holderOf } from "../moderation/moderation.policy.ts";
import {
  presentModerationEntry,
  presentPhase,
  presentSpotlight,
} from "../moderation/moderation.presenter.ts";
import { listRecentModerationLog, readRoomModeration } from "../moderation/moderation.service.ts";
import { loadPromptState, loadPromptStates } from "../prompts/prompts.service.ts";
import { isModerator, permissionsFor, viewerOf } from "./seminars.policy.ts";
import { presentMember, presentMemberFor, presentSeminar } from "./seminars.presenter.ts";
import {
  listMemberRecords,
  listReferencedMemberRecords,
  readEssayView,
  readSeminarAsMember,
  readSeminarAsMembers,
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
  const [snapshot] = await buildSnapshots(context, presence, viewer.seminarId, [viewer]);
  if (!snapshot) throw fail.notFound("Seminar");
  if (snapshot instanceof AppError) throw snapshot;
  return snapshot;
}

/**
 * The snapshots of several viewers of one room, built together in one repeatable-read transaction
 * (so all are at the same `seq`): what every viewer needs is read once (the seminar and every
 * viewer's membership in one statement, the annotations, the moderation state, the roster), then
 * presented for each viewer by the same presenters as one snapshot alone. Each entry is the
 * viewer's snapshot, or the error their membership gives (not_found, forbidden, unauthenticated).
 */
export async function buildSnapshots(
  context: AppContext,
  presence: Presence,
  seminarId: string,
  viewers: readonly SnapshotViewer[],
): Promise<(RoomSnapshot | AppError)[]> {
  // Presence is not in the database (it is read from the presence store, outside the read).
  const listing = await presence.list(seminarId);
  // Presence as moderators and as the others get it, each made once for the whole batch (a hall's
  // snapshots are built in batches of hundreds, and each view is a pass over everyone present).
  const presenceAs = new Map<boolean, PresenceUpdate>();
  const presenceFor = (moderator: boolean) => {
    let view = presenceAs.get(moderator);
    if (!view) {
      view = presence.viewFor(listing, moderator);
      presenceAs.set(moderator, view);
    }
    return view;
  };
  return context.prisma.$transaction(
    async (tx) => {
      const { seminar, standings } = await readSeminarAsMembers(tx, seminarId, viewers);
      if (!seminar) return viewers.map(() => fail.notFound("Seminar"));
      // A viewer refused by their membership gets its error (the others their snapshots).
      const refusal = (viewer: SnapshotViewer) => {
        const standing = standings.get(viewer.memberId);
        return standing instanceof AppError ? standing : fail.notFound("Seminar");
      };
      const admitted = viewers.flatMap((viewer) => {
        const standing = standings.get(viewer.memberId);
        return standing && !(standing instanceof AppError) ? [{ viewer, standing }] : [];
      });
      if (admitted.length === 0) return viewers.map(refusal);
      // A frozen essay comes from memory (it never changes); a draft's is read each time.
      const essay = (await frozenEssay(tx, seminar.id))?.view ?? (await readEssayView(tx, seminar.id));
      const annotationRows = await listAnnotationRecords(tx, seminar.id);
      const moderation = await readRoomModeration(tx, seminar);
      const each = admitted.map(({ viewer, standing }) => {
        const asViewer = viewerOf(viewer);
        const annotations = presentAnnotationsFor(asViewer, annotationRows);
        const referenced = holdsWholeRoster(viewer.role)
          ? null
          : referencedMemberIds({ viewer, annotations, queue: moderation.queue });
        return { viewer, standing, asViewer, annotations, referenced };
      });
      // Moderators hold the whole roster; a participant's or observer's state only the members it
      // refers to (the rule applyRoomEvent keeps live), so a lecture hall's snapshots stay small.
      // One query for each kind, whoever asked.
      const moderating = each.some((item) => item.referenced === null);
      const roster = moderating ? await listMemberRecords(tx, seminar.id) : [];
      const wanted = new Set(each.flatMap((item) => [...(item.referenced ?? [])]));
      const partial = wanted.size > 0 ? await listReferencedMemberRecords(tx, seminar.id, [...wanted]) : [];
      // Moderators' snapshots carry the recent moderation log; later entries come with the events.
      const log = moderating
        ? (await listRecentModerationLog(tx, seminar.id, LIMITS.moderationLogInSnapshot)).map(
            presentModerationEntry,
          )
        : null;
      const publicUrl = context.publicUrl();
      const built = new Map<string, RoomSnapshot>();
      const promptStates = await loadPromptStates(
        tx,
        seminar.id,
        each.map(({ viewer }) => ({ seminarId: seminar.id, memberId: viewer.memberId, role: viewer.role })),
      );
      for (const [i, { viewer, standing, asViewer, annotations, referenced }] of each.entries()) {
        const prompts = promptStates[i]!;
        const records = referenced
          ? partial.filter((member) => isReferencedMember(presentMember(member), referenced))
          : roster;
        built.set(viewer.memberId, {
          seq: seminar.lastSeq,
          seminar: presentSeminar(seminar, { moderator: asViewer.moderator, publicUrl }),
          essay,
          members: records.map((member) => presentMemberFor(asViewer, member)),
          ...presenceFor(asViewer.moderator),
          annotations,
          prompts: prompts.prompts,
          tallies: prompts.tallies,
          myBallots: prompts.myBallots,
          viewer: {
            memberId: viewer.memberId,
            role: viewer.role,
            displayName: viewer.displayName,
            permissions: permissionsFor(holderOf(standing), seminar),
          },
          spotlight: presentSpotlight(seminar),
          phase: moderation.phase ? presentPhase(moderation.phase) : null,
          queue: moderation.queue,
          ...(asViewer.moderator && log ? { moderationLog: log } : {}),
        });
      }
      return viewers.map((viewer) => built.get(viewer.memberId) ?? refusal(viewer));
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
  );
}

/**
 * A room whose snapshots are in demand builds them at most every this many ms (admission.ts,
 * TogetherOptions.spacingMs): a lecture hall arriving at a few hundred a second then shares one
 * read of the room among dozens instead of three or four (a read is a transaction of ten
 * statements), which left the join storm's CPU to the other steps; a room not asked for within
 * this time builds a snapshot at once. Measured in docs/benchmarks.md (2026-12-03 09:13).
 */
const SNAPSHOT_SPACING_MS = 100;

/**
 * What a (re)connecting client needs: the events after `since` in order, each presented for the
 * viewer from the current state of what it refers to (a later edit, deletion or hiding shows on
 * catch-up), or a snapshot when it has none, is ahead of the log (the database was restored) or
 * missed more than maxCatchUpEvents. `beforeSnapshot` runs before any snapshot is built (the
 * per-member snapshot limit: every snapshot counts, whatever asked for it).
 */
export async function syncRoom(
  context: AppContext,
  node: { presence: Presence; admission: Admission },
  viewer: SnapshotViewer,
  since: number | undefined,
  beforeSnapshot: () => Promise<void>,
): Promise<SyncView> {
  if (since !== undefined) {
    const caughtUp = await node.admission.run(() => catchUp(context, node.presence, viewer, since));
    if (caughtUp) return caughtUp;
  }
  await beforeSnapshot();
  // A crowd's snapshots of one room are built together: those that wait for the gate at the same
  // moment share one read of the room (buildSnapshots).
  const snapshot = await node.admission.together<SnapshotViewer, RoomSnapshot>(
    `snapshot:${viewer.seminarId}`,
    viewer,
    (viewers) => buildSnapshots(context, node.presence, viewer.seminarId, viewers),
    { spacingMs: SNAPSHOT_SPACING_MS },
  );
  return { mode: "snapshot", snapshot };
}

/**
 * The events after `since` for the viewer, with the current tallies and presence; null when a
 * snapshot is needed instead (ahead of the log, or more than maxCatchUpEvents behind).
 */
async function catchUp(
  context: AppContext,
  presence: Presence,
  viewer: SnapshotViewer,
  since: number,
): Promise<SyncView | null> {
  // Presence is not in the log: the catch-up carries it whole (read before the events, so that a
  // change after this read reaches the client as a delta after the answer's presence).
  const listing = await presence.list(viewer.seminarId);
  return context.prisma.$transaction(
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
      const now = presence.viewFor(listing, isModerator(viewer.role));
      return { mode: "events" as const, seq: seminar.lastSeq, events, tallies, ...now };
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
  );
}
