import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { type AnnotationPage, ListAnnotationsQuery } from "../../protocol/annotations.ts";
import { Id } from "../../protocol/schemas.ts";
import type { Realtime } from "../../realtime/server.ts";
import { resolveMember } from "../seminars/seminars.service.ts";
import { audienceOf } from "./annotations.policy.ts";
import { presentAnnotation } from "./annotations.presenter.ts";
import { listAnnotations } from "./annotations.service.ts";

/** The route parameters inherited from the mount point. */
const SeminarParams = z.object({
  /** The seminar whose annotations are read. */
  seminarId: Id,
});

/**
 * REST reads of annotations, mounted at /api/seminars/:seminarId/annotations.
 * GET / (members of the seminar: guests with their guest token, moderators with their account
 * token): one page, filtered by paragraphId, authorId and tag, as `{ items, nextCursor }`.
 * Errors: unauthenticated, not_found (not a member of that seminar), validation_failed (query).
 */
export function annotationRoutes(context: AppContext, _realtime: Realtime): Router {
  const router = Router({ mergeParams: true });

  router.get(
    "/",
    route(async (req): Promise<AnnotationPage> => {
      const claims = bearerClaims(req, context.tokens);
      const { seminarId } = parseInput(SeminarParams, req.params);
      const member = await resolveMember(context.prisma, claims, seminarId);
      const query = parseInput(ListAnnotationsQuery, req.query);
      const viewer = { seminarId: member.seminarId, memberId: member.id, role: member.role };
      const page = await listAnnotations(context.prisma, viewer, query);
      const audience = audienceOf(viewer);
      return {
        items: page.items.map((row) => presentAnnotation(row, audience)),
        nextCursor: page.nextCursor,
      };
    }),
  );

  return router;
}
