/**
 * The event presenters: one per stored fact type, in a registry. `presentEvent(event, viewer,
 * subjects)` is the only thing that turns a stored fact into what a viewer receives, for live
 * delivery, room:sync catch-up and transcripts alike; the rules stay in the domain policies and
 * presenters it calls.
 */
import { canSeeAnnotation, isHidden } from "../modules/annotations/annotations.policy.ts";
import { presentAnnotationFor } from "../modules/annotations/annotations.presenter.ts";
import { presentModerationEntry, presentPhase } from "../modules/moderation/moderation.presenter.ts";
import { isModerator, type Viewer } from "../modules/seminars/seminars.policy.ts";
import { presentMemberFor, presentSeminar } from "../modules/seminars/seminars.presenter.ts";
import type {
  ModerationLogEntryView,
  OmittedEventsView,
  RoomEventDataMap,
  RoomEventType,
  RoomEventView,
  RoomStreamEvent,
} from "../protocol/views.ts";
import type { RoomFactType, StoredEvent, StoredEventOf } from "./room-facts.ts";
import type { Subjects } from "./subjects.ts";

/** What a presenter needs besides the event: who looks, the current state, the public base URL. */
export interface PresentContext {
  viewer: Viewer;
  subjects: Subjects;
  publicUrl: string;
  /** memberId -> pseudonym, for anonymised viewers. */
  pseudonyms?: ReadonlyMap<string, string>;
}

type EventPresenter<K extends RoomFactType> = (
  event: StoredEventOf<K>,
  context: PresentContext,
) => RoomEventView;

/** The wire form of an event of wire type T. */
function wire<T extends RoomEventType>(
  event: { seq: number; at: Date; actorId: string | null },
  type: T,
  data: RoomEventDataMap[T],
): RoomEventView {
  const view = { seq: event.seq, type, at: event.at.toISOString(), actor: event.actorId, data };
  return view as RoomEventView;
}

function subject<T>(map: Map<string, T>, id: string, what: string): T {
  const found = map.get(id);
  if (found === undefined) throw new Error(`${what} ${id} of a room event is not loaded`);
  return found;
}

/** The moderation log entry of an action, for moderators only (null for everyone else). */
function logEntry(
  actionId: string | null | undefined,
  context: PresentContext,
): ModerationLogEntryView | null {
  if (!context.viewer.moderator || !actionId) return null;
  const row = context.subjects.moderationActions.get(actionId);
  return row ? presentModerationEntry(row) : null;
}

/** The reason of an action, for moderators only (the log row holds it). */
function moderatorReason(actionId: string, context: PresentContext): string | null {
  return logEntry(actionId, context)?.reason ?? null;
}

function phase(phaseId: string, context: PresentContext) {
  return presentPhase(subject(context.subjects.phases, phaseId, "Phase"));
}

function member(
  event: StoredEventOf<"member:joined" | "member:updated" | "member:moderated">,
  context: PresentContext,
) {
  const row = subject(context.subjects.members, event.fact.memberId, "Member");
  return presentMemberFor(context.viewer, row, context.pseudonyms);
}

function seminar(context: PresentContext) {
  if (!context.subjects.seminar) throw new Error("The seminar of a room event is not loaded");
  // The join code and link are for moderators in the room; an anonymised reader gets neither.
  return presentSeminar(context.subjects.seminar, {
    moderator: context.viewer.moderator && !context.viewer.anonymized,
    publicUrl: context.publicUrl,
  });
}

/** An annotation event, or annotation:withdrawn when the viewer may not see the annotation now. */
function annotationEvent<T extends "annotation:created" | "annotation:updated" | "annotation:deleted">(
  event: StoredEventOf<T>,
  context: PresentContext,
): RoomEventView {
  const row = context.subjects.annotations.get(event.fact.annotationId);
  const view = row ? presentAnnotationFor(context.viewer, row) : null;
  if (!view) return wire(event, "annotation:withdrawn", { annotationId: event.fact.annotationId });
  return wire(event, event.type, { annotation: view });
}

/** A prompt event, or prompt:deleted when its prompt has been deleted since (a draft). */
function promptEvent<
  T extends "prompt:created" | "prompt:updated" | "prompt:opened" | "prompt:closed" | "prompt:revealed",
