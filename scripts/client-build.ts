/**
 * Builds the web client (client/ -> client/dist) when it is missing or older than its sources.
 *
 *   tsx scripts/client-build.ts --if-missing   # `npm start` (prestart): build once, then reuse
 *   tsx scripts/client-build.ts --if-stale     # the test run: rebuild when a source changed
 *
 * TEMPORARY for `npm start`: once the server runs compiled, `npm run build` builds the client
 * (`build:client`) and prestart goes away; the tests keep using `ensureClientBuild`.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const distIndex = join(root, "client/dist/index.html");
/** What the client bundle is made of: its own folder and the server code it imports. */
const sources = ["client/src", "client/index.html", "client/public", "client/vite.config.ts", "src/protocol"];
const sharedFiles = ["src/modules/essays/essay.text.ts", "package-lock.json"];

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** Whether client/dist is missing or older than any of its sources. */
export function isClientBuildStale(): boolean {
  if (!existsSync(distIndex)) return true;
  const built = statSync(distIndex).mtimeMs;
  return [...sources, ...sharedFiles].some((path) => newestChange(join(root, path)) > built);
}

/**
 * Builds the client with Vite when `mode` says so: "missing" builds only when there is no build,
 * "stale" also when a source is newer than it. Returns whether it built.
 */
export async function ensureClientBuild(mode: "missing" | "stale"): Promise<boolean> {
  const needed = mode === "missing" ? !existsSync(distIndex) : isClientBuildStale();
  if (!needed) return false;
  const { build } = await import("vite");
  await build({ configFile: join(root, "client/vite.config.ts"), logLevel: "warn" });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mode = process.argv.includes("--if-stale") ? "stale" : "missing";
  let vite = true;
  try {
    await import("vite");
  } catch {
    vite = false;
  }
  if (!vite) {
    if (!existsSync(distIndex))
      console.warn("client-build: vite is not installed (production install?); the web client is not built.");
    process.exit(0);
  }
  const built = await ensureClientBuild(mode);
  if (built) console.log("client-build: built the web client into client/dist");
}
