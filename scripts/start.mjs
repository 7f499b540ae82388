// `npm start`: builds the server when dist/ is missing or older than the sources, then runs the
// compiled server in this same process. package.json runs it with `exec`, so the shell npm starts
// is replaced by this process: a SIGTERM or SIGINT sent to `npm start` (which npm passes on to its
// child) reaches the server itself, and nothing is left running when it stops.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildServer, isServerBuildFresh, SERVER_DIST } from "./build.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The newest modification time under `path` (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), stat.mtimeMs);
}

// The web client: rebuilt by scripts/client-build.ts (Vite) when its build is missing or older than
// client/ or the protocol it imports. Only looked at here (a stat walk of a few dozen files), so an
// unchanged client costs nothing at start; a production install without Vite serves what is built.
const clientIndex = join(ROOT, "client", "dist", "index.html");
const clientBuilt = existsSync(clientIndex) ? statSync(clientIndex).mtimeMs : 0;
const clientSources = ["client/src", "client/index.html", "client/public", "src/protocol"];
const tsxCli = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
if (clientSources.some((path) => newest(join(ROOT, path)) > clientBuilt) && existsSync(tsxCli)) {
  console.log("stepstone: building the web client");
  const built = spawnSync(
    process.execPath,
    [tsxCli, join(ROOT, "scripts", "client-build.ts"), "--if-stale"],
    {
      stdio: "inherit",
    },
  );
  if (built.status !== 0) {
    console.error("stepstone: the web client did not build");
    process.exit(1);
  }
}

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
