import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);

/** The package folder of `name` as Node resolves it from `fromDir` (walks up from its entry point). */
function packageDir(name: string, fromDir: string): string {
  let dir = dirname(require.resolve(name, { paths: [fromDir] }));
  while (!existsSync(join(dir, "package.json")) || readJson(join(dir, "package.json")).name !== name) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json for ${name}`);
    dir = parent;
  }
  return dir;
}

function readJson(path: string): { name: string; version: string } {
  return JSON.parse(readFileSync(path, "utf8")) as { name: string; version: string };
}

const atLeast = (version: number[], minimum: readonly number[]) => {
  for (let i = 0; i < 3; i++) {
    if (version[i] !== minimum[i]) return (version[i] ?? 0) > (minimum[i] ?? 0);
  }
  return true;
};

// The first versions free of the known advisories for the realtime transport:
// engine.io 6.6.7 (DoS via invalid binary POST, CVE-2026-59725), ws 8.17.1 (DoS via many headers,
// CVE-2024-37890), socket.io-parser 4.2.3 (unchecked attachment count, CVE-2023-32695).
describe("realtime transport dependencies", () => {
  const root = new URL("..", import.meta.url).pathname;
  const socketIo = packageDir("socket.io", root);
  const engineIo = packageDir("engine.io", socketIo);
  it.each([
    ["socket.io", socketIo, [4, 8, 0]],
    ["engine.io", engineIo, [6, 6, 7]],
    ["socket.io-parser", packageDir("socket.io-parser", socketIo), [4, 2, 3]],
    ["ws", packageDir("ws", engineIo), [8, 17, 1]],
  ] as const)("%s is at a version without known advisories", (name, dir, minimum) => {
    const version = readJson(join(dir, "package.json")).version.split(".").map(Number);
    expect(atLeast(version, minimum), `${name} ${version.join(".")} < ${minimum.join(".")}`).toBe(true);
  });
});
