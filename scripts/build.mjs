// Builds what `npm start` runs: `node scripts/build.mjs` builds the server and then the web client
// (when client/ has one); `--server` builds the server only. `scripts/start.mjs` imports the
// functions below to build only when the sources changed.
//
// The server is bundled by esbuild: one self-contained ES module per program in dist/server/
// (dependencies stay in node_modules), which Node loads faster than a tree of files and which
// esbuild writes in a fraction of a second, so a stale build costs little at `npm start`. tsc
// only type-checks (`npm run typecheck`); esbuild strips types without checking them. The Prisma
// client generated into src/generated/ is TypeScript and is bundled like our own code.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the compiled server lives. Two levels below the root, like src/<folder>/, so paths the
 * code resolves from `import.meta.url` (`../../prisma/migrations`) are the same in both. */
export const SERVER_DIST = join(ROOT, "dist", "server");

/**
 * Every program of the server, bundled to `dist/server/<name>.js`; code they share and code they
 * import lazily (`await import(...)`) goes to `dist/server/chunk-<hash>.js`. Everything sits in one
 * folder, so paths resolved from `import.meta.url` mean the same in every file, and a worker thread
 * started with `new Worker(new URL("./<name>.js", import.meta.url))` finds its entry point: add
 * worker entry points here.
 */
export const ENTRY_POINTS = {
  main: "src/main.ts",
  migrate: "src/db/migrate.cli.ts",
  "embedded-template": "src/db/embedded-template.cli.ts",
  // The essay importer's worker thread (src/modules/essays/essay.pool.ts loads it beside the bundle).
  "essay.worker": "src/modules/essays/essay.worker.ts",
  // The embedded PostgreSQL's thread (src/db/embedded.ts starts it beside the bundle).
  "embedded.worker": "src/db/embedded.worker.ts",
  // Transcript export threads (src/modules/transcripts/transcript.exports.ts loads it the same way).
  "transcript.worker": "src/modules/transcripts/transcript.worker.ts",
};

/** Files the bundles read at run time from beside themselves. */
const ASSETS = [["src/db/demo-essay.md", "demo-essay.md"]];

const STAMP_FILE = join(SERVER_DIST, "build-stamp.json");
const TEMPLATE_DIR = join(SERVER_DIST, "embedded-template");

async function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

async function hashFiles(files, extra = "") {
  const hash = createHash("sha256").update(extra);
  for (const file of files) {
    hash.update(relative(ROOT, file).split(sep).join("/")).update("\0");
    hash.update(await readFile(file)).update("\0");
  }
  return hash.digest("hex");
}

function sourceFiles() {
  return listFiles(join(ROOT, "src")).then((files) => [
    ...files.filter((file) => !file.endsWith(".test.ts")),
    fileURLToPath(import.meta.url),
    join(ROOT, "tsconfig.json"),
  ]);
}

/** A hash of everything the bundles are made from: src/ (tests excluded), tsconfig and this script. */
async function sourceHash() {
  return hashFiles(await sourceFiles());
}

/**
 * A cheap fingerprint of the same files (names, sizes, modification times): when it matches the
 * stamp, the content hash is not needed. A checkout that rewrites files changes it, and then the
 * content hash decides.
 */
async function sourceFingerprint() {
  const files = await sourceFiles();
  const stats = await Promise.all(files.map((file) => stat(file)));
  const hash = createHash("sha256");
  for (const [i, file] of files.entries()) {
    hash.update(`${relative(ROOT, file)}\0${stats[i].size}\0${stats[i].mtimeMs}\n`);
  }
  return hash.digest("hex");
}

