import { Router } from "express";
import type { PrismaClient } from "../db/client.ts";

/**
 * GET /healthz: the process is alive (no dependencies checked).
 * GET /readyz: 200 when the database answers within 2 s, else 503 with the reason.
 */
export function healthRoutes(prisma: PrismaClient, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ ok: true, data: { status: "alive" } });
  });
  router.get("/readyz", async (_req, res) => {
    if (isShuttingDown()) {
      res.status(503).json({ ok: false, error: { code: "unavailable", message: "Shutting down." } });
      return;
    }
    try {
      await Promise.race([
        prisma.$queryRaw`SELECT 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 2 s")), 2_000).unref()),
      ]);
      res.json({ ok: true, data: { status: "ready", database: "up" } });
    } catch (error) {
      res.status(503).json({
        ok: false,
        error: { code: "unavailable", message: `Database unreachable: ${(error as Error).message}` },
      });
    }
  });
  return router;
}
