/**
 * Annotation commands and their payload schemas, shared with the web client. Offsets are counted
 * in Unicode code points (an emoji or a CJK Extension B character counts once), as W3C Web
 * Annotation TextPositionSelector anchors are. No Node, Express or Prisma imports here.
 */
import { z } from "zod";
import { LIMITS } from "./limits.ts";
import { Id, text } from "./schemas.ts";
import type { AnnotationView, BlockKind } from "./views.ts";

/** The fixed set of reactions; each member toggles each kind at most once per annotation. */
export const REACTION_KINDS = ["agree", "disagree", "question", "insightful", "heart"] as const;

/** One reaction kind. */
export type ReactionKind = (typeof REACTION_KINDS)[number];

/** The essay blocks that can carry annotations (section markers cannot). */
export const ANNOTATABLE_BLOCK_KINDS = [
  "paragraph",
  "quote",
  "list_item",
  "caption",
  "heading",
] as const satisfies readonly BlockKind[];

/** Longest `clientId` a client may choose (characters). */
export const CLIENT_ID_MAX = 64;

const codePoints = (value: string) => [...value].length;

/** C0/C1 control characters other than tab (U+0009) and line feed (U+000A). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const FORBIDDEN_IN_BODY = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;

/**
 * A comment body: plain text, NFC, line ends turned into LF, trimmed, 1-4,000 code points; control
 * characters other than line feed and tab are rejected.
 */
export const AnnotationBody = text()
  .transform((value) => value.normalize("NFC").replace(/\r\n?/g, "\n").trim())
  .pipe(
    z
      .string()
      .refine((value) => codePoints(value) >= LIMITS.annotationBody.min, "must not be empty")
      .refine(
        (value) => codePoints(value) <= LIMITS.annotationBody.max,
        `must be at most ${LIMITS.annotationBody.max} characters`,
      )
      .refine(
        (value) => !FORBIDDEN_IN_BODY.test(value),
        "must not contain control characters other than newline and tab",
      ),
  );

/** One tag: trimmed, NFC, lower-cased, 1-32 code points of letters, digits, `_` and `-`. */
export const AnnotationTag = text()
  .transform((value) => value.trim().toLowerCase().normalize("NFC"))
  .pipe(
    z
      .string()
      .refine((value) => codePoints(value) >= 1, "must not be empty")
      .refine(
        (value) => codePoints(value) <= LIMITS.annotationTags.chars,
        `must be at most ${LIMITS.annotationTags.chars} characters`,
      )
      .refine((value) => /^[\p{L}\p{N}_-]*$/u.test(value), "may contain only letters, digits, _ and -"),
  );

/** Up to 8 tags, de-duplicated after normalisation (first occurrence kept). */
export const AnnotationTags = z
  .array(AnnotationTag)
  .max(LIMITS.annotationTags.max, `at most ${LIMITS.annotationTags.max} tags`)
  .transform((tags) => [...new Set(tags)]);

/** A client-chosen id that makes a retried create idempotent (per author). */
export const ClientId = text().min(1).max(CLIENT_ID_MAX);

/** Quoted text as the client saw it; compared with the paragraph after NFC normalisation. */
const QuoteText = text()
  .max(LIMITS.essaySourceChars)
  .transform((value) => value.normalize("NFC"));

/**
 * The span a highlight covers: W3C TextPositionSelector (start, end) plus TextQuoteSelector
 * (exact, prefix, suffix). The server checks all of them against the paragraph.
 */
export const SelectorInput = z
  .object({
    /** Offset of the first highlighted code point in the paragraph's text (0-based). */
    start: z.number().int().min(0),
    /** Offset just after the last highlighted code point; must be greater than `start`. */
    end: z.number().int().min(0),
    /** The highlighted text; must equal the paragraph's text between `start` and `end`. */
    exact: QuoteText.refine((value) => value.length > 0, "must not be empty"),
    /** Text just before the span (any length up to the paragraph start); must match if given. */
    prefix: QuoteText.optional(),
    /** Text just after the span (any length up to the paragraph end); must match if given. */
    suffix: QuoteText.optional(),
  })
  .refine((selector) => selector.start < selector.end, {
    message: "start must be less than end",
    path: ["end"],
  });
export type SelectorInput = z.infer<typeof SelectorInput>;

