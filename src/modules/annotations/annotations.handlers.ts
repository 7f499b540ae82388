import type { AppContext } from "../../context.ts";
import {
  CreateAnnotationInput,
  DeleteAnnotationInput,
  EditAnnotationInput,
  ReactAnnotationInput,
  ReplyAnnotationInput,
} from "../../protocol/annotations.ts";
import { type Command, command, type Realtime } from "../../realtime/server.ts";
import { audienceOf } from "./annotations.policy.ts";
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
 * Each parses its payload (protocol/annotations.ts), calls the service, which writes and appends
 * the room event in one transaction, and acks the result as the sender may see it.
 */
export function annotationCommands(_context: AppContext, realtime: Realtime): Record<string, Command> {
  return {
    "annotation:create": command(CreateAnnotationInput, async (input, actor) =>
      presentAnnotation(await createAnnotation(realtime.rooms, actor, input), audienceOf(actor)),
    ),

    "annotation:reply": command(ReplyAnnotationInput, async (input, actor) =>
      presentAnnotation(await replyToAnnotation(realtime.rooms, actor, input), audienceOf(actor)),
    ),

    "annotation:edit": command(EditAnnotationInput, async (input, actor) =>
      presentAnnotation(await editAnnotation(realtime.rooms, actor, input), audienceOf(actor)),
    ),

    "annotation:delete": command(DeleteAnnotationInput, async (input, actor) =>
      presentAnnotation(await deleteAnnotation(realtime.rooms, actor, input), audienceOf(actor)),
    ),

    "annotation:react": command(ReactAnnotationInput, (input, actor) =>
      reactToAnnotation(realtime.rooms, actor, input),
    ),
  };
}
