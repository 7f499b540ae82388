import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = new URL("..", import.meta.url).pathname;
const compose = parse(readFileSync(`${root}docker-compose.yml`, "utf8"), { merge: true }) as {
  services: Record<string, Record<string, unknown>>;
  volumes: Record<string, unknown>;
};

type Service = {
  image?: string;
  build?: string;
  command?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
};
const service = (name: string) => compose.services[name] as Service;

/** docker-compose's own check runs only where it is installed; elsewhere vitest reports it skipped. */
const hasDockerCompose = !spawnSync("docker-compose", ["version"], { encoding: "utf8" }).error;

describe("docker-compose.yml", () => {
  it("has PostgreSQL, Redis, a one-shot migration, two app nodes and a load balancer, each with a health check", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "app1",
      "app2",
      "lb",
      "migrate",
      "postgres",
      "redis",
    ]);
    for (const name of ["postgres", "redis", "app1", "app2", "lb"]) {
      expect(service(name).healthcheck?.test.length, `${name} health check`).toBeGreaterThan(0);
    }
    expect(service("postgres").volumes).toContain("postgres-data:/var/lib/postgresql/data");
    expect(compose.volumes).toHaveProperty("postgres-data");
  });

  it("starts the apps only after the database is healthy and migrations have completed", () => {
    expect(service("migrate").command).toEqual(["node", "dist/server/migrate.js"]);
    expect(service("migrate").depends_on?.postgres?.condition).toBe("service_healthy");
    for (const name of ["app1", "app2"]) {
      const app = service(name);
      expect(app.depends_on?.migrate?.condition).toBe("service_completed_successfully");
      expect(app.depends_on?.postgres?.condition).toBe("service_healthy");
      expect(app.depends_on?.redis?.condition).toBe("service_healthy");
      expect(app.environment?.NODE_ENV).toBe("production");
      expect(app.environment?.DATABASE_URL).toMatch(/^postgresql:\/\/.+@postgres:5432\//);
      expect(app.environment?.REDIS_URL).toBe("redis://redis:6379");
      // Metrics on their own port, which the load balancer does not proxy.
      expect(app.environment?.METRICS_PORT).toBe("9100");
      // Production refuses a default secret, so compose must require one from the operator.
      expect(app.environment?.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    }
    expect(service("lb").depends_on?.app1?.condition).toBe("service_healthy");
  });

  it("builds an image that runs the compiled server with plain node", () => {
    const dockerfile = readFileSync(`${root}Dockerfile`, "utf8");
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/server\/main\.js"\]$/m);
    expect(finalStage).toContain("COPY --from=build /app/dist ./dist");
    expect(finalStage).toContain("--omit=dev");
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(finalStage).toContain("COPY --from=build /app/client/dist ./client/dist");
    expect(dockerfile).not.toMatch(/tsx/);
  });

  it.skipIf(!hasDockerCompose)(
    "is accepted by docker-compose's own schema check (skipped where docker-compose is not installed)",
    () => {
      const output = execFileSync("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
        cwd: root,
        env: { ...process.env, JWT_SECRET: "x".repeat(40) },
        encoding: "utf8",
      });
      expect(output.trim()).toBe("");
    },
  );
});
