import type { AppContext } from "../../context.ts";
import type { CommandHandlers } from "../../realtime/commands.ts";
import type { Realtime } from "../../realtime/server.ts";
import { presentAnnotation } from "./annotations.presenter.ts";
import {
  createAnnotation,
  deleteAnnotation,
  editAnnotation,
  moderateAnnotation,
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
  | "annotation:create"
  | "annotation:reply"
  | "annotation:edit"
  | "annotation:delete"
  | "annotation:react"
  | "annotation:hide"
  | "annotation:restore"
  | "annotation:pin"
  | "annotation:unpin"
  | "annotation:remove"
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
    // Moderators may see every annotation, so they are acked the full view.
    "annotation:hide": async (input, { actor }) =>
      presentAnnotation(await moderateAnnotation(realtime.rooms, actor, "hide", input)),
    "annotation:restore": async (input, { actor }) =>
      presentAnnotation(await moderateAnnotation(realtime.rooms, actor, "restore", input)),
    "annotation:pin": async (input, { actor }) =>
      presentAnnotation(await moderateAnnotation(realtime.rooms, actor, "pin", input)),
    "annotation:unpin": async (input, { actor }) =>
      presentAnnotation(await moderateAnnotation(realtime.rooms, actor, "unpin", input)),
    "annotation:remove": async (input, { actor }) =>
      presentAnnotation(await moderateAnnotation(realtime.rooms, actor, "remove", input)),
  };
}
