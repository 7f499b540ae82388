/**
 * The moderation views, field by field: phases, the spotlight, the speaking queue and the
 * moderation log. The log is for moderators; callers decide who gets it (moderation.policy).
 */
import { z } from "zod";
import { PHASE_KINDS } from "../../protocol/moderation.ts";
import type {
  ModerationDetails,
  ModerationLogEntryView,
  PhaseKind,
  PhaseView,
  QueueEntryView,
  SpotlightView,
} from "../../protocol/views.ts";
import type { ModerationLogRow } from "./moderation.log.ts";
import { ROLES } from "./moderation.policy.ts";

/** A phase as stored. */
export interface PhaseRecord {
  id: string;
  kind: PhaseKind;
  title: string;
  startedAt: Date | null;
  deadlineAt: Date | null;
  endedAt: Date | null;
}

/** A phase of the session. */
export function presentPhase(phase: PhaseRecord): PhaseView {
  return {
    id: phase.id,
    kind: phase.kind,
    label: phase.title,
    startedAt: phase.startedAt?.toISOString() ?? null,
    deadline: phase.deadlineAt?.toISOString() ?? null,
    endedAt: phase.endedAt?.toISOString() ?? null,
  };
}

/** The spotlight of a seminar as stored (null: nothing spotlighted). */
export function presentSpotlight(seminar: {
  spotlightParagraphId: string | null;
  spotlightStart: number | null;
  spotlightEnd: number | null;
}): SpotlightView | null {
  if (seminar.spotlightParagraphId === null) return null;
  return {
    paragraphId: seminar.spotlightParagraphId,
    start: seminar.spotlightStart,
    end: seminar.spotlightEnd,
  };
}

/** A raised hand. */
export function presentQueueEntry(entry: { memberId: string; raisedAt: Date }): QueueEntryView {
  return { memberId: entry.memberId, raisedAt: entry.raisedAt.toISOString() };
}

const SpotlightDetails = z.object({
  paragraphId: z.string(),
  start: z.number().nullable(),
  end: z.number().nullable(),
});

/** What moderation.service stores in moderation_actions.details, read back field by field. */
export const StoredModerationDetails = z.object({
  until: z.string().nullable().optional(),
  from: z.enum(ROLES).optional(),
  to: z.enum(ROLES).optional(),
  seconds: z.number().optional(),
  spotlight: SpotlightDetails.nullable().optional(),
  phase: z
    .object({ kind: z.enum(PHASE_KINDS), label: z.string(), deadline: z.string().nullable() })
    .nullable()
    .optional(),
});

/** The details of a log row as a view (null when there are none, or they are not ours to read). */
export function presentModerationDetails(details: unknown): ModerationDetails | null {
  if (details === null || details === undefined) return null;
  const parsed = StoredModerationDetails.safeParse(details);
  if (!parsed.success) return null;
  const view: ModerationDetails = {};
  const { until, from, to, seconds, spotlight, phase } = parsed.data;
  if (until !== undefined) view.until = until;
  if (from !== undefined) view.from = from;
  if (to !== undefined) view.to = to;
  if (seconds !== undefined) view.seconds = seconds;
  if (spotlight !== undefined) view.spotlight = spotlight;
  if (phase !== undefined) view.phase = phase;
  return view;
}

/** One entry of the moderation log (moderators only). */
export function presentModerationEntry(row: ModerationLogRow): ModerationLogEntryView {
  return {
    id: row.id,
    action: row.action,
    actorId: row.actorId,
    targetMemberId: row.targetMemberId,
    targetAnnotationId: row.targetAnnotationId,
    reason: row.reason,
    details: presentModerationDetails(row.details),
    at: row.createdAt.toISOString(),
  };
}
