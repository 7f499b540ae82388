/**
 * Transcripts: the download query, the seminar setting that opens them to participants, and the
 * shapes of the JSON transcript (docs/transcript.schema.json describes the same document).
 * Shared with the web client: no Node, Express or Prisma imports here.
 */
import { z } from "zod";
import type { RevisionView } from "./annotations.ts";
import type { TallySnapshotView } from "./prompts.ts";
import type {
  AnnotationView,
  BallotView,
  EssayView,
  MemberRole,
  MemberView,
  ModerationLogEntryView,
  PromptView,
  RoomEventView,
  SeminarView,
  TallyView,
} from "./views.ts";

/** The version of the JSON transcript's shape; raised on any incompatible change. */
export const TRANSCRIPT_SCHEMA_VERSION = 1;

/** The formats a transcript is downloaded in. */
export const TRANSCRIPT_FORMATS = ["json", "md", "csv", "jsonld", "zip"] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** The tables of the CSV format (one per download). */
export const TRANSCRIPT_TABLES = ["annotations", "ballots", "tallies", "timeline", "members"] as const;
export type TranscriptTable = (typeof TRANSCRIPT_TABLES)[number];

/** GET /api/seminars/:id/transcript query. */
export const TranscriptQuery = z
  .object({
    /** json (default), md, csv, jsonld or zip (every format in one archive). */
    format: z.enum(TRANSCRIPT_FORMATS).default("json"),
    /** "true": names replaced by stable pseudonyms and member ids by pseudonymous ids. */
    anonymized: z
      .enum(["true", "false"])
      .default("false")
      .transform((value) => value === "true"),
    /** CSV only: which table (annotations by default). */
    table: z.enum(TRANSCRIPT_TABLES).optional(),
  })
  .strict()
  .refine((query) => query.table === undefined || query.format === "csv", {
    message: "table applies to format=csv only",
    path: ["table"],
  });
export type TranscriptQuery = z.infer<typeof TranscriptQuery>;

/** PATCH /api/seminars/:id/settings: the settings to change (at least one). */
export const SeminarSettingsInput = z
  .object({
    /** Whether participants and observers may download the transcript (moderators always may). */
    transcriptAccess: z.boolean().optional(),
  })
  .strict()
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: "name at least one setting to change",
  });
export type SeminarSettingsInput = z.infer<typeof SeminarSettingsInput>;

/** An annotation in a transcript: its view, plus its earlier versions for moderators and its author. */
export interface TranscriptAnnotationView extends AnnotationView {
  /** Earlier versions, oldest first; present only for viewers who may read them. */
  revisions?: RevisionView[];
}

/** A named prompt's ballot, for viewers allowed to see who voted (prompts.policy canSeeVoters). */
export interface TranscriptBallotView {
  promptId: string;
  memberId: string;
  /** The options it picks now (sorted). */
  optionIds: string[];
  /** How many times it was written (1: never changed). */
  revision: number;
  /** When it was first cast and last changed (ISO). */
  castAt: string;
  changedAt: string;
}

/** One stored tally of a prompt's history. */
export interface TranscriptTallySnapshotView extends TallySnapshotView {
  promptId: string;
}

/** One entry of the timeline: a room event as the viewer receives it, or a stored tally. */
export type TimelineEntryView =
  | { kind: "event"; at: string; event: RoomEventView }
  | { kind: "tally"; at: string; tally: TranscriptTallySnapshotView };

/** Who the transcript was made for. */
export interface TranscriptViewerView {
  /** The requester (a pseudonymous id when anonymised). */
  memberId: string;
  role: MemberRole;
  moderator: boolean;
}

/** The JSON transcript (streamed in this key order). */
export interface TranscriptDocument {
  schemaVersion: typeof TRANSCRIPT_SCHEMA_VERSION;
  /** When the download started (ISO). */
  generatedAt: string;
  /** The room log runs to this sequence number; later events are not in the timeline. */
  asOfSeq: number;
  anonymized: boolean;
  viewer: TranscriptViewerView;
  seminar: SeminarView;
  essay: EssayView;
  /** The roster by join order. */
  members: MemberView[];
  /** Every prompt by position. */
  prompts: PromptView[];
  /** The current tallies the viewer may see (voters: moderators, named prompts). */
  tallies: TallyView[];
  /** The requester's own ballots (empty when anonymised). */
  myBallots: BallotView[];
  /** Named prompts' ballots, for moderators only (anonymous prompts never tie a ballot to anyone). */
  ballots: TranscriptBallotView[];
  /** Stored tallies by time, as far as the viewer could watch them. */
  tallyHistory: TranscriptTallySnapshotView[];
  /** Every annotation and reply the viewer may see, oldest first; deletions are tombstones. */
  annotations: TranscriptAnnotationView[];
  /** The moderation log: moderators only (null for everyone else). */
  moderationLog: ModerationLogEntryView[] | null;
  /** Room events and stored tallies merged by time. */
  timeline: TimelineEntryView[];
}
