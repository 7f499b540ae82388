import type { Tx } from "../../db/client.ts";
import type { AnnotationView } from "../../protocol/views.ts";
import type { Actor } from "../seminars/seminars.policy.ts";

/** The annotations of a seminar as `viewer` may see them, oldest first. */
export async function listAnnotationViews(
  _tx: Tx,
  _seminarId: string,
  _viewer: Actor,
): Promise<AnnotationView[]> {
  return [];
}
