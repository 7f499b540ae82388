import { Router } from "express";
import type { AppContext } from "../../context.ts";
import type { Realtime } from "../../realtime/server.ts";

/** REST reads of annotations, mounted at /api/seminars/:seminarId/annotations. */
export function annotationRoutes(_context: AppContext, _realtime: Realtime): Router {
  return Router({ mergeParams: true });
}