>(event: StoredEventOf<T>, context: PresentContext): RoomEventView {
  const prompt = context.subjects.prompts.get(event.fact.promptId);
  if (!prompt) return wire(event, "prompt:deleted", { promptId: event.fact.promptId });
  return wire(event, event.type, { prompt });
}

/** One presenter per stored fact type. */
const PRESENTERS: { [K in RoomFactType]: EventPresenter<K> } = {
  "member:joined": (event, context) => wire(event, "member:joined", { member: member(event, context) }),
  "member:updated": (event, context) => wire(event, "member:updated", { member: member(event, context) }),
  "seminar:started": (event, context) => wire(event, "seminar:started", { seminar: seminar(context) }),
  "seminar:ended": (event, context) => wire(event, "seminar:ended", { seminar: seminar(context) }),
  "seminar:updated": (event, context) => wire(event, "seminar:updated", { seminar: seminar(context) }),
  "essay:replaced": (event, context) => {
    if (!context.subjects.essay) throw new Error("The essay of a room event is not loaded");
    return wire(event, "essay:replaced", { essay: context.subjects.essay });
  },
  "annotation:created": annotationEvent,
  "annotation:updated": annotationEvent,
  "annotation:deleted": annotationEvent,
  "annotation:reacted": (event, context) => {
    const row = context.subjects.annotations.get(event.fact.annotationId);
    if (!row || !canSeeAnnotation(context.viewer, row)) {
      return wire(event, "annotation:withdrawn", { annotationId: event.fact.annotationId });
    }
    const { annotationId, kind, memberId, active } = event.fact;
    return wire(event, "annotation:reacted", { annotationId, kind, memberId, active });
  },
  "annotation:moderated": (event, context) => {
    const row = context.subjects.annotations.get(event.fact.annotationId);
    const view = row ? presentAnnotationFor(context.viewer, row) : null;
    if (!row || !view) return wire(event, "annotation:withdrawn", { annotationId: event.fact.annotationId });
    const privileged = context.viewer.moderator || context.viewer.memberId === row.authorId;
    return wire(event, "annotation:moderated", {
      annotation: view,
      action: event.fact.action,
      reason: privileged ? event.fact.reason : null,
      log: logEntry(event.fact.actionId, context),
    });
  },
  "member:moderated": (event, context) => {
    // The member concerned learns why (a mute's reason); everyone else but moderators does not.
    const concerned = context.viewer.moderator || context.viewer.memberId === event.fact.memberId;
    const row = context.subjects.moderationActions.get(event.fact.actionId);
    return wire(event, "member:moderated", {
      member: member(event, context),
      action: event.fact.action,
      reason: concerned ? (row?.reason ?? null) : null,
      log: logEntry(event.fact.actionId, context),
    });
  },
  "room:locked": (event, context) =>
    wire(event, "room:locked", {
      locked: event.fact.locked,
      reason: moderatorReason(event.fact.actionId, context),
      log: logEntry(event.fact.actionId, context),
    }),
  "room:slow_mode": (event, context) =>
    wire(event, "room:slow_mode", {
      seconds: event.fact.seconds,
      reason: moderatorReason(event.fact.actionId, context),
      log: logEntry(event.fact.actionId, context),
    }),
  "room:spotlight": (event, context) =>
    wire(event, "room:spotlight", {
      spotlight: event.fact.spotlight,
      reason: moderatorReason(event.fact.actionId, context),
      log: logEntry(event.fact.actionId, context),
    }),
  "room:phase": (event, context) =>
    wire(event, "room:phase", {
      phase: event.fact.phaseId ? phase(event.fact.phaseId, context) : null,
      reason: moderatorReason(event.fact.actionId, context),
      log: logEntry(event.fact.actionId, context),
    }),
  "room:phase_ended": (event, context) =>
    wire(event, "room:phase_ended", { phase: phase(event.fact.phaseId, context) }),
  "queue:updated": (event, context) =>
    wire(event, "queue:updated", {
      action: event.fact.action,
      memberId: event.fact.memberId,
      raisedAt: event.fact.raisedAt,
      reason: event.fact.actionId ? moderatorReason(event.fact.actionId, context) : null,
      log: logEntry(event.fact.actionId, context),
    }),
  "prompt:created": promptEvent,
  "prompt:updated": promptEvent,
  "prompt:opened": promptEvent,
  "prompt:closed": promptEvent,
  "prompt:revealed": promptEvent,
  "prompt:deleted": (event) => wire(event, "prompt:deleted", { promptId: event.fact.promptId }),
};

