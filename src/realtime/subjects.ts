import type { PrismaClient, Tx } from "../db/client.ts";
import type { AnnotationRecord } from "../modules/annotations/annotations.presenter.ts";
import { readAnnotationRecords } from "../modules/annotations/annotations.service.ts";
import type { ModerationLogRow } from "../modules/moderation/moderation.log.ts";
import type { PhaseRecord } from "../modules/moderation/moderation.presenter.ts";
import { readModerationRows, readPhaseRecords } from "../modules/moderation/moderation.service.ts";
import { readPromptViews } from "../modules/prompts/prompts.service.ts";
import type { MemberRecord } from "../modules/seminars/seminars.presenter.ts";
import {
  getSeminar,
  readEssayView,
  readMemberRecords,
  type SeminarRecord,
} from "../modules/seminars/seminars.service.ts";
import type { EssayView, PromptView } from "../protocol/views.ts";
import type { StoredEvent } from "./room-facts.ts";

/**
 * The current state of what room events refer to: the only input, beside the fact and the viewer,
 * of the event presenters. Live delivery fills it from the rows the write left behind; catch-up
 * and transcripts read it from the database.
 */
export interface Subjects {
  seminar: SeminarRecord | null;
  essay: EssayView | null;
  members: Map<string, MemberRecord>;
  annotations: Map<string, AnnotationRecord>;
  prompts: Map<string, PromptView>;
  /** Moderation log rows, by id (moderation facts refer to theirs). */
  moderationActions: Map<string, ModerationLogRow>;
  phases: Map<string, PhaseRecord>;
}

/** Subjects a write already holds, recorded as it goes (RoomTx.known). */
export class SubjectCache implements Subjects {
  seminar: SeminarRecord | null = null;
  essay: EssayView | null = null;
  readonly members = new Map<string, MemberRecord>();
  readonly annotations = new Map<string, AnnotationRecord>();
  readonly prompts = new Map<string, PromptView>();
  readonly moderationActions = new Map<string, ModerationLogRow>();
  readonly phases = new Map<string, PhaseRecord>();

  /** Records an annotation as the write left it. */
  annotation(row: AnnotationRecord): void {
    this.annotations.set(row.id, row);
  }

  /** Records a member as the write left them. */
  member(row: MemberRecord): void {
    this.members.set(row.id, row);
  }

  /** Records a prompt as the write left it. */
  prompt(view: PromptView): void {
    this.prompts.set(view.id, view);
  }

  /** Records a moderation log row the write made. */
  moderation(row: ModerationLogRow): void {
    this.moderationActions.set(row.id, row);
  }

  /** Records a phase as the write left it. */
  phase(row: PhaseRecord): void {
    this.phases.set(row.id, row);
  }
}

/** The subjects a write records for live delivery. */
export type KnownSubjects = SubjectCache;

/** The ids each kind of subject the events refer to. */
function referencedIds(events: StoredEvent[]) {
  const annotations = new Set<string>();
  const members = new Set<string>();
  const prompts = new Set<string>();
  const actions = new Set<string>();
  const phases = new Set<string>();
  let seminar = false;
  let essay = false;
  for (const event of events) {
    switch (event.type) {
      case "member:joined":
      case "member:updated":
        members.add(event.fact.memberId);
        break;
      case "member:moderated":
        members.add(event.fact.memberId);
        actions.add(event.fact.actionId);
        break;
      case "room:locked":
      case "room:slow_mode":
      case "room:spotlight":
        actions.add(event.fact.actionId);
        break;
      case "room:phase":
        actions.add(event.fact.actionId);
        if (event.fact.phaseId) phases.add(event.fact.phaseId);
        break;
      case "room:phase_ended":
        phases.add(event.fact.phaseId);
        break;
      case "queue:updated":
        if (event.fact.actionId) actions.add(event.fact.actionId);
        break;
      case "seminar:started":
      case "seminar:ended":
      case "seminar:updated":
        seminar = true;
        break;
      case "essay:replaced":
        essay = true;
        break;
      case "annotation:created":
      case "annotation:updated":
      case "annotation:deleted":
      case "annotation:reacted":
        annotations.add(event.fact.annotationId);
        break;
      case "annotation:moderated":
        annotations.add(event.fact.annotationId);
        if (event.fact.actionId) actions.add(event.fact.actionId);
        break;
      case "prompt:created":
      case "prompt:updated":
      case "prompt:opened":
      case "prompt:closed":
      case "prompt:revealed":
        prompts.add(event.fact.promptId);
        break;
    }
  }
  return { annotations, members, prompts, actions, phases, seminar, essay };
}

