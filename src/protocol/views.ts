/**
 * What the server sends: the presented views. Presenters on the server build exactly these
 * shapes; nothing else reaches a client. No Node, Express or Prisma imports here.
 */

export type SeminarState = "draft" | "live" | "ended";
export type MemberRole = "host" | "co_moderator" | "participant" | "observer";
export type MemberStatus = "active" | "kicked" | "banned";
export type BlockKind = "heading" | "section_marker" | "caption" | "paragraph" | "quote" | "list_item";
export type PromptKind = "single_choice" | "multiple_choice" | "scale";
export type PromptState = "draft" | "open" | "closed";
export type ResultsVisibility = "live" | "after_close" | "moderators";
export type PhaseKind = "reading" | "discussion" | "voting" | "wrap_up" | "custom";
/** What a moderator did to a member (member:mute … member:role). */
export type MemberModeration = "mute" | "unmute" | "kick" | "ban" | "unban" | "role";
/** What happened in the speaking queue. */
export type QueueAction = "raise" | "lower" | "call" | "clear";

/** A seminar as its members and owner see it. */
export interface SeminarView {
  id: string;
  title: string;
  state: SeminarState;
  /** Present for moderators only. */
  joinCode?: string;
  joinUrl?: string;
  locked: boolean;
  slowModeSeconds: number;
  spotlightParagraphId: string | null;
  /** Participants and observers may download the transcript (moderators always may). */
  transcriptAccess: boolean;
  startedAt: string | null;
  endedAt: string | null;
  createdAt: string;
}

/** One block of the frozen essay. */
export interface ParagraphView {
  id: string;
  position: number;
  kind: BlockKind;
  level: number | null;
  text: string;
}

export interface EssayView {
  title: string;
  byline: string | null;
  dateline: string | null;
  language: string | null;
  frozen: boolean;
  paragraphs: ParagraphView[];
}

/** A member of a seminar, as the room sees them. */
export interface MemberView {
  id: string;
  displayName: string;
  role: MemberRole;
  status: MemberStatus;
  /** When they joined (ISO, milliseconds, UTC). The roster is ordered by joinedAt, then id. */
  joinedAt: string;
  /** Muted at the time this view was made: reads and votes, cannot post. */
  muted: boolean;
  /** When a timed mute ends (null: not muted, or muted until unmuted). */
  mutedUntil: string | null;
}

/**
 * Who is connected now and what they read. Ephemeral, not in the event log. It carries the name,
 * so that a participant's state, which holds only the members it refers to, can say who is here.
 */
export interface PresenceView {
  memberId: string;
  displayName: string;
  paragraphId: string | null;
}

/**
 * How many are present and where they read, beside the presence list. A participant or observer
 * of a large room (more present than the server lists by name) gets the moderators present as its
 * list and the rest only as these counts, so that entering a lecture hall does not cost everyone
 * the whole roster; moderators always get the whole list.
 */
export interface PresenceSummaryView {
  /** When presence was read (ms since the epoch, the presence store's clock): keep the newest. */
  at: number;
  /** Members present. */
  present: number;
  /** Present members per paragraph they read (paragraphs nobody reads left out), by paragraph id. */
  reading: { paragraphId: string; count: number }[];
  /** Whether the presence list names every present member (false: it names the moderators only). */
  complete: boolean;
}

/** W3C Web Annotation selectors of a highlight (offsets in Unicode code points). */
export interface SelectorView {
  start: number;
  end: number;
  exact: string;
  prefix: string;
  suffix: string;
}

/** An annotation or reply. A deleted one is a tombstone: body empty, deleted true. */
export interface AnnotationView {
  id: string;
  paragraphId: string;
  authorId: string;
  parentId: string | null;
  selector: SelectorView | null;
  body: string;
  tags: string[];
  version: number;
  /** Reaction kind -> member ids that reacted. */
  reactions: Record<string, string[]>;
  deleted: boolean;
  hidden: boolean;
  pinned: boolean;
  createdAt: string;
  editedAt: string | null;
}

export interface PromptOptionView {
  id: string;
  position: number;
  label: string;
  value: number | null;
}

export interface PromptView {
  id: string;
  position: number;
  kind: PromptKind;
  question: string;
  paragraphId: string | null;
  maxChoices: number;
  anonymous: boolean;
  resultsVisibility: ResultsVisibility;
  state: PromptState;
  revealed: boolean;
  options: PromptOptionView[];
  openedAt: string | null;
  closedAt: string | null;
}

