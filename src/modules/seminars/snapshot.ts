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
import { loadPromptStates } from "../prompts/prompts.service.ts";
import { isModerator, permissionsFor, viewerOf } from "./seminars.policy.ts";
import { presentMember, presentMemberFor, presentSeminar } from "./seminars.presenter.ts";
import {
  listMemberRecords,
  listReferencedMemberRecords,
  readEssayView,
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
 * The room's presence, read now, as moderators and as the others get it: each view made once for
 * a whole batch (a hall's snapshots and catch-ups go in batches of dozens, and each view is a
 * pass over everyone present).
 */
async function presenceViews(
  presence: Presence,
  seminarId: string,
): Promise<(moderator: boolean) => PresenceUpdate> {
  const listing = await presence.list(seminarId);
  const views = new Map<boolean, PresenceUpdate>();
  return (moderator) => {
    let view = views.get(moderator);
    if (!view) {
      view = presence.viewFor(listing, moderator);
      views.set(moderator, view);
    }
    return view;
  };
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
  const presenceFor = await presenceViews(presence, seminarId);
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
    // A hall coming back after a restart or a network failure catches up together, as it joins:
    // those that wait at the same moment share one read of the room's log (catchUps).
    const caughtUp = await node.admission.together<CatchUpRequest, SyncView | null>(
      `catch-up:${viewer.seminarId}`,
      { viewer, since },
      (requests) => catchUps(context, node.presence, viewer.seminarId, requests),
      { spacingMs: SNAPSHOT_SPACING_MS },
    );
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

/** A viewer asking for the events after `since`. */
export interface CatchUpRequest {
  viewer: SnapshotViewer;
  since: number;
}

/**
 * The catch-ups of several viewers of one room, read together in one repeatable-read transaction
 * (all at the same `seq`): the seminar and every viewer's membership in one statement, the log
 * after the earliest `since` once, what its events refer to once, the tallies once per set the
 * viewers may see; then each viewer's events after its own `since`, presented for it by the same
 * presenters as live events, with the current tallies and presence. Each entry is the viewer's
 * catch-up, null when it needs a snapshot instead (ahead of the log, or more than
 * maxCatchUpEvents behind), or the error its membership gives.
 */
export async function catchUps(
  context: AppContext,
  presence: Presence,
  seminarId: string,
  requests: readonly CatchUpRequest[],
): Promise<(SyncView | null | AppError)[]> {
  // Presence is not in the log: the catch-up carries it whole (read before the events, so that a
  // change after this read reaches the client as a delta after the answer's presence).
  const presenceFor = await presenceViews(presence, seminarId);
  return context.prisma.$transaction(
    async (tx) => {
      const viewers = requests.map((request) => request.viewer);
      const { seminar, standings } = await readSeminarAsMembers(tx, seminarId, viewers);
      if (!seminar) return requests.map(() => fail.notFound("Seminar"));
      const lastSeq = seminar.lastSeq;
      const due = requests.map(({ viewer, since }) => {
        const standing = standings.get(viewer.memberId) ?? fail.notFound("Seminar");
        if (standing instanceof AppError) return standing;
        return since > lastSeq || lastSeq - since > LIMITS.maxCatchUpEvents ? null : { viewer, since };
      });
      const catching = due.filter(
        (item): item is CatchUpRequest => item !== null && !(item instanceof AppError),
      );
      if (catching.length === 0) return due.map((item) => (item instanceof AppError ? item : null));
      const from = Math.min(...catching.map((item) => item.since));
      const stored = await readEventsSince(tx, seminarId, from, LIMITS.maxCatchUpEvents);
      const loaded = await loadSubjects(tx, seminarId, stored);
      const subjects = await loadReferencedMembers(tx, seminarId, stored, loaded);
      const states = await loadPromptStates(
        tx,
        seminarId,
        catching.map(({ viewer }) => ({ seminarId, memberId: viewer.memberId, role: viewer.role })),
      );
      const publicUrl = context.publicUrl();
      const answers = new Map<CatchUpRequest, SyncView>();
      catching.forEach((item, i) => {
        const present = { viewer: viewerOf(item.viewer), subjects, publicUrl };
        const events = compactOmitted(
          stored.filter((event) => event.seq > item.since).map((event) => presentForRoom(event, present)),
        );
        answers.set(item, {
          mode: "events",
          seq: lastSeq,
          events,
          tallies: states[i]!.tallies,
          ...presenceFor(isModerator(item.viewer.role)),
        });
      });
      return due.map((item) =>
        item === null || item instanceof AppError ? item : (answers.get(item) ?? null),
      );
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
  );
}
