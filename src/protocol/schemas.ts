/**
 * zod schemas for every REST body and Socket.IO payload. Shared with the web client.
 * No Node, Express or Prisma imports here.
 */
import { z } from "zod";
import { JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH, LIMITS } from "./limits.ts";

/** Control characters and invisible format characters (bidi overrides, zero-width marks), except ZWJ in emoji. */
const FORBIDDEN_IN_NAMES = /[\p{Cc}\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]/u;

const codePoints = (value: string) => [...value].length;

/** PostgreSQL text cannot hold U+0000: refused here, so it is `validation_failed`, not `internal`. */
const hasNoNul = (value: string) => !value.includes("\u0000");
const NO_NUL = "must not contain NUL characters";

/** A UTF-16 surrogate on its own: with the `u` flag a surrogate pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * True when `value` is well-formed UTF-16 (no lone surrogate). A lone surrogate cannot be written
 * as UTF-8: PostgreSQL's JSON refuses it (`internal`) and text columns store U+FFFD instead.
 */
export const isWellFormed = (value: string) => !LONE_SURROGATE.test(value);
const NOT_WELL_FORMED = "must not contain unpaired UTF-16 surrogates";

/**
 * The start of every free-text field of the protocol (names, bodies, tags, titles, questions,
 * essays, e-mails): a string UTF-8 and PostgreSQL carry unchanged, so no lone surrogate and no NUL.
 * Add trimming, normalisation and limits after it.
 */
export const text = () => z.string().refine(isWellFormed, NOT_WELL_FORMED).refine(hasNoNul, NO_NUL);

/**
 * The start of secrets (passwords, tokens): well-formed like `text()`, but any other character is
 * allowed because a secret is hashed or verified, never stored as text.
 */
export const secret = () => z.string().refine(isWellFormed, NOT_WELL_FORMED);

/** A UUID id (every id in the API is one). */
export const Id = z.uuid();

/** A display name: trimmed, NFC, 1-40 code points, no control or bidi-override characters. */
export const DisplayName = text()
  .transform((value) => value.normalize("NFC").replace(/\s+/gu, " ").trim())
  .pipe(
    z
      .string()
      .refine((value) => codePoints(value) >= LIMITS.displayName.min, "must not be empty")
      .refine(
        (value) => codePoints(value) <= LIMITS.displayName.max,
        `must be at most ${LIMITS.displayName.max} characters`,
      )
      .refine(
        (value) => !FORBIDDEN_IN_NAMES.test(value),
        "must not contain control or invisible formatting characters",
      ),
  );

/** A join code as typed by a person: case-insensitive, spaces and dashes ignored. */
export const JoinCode = text()
  .max(32)
  .transform((value) => value.toUpperCase().replace(/[\s-]/g, ""))
  .pipe(
    z
      .string()
      .length(JOIN_CODE_LENGTH, `must be ${JOIN_CODE_LENGTH} characters`)
      .refine(
        (value) => [...value].every((char) => JOIN_CODE_ALPHABET.includes(char)),
        "is not a valid join code",
      ),
  );

// ---------------------------------------------------------------------------------------------
// Accounts

/** POST /api/auth/register */
export const RegisterInput = z.object({
  /** E-mail address; compared case-insensitively. */
  email: text().trim().toLowerCase().pipe(z.email().max(LIMITS.email.max)),
  /** 10-256 characters. */
  password: secret().min(LIMITS.password.min).max(LIMITS.password.max),
  /** Shown to the room when the moderator joins. */
  displayName: DisplayName,
});
export type RegisterInput = z.infer<typeof RegisterInput>;

/** POST /api/auth/login */
export const LoginInput = z.object({
  email: text()
    .max(LIMITS.email.max)
    .transform((value) => value.trim().toLowerCase()),
  password: secret().min(1).max(LIMITS.password.max),
});
export type LoginInput = z.infer<typeof LoginInput>;

// ---------------------------------------------------------------------------------------------
// Seminars and essays

/** The format of an essay's source text; `auto` lets the importer decide. */
export const EssayFormatInput = z.enum(["text", "markdown", "auto"]);

