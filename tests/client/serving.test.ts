/**
 * The server serves the built web client at its pages (/, the join link, the room) with the
 * right cache headers and a CSP that lets it run, and leaves the API, health, metrics and
 * Socket.IO paths as they were.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLIENT_DIST } from "../../src/http/client.ts";
import { startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

describe("serving the web client", () => {
  it("answers the participant's and the moderator's pages with index.html, revalidated each time", async () => {
    const id = "6f1c1b5e-8d2a-4a57-9c1e-6d1c9b1f0a11";
    const pages = ["/", "/join/ABC234", "/join/abc-234", `/room/${id}`];
    const moderatorPages = [
      "/signin",
      "/signup",
      "/seminars",
      "/seminars/new",
      `/seminars/${id}`,
      `/console/${id}`,
      `/projector/${id}`,
    ];
    for (const path of [...pages, ...moderatorPages]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      const html = await response.text();
      expect(html).toContain('<div id="app"></div>');
      expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    }
  });

  it("sends a CSP that allows the app's own scripts, styles and socket, and nothing inline", async () => {
    const response = await fetch(`${server.url}/`);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves hashed assets as immutable and the rest of the build revalidated", async () => {
    const assets = readdirSync(join(CLIENT_DIST, "assets"));
    // The entry script (the moderator's pages are smaller chunks, some below compression's threshold).
    const script = assets.find((name) => /^index-[\w-]+\.js$/.test(name))!;
    const asset = await fetch(`${server.url}/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const compressed = await fetch(`${server.url}/assets/${script}`, {
      headers: { "accept-encoding": "br, gzip" },
    });
    expect(compressed.headers.get("content-encoding")).toBe("br");
    expect(await compressed.text()).toBe(await asset.text());
    const icon = await fetch(`${server.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("leaves the API, health, metrics and Socket.IO paths alone", async () => {
    const json = await fetch(`${server.url}/healthz`, { headers: { "accept-encoding": "br, gzip" } });
    expect(json.headers.get("content-encoding")).toBeNull();
    const api = await server.http("GET", "/api/nothing-here");
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    const missingAsset = await server.http("GET", "/assets/nothing-here.js");
    expect(missingAsset.status).toBe(404);
    expect(missingAsset.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    const other = await server.http("GET", "/nothing-here");
    expect(other.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({
      ok: true,
      data: { status: "alive" },
    });
    const readyz = await fetch(`${server.url}/readyz`);
    expect(readyz.headers.get("content-type")).toMatch(/json/);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get("content-type")).not.toMatch(/html/);
    const socket = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    expect(socket.status).toBe(200);
    expect(await socket.text()).toMatch(/^0\{"sid"/);
  });
});
