import { describe, expect, it } from "vitest";
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("runs on defaults in development, with the embedded database and demo seed", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      port: 3000,
      databaseUrl: undefined,
      seedDemo: true,
      dataDir: ".data",
    });
    expect(config.jwt.secret).toBe(DEVELOPMENT_JWT_SECRET);
  });

  it("names the variable of a bad value", () => {
    expect(() => loadConfig({ PORT: "seventy" })).toThrow(/^PORT: /);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/^DATABASE_URL: /);
    expect(() => loadConfig({ REDIS_URL: "http://x" })).toThrow(/^REDIS_URL: /);
    expect(() => loadConfig({ JWT_SECRET: "short" })).toThrow(/^JWT_SECRET: must be at least 32/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(ConfigError);
  });

  it("refuses to run in production without a secret of its own", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/^JWT_SECRET: must be set/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: DEVELOPMENT_JWT_SECRET })).toThrow(
      /^JWT_SECRET/,
    );
    const config = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "a-real-secret-a-real-secret-a-real-secret",
    });
    expect(config.production).toBe(true);
  });

  it("seeds the demo only on the embedded database unless asked", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://localhost/x" }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgresql://localhost/x", SEED_DEMO: "true" }).seedDemo).toBe(true);
  });

  it("bounds the shutdown drain window so a whole shutdown stays under 8 s", () => {
    expect(loadConfig({}).shutdownDrainMs).toBe(2_000);
    expect(loadConfig({ SHUTDOWN_DRAIN_MS: "0" }).shutdownDrainMs).toBe(0);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_MS: "5001" })).toThrow(/^SHUTDOWN_DRAIN_MS: /);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_MS: "-1" })).toThrow(/^SHUTDOWN_DRAIN_MS: /);
  });

  it("reads the metrics port, which has no default", () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9100" }).metricsPort).toBe(9100);
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(/^METRICS_PORT: /);
  });
});