/** A hash of what the embedded template is made from: the migrations, the migrator and PGlite. */
async function templateHash() {
  const pglite = JSON.parse(
    await readFile(join(ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8"),
  ).version;
  return hashFiles(
    [
      ...(await listFiles(join(ROOT, "prisma", "migrations"))),
      join(ROOT, "src/db/embedded.ts"),
      join(ROOT, "src/db/embedded.worker.ts"),
      join(ROOT, "src/db/migrator.ts"),
    ],
    `pglite ${pglite}\n`,
  );
}

async function readStamp() {
  try {
    return JSON.parse(await readFile(STAMP_FILE, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * True when dist/server holds a build of the current sources. Without src/ (an image that ships
 * only the build) an existing build counts as current.
 */
export async function isServerBuildFresh() {
  const stamp = await readStamp();
  if (!stamp || !existsSync(join(SERVER_DIST, "main.js"))) return false;
  if (!existsSync(join(ROOT, "src"))) return true;
  const [fingerprint, template] = await Promise.all([sourceFingerprint(), templateHash()]);
  if (template !== stamp.template) return false;
  return fingerprint === stamp.fingerprint || (await sourceHash()) === stamp.source;
}

async function run(command, args) {
  const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
  const code = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
}

/**
 * Bundles the server into dist/server/, copies its assets and (when the migrations or PGlite
 * changed) rebuilds the embedded database template. Files are written under a temporary name and
 * renamed, so a concurrent reader sees the old file or the new one, never half of one.
 */
export async function buildServer({ log = (line) => console.log(line) } = {}) {
  const started = performance.now();
  const [source, fingerprint, template, previous] = await Promise.all([
    sourceHash(),
    sourceFingerprint(),
    templateHash(),
    readStamp(),
  ]);
  // esbuild is loaded only when there is something to build: a fresh start never pays for it.
  const { build, stop } = await import("esbuild");
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: SERVER_DIST,
    bundle: true,
    splitting: true,
    chunkNames: "chunk-[hash]",
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    write: false,
    logLevel: "warning",
  });
  // The build ran in esbuild's service process; `npm start` then runs the server in this process,
  // so end the service rather than leave it beside the server for its whole life.
  await stop();
  await mkdir(SERVER_DIST, { recursive: true });
  const writeAtomically = async (file, contents) => {
    const temporary = `${file}.tmp-${process.pid}`;
    await writeFile(temporary, contents);
    await rename(temporary, file);
  };
  await Promise.all(result.outputFiles.map((output) => writeAtomically(output.path, output.contents)));
  // Chunks are named by content hash; drop those the new build no longer refers to.
  const written = new Set(result.outputFiles.map((output) => output.path));
  const stale = (await readdir(SERVER_DIST)).filter(
    (name) => name.startsWith("chunk-") && !written.has(join(SERVER_DIST, name)),
  );
  await Promise.all(stale.map((name) => rm(join(SERVER_DIST, name), { force: true })));
  await Promise.all(
    ASSETS.map(async ([from, to]) =>
      writeAtomically(join(SERVER_DIST, to), await readFile(join(ROOT, from))),
    ),
  );
  log(`build: server bundled in ${Math.round(performance.now() - started)} ms`);

  if (previous?.template !== template || !existsSync(join(TEMPLATE_DIR, "PG_VERSION"))) {
    const templateStarted = performance.now();
    await run(process.execPath, [join(SERVER_DIST, "embedded-template.js"), TEMPLATE_DIR]);
    log(`build: embedded database template made in ${Math.round(performance.now() - templateStarted)} ms`);
  }
  await writeAtomically(STAMP_FILE, `${JSON.stringify({ source, fingerprint, template }, null, 2)}\n`);
}

/** Runs `npm run build:client` when the web client exists (client/package.json or its Vite config). */
async function buildClient({ log = (line) => console.log(line) } = {}) {
  const hasClient =
    existsSync(join(ROOT, "client", "package.json")) || existsSync(join(ROOT, "client", "vite.config.ts"));
  const scripts = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).scripts ?? {};
  if (!hasClient) return;
  if (!scripts["build:client"]) {
    log("build: client/ exists but package.json has no build:client script; skipped");
    return;
  }
  await run(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build:client"]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const serverOnly = process.argv.includes("--server");
  try {
    await buildServer();
    if (!serverOnly) await buildClient();
  } catch (error) {
    console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
