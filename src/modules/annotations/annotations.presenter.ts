import type { RevisionView } from "../../protocol/annotations.ts";
import type { AnnotationView, SelectorView } from "../../protocol/views.ts";
import type { Viewer } from "../seminars/seminars.policy.ts";
import { canSeeAnnotation, isDeleted, isHidden } from "./annotations.policy.ts";

/** The stored fields an annotation view is built from (see `annotationSelect` in the service). */
export interface AnnotationRecord {
  id: string;
  paragraphId: string;
  authorId: string;
  parentId: string | null;
  startOffset: number | null;
  endOffset: number | null;
  quoteExact: string | null;
  quotePrefix: string | null;
  quoteSuffix: string | null;
  body: string;
  tags: string[];
  version: number;
  editedAt: Date | null;
  deletedAt: Date | null;
  hiddenAt: Date | null;
  pinnedAt: Date | null;
  createdAt: Date;
  /** In the order they were made (oldest first). */
  reactions: { memberId: string; kind: string }[];
}

/** The W3C position and quote selectors of a highlight; null for a whole-paragraph comment or a reply. */
export function presentSelector(annotation: AnnotationRecord): SelectorView | null {
  if (annotation.startOffset === null || annotation.endOffset === null || annotation.quoteExact === null)
    return null;
  return {
    start: annotation.startOffset,
    end: annotation.endOffset,
    exact: annotation.quoteExact,
    prefix: annotation.quotePrefix ?? "",
    suffix: annotation.quoteSuffix ?? "",
  };
}

/** Reactions as kind -> member ids, in the order they were made. */
export function presentReactions(reactions: AnnotationRecord["reactions"]): Record<string, string[]> {
  const byKind: Record<string, string[]> = {};
  for (const reaction of reactions) {
    const members = byKind[reaction.kind] ?? [];
    members.push(reaction.memberId);
    byKind[reaction.kind] = members;
  }
  return byKind;
}

/**
 * An annotation as `viewer` may see it, or null when they may not see it at all (hidden by a
 * moderator and the viewer is neither a moderator nor its author): the one presenter behind live
 * events, catch-up, snapshots, REST and transcripts. A deleted one is a tombstone whose body and
 * tags are already erased in storage. The selector quotes the essay, which every member sees.
 */
export function presentAnnotationFor(viewer: Viewer, annotation: AnnotationRecord): AnnotationView | null {
  return canSeeAnnotation(viewer, annotation) ? presentAnnotation(annotation) : null;
}

/** Every field of an annotation; only for a viewer who may see it (see presentAnnotationFor). */
export function presentAnnotation(annotation: AnnotationRecord): AnnotationView {
  return {
    id: annotation.id,
    paragraphId: annotation.paragraphId,
    authorId: annotation.authorId,
    parentId: annotation.parentId,
    selector: presentSelector(annotation),
    body: annotation.body,
    tags: [...annotation.tags],
    version: annotation.version,
    reactions: presentReactions(annotation.reactions),
    deleted: isDeleted(annotation),
    hidden: isHidden(annotation),
    pinned: annotation.pinnedAt !== null,
    createdAt: annotation.createdAt.toISOString(),
    editedAt: annotation.editedAt?.toISOString() ?? null,
  };
}

/** An earlier version of an annotation (kept when its author edited it). */
export function presentRevision(revision: {
  version: number;
  body: string;
  tags: string[];
  createdAt: Date;
}): RevisionView {
  return {
    version: revision.version,
    body: revision.body,
    tags: [...revision.tags],
    replacedAt: revision.createdAt.toISOString(),
  };
}
