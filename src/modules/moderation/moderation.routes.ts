import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { ModerationLogQuery } from "../../protocol/moderation.ts";
import { Id } from "../../protocol/schemas.ts";
import type { ModerationLogEntryView } from "../../protocol/views.ts";
import { resolveMember } from "../seminars/seminars.service.ts";
import { presentModerationEntry } from "./moderation.presenter.ts";
import { readModerationLogPage } from "./moderation.service.ts";

/** The route parameters inherited from the mount point. */
const SeminarParams = z.object({
  /** The seminar whose moderation log is read. */
  seminarId: Id,
});

/**
 * The moderation log, mounted at /api/seminars/:seminarId/moderation-log, for the seminar's
 * moderators: GET / answers one page `{ items: ModerationLogEntryView[], nextCursor }`, oldest
 * first. Errors: unauthenticated, not_found (not a member), forbidden (not a moderator),
 * validation_failed (query).
 */
export function moderationRoutes(context: AppContext): Router {
  const router = Router({ mergeParams: true });
  router.get(
    "/",
    route(async (req): Promise<{ items: ModerationLogEntryView[]; nextCursor: string | null }> => {
      const claims = bearerClaims(req, context.tokens);
      const { seminarId } = parseInput(SeminarParams, req.params);
      const member = await resolveMember(context.prisma, claims, seminarId);
      const query = parseInput(ModerationLogQuery, req.query);
      const viewer = { seminarId: member.seminarId, memberId: member.id, role: member.role };
      const page = await readModerationLogPage(context.prisma, viewer, query);
      return { items: page.items.map(presentModerationEntry), nextCursor: page.nextCursor };
    }),
  );
  return router;
}
