/**
 * The transcript's own views (ballots with voters, stored tallies, moderation log rows, timeline
 * entries) and anonymisation of member ids. Everything the live room also shows comes from the
 * live room's presenters (presentAnnotationFor, presentMemberFor, presentEvent, presentTally);
 * this file only wraps them.
 */
import { createHmac } from "node:crypto";
import type {
  TimelineEntryView,
  TranscriptAnnotationView,
  TranscriptBallotView,
  TranscriptTallySnapshotView,
} from "../../protocol/transcripts.ts";
import type { RoomEventView } from "../../protocol/views.ts";
import { canReadHistory } from "../annotations/annotations.policy.ts";
import {
  type AnnotationRecord,
  presentAnnotationFor,
  presentRevision,
} from "../annotations/annotations.presenter.ts";
import type { RevisionRow } from "../annotations/annotations.service.ts";
import { presentTallySnapshot } from "../prompts/prompts.presenter.ts";
import type { NamedBallotRow, TallySnapshotRow } from "../prompts/prompts.service.ts";
import type { Viewer } from "../seminars/seminars.policy.ts";

/**
 * An annotation as `viewer` may see it (null: hidden from them), with its earlier versions when
 * the viewer may read them (moderators and its author, as GET …/history decides).
 */
export function presentTranscriptAnnotation(
  viewer: Viewer,
  row: AnnotationRecord,
  revisions: readonly RevisionRow[] | undefined,
): TranscriptAnnotationView | null {
  const view = presentAnnotationFor(viewer, row);
  if (!view) return null;
  if (!canReadHistory(viewer, row)) return view;
  return { ...view, revisions: (revisions ?? []).map(presentRevision) };
}

/** A named prompt's ballot with its voter (only ever read for viewers who may see voters). */
export function presentNamedBallot(row: NamedBallotRow): TranscriptBallotView {
  return {
    promptId: row.promptId,
    memberId: row.memberId,
    optionIds: [...row.optionIds].sort(),
    revision: row.revision,
    castAt: row.createdAt.toISOString(),
    changedAt: row.updatedAt.toISOString(),
  };
}

/** One stored tally of a prompt's history. */
export function presentStoredTally(row: TallySnapshotRow): TranscriptTallySnapshotView {
  return { promptId: row.promptId, ...presentTallySnapshot(row) };
}

/** A presented room event as a timeline entry. */
export const eventEntry = (event: RoomEventView): TimelineEntryView => ({
  kind: "event",
  at: event.at,
  event,
});

/** A stored tally as a timeline entry. */
export const tallyEntry = (tally: TranscriptTallySnapshotView): TimelineEntryView => ({
  kind: "tally",
  at: tally.takenAt,
  tally,
});

/**
 * Stable pseudonymous ids for a seminar's members: HMAC-SHA-256 of the member id under a key of
 * this seminar (itself an HMAC of the seminar id under the server's secret), shown as a version-8
 * UUID. The same member gets the same id in every download of this seminar's transcripts; the
 * same person in two seminars gets unrelated ids; without the secret the id cannot be traced
 * back. A new JWT_SECRET gives new ids.
 */
export function pseudonymousIds(
  secret: string,
  seminarId: string,
  memberIds: Iterable<string>,
): Map<string, string> {
  const key = createHmac("sha256", secret)
    .update(`stepstone transcript pseudonyms\u0000${seminarId}`)
    .digest();
  const ids = new Map<string, string>();
  for (const memberId of memberIds) {
    const bytes = createHmac("sha256", key).update(memberId).digest().subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x80;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    ids.set(
      memberId,
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    );
  }
  return ids;
}

/**
 * A copy of a presented view in which every string that is a member id is replaced by its
 * pseudonymous id (`ids`): member ids appear as fields of many views (authors, reactions, actors,
 * voters, targets), and replacing them by value catches every one of them, also in fields added
 * later. Only whole strings equal to a member id (a UUID) change, so the copy has the same shape.
 */
export function withPseudonymousIds<T>(value: T, ids: ReadonlyMap<string, string>): T {
  // Strings are replaced by strings and containers rebuilt with the same keys: the shape, and so
  // the type, is that of `value`.
  return replaceIds(value, ids) as T;
}

function replaceIds(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => replaceIds(item, ids));
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[ids.get(key) ?? key] = replaceIds(item, ids);
    return copy;
  }
  return value;
}
