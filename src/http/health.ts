import { Router } from "express";
import type { AppContext } from "../context.ts";
import type { PrismaClient } from "../db/client.ts";
import { isDatabaseUnavailable, UNAVAILABLE_RETRY_AFTER_MS } from "../errors.ts";
import type { Logger } from "../logger.ts";

/**
 * GET /healthz: the process is alive (no dependencies checked).
 * GET /readyz: 200 when the database answers within 2 s, else 503 `unavailable` with a retry
 * hint. The driver's own message is logged, never answered (it names hosts and ports).
 */
export function healthRoutes(prisma: PrismaClient, isShuttingDown: () => boolean, logger: Logger): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ ok: true, data: { status: "alive" } });
  });
  router.get("/readyz", async (_req, res) => {
    if (isShuttingDown()) {
      res.status(503).json({
        ok: false,
        error: {
          code: "unavailable",
          message: "Shutting down.",
          details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
        },
      });
      return;
    }
    try {
      await Promise.race([
        prisma.$queryRaw`SELECT 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 2 s")), 2_000).unref()),
      ]);
      res.json({ ok: true, data: { status: "ready", database: "up" } });
    } catch (error) {
      // A timeout of our own, or anything the driver says, means "not ready": never a 500 here.
      if (isDatabaseUnavailable(error)) logger.warn({ err: error }, "readiness: database unavailable");
      else logger.error({ err: error }, "readiness check failed");
      res.status(503).json({
        ok: false,
        error: {
          code: "unavailable",
          message: "The database is unreachable.",
          details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
        },
      });
    }
  });
  return router;
}

/**
 * GET /metrics: Prometheus text format. With METRICS_TOKEN set it requires
 * `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); without it, keep /metrics off the
 * public network (the compose load balancer does not route it).
 */
export function metricsRoute(context: AppContext): Router {
  const router = Router();
  router.get("/metrics", async (req, res) => {
    const token = context.config.metricsToken;
    if (token && req.get("authorization") !== `Bearer ${token}`) {
      res
        .status(401)
        .json({ ok: false, error: { code: "unauthenticated", message: "Metrics need the metrics token." } });
      return;
    }
    res.set("content-type", context.metrics.registry.contentType);
    res.send(await context.metrics.registry.metrics());
  });
  return router;
}
