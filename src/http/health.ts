import { Router } from "express";
import type { PrismaClient } from "../db/client.ts";
import { UNAVAILABLE_RETRY_AFTER_MS } from "../errors.ts";
import { sendError } from "./respond.ts";

/** How long /readyz waits for the database before calling it unreachable. */
const READY_TIMEOUT_MS = 2_000;

/**
 * GET /healthz: the process is alive (no dependencies checked).
 * GET /readyz: 200 when the database answers within 2 s; 503 `unavailable` while the node shuts
 * down or when the database does not answer. The answer names no database detail (that goes to
 * the log, under the request's id).
 */
export function healthRoutes(prisma: PrismaClient, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ ok: true, data: { status: "alive" } });
  });
  router.get("/readyz", async (req, res) => {
    if (isShuttingDown()) {
      sendError(req, res, {
        code: "unavailable",
        message: "Shutting down.",
        details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
      });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        prisma.$queryRaw`SELECT 1`,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)),
            READY_TIMEOUT_MS,
          );
        }),
      ]);
      res.json({ ok: true, data: { status: "ready", database: "up" } });
    } catch (error) {
      req.log.warn({ err: error }, "readiness check: the database did not answer");
      sendError(req, res, {
        code: "unavailable",
        message: "The database is not reachable.",
        details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
      });
    } finally {
      clearTimeout(timer);
    }
  });
  return router;
}
