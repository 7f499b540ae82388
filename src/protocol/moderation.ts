/**
 * Moderation commands (members, room settings, phases, the speaking queue) and resuming a guest's
 * membership: their payload schemas, shared with the web client. Every moderator command takes an
 * optional `reason`, kept in the moderation log and shown to moderators (and to the member it
 * concerns). No Node, Express or Prisma imports here.
 */
import { z } from "zod";
import { ModerationReason } from "./annotations.ts";
import { LIMITS } from "./limits.ts";
import { Id, ResumeSecret, text } from "./schemas.ts";

const reason = {
  /** Why; kept in the moderation log, shown to moderators and to the member concerned. */
  reason: ModerationReason.optional(),
};

/** A payload that carries only an optional reason; it may be omitted entirely. */
export const ReasonInput = z.object(reason).strict().optional().default({});
export type ReasonInput = z.infer<typeof ReasonInput>;

/** member:unmute, member:kick, member:ban, member:unban: whom. */
export const MemberActionInput = z.object({
  /** The member of the moderator's seminar (another seminar's member is `not_found`). */
  memberId: Id,
  ...reason,
});
export type MemberActionInput = z.infer<typeof MemberActionInput>;

/** member:mute: whom, and for how long (omit the duration to mute until unmuted). */
export const MuteMemberInput = z.object({
  /** The member of the moderator's seminar. */
  memberId: Id,
  /** Seconds, 1 to 86,400 (a day); omitted: until a moderator unmutes them. */
  durationSeconds: z.number().int().min(1).max(LIMITS.muteMaxSeconds).optional(),
  ...reason,
});
export type MuteMemberInput = z.infer<typeof MuteMemberInput>;

/** The roles member:role can give (the host is the seminar's owner and stays so). */
export const ASSIGNABLE_ROLES = ["co_moderator", "participant", "observer"] as const;

/**
 * member:role: the host gives a member another role, or appoints a moderator account (by e-mail)
 * as co-moderator. Exactly one of `memberId` and `email`.
 */
export const MemberRoleInput = z
  .object({
    /** A member of the seminar (a guest can be promoted to co-moderator for the session). */
    memberId: Id.optional(),
    /** A moderator account's e-mail: its membership is created (or changed) with `role`. */
    email: text().trim().toLowerCase().pipe(z.email().max(LIMITS.email.max)).optional(),
    /** The new role. */
    role: z.enum(ASSIGNABLE_ROLES),
    ...reason,
  })
  .refine((input) => (input.memberId === undefined) !== (input.email === undefined), {
    message: "give exactly one of memberId and email",
    path: ["memberId"],
  });
export type MemberRoleInput = z.infer<typeof MemberRoleInput>;

/** room:slow_mode: the least time between two posts of one participant (0 turns it off). */
export const SlowModeInput = z.object({
  /** Seconds, 0 to 600. */
  seconds: z.number().int().min(0).max(LIMITS.slowModeMaxSeconds),
  ...reason,
});
export type SlowModeInput = z.infer<typeof SlowModeInput>;

/**
 * room:spotlight: point the room at a paragraph, optionally at a span of it (code points, as
 * annotation selectors), or clear the spotlight with `paragraphId: null`.
 */
export const SpotlightInput = z
  .object({
    /** A block of the seminar's essay, or null to clear the spotlight. */
    paragraphId: Id.nullable(),
    /** First code point of the span (with `end`); omit both for the whole paragraph. */
    start: z.number().int().min(0).optional(),
    /** Just after the span's last code point; greater than `start`. */
    end: z.number().int().min(0).optional(),
    ...reason,
  })
  .refine((input) => (input.start === undefined) === (input.end === undefined), {
    message: "give both start and end, or neither",
    path: ["end"],
  })
  .refine((input) => input.start === undefined || input.end === undefined || input.start < input.end, {
    message: "start must be less than end",
    path: ["end"],
  })
  .refine((input) => input.paragraphId !== null || input.start === undefined, {
    message: "a cleared spotlight has no span",
    path: ["start"],
  });
export type SpotlightInput = z.infer<typeof SpotlightInput>;

/** What a phase of the session is for. */
export const PHASE_KINDS = ["reading", "discussion", "voting", "wrap_up", "custom"] as const;

/** A phase's label: trimmed, NFC, 1-200 code points. */
const PhaseLabel = text()
  .transform((value) => value.normalize("NFC").replace(/\s+/gu, " ").trim())
  .pipe(
    z
      .string()
      .min(1, "must not be empty")
      .refine((value) => [...value].length <= LIMITS.phaseLabel.max, "must be at most 200 characters"),
  );

/**
 * room:phase: start a phase (ending the current one), or `phase: null` to leave phases. With
 * `durationSeconds` the server sets the deadline and announces `room:phase_ended` when it passes.
 */
export const PhaseInput = z
  .object({
    /** reading, discussion, voting, wrap_up, custom; or null for none. */
    phase: z.enum(PHASE_KINDS).nullable(),
    /** The phase's name; required for `custom`, optional otherwise (a default name is used). */
    label: PhaseLabel.optional(),
    /** Seconds until the deadline, 1 to 21,600 (six hours); omitted: no deadline. */
    durationSeconds: z.number().int().min(1).max(LIMITS.phaseMaxSeconds).optional(),
    ...reason,
  })
  .refine((input) => input.phase !== "custom" || input.label !== undefined, {
    message: "a custom phase needs a label",
    path: ["label"],
  })
  .refine(
    (input) => input.phase !== null || (input.label === undefined && input.durationSeconds === undefined),
    {
      message: "leaving phases takes no label or duration",
      path: ["phase"],
    },
  );
export type PhaseInput = z.infer<typeof PhaseInput>;

/** queue:raise: the caller raises their hand (nothing else to say). */
export const QueueRaiseInput = z.object({}).strict().optional().default({});
export type QueueRaiseInput = z.infer<typeof QueueRaiseInput>;

/** queue:lower: lower a hand: one's own (no memberId), or, for moderators, anyone's. */
export const QueueLowerInput = z
  .object({
    /** Whose hand; omitted: the caller's own. */
    memberId: Id.optional(),
    ...reason,
  })
  .optional()
  .default({});
export type QueueLowerInput = z.infer<typeof QueueLowerInput>;

/** queue:call: give the floor to the first hand in the queue, or to a chosen member in it. */
export const QueueCallInput = z
  .object({
    /** A member whose hand is raised; omitted: the first in the queue. */
    memberId: Id.optional(),
    ...reason,
  })
  .optional()
  .default({});
export type QueueCallInput = z.infer<typeof QueueCallInput>;

/** POST /api/seminars/resume: a fresh token for the membership the secret belongs to. */
export const ResumeInput = z.object({
  /** Optional check: the seminar the secret is expected to belong to. */
  seminarId: Id.optional(),
  /** The resume secret the join answer gave. */
  secret: ResumeSecret,
});
export type ResumeInput = z.infer<typeof ResumeInput>;

/** POST /api/seminars/resume/revoke: make a resume secret useless from now on. */
export const RevokeResumeInput = z.object({
  /** The resume secret to revoke. */
  secret: ResumeSecret,
});
export type RevokeResumeInput = z.infer<typeof RevokeResumeInput>;

/** GET /api/seminars/:id/moderation-log query: pagination. */
export const ModerationLogQuery = z.object({
  /** The `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(200).optional(),
  /** Page size, 1-500 (default 200). */
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
export type ModerationLogQuery = z.infer<typeof ModerationLogQuery>;
