import { createServer, type Server as HttpServer } from "node:http";
import express from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import type { PrismaClient } from "./db/client.ts";
import { healthRoutes, metricsRoute } from "./http/health.ts";
import { errorHandler, notFoundHandler } from "./http/respond.ts";
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
import { LIMITS } from "./protocol/limits.ts";
import { createRealtime, type Realtime } from "./realtime/server.ts";

/** Everything the process runs, built but not listening (tests listen on port 0). */
export interface Application {
  context: AppContext;
  app: express.Express;
  httpServer: HttpServer;
  realtime: Realtime;
  /** Sets the public base URL once the listening address is known (unless PUBLIC_URL set it). */
  setPublicUrl(url: string): void;
  /** Marks the app as draining (readyz answers 503) and closes sockets and the HTTP server. */
  close(): Promise<void>;
}

/** Builds the HTTP app, the Socket.IO server and every module on one HTTP server. */
export function createApplication(options: {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
}): Application {
  const { config, prisma, logger } = options;
  let publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const context: AppContext = {
    config,
    prisma,
    logger,
    tokens: new TokenService(config.jwt),
    metrics: createMetrics(),
    publicUrl: () => publicUrl,
  };
  let shuttingDown = false;

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger,
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
    }),
  );
  app.use((req, res, next) => {
    const stop = context.metrics.httpRequests.startTimer({ method: req.method });
    res.on("finish", () => stop({ status: `${Math.floor(res.statusCode / 100)}xx` }));
    next();
  });
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
  app.use(metricsRoute(context));
  app.use("/api/auth", accountRoutes(context));
  app.use("/api/essays", essayRoutes(context));
  app.use("/api/seminars/:seminarId/annotations", annotationRoutes(context, realtime));
  app.use("/api/seminars/:seminarId/prompts", promptRoutes(context, realtime));
  app.use("/api/seminars/:seminarId/moderation-log", moderationRoutes(context));
  app.use("/api/seminars", seminarRoutes(context, realtime));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    context,
    app,
    httpServer,
    realtime,
    setPublicUrl(url) {
      if (!config.publicUrl) publicUrl = url.replace(/\/$/, "");
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
    },
  };
}
