import { type Request, Router } from "express";
import type { AppContext } from "../../context.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { Id } from "../../protocol/schemas.ts";
import type { Realtime } from "../../realtime/server.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import { resolveMember } from "../seminars/seminars.service.ts";
import { listTallyHistory, readOnePrompt, readPromptState } from "./prompts.service.ts";

/**
 * REST reads of prompts, mounted at /api/seminars/:seminarId/prompts (bearer token of a member:
 * a guest token of that seminar or a moderator's account token):
 * - GET /: every prompt, the tallies the caller may see and their own ballots (PromptStateView);
 * - GET /:promptId: the same for one prompt (`not_found` outside the seminar);
 * - GET /:promptId/history: the prompt's stored tallies by version (moderators only).
 * Changes go through the Socket.IO commands.
 */
export function promptRoutes(context: AppContext, _realtime: Realtime): Router {
  const router = Router({ mergeParams: true });

  // Decided per request from the database: the member must still be active in this seminar.
  const actorOf = async (req: Request): Promise<Actor> => {
    const seminarId = parseInput(Id, req.params.seminarId);
    const member = await resolveMember(context.prisma, bearerClaims(req, context.tokens), seminarId);
    return { seminarId: member.seminarId, memberId: member.id, role: member.role };
  };

  router.get(
    "/",
    route(async (req) => readPromptState(context.prisma, await actorOf(req))),
  );

  router.get(
    "/:promptId",
    route(async (req) => {
      const actor = await actorOf(req);
      return readOnePrompt(context.prisma, actor, parseInput(Id, req.params.promptId));
    }),
  );

  router.get(
    "/:promptId/history",
    route(async (req) => {
      const actor = await actorOf(req);
      return listTallyHistory(context.prisma, actor, parseInput(Id, req.params.promptId));
    }),
  );

  return router;
}
