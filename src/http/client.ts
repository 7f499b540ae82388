import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import compression from "compression";
import express, { type RequestHandler, Router } from "express";

/** Where `npm run build:client` writes the web client. */
export const CLIENT_DIST = fileURLToPath(new URL("../../client/dist/", import.meta.url));

/**
 * The client's own pages: the join page, the join link and the reading room; the moderator's
 * sign-in and sign-up, seminar list, create page, seminar page, live console and projector view.
 * Only these answer
 * with index.html; every other unknown path keeps the JSON not_found envelope, so a mistyped
 * API route is never answered with a page.
 */
export const CLIENT_PAGES = [
  "/",
  "/join/:code",
  "/room/:seminarId",
  "/signin",
  "/signup",
  "/seminars",
  "/seminars/new",
  "/seminars/:seminarId",
  "/console/:seminarId",
  "/projector/:seminarId",
];

/**
 * Serves the built web client: hashed files under /assets/ as immutable for a year, other files
 * of the build (the icon) and index.html revalidated on every use, so a new build is picked up at
 * once; compressed (brotli or gzip, as the browser accepts) because phones on classroom Wi-Fi load
 * them. Without a build, the pages answer 503 with a line saying how to build it.
 */
export function clientRoutes(distDir: string = CLIENT_DIST): Router {
  const router = Router();
  // Only the client's files pass through here; the API and Socket.IO are not compressed by it.
  const compress = compression();
  const index = join(distDir, "index.html");

  const page: RequestHandler = (_req, res, next) => {
    if (!existsSync(index)) {
      res
        .status(503)
        .type("text/plain")
        .send("The web client is not built. Run `npm run build:client`, then reload.\n");
      return;
    }
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(index, (error) => {
      if (error) next(error);
    });
  };
  for (const path of CLIENT_PAGES) router.get(path, compress, page);

  router.use(
    "/assets",
    compress,
    express.static(join(distDir, "assets"), {
      index: false,
      immutable: true,
      maxAge: "365d",
      fallthrough: true,
    }),
  );
  router.use(
    express.static(distDir, {
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.setHeader("Cache-Control", "no-cache"),
    }),
  );
  return router;
}
