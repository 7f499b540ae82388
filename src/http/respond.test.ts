import { request } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildModerator } from "../../tests/helpers/factories.ts";
import { startTestServer } from "../../tests/helpers/server.ts";

const server = await startTestServer();
const errorLog = vi.spyOn(server.app.context.logger, "error");
afterEach(() => errorLog.mockClear());

/**
 * Sends a raw request (fetch would normalise the path and refuse some headers) and returns the
 * status, headers and body text.
 */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const login = JSON.stringify({ email: "someone@example.test", password: "not the password" });

describe("malformed HTTP requests answer typed 4xx envelopes, and log no error", () => {
  it.each([
    [
      "a JSON body in latin1",
      { "content-type": "application/json; charset=latin1" },
      login,
      415,
      "unsupported_media_type",
    ],
    [
      "an unknown Content-Encoding",
      { "content-type": "application/json", "content-encoding": "x-snappy" },
      login,
      415,
      "unsupported_media_type",
    ],
    ["malformed JSON", { "content-type": "application/json" }, '{"email": ', 400, "validation_failed"],
    [
      "a gzip header on a plain body",
      { "content-type": "application/json", "content-encoding": "gzip" },
      login,
      400,
      "validation_failed",
    ],
  ])("%s", async (_name, headers, body, status, code) => {
    const answer = await raw("POST", "/api/auth/login", headers, body);
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text)).toMatchObject({
      ok: false,
      error: { code, message: expect.any(String) },
    });
    expect(errorLog).not.toHaveBeenCalled();
  });

  it("answers a malformed % escape in a path parameter as a bad path, not as bad JSON", async () => {
    const { token } = await buildModerator(server);
    const answer = await raw("GET", "/api/seminars/%E0%A4%A", { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.text);
    expect(body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(body.error.message).toMatch(/path/);
    expect(body.error.message).not.toMatch(/JSON/);
    expect(errorLog).not.toHaveBeenCalled();
  });

  it("answers OPTIONS with 204 and no body, on known and unknown paths", async () => {
    for (const path of ["/api/seminars", "/api/auth/login", "/healthz", "/api/nothing"]) {
      const answer = await raw("OPTIONS", path);
      expect(answer.status, path).toBe(204);
      expect(answer.text, path).toBe("");
      expect(answer.headers["content-type"], path).toBeUndefined();
    }
  });
});
