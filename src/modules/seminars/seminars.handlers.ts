import type { AppContext } from "../../context.ts";
import { AppError, fail } from "../../errors.ts";
import { LIMITS } from "../../protocol/limits.ts";
import type { CommandHandlers } from "../../realtime/commands.ts";
import { type Realtime, roomOf } from "../../realtime/server.ts";
import { frozenEssay } from "../essays/essay.cache.ts";
import { assertRole } from "../moderation/rights.ts";
import { promptDeps } from "../prompts/prompts.handlers.ts";
import { closeOpenPrompts } from "../prompts/prompts.service.ts";
import { type Actor, isModerator } from "./seminars.policy.ts";
import { endSession, paragraphInSeminar, resolveMember, startSession } from "./seminars.service.ts";
import { syncRoom } from "./snapshot.ts";

/**
 * Ends the session after closing its open prompts (so their final tallies go out). A prompt
 * reopened in between makes endSession refuse; then the prompts are closed again (twice at most).
 * Once ended, participants' and observers' sockets are told `session_ended` and closed after a grace
 * period (LIMITS.endedRoomGraceMs; the room is read-only; moderators stay to review and download).
 */
export async function endSessionClosingPrompts(context: AppContext, realtime: Realtime, actor: Actor) {
  assertRole("end", actor);
  for (let attempt = 0; ; attempt++) {
    await closeOpenPrompts(promptDeps(context, realtime), actor);
    try {
      const event = await endSession(realtime.rooms, actor);
      realtime.notifier.closeRoomLater(
        roomOf.participants(actor.seminarId),
        "session_ended",
        LIMITS.endedRoomGraceMs,
      );
      return event;
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
export function seminarCommands(
  context: AppContext,
  realtime: Realtime,
): CommandHandlers<"room:sync" | "presence:focus" | "auth:refresh" | "seminar:start" | "seminar:end"> {
  // A snapshot reads the whole room: a member may ask for a few, not hundreds.
  const snapshots = context.rateLimits.create("snapshots", LIMITS.snapshotsPerMinute, 60);
  const node = { presence: realtime.presence, admission: realtime.admission };
  return {
    "room:sync": (input, { actor }) =>
      syncRoom(context, node, actor, input.since, () => snapshots.consume(actor.memberId)),

    "presence:focus": async (input, { actor }) => {
      // Only a block of this seminar's essay (from memory when frozen): another seminar's id is
      // not_found and nothing is broadcast.
      if (input.paragraphId !== null) {
        const essay = await frozenEssay(context.prisma, actor.seminarId);
        const known = essay
          ? essay.blocks.has(input.paragraphId)
          : await paragraphInSeminar(context.prisma, actor.seminarId, input.paragraphId);
        if (!known) throw fail.notFound("Paragraph");
      }
      await realtime.presence.focus(
        actor.seminarId,
        { id: actor.memberId, displayName: actor.displayName, moderator: isModerator(actor.role) },
        input.paragraphId,
      );
      return { paragraphId: input.paragraphId };
    },

    "auth:refresh": async (_input, { actor, socket }) => {
      // Decide again from the database: a member removed or changed since connecting gets no token.
      const claims =
        actor.accountId === null
          ? { kind: "guest" as const, sub: actor.memberId, sem: actor.seminarId, rv: actor.rightsVersion }
          : { kind: "moderator" as const, sub: actor.accountId };
      await resolveMember(context.prisma, claims, actor.seminarId);
      const issued = context.tokens.issue(claims);
      realtime.renewToken(socket, issued.expiresAt.getTime());
      return { token: issued.token, expiresAt: issued.expiresAt.toISOString() };
    },

    "seminar:start": async (_input, { actor }) => {
      const event = await startSession(realtime.rooms, actor);
      return { seq: event.seq };
    },

    "seminar:end": async (_input, { actor }) => {
      const event = await endSessionClosingPrompts(context, realtime, actor);
      return { seq: event.seq };
    },
  };
}
