/**
 * The threads of a paragraph as the panel lists them: visible roots (pinned first, then oldest
 * first) with their replies. Hidden annotations are gone for everyone but their author (the
 * server blanks them for the room); a deleted root stays as a tombstone only while it has
 * replies to hold together. Pure: no DOM.
 */
import type { AnnotationView } from "../../../../src/protocol/views.ts";

/** A root annotation and its replies, in order. */
export interface Thread {
  root: AnnotationView;
  replies: AnnotationView[];
}

const byTime = (a: AnnotationView, b: AnnotationView) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1;

/**
 * Whether the viewer sees this annotation at all: a hidden one only its author, and moderators
 * in the console (`seesHidden`), where it is marked.
 */
export function isShown(annotation: AnnotationView, viewerId: string, seesHidden = false): boolean {
  return !annotation.hidden || seesHidden || annotation.authorId === viewerId;
}

/** The threads on one paragraph (or on every paragraph when `paragraphId` is null). */
export function threadsOf(
  annotations: readonly AnnotationView[],
  paragraphId: string | null,
  viewerId: string,
  seesHidden = false,
): Thread[] {
  const replies = new Map<string, AnnotationView[]>();
  const roots: AnnotationView[] = [];
  for (const annotation of annotations) {
    if (paragraphId !== null && annotation.paragraphId !== paragraphId) continue;
    if (!isShown(annotation, viewerId, seesHidden)) continue;
    if (annotation.parentId) {
      const list = replies.get(annotation.parentId);
      if (list) list.push(annotation);
      else replies.set(annotation.parentId, [annotation]);
    } else {
      roots.push(annotation);
    }
  }
  const threads: Thread[] = [];
  for (const root of roots) {
    const list = (replies.get(root.id) ?? []).filter((reply) => !reply.deleted).sort(byTime);
    if (root.deleted && list.length === 0) continue;
    threads.push({ root, replies: list });
  }
  return threads.sort((a, b) =>
    a.root.pinned !== b.root.pinned ? (a.root.pinned ? -1 : 1) : byTime(a.root, b.root),
  );
}