/** A prompt's counts at a version. `version` only grows; drop anything older than what you show. */
export interface TallyView {
  promptId: string;
  version: number;
  /** optionId -> number of ballots that picked it. */
  counts: Record<string, number>;
  /** Number of ballots. */
  ballots: number;
  /** Named prompts, moderators only: optionId -> member ids. */
  voters?: Record<string, string[]>;
}

/** The viewer's own ballot on a prompt. */
export interface BallotView {
  promptId: string;
  optionIds: string[];
  clientBallotId: string;
  revision: number;
}

/** What the viewer may do now; the UI hides what would be refused (docs/moderation.md). */
export interface PermissionsView {
  /** Moderate annotations, members and the room. */
  moderate: boolean;
  /** Annotate and reply (false while muted). */
  annotate: boolean;
  vote: boolean;
  /** Raise a hand in the speaking queue. */
  raiseHand: boolean;
  /** Change members' roles (the host). */
  changeRoles: boolean;
}

/** The spotlighted paragraph, and span of it (code points; both null: the whole paragraph). */
export type SpotlightView = {
  paragraphId: string;
  start: number | null;
  end: number | null;
};

/** A phase of the session. Its deadline is the server's; room:phase_ended announces it. */
export interface PhaseView {
  id: string;
  kind: PhaseKind;
  label: string;
  startedAt: string | null;
  /** When it is due to end (null: no deadline). */
  deadline: string | null;
  /** When it ended: its deadline passed, or another phase replaced it (null: running). */
  endedAt: string | null;
}

/** A raised hand, in queue order. */
export interface QueueEntryView {
  memberId: string;
  raisedAt: string;
}

/** What a moderation action changed, by action (absent fields do not apply). Plain JSON. */
export type ModerationDetails = {
  /** member:mute: when the mute ends (null: until unmuted). */
  until?: string | null;
  /** member:role: the role before and after. */
  from?: MemberRole;
  to?: MemberRole;
  /** room:slow_mode: the interval in seconds. */
  seconds?: number;
  /** room:spotlight: what is spotlighted (null: cleared). */
  spotlight?: SpotlightView | null;
  /** room:phase: the phase started (null: phases left). */
  phase?: { kind: PhaseKind; label: string; deadline: string | null } | null;
};

/** One entry of the moderation log (moderators only). */
export interface ModerationLogEntryView {
  id: string;
  /** The command, for example member:mute or annotation:hide. */
  action: string;
  /** The moderator who acted. */
  actorId: string;
  targetMemberId: string | null;
  targetAnnotationId: string | null;
  reason: string | null;
  details: ModerationDetails | null;
  at: string;
}

/** The viewer's own place in the seminar. */
export interface ViewerView {
  memberId: string;
  role: MemberRole;
  displayName: string;
  permissions: PermissionsView;
}

/** The whole room at `seq`: what a joining client starts from. */
export interface RoomSnapshot {
  seq: number;
  seminar: SeminarView;
  essay: EssayView;
  /**
   * Moderators: every member. Participants and observers: the members their state refers to
   * (`isReferencedMember` in room-state.ts): the moderators, the viewer, the authors of the
   * annotations in it and who reacted to them, and the raised hands. Ordered by joinedAt, then id.
   */
  members: MemberView[];
  /** Who is here: everyone, or (a participant or observer of a large room) the moderators. */
  presence: PresenceView[];
  presenceSummary: PresenceSummaryView;
  annotations: AnnotationView[];
  prompts: PromptView[];
  tallies: TallyView[];
  myBallots: BallotView[];
  viewer: ViewerView;
  /** What the room is pointed at (null: nothing). */
  spotlight: SpotlightView | null;
  /** The current phase (null: none); it may have ended and wait for the next. */
  phase: PhaseView | null;
  /** Raised hands in the order they will be called. */
  queue: QueueEntryView[];
  /**
   * Moderators only: the newest LIMITS.moderationLogInSnapshot entries of the moderation log,
   * oldest first; later entries arrive in the `log` field of moderation events.
   */
  moderationLog?: ModerationLogEntryView[];
}

/**
 * The data each room event carries, as presented to one viewer from the stored fact and the
 * current state of what it refers to (so catch-up shows later changes such as a deletion).
 */
