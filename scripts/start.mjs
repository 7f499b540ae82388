// `npm start`: builds the server when dist/ is missing or older than the sources, then runs the
// compiled server in this same process. package.json runs it with `exec`, so the shell npm starts
// is replaced by this process: a SIGTERM or SIGINT sent to `npm start` (which npm passes on to its
// child) reaches the server itself, and nothing is left running when it stops.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildServer, isServerBuildFresh, SERVER_DIST } from "./build.mjs";

if (!(await isServerBuildFresh())) {
  console.log("stepstone: the build is missing or older than the sources; building it first");
  try {
    await buildServer();
  } catch (error) {
    console.error(`stepstone: build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
// Stack traces in logs point at src/ rather than at the bundle.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(join(SERVER_DIST, "main.js")).href);
