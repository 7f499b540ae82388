import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import type { AnnotationHistoryView, AnnotationPage } from "../../protocol/annotations.ts";
import { ListAnnotationsQuery } from "../../protocol/annotations.ts";
import { Id } from "../../protocol/schemas.ts";
import type { Realtime } from "../../realtime/server.ts";
import { viewerOf } from "../seminars/seminars.policy.ts";
import { resolveMember } from "../seminars/seminars.service.ts";
import { presentAnnotation, presentAnnotationFor, presentRevision } from "./annotations.presenter.ts";
import { listAnnotations, readAnnotationHistory } from "./annotations.service.ts";

/** The route parameters inherited from the mount point. */
const SeminarParams = z.object({
  /** The seminar whose annotations are read. */
  seminarId: Id,
});

/** GET …/:annotationId/history parameters. */
const HistoryParams = SeminarParams.extend({
  /** The annotation whose earlier versions are read. */
  annotationId: Id,
});

/**
 * REST reads of annotations, mounted at /api/seminars/:seminarId/annotations, for members of the
 * seminar (guests with their guest token, moderators with their account token).
 * GET / : one page, filtered by paragraphId, authorId and tag, as `{ items, nextCursor }`, by the
 * same visibility rule as the live room. Errors: unauthenticated, not_found, validation_failed.
 * GET /:annotationId/history : the current version and the earlier ones, for moderators and the
 * author. Errors: not_found (also when the viewer may not see it), forbidden (someone else's).
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
      const asViewer = viewerOf(viewer);
      return {
        items: page.items.flatMap((row) => presentAnnotationFor(asViewer, row) ?? []),
        nextCursor: page.nextCursor,
      };
    }),
  );

  router.get(
    "/:annotationId/history",
    route(async (req): Promise<AnnotationHistoryView> => {
      const claims = bearerClaims(req, context.tokens);
      const { seminarId, annotationId } = parseInput(HistoryParams, req.params);
      const member = await resolveMember(context.prisma, claims, seminarId);
      const viewer = { seminarId: member.seminarId, memberId: member.id, role: member.role };
      const { annotation, revisions } = await readAnnotationHistory(context.prisma, viewer, annotationId);
      return { annotation: presentAnnotation(annotation), revisions: revisions.map(presentRevision) };
    }),
  );

  return router;
}
