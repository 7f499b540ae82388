import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts", "tests/client/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for what a browser or a socket shows; a second is too short on 2 cores.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    pool: "forks",
    // Each test file gets its own database, so files run in parallel safely.
    fileParallelism: true,
  },
});