/** A stored event as `context.viewer` receives it. */
export function presentEvent(event: StoredEvent, context: PresentContext): RoomEventView {
  return presentOne(event, context);
}

function presentOne<K extends RoomFactType>(event: StoredEventOf<K>, context: PresentContext): RoomEventView {
  const present: EventPresenter<K> = PRESENTERS[event.type];
  return present(event, context);
}

/**
 * A stored event as it enters `context.viewer`'s room stream (live delivery and room:sync
 * catch-up): presentEvent's view, except that a participant's or observer's state holds only the
 * members it refers to (room-state.ts, isReferencedMember). So for them a guest's first arrival is
 * omitted (room:omitted: the roster is the moderators'), and an event that refers to members
 * carries their views. Nothing is hidden that presentEvent shows: transcripts, which present the
 * record rather than a room state, keep every join.
 */
export function presentForRoom(event: StoredEvent, context: PresentContext): RoomStreamEvent {
  if (context.viewer.moderator) return presentEvent(event, context);
  if (isFirstArrivalOfGuest(event, context.subjects)) {
    return {
      seq: event.seq,
      type: "room:omitted",
      at: event.at.toISOString(),
      actor: null,
      data: { from: event.seq },
    };
  }
  const view = presentEvent(event, context);
  const ids = memberIdsOf(view);
  if (ids.length === 0) return view;
  const members = ids.map((id) =>
    presentMemberFor(context.viewer, subject(context.subjects.members, id, "Member"), context.pseudonyms),
  );
  return { ...view, members };
}

/** member:joined of a participant or observer arriving for the first time (not a return after a kick). */
function isFirstArrivalOfGuest(event: StoredEvent, subjects: Subjects): boolean {
  if (event.type !== "member:joined" || event.fact.rejoined) return false;
  return !isModerator(subject(subjects.members, event.fact.memberId, "Member").role);
}

/**
 * The members a presented event refers to besides a member it carries whole: an annotation's
 * author and who reacted, a new reaction's member, a raised hand (memberIdsOfFacts in subjects.ts
 * loads them).
 */
function memberIdsOf(view: RoomEventView): string[] {
  switch (view.type) {
    case "annotation:created":
    case "annotation:updated":
    case "annotation:deleted":
    case "annotation:moderated": {
      const { annotation } = view.data;
      return [...new Set([annotation.authorId, ...Object.values(annotation.reactions).flat()])];
    }
    case "annotation:reacted":
      return view.data.active ? [view.data.memberId] : [];
    case "queue:updated":
      return view.data.action === "raise" && view.data.memberId ? [view.data.memberId] : [];
    default:
      return [];
  }
}

/**
 * Merges consecutive omitted ranges of a stream (a join storm's arrivals become one entry per
 * message for participants, not one per guest).
 */
export function compactOmitted(events: RoomStreamEvent[]): RoomStreamEvent[] {
  const out: RoomStreamEvent[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (event.type === "room:omitted" && last?.type === "room:omitted" && event.data.from === last.seq + 1) {
      const merged: OmittedEventsView = { ...event, data: { from: last.data.from } };
      out[out.length - 1] = merged;
    } else {
      out.push(event);
    }
  }
  return out;
}

/**
 * Members who see an event differently from their audience's generic view: a participant who
 * wrote an annotation now hidden sees it, where other participants get annotation:withdrawn.
 */
export function privilegedMembers(event: StoredEvent, subjects: Subjects): string[] {
  // The member a moderator acted on is told the reason.
  if (event.type === "member:moderated") return [event.fact.memberId];
  if (!event.type.startsWith("annotation:")) return [];
  const id = "annotationId" in event.fact ? event.fact.annotationId : null;
  const row = id ? subjects.annotations.get(id) : undefined;
  return row && isHidden(row) ? [row.authorId] : [];
}
