import type { AppContext } from "../../context.ts";
import type { CommandHandlers } from "../../realtime/commands.ts";
import type { Realtime } from "../../realtime/server.ts";
import { presentAnnotation } from "./annotations.presenter.ts";
import {
  createAnnotation,
  deleteAnnotation,
  editAnnotation,
  reactToAnnotation,
  replyToAnnotation,
} from "./annotations.service.ts";

/**
 * annotation:create, annotation:reply, annotation:edit, annotation:delete, annotation:react.
 * Each calls the service, which writes and appends the room fact in one transaction, and acks
 * the stored annotation: the sender is its author, who may always see it.
 */
export function annotationCommands(
  _context: AppContext,
  realtime: Realtime,
): CommandHandlers<
  "annotation:create" | "annotation:reply" | "annotation:edit" | "annotation:delete" | "annotation:react"
> {
  return {
    "annotation:create": async (input, { actor }) =>
      presentAnnotation(await createAnnotation(realtime.rooms, actor, input)),
    "annotation:reply": async (input, { actor }) =>
      presentAnnotation(await replyToAnnotation(realtime.rooms, actor, input)),
    "annotation:edit": async (input, { actor }) =>
      presentAnnotation(await editAnnotation(realtime.rooms, actor, input)),
    "annotation:delete": async (input, { actor }) =>
      presentAnnotation(await deleteAnnotation(realtime.rooms, actor, input)),
    "annotation:react": (input, { actor }) => reactToAnnotation(realtime.rooms, actor, input),
  };
}