export interface RoomEventDataMap {
  "member:joined": { member: MemberView };
  "member:updated": { member: MemberView };
  "seminar:started": { seminar: SeminarView };
  "seminar:ended": { seminar: SeminarView };
  "seminar:updated": { seminar: SeminarView };
  "essay:replaced": { essay: EssayView };
  "annotation:created": { annotation: AnnotationView };
  "annotation:updated": { annotation: AnnotationView };
  "annotation:deleted": { annotation: AnnotationView };
  "annotation:reacted": { annotationId: string; kind: string; memberId: string; active: boolean };
  /** A moderator's action; `reason` only for moderators and the annotation's author. */
  "annotation:moderated": {
    annotation: AnnotationView;
    action: "hide" | "restore" | "pin" | "unpin" | "remove";
    reason: string | null;
    /** Its moderation log entry, for moderators (null for others). */
    log: ModerationLogEntryView | null;
  };
  /**
   * A moderator muted, unmuted, kicked, banned, unbanned a member or changed their role; `member`
   * is as it is now. `reason` only for moderators and the member concerned; `log` for moderators.
   */
  "member:moderated": {
    member: MemberView;
    action: MemberModeration;
    reason: string | null;
    log: ModerationLogEntryView | null;
  };
  /** The room was locked (no new joins) or unlocked. */
  "room:locked": { locked: boolean; reason: string | null; log: ModerationLogEntryView | null };
  /** Slow mode changed: the least seconds between two posts of a participant (0: off). */
  "room:slow_mode": { seconds: number; reason: string | null; log: ModerationLogEntryView | null };
  /** The spotlight moved or was cleared; participants' clients follow unless they opted out. */
  "room:spotlight": {
    spotlight: SpotlightView | null;
    reason: string | null;
    log: ModerationLogEntryView | null;
  };
  /** A phase started (the previous one ended), or phases were left (`phase: null`). */
  "room:phase": { phase: PhaseView | null; reason: string | null; log: ModerationLogEntryView | null };
  /** The server's announcement that a phase's deadline passed (actor null). */
  "room:phase_ended": { phase: PhaseView };
  /**
   * The speaking queue changed: `raise` appends `memberId` (at `raisedAt`); `lower` and `call`
   * remove `memberId` (a call gives them the floor); `clear` empties it.
   */
  "queue:updated": {
    action: QueueAction;
    memberId: string | null;
    raisedAt: string | null;
    reason: string | null;
    log: ModerationLogEntryView | null;
  };
  /**
   * In place of any annotation event when the viewer may not see that annotation (now): drop it
   * (and its replies) from what you show. Never stored; it keeps every viewer's seq gap-free.
   */
  "annotation:withdrawn": { annotationId: string };
  "prompt:created": { prompt: PromptView };
  "prompt:updated": { prompt: PromptView };
  "prompt:opened": { prompt: PromptView };
  "prompt:closed": { prompt: PromptView };
  "prompt:revealed": { prompt: PromptView };
  /**
   * A draft prompt was deleted; it also stands in for an earlier prompt event whose prompt is gone
   * by the time it is presented (catch-up, transcripts). Drop the prompt from what you show.
   */
  "prompt:deleted": { promptId: string };
}

export type RoomEventType = keyof RoomEventDataMap;

/** One entry of a room's ordered event stream. */
export type RoomEventView = {
  [K in RoomEventType]: {
    seq: number;
    type: K;
    /** ISO time the event was stored. */
    at: string;
    /** Member id of who caused it, null for the system. */
    actor: string | null;
    data: RoomEventDataMap[K];
    /**
     * In a participant's or observer's stream only (never for moderators, never in transcripts):
     * the members the event refers to (an annotation's author and who reacted, a raised hand), as
     * they are now, since their state holds only the members it refers to. Upsert them.
     */
    members?: MemberView[];
  };
}[RoomEventType];

/**
 * In a participant's or observer's stream, in place of the events `data.from` to `seq` (inclusive),
 * which are not for them: guests arriving (member:joined of a first arrival; the roster is the
 * moderators'). Nothing to apply: the state is now at `seq`. Consecutive omitted events travel as
 * one entry. Never stored, never in transcripts; it keeps every viewer's stream gap-free.
 */
export interface OmittedEventsView {
  seq: number;
  type: "room:omitted";
  /** ISO time the last of them was stored. */
  at: string;
  actor: null;
  data: { from: number };
}

/** What a room stream carries: presented events, and omitted ranges (participants and observers). */
export type RoomStreamEvent = RoomEventView | OmittedEventsView;

/**
 * room:sync answer: the missed events in order (with the current tallies and presence, which are
 * not events), or a snapshot when too much was missed.
 */
export type SyncView =
  | {
      mode: "events";
      seq: number;
      events: RoomStreamEvent[];
      tallies: TallyView[];
      presence: PresenceView[];
      presenceSummary: PresenceSummaryView;
    }
  | { mode: "snapshot"; snapshot: RoomSnapshot };
