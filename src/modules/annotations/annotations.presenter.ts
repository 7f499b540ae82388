import type { AnnotationView, SelectorView } from "../../protocol/views.ts";
import { type AnnotationAudience, canSeeContent, isDeleted, isHidden } from "./annotations.policy.ts";

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
 * An annotation as `audience` may see it. A hidden one shows its body and tags only to moderators
 * and its author (others get body "" and tags [] with hidden: true); a deleted one is a tombstone
 * whose body and tags are already cleared in storage. The selector quotes the essay, which every
 * member sees, so it stays.
 */
export function presentAnnotation(
  annotation: AnnotationRecord,
  audience: AnnotationAudience,
): AnnotationView {
  const visible = canSeeContent(audience, annotation);
  return {
    id: annotation.id,
    paragraphId: annotation.paragraphId,
    authorId: annotation.authorId,
    parentId: annotation.parentId,
    selector: presentSelector(annotation),
    body: visible ? annotation.body : "",
    tags: visible ? [...annotation.tags] : [],
    version: annotation.version,
    reactions: presentReactions(annotation.reactions),
    deleted: isDeleted(annotation),
    hidden: isHidden(annotation),
    pinned: annotation.pinnedAt !== null,
    createdAt: annotation.createdAt.toISOString(),
    editedAt: annotation.editedAt?.toISOString() ?? null,
  };
}