/** An essay as submitted (POST /api/essays/preview, and inside a seminar). */
export const EssayInput = z.object({
  /** Plain text or Markdown, at most 200,000 characters. */
  text: text().min(1).max(LIMITS.essaySourceChars),
  format: EssayFormatInput.default("auto"),
  /** Overrides the title the importer detects. */
  title: text().trim().min(1).max(LIMITS.seminarTitle.max).optional(),
});
export type EssayInput = z.infer<typeof EssayInput>;

/** When a prompt's counts are visible to participants. */
export const ResultsVisibility = z.enum(["live", "after_close", "moderators"]);

const PromptSettings = {
  /** The question, 1-500 characters. */
  question: text().trim().min(LIMITS.promptQuestion.min).max(LIMITS.promptQuestion.max),
  /** Optional paragraph (block id of this seminar's essay) the prompt points at; not allowed at seminar creation, where ids do not exist yet. */
  paragraphId: Id.optional(),
  /** Anonymous (default) or named ballots. */
  anonymous: z.boolean().default(true),
  resultsVisibility: ResultsVisibility.default("live"),
};
const OptionLabels = z
  .array(text().trim().min(LIMITS.promptOptionLabel.min).max(LIMITS.promptOptionLabel.max))
  .min(LIMITS.promptOptions.min)
  .max(LIMITS.promptOptions.max);

/** A prompt definition: single choice, multiple choice (with a limit) or an agreement scale. */
export const PromptInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("single_choice"), ...PromptSettings, options: OptionLabels }),
  z.object({
    kind: z.literal("multiple_choice"),
    ...PromptSettings,
    options: OptionLabels,
    /** The most options one ballot may pick (1..number of options). */
    maxChoices: z.number().int().min(1).max(LIMITS.promptOptions.max),
  }),
  z.object({
    kind: z.literal("scale"),
    ...PromptSettings,
    /** Lowest and highest value, for example 1 and 5. */
    min: z.number().int().min(-10).max(10).default(1),
    max: z.number().int().min(-10).max(10).default(5),
    /** Labels for the two ends, for example "Disagree" and "Agree". */
    minLabel: text().trim().max(LIMITS.promptOptionLabel.max).optional(),
    maxLabel: text().trim().max(LIMITS.promptOptionLabel.max).optional(),
  }),
]);
export type PromptInput = z.infer<typeof PromptInput>;

/** POST /api/seminars */
export const CreateSeminarInput = z.object({
  title: text().trim().min(LIMITS.seminarTitle.min).max(LIMITS.seminarTitle.max),
  essay: EssayInput,
  prompts: z.array(PromptInput).max(LIMITS.promptsPerSeminar).default([]),
});
export type CreateSeminarInput = z.infer<typeof CreateSeminarInput>;

/** A resume secret as handed out at join: 32 random bytes, base64url without padding. */
export const ResumeSecret = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "is not a resume secret");

/** POST /api/seminars/join */
export const JoinSeminarInput = z.object({
  code: JoinCode,
  displayName: DisplayName,
  /** Join to read along without writing. */
  asObserver: z.boolean().default(false),
  /**
   * The resume secret of an earlier membership in this seminar, if the client kept one: an active
   * member gets a fresh token as themselves, a kicked one comes back as themselves, a banned one
   * is refused. Another seminar's secret is ignored (a new membership is made).
   */
  resumeSecret: ResumeSecret.optional(),
});
export type JoinSeminarInput = z.infer<typeof JoinSeminarInput>;

// ---------------------------------------------------------------------------------------------
// Socket.IO payloads

/** A bearer token as sent (handshake or Authorization header): bounded before it is verified. */
export const BearerToken = secret().min(1).max(4096);

/** Socket handshake `auth`: the token, and for moderator tokens the seminar to enter. */
export const HandshakeAuth = z.object({
  token: BearerToken,
  seminarId: Id.optional(),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuth>;

/** room:sync: catch up after `since` (the last seq the client holds), or get a snapshot. */
export const RoomSyncInput = z.object({
  since: z.number().int().min(0).optional(),
});
export type RoomSyncInput = z.infer<typeof RoomSyncInput>;

/** presence:focus: the paragraph the member is reading (null: none). */
export const PresenceFocusInput = z.object({
  paragraphId: Id.nullable(),
});
export type PresenceFocusInput = z.infer<typeof PresenceFocusInput>;

/** An empty payload (commands that need no arguments). */
export const EmptyInput = z.object({}).strict().optional().default({});
