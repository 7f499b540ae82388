import type { AppContext } from "../../context.ts";
import { EmptyInput, PresenceFocusInput, RoomSyncInput } from "../../protocol/schemas.ts";
import { command, type Realtime } from "../../realtime/server.ts";
import { promptDeps } from "../prompts/prompts.handlers.ts";
import { closeOpenPrompts } from "../prompts/prompts.service.ts";
import { endSession, resolveMember, startSession } from "./seminars.service.ts";
import { syncRoom } from "./snapshot.ts";

/** room:sync, presence:focus, auth:refresh, seminar:start, seminar:end. */
export function seminarCommands(context: AppContext, realtime: Realtime) {
  const publicUrl = context.config.publicUrl!;
  return {
    "room:sync": command(RoomSyncInput, (input, actor) =>
      syncRoom(context, realtime.presence, actor, input.since),
    ),

    "presence:focus": command(PresenceFocusInput, async (input, actor) => {
      realtime.presence.focus(actor.seminarId, actor.memberId, input.paragraphId);
      return { paragraphId: input.paragraphId };
    }),

    "auth:refresh": command(EmptyInput, async (_input, actor, socket) => {
      // Decide again from the database: a member removed or changed since connecting gets no token.
      const claims =
        actor.accountId === null
          ? {
              kind: "guest" as const,
              sub: actor.memberId,
              sem: actor.seminarId,
              rv: socket.data.rightsVersion,
            }
          : { kind: "moderator" as const, sub: actor.accountId };
      await resolveMember(context.prisma, claims, actor.seminarId);
      const issued = context.tokens.issue(claims);
      realtime.renewToken(socket, issued.expiresAt.getTime());
      return { token: issued.token, expiresAt: issued.expiresAt.toISOString() };
    }),

    "seminar:start": command(EmptyInput, async (_input, actor) => {
      const event = await startSession(realtime.rooms, actor, publicUrl);
      return { seq: event.seq };
    }),

    "seminar:end": command(EmptyInput, async (_input, actor) => {
      await closeOpenPrompts(promptDeps(context, realtime), actor);
      const event = await endSession(realtime.rooms, actor, publicUrl);
      return { seq: event.seq };
    }),
  };
}