/**
 * The subjects `events` refer to, as they are now: what `known` holds is taken as is, the rest is
 * read from the database (a query per kind, through each domain's service).
 */
export async function loadSubjects(
  db: PrismaClient | Tx,
  seminarId: string,
  events: StoredEvent[],
  known?: Subjects,
): Promise<Subjects> {
  const wanted = referencedIds(events);
  const missing = <T>(ids: Set<string>, have: Map<string, T> | undefined) =>
    [...ids].filter((id) => !have?.has(id));
  const [annotations, members, prompts, actions, phases, seminar, essay] = await Promise.all([
    readAnnotationRecords(db, seminarId, missing(wanted.annotations, known?.annotations)),
    readMemberRecords(db, seminarId, missing(wanted.members, known?.members)),
    readPromptViews(db, seminarId, missing(wanted.prompts, known?.prompts)),
    readModerationRows(db, seminarId, missing(wanted.actions, known?.moderationActions)),
    readPhaseRecords(db, seminarId, missing(wanted.phases, known?.phases)),
    wanted.seminar && !known?.seminar ? getSeminar(db, seminarId) : (known?.seminar ?? null),
    wanted.essay && !known?.essay ? readEssayView(db, seminarId) : (known?.essay ?? null),
  ]);
  return {
    seminar,
    essay,
    annotations: new Map([
      ...(known?.annotations ?? []),
      ...annotations.map((row) => [row.id, row] as const),
    ]),
    members: new Map([...(known?.members ?? []), ...members.map((row) => [row.id, row] as const)]),
    prompts: new Map([...(known?.prompts ?? []), ...prompts.map((view) => [view.id, view] as const)]),
    moderationActions: new Map([
      ...(known?.moderationActions ?? []),
      ...actions.map((row) => [row.id, row] as const),
    ]),
    phases: new Map([...(known?.phases ?? []), ...phases.map((row) => [row.id, row] as const)]),
  };
}

/**
 * Adds to `subjects` the members the events' presentations for participants refer to
 * (presenters.ts, presentForRoom): annotations' authors and who reacted, a reaction's member, a
 * raised hand. Those the subjects hold already (the acting member a write records) are not read.
 */
export async function loadReferencedMembers(
  db: PrismaClient | Tx,
  seminarId: string,
  events: StoredEvent[],
  subjects: Subjects,
): Promise<Subjects> {
  const wanted = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case "annotation:created":
      case "annotation:updated":
      case "annotation:deleted":
      case "annotation:moderated": {
        const row = subjects.annotations.get(event.fact.annotationId);
        if (!row) break;
        wanted.add(row.authorId);
        for (const reaction of row.reactions) wanted.add(reaction.memberId);
        break;
      }
      case "annotation:reacted":
        wanted.add(event.fact.memberId);
        break;
      case "queue:updated":
        if (event.fact.memberId) wanted.add(event.fact.memberId);
        break;
    }
  }
  const missing = [...wanted].filter((id) => !subjects.members.has(id));
  if (missing.length === 0) return subjects;
  const rows = await readMemberRecords(db, seminarId, missing);
  return {
    ...subjects,
    members: new Map([...subjects.members, ...rows.map((row) => [row.id, row] as const)]),
  };
}
