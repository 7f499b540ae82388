import { createServer, type Server as HttpServer } from "node:http";
import express from "express";
import helmet from "helmet";
import type { SerializedRequest, SerializedResponse } from "pino";
import { pinoHttp } from "pino-http";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import type { PrismaClient } from "./db/client.ts";
import { clientRoutes } from "./http/client.ts";
import { healthRoutes } from "./http/health.ts";
import { metricsOnMainPort } from "./http/metrics.ts";
import { RateLimits } from "./http/rate-limit.ts";
import { assignRequestId } from "./http/request-id.ts";
import { errorHandler, notFoundHandler, optionsHandler } from "./http/respond.ts";
import type { Logger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { accountRoutes } from "./modules/accounts/accounts.routes.ts";
import { TokenService } from "./modules/accounts/tokens.ts";
import { annotationCommands } from "./modules/annotations/annotations.handlers.ts";
import { annotationRoutes } from "./modules/annotations/annotations.routes.ts";
import { essayRoutes } from "./modules/essays/essays.routes.ts";
import { moderationCommands } from "./modules/moderation/moderation.handlers.ts";
import { moderationRoutes } from "./modules/moderation/moderation.routes.ts";
import { PhaseTimers } from "./modules/moderation/phase-timers.ts";
import { promptCommands } from "./modules/prompts/prompts.handlers.ts";
import { promptRoutes } from "./modules/prompts/prompts.routes.ts";
import { stopTallies } from "./modules/prompts/tallies.ts";
import { seminarCommands } from "./modules/seminars/seminars.handlers.ts";
import { seminarRoutes } from "./modules/seminars/seminars.routes.ts";
import { TranscriptExports } from "./modules/transcripts/transcript.exports.ts";
import { transcriptRoutes } from "./modules/transcripts/transcripts.routes.ts";
import { LIMITS } from "./protocol/limits.ts";
import { createRealtime, type Realtime } from "./realtime/server.ts";
import { connectRedis } from "./redis.ts";

/** Everything the process runs, built but not listening (tests listen on port 0). */
export interface Application {
  context: AppContext;
  app: express.Express;
  httpServer: HttpServer;
  realtime: Realtime;
  /** Transcript downloads (built on export threads when the database allows more connections). */
  transcripts: TranscriptExports;
  /** Sets the public base URL once the listening address is known (unless PUBLIC_URL set it). */
  setPublicUrl(url: string): void;
  /** Marks the node as leaving: /readyz answers 503 from now on; everything else still works. */
  beginShutdown(): void;
  /**
   * Stops accepting HTTP connections and resolves once the HTTP requests in flight have been
   * answered, or after `timeoutMs`; resolves with how many were still running then.
   */
  finishRequests(timeoutMs: number): Promise<number>;
  /** Marks the node as leaving and closes the sockets (see Realtime.close) and the HTTP server. */
  close(): Promise<void>;
}

/**
 * Builds the HTTP app, the Socket.IO server and every module on one HTTP server. With REDIS_URL it
 * first connects to Redis, loading the Redis client and the Socket.IO adapter only then: a single
 * node never loads them.
 */
export async function createApplication(options: {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  /**
   * The PostgreSQL that transcript export threads open their own connections to. Left out for the
   * embedded database (one session, the main connection's): exports then run on the main thread.
   */
  databaseUrl?: string;
}): Promise<Application> {
  const { config, prisma, logger } = options;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  let publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const context: AppContext = {
    config,
    prisma,
    logger,
    tokens: new TokenService(config.jwt),
    metrics: createMetrics(),
    redis,
    rateLimits: new RateLimits(redis?.client, config.redisPrefix),
    publicUrl: () => publicUrl,
  };
  let shuttingDown = false;
  // HTTP requests not yet answered (Socket.IO's own requests never reach Express), so a shutdown
  // can wait for them; `settled` wakes that wait.
  let inFlight = 0;
  let settled: (() => void) | undefined;

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.use((_req, res, next) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) settled?.();
    });
    next();
  });
  // Helmet's default CSP allows the built client (scripts, styles and sockets from 'self');
  // upgrade-insecure-requests is dropped so that a classroom server on plain HTTP (a LAN
  // address) can load its own scripts. TLS, where there is one, is the proxy's job.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(
    pinoHttp({
      logger,
      genReqId: assignRequestId,
      customProps: (req) => ({ requestId: req.id }),
      // What an operator follows a request by. Headers stay out of the log (tokens, cookies and
      // the client's details; redacting them cost more than the rest of the line).
      serializers: {
        req: (req: SerializedRequest) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: SerializedResponse) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
    }),
  );
  app.use((req, res, next) => {
    const stop = context.metrics.httpRequests.startTimer({ method: req.method });
    res.on("finish", () => stop({ status: `${Math.floor(res.statusCode / 100)}xx` }));
    next();
  });
  app.use(optionsHandler);
  app.use(express.json({ limit: LIMITS.maxHttpBodyBytes }));

  const httpServer = createServer(app);
  const realtime = createRealtime(httpServer, context);
  const phaseTimers = new PhaseTimers(prisma, realtime.rooms, logger);
  realtime.handle({
    ...seminarCommands(context, realtime),
    ...annotationCommands(context, realtime),
    ...promptCommands(context, realtime),
    ...moderationCommands(realtime, phaseTimers),
  });
  phaseTimers.start();

  app.use(healthRoutes(prisma, () => shuttingDown));
  app.use(metricsOnMainPort(context));
  app.use("/api/auth", accountRoutes(context));
  app.use("/api/essays", essayRoutes(context));
  app.use("/api/seminars/:seminarId/annotations", annotationRoutes(context, realtime));
  app.use("/api/seminars/:seminarId/prompts", promptRoutes(context, realtime));
  app.use("/api/seminars/:seminarId/moderation-log", moderationRoutes(context));
  const transcripts = new TranscriptExports({ databaseUrl: options.databaseUrl, prisma, logger });
  app.use("/api", transcriptRoutes(context, transcripts));
  app.use("/api/seminars", seminarRoutes(context, realtime));
  app.use(clientRoutes());
  app.use(notFoundHandler);
  app.use(errorHandler());

  return {
    context,
    app,
    httpServer,
    realtime,
    transcripts,
    setPublicUrl(url) {
      if (!config.publicUrl) publicUrl = url.replace(/\/$/, "");
    },
    beginShutdown() {
      shuttingDown = true;
    },
    async finishRequests(timeoutMs) {
      shuttingDown = true;
      // Node closes idle keep-alive connections here; busy ones close after their answer.
      if (httpServer.listening) httpServer.close();
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          settled = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
        settled = undefined;
      }
      httpServer.closeIdleConnections();
      return inFlight;
    },
    async close() {
      shuttingDown = true;
      phaseTimers.close();
      // Send and store the last tallies before the sockets close.
      await stopTallies(realtime);
      await realtime.close();
      if (httpServer.listening) {
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
      await transcripts.close();
      await redis?.close();
    },
  };
}
