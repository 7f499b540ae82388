// Runs `prisma generate` offline. Every Prisma CLI command first makes sure the schema engine binary
// exists and would otherwise try to download it; `generate` never executes it, so pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file is enough (see docs/ARCHITECTURE.md).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

let cli;
try {
  cli = require.resolve("prisma/build/index.js", { paths: [root] });
} catch {
  console.log("prisma-generate: the prisma CLI is not installed (production install?); skipping.");
  process.exit(0);
}

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
const configured = env.PRISMA_SCHEMA_ENGINE_BINARY;
if (!configured || !existsSync(configured)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = join(root, "package.json");
}

const result = spawnSync(process.execPath, [cli, "generate"], { cwd: root, env, stdio: "inherit" });
process.exit(result.status ?? 1);