/** annotation:create: highlight a span of a paragraph (or the whole paragraph) and comment on it. */
export const CreateAnnotationInput = z.object({
  /** The paragraph of the seminar's essay; another seminar's paragraph is `not_found`. */
  paragraphId: Id,
  /** The highlighted span; omit for a comment on the whole paragraph. */
  selector: SelectorInput.optional(),
  /** The comment. */
  body: AnnotationBody,
  /** Optional tags. */
  tags: AnnotationTags.default([]),
  /** Makes a retry idempotent: the same author and clientId return the stored annotation. */
  clientId: ClientId.optional(),
});
export type CreateAnnotationInput = z.infer<typeof CreateAnnotationInput>;

/** annotation:reply: answer an annotation; the reply joins the thread of its root. */
export const ReplyAnnotationInput = z.object({
  /** The annotation answered; a reply to a reply is attached to the thread's root. */
  parentId: Id,
  /** The reply. */
  body: AnnotationBody,
  /** Optional tags. */
  tags: AnnotationTags.default([]),
  /** Makes a retry idempotent: the same author and clientId return the stored reply. */
  clientId: ClientId.optional(),
});
export type ReplyAnnotationInput = z.infer<typeof ReplyAnnotationInput>;

/** annotation:edit: replace the body (and tags) of one's own annotation; the old one is kept. */
export const EditAnnotationInput = z.object({
  /** The annotation to edit (the actor's own). */
  annotationId: Id,
  /** The new body. */
  body: AnnotationBody,
  /** The new tags; omit to keep the current ones. */
  tags: AnnotationTags.optional(),
  /** The version the edit is based on; when given and no longer current, the edit is a `conflict`. */
  version: z.number().int().min(1).optional(),
});
export type EditAnnotationInput = z.infer<typeof EditAnnotationInput>;

/** annotation:delete: delete one's own annotation, leaving a tombstone. */
export const DeleteAnnotationInput = z.object({
  /** The annotation to delete (the actor's own). */
  annotationId: Id,
});
export type DeleteAnnotationInput = z.infer<typeof DeleteAnnotationInput>;

/** annotation:react: toggle one's reaction of one kind on an annotation. */
export const ReactAnnotationInput = z.object({
  /** The annotation reacted to. */
  annotationId: Id,
  /** One of REACTION_KINDS. */
  kind: z.enum(REACTION_KINDS),
});
export type ReactAnnotationInput = z.infer<typeof ReactAnnotationInput>;

/** A moderator's reason for an action: plain text, NFC, trimmed, at most 500 code points. */
export const ModerationReason = text()
  .transform((value) => value.normalize("NFC").trim())
  .pipe(
    z
      .string()
      .refine(
        (value) => codePoints(value) <= LIMITS.moderationReason.max,
        `must be at most ${LIMITS.moderationReason.max} characters`,
      )
      .refine(
        (value) => !FORBIDDEN_IN_BODY.test(value),
        "must not contain control characters other than newline and tab",
      ),
  );

/** annotation:hide, annotation:restore, annotation:pin, annotation:unpin, annotation:remove. */
export const ModerateAnnotationInput = z.object({
  /** The annotation (or reply) of the moderator's seminar. */
  annotationId: Id,
  /** Why; shown to moderators and the annotation's author, kept in the moderation log. */
  reason: ModerationReason.optional(),
});
export type ModerateAnnotationInput = z.infer<typeof ModerateAnnotationInput>;

/** GET /api/seminars/:seminarId/annotations query: filters and pagination. */
export const ListAnnotationsQuery = z.object({
  /** Only annotations (and replies) on this paragraph. */
  paragraphId: Id.optional(),
  /** Only annotations written by this member. */
  authorId: Id.optional(),
  /** Only annotations carrying this tag (normalised like tags are). */
  tag: AnnotationTag.optional(),
  /** The `nextCursor` of the previous page. */
  cursor: text().min(1).max(200).optional(),
  /** Page size, 1-200 (default 50). */
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListAnnotationsQuery = z.infer<typeof ListAnnotationsQuery>;

/** A page of annotations; pass `nextCursor` back as `cursor` for the next one (null: no more). */
export interface AnnotationPage {
  items: AnnotationView[];
  nextCursor: string | null;
}

/** An earlier version of an annotation, as it read before an edit. */
export interface RevisionView {
  /** The version this text was (the current annotation has a higher one). */
  version: number;
  body: string;
  tags: string[];
  /** ISO time the version was replaced by the next one. */
  replacedAt: string;
}

/** GET …/annotations/:annotationId/history: the current version and the earlier ones, newest first. */
export interface AnnotationHistoryView {
  annotation: AnnotationView;
  revisions: RevisionView[];
}
