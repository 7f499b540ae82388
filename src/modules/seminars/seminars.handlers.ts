import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { RateLimit } from "../../http/rate-limit.ts";
import { LIMITS } from "../../protocol/limits.ts";
import { EmptyInput, PresenceFocusInput, RoomSyncInput } from "../../protocol/schemas.ts";
import { command, type Realtime } from "../../realtime/server.ts";
import { promptDeps } from "../prompts/prompts.handlers.ts";
import { closeOpenPrompts } from "../prompts/prompts.service.ts";
import type { Actor } from "./seminars.policy.ts";
import { endSession, resolveMember, startSession } from "./seminars.service.ts";
import { syncRoom } from "./snapshot.ts";

/**
 * Ends the session after closing its open prompts (so their final tallies go out). A prompt
 * reopened in between makes endSession refuse; then the prompts are closed again (twice at most).
 */
export async function endSessionClosingPrompts(context: AppContext, realtime: Realtime, actor: Actor) {
  for (let attempt = 0; ; attempt++) {
    await closeOpenPrompts(promptDeps(context, realtime), actor);
    try {
      return await endSession(realtime.rooms, actor, context.config.publicUrl!);
    } catch (error) {
      const reopened =
        error instanceof AppError && error.code === "conflict" && attempt < 2 && hasOpenPrompts(error);
      if (!reopened) throw error;
    }
  }
}

const hasOpenPrompts = (error: AppError) =>
  typeof error.details === "object" && error.details !== null && "openPrompts" in error.details;

/** room:sync, presence:focus, auth:refresh, seminar:start, seminar:end. */
export function seminarCommands(context: AppContext, realtime: Realtime) {
  const publicUrl = context.config.publicUrl!;
  const snapshots = new RateLimit(LIMITS.snapshotsPerMinute, 60);
  return {
    "room:sync": command(RoomSyncInput, async (input, actor) => {
      // A snapshot reads the whole room: a member may ask for a few, not hundreds.
      if (input.since === undefined) await snapshots.consume(actor.memberId);
      return syncRoom(context, realtime.presence, actor, input.since);
    }),

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
      const event = await endSessionClosingPrompts(context, realtime, actor);
      return { seq: event.seq };
    }),
  };
}
