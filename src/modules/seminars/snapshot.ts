import type { AppContext } from "../../context.ts";
import { fail } from "../../errors.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { MemberRole, RoomSnapshot, SyncView } from "../../protocol/views.ts";
import type { Presence } from "../../realtime/presence.ts";
import { readEventsSince } from "../../realtime/room-log.ts";
import { audienceOf, presentEventFor } from "../../realtime/visibility.ts";
import { listAnnotationViews } from "../annotations/annotations.service.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { loadPromptState } from "../prompts/prompts.service.ts";
import { isModerator, permissionsFor } from "./seminars.policy.ts";
import { listMemberViews, presentEssay, presentSeminar } from "./seminars.presenter.ts";
import { seminarSelect } from "./seminars.service.ts";

/** Who the snapshot is for. */
export interface Viewer {
  seminarId: string;
  memberId: string;
  role: MemberRole;
  displayName: string;
}

/**
 * The whole room at one sequence number, as `viewer` may see it. Read in one repeatable-read
 * transaction so that everything in it is as of `seq`.
 */
export async function buildSnapshot(
  context: AppContext,
  presence: Presence,
  viewer: Viewer,
): Promise<RoomSnapshot> {
  const publicUrl = context.config.publicUrl!;
  return context.prisma.$transaction(
    async (tx) => {
      const seminar = await tx.seminar.findUnique({ where: { id: viewer.seminarId }, select: seminarSelect });
      if (!seminar) throw fail.notFound("Seminar");
      // A frozen essay comes from memory (it never changes); a draft's is read each time.
      const essay =
        (await frozenEssay(tx, seminar.id))?.view ??
        (await tx.essay
          .findUnique({
            where: { seminarId: seminar.id },
            include: { paragraphs: { orderBy: { position: "asc" } } },
          })
          .then((found) => (found ? presentEssay(found) : undefined)));
      if (!essay) throw fail.notFound("Essay");
      const members = await listMemberViews(tx, seminar.id);
      const actor = { seminarId: seminar.id, memberId: viewer.memberId, role: viewer.role };
      const annotations = await listAnnotationViews(tx, seminar.id, actor);
      const prompts = await loadPromptState(tx, seminar.id, actor);
      return {
        seq: seminar.lastSeq,
        seminar: presentSeminar(seminar, { moderator: isModerator(viewer.role), publicUrl }),
        essay,
        members,
        presence: presence.list(seminar.id),
        annotations,
        prompts: prompts.prompts,
        tallies: prompts.tallies,
        myBallots: prompts.myBallots,
        viewer: {
          memberId: viewer.memberId,
          role: viewer.role,
          displayName: viewer.displayName,
          permissions: permissionsFor(actor, seminar),
        },
      };
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
  );
}

/**
 * What a (re)connecting client needs: the events after `since` in order, or a snapshot when it
 * has none, is ahead of the log (the database was restored) or missed more than maxCatchUpEvents.
 */
export async function syncRoom(
  context: AppContext,
  presence: Presence,
  viewer: Viewer,
  since: number | undefined,
): Promise<SyncView> {
  if (since !== undefined) {
    const caughtUp = await context.prisma.$transaction(
      async (tx) => {
        const seminar = await tx.seminar.findUnique({
          where: { id: viewer.seminarId },
          select: { lastSeq: true },
        });
        if (!seminar) throw fail.notFound("Seminar");
        if (since > seminar.lastSeq || seminar.lastSeq - since > LIMITS.maxCatchUpEvents) return null;
        const audience = audienceOf(viewer.role);
        const stored = await readEventsSince(tx, viewer.seminarId, since, LIMITS.maxCatchUpEvents);
        const events = stored.map((event) => presentEventFor(event, audience));
        const actor = { seminarId: viewer.seminarId, memberId: viewer.memberId, role: viewer.role };
        const { tallies } = await loadPromptState(tx, viewer.seminarId, actor);
        return { mode: "events" as const, seq: seminar.lastSeq, events, tallies };
      },
      { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 20_000 },
    );
    if (caughtUp) return caughtUp;
  }
  return { mode: "snapshot", snapshot: await buildSnapshot(context, presence, viewer) };
}
