import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { posix } from "node:path";
import type { RequestHandler } from "express";
import type { AppContext } from "../context.ts";
import { sendError } from "./respond.ts";

/**
 * True for every spelling of `/metrics` that a router or proxy might treat as it: any letter case,
 * repeated or trailing slashes, dot segments, percent-encoding. The guard below matches on this,
 * not on Express's route matching, so no variant reaches the metrics without the token check.
 */
export function isMetricsPath(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is not a spelling of /metrics; keep the raw path.
  }
  const normalised = posix.normalize(decoded.replaceAll("\\", "/")).replace(/\/+$/, "");
  return normalised.toLowerCase() === "/metrics";
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
function hasMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

type MetricsAnswer = { status: 200; type: string; body: string } | { status: 401 | 404 };

async function answerMetrics(
  context: AppContext,
  method: string | undefined,
  authorization: string | undefined,
): Promise<MetricsAnswer> {
  if (method !== "GET" && method !== "HEAD") return { status: 404 };
  const token = context.config.metricsToken;
  if (token !== undefined && !hasMetricsToken(authorization, token)) return { status: 401 };
  const { registry } = context.metrics;
  return { status: 200, type: registry.contentType, body: await registry.metrics() };
}

/**
 * Every /metrics spelling on the main port. With METRICS_PORT set the metrics are not here at all
 * (404); otherwise they are served only when METRICS_TOKEN is set, and only to a request that
 * carries it (401 without). With neither variable they are off (404).
 */
export function metricsOnMainPort(context: AppContext): RequestHandler {
  return async (req, res, next) => {
    if (!isMetricsPath(req.path)) {
      next();
      return;
    }
    const { metricsPort, metricsToken } = context.config;
    const answer =
      metricsPort !== undefined || metricsToken === undefined
        ? ({ status: 404 } as const)
        : await answerMetrics(context, req.method, req.get("authorization"));
    if (answer.status === 200) res.type(answer.type).send(answer.body);
    else if (answer.status === 401) {
      sendError(req, res, { code: "unauthenticated", message: "Metrics need the metrics token." });
    } else sendError(req, res, { code: "not_found", message: "No such route." });
  };
}

/**
 * The metrics port's server (METRICS_PORT): answers GET /metrics (any spelling; the token too when
 * METRICS_TOKEN is set) and 404 to everything else. Not listening yet.
 */
export function createMetricsServer(context: AppContext): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const pending: Promise<MetricsAnswer> = isMetricsPath(path)
      ? answerMetrics(context, req.method, req.headers.authorization)
      : Promise.resolve({ status: 404 });
    pending
      .then((answer) => {
        res.statusCode = answer.status;
        if (answer.status === 200) {
          res.setHeader("content-type", answer.type);
          res.end(req.method === "HEAD" ? undefined : answer.body);
        } else res.end();
      })
      .catch((error: unknown) => {
        context.logger.error({ err: error }, "metrics failed");
        res.statusCode = 500;
        res.end();
      });
  });
}
