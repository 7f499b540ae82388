import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "./helpers/database.ts";
import { redisEnv } from "./helpers/redis.ts";

const root = new URL("..", import.meta.url).pathname;
const db = await useTestDatabase();

// Builds the application in a fresh process (nothing loaded by other tests) with the environment
// in APP_ENV, then prints which of the Redis packages Node has loaded. Both are CommonJS packages,
// so an import of either lands in the CommonJS module cache.
const PROBE = `
import { createRequire } from "node:module";
const root = process.cwd();
const { createApplication } = await import(root + "/src/app.ts");
const { buildConfig } = await import(root + "/src/config.ts");
const { createPrismaClient } = await import(root + "/src/db/client.ts");
const { createLogger } = await import(root + "/src/logger.ts");
const config = buildConfig({ JWT_SECRET: "probe-secret-probe-secret-probe-secret-1", ...JSON.parse(process.env.APP_ENV) });
const prisma = createPrismaClient(process.env.DATABASE_URL);
const app = await createApplication({ config, prisma, logger: createLogger({ logLevel: "silent" }) });
const packages = new Set();
for (const path of Object.keys(createRequire(root + "/").cache)) {
  const match = /node_modules\\/(ioredis|@socket\\.io\\/redis-adapter)\\//.exec(path);
  if (match) packages.add(match[1]);
}
await app.close();
await prisma.$disconnect();
console.log(JSON.stringify([...packages].sort()));
`;

async function loadedRedisPackages(env: Record<string, string>): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", PROBE],
    { cwd: root, env: { ...process.env, DATABASE_URL: db.url, APP_ENV: JSON.stringify(env) } },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as string[];
}

describe("the Redis client and the Socket.IO adapter", () => {
  it("are not loaded by a single node (no REDIS_URL), and are loaded with REDIS_URL", async () => {
    expect(await loadedRedisPackages({})).toEqual([]);
    expect(await loadedRedisPackages(redisEnv())).toEqual(["@socket.io/redis-adapter", "ioredis"]);
  }, 60_000);
});
