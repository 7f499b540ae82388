import { Router } from "express";
import type { AppContext } from "../../context.ts";
import type { Realtime } from "../../realtime/server.ts";

/** REST routes of prompts, mounted at /api/seminars/:seminarId/prompts. */
export function promptRoutes(_context: AppContext, _realtime: Realtime): Router {
  return Router({ mergeParams: true });
}
