/**
 * REST requests that follow the server's retry hints, for the participant's and the moderator's
 * calls alike. A server that is busy (its admission gate is full, the database timed out) answers
 * `unavailable` with `details.retryAfterMs` and the HTTP `Retry-After` header, having done nothing:
 * the client waits that long and sends the same request again, a bounded number of times, before
 * it shows the refusal.
 */
import { type ErrorBody, type Result, retryAfterMs } from "../../../src/protocol/result.ts";

/** How many times a request answered `unavailable` with a retry hint is sent again. */
export const BUSY_RETRIES = 8;
/** A hint longer than this is not waited for: the refusal is shown at once (ms). */
export const LONGEST_HINT_MS = 30_000;

/** What a request that never reached the server answers. */
export const UNREACHABLE: ErrorBody = {
  code: "unavailable",
  message: "Cannot reach the server. Check your connection.",
};

/**
 * Runs `attempt`, and again after the wait `hint` reads from its answer, until an answer names
 * no wait (or one above LONGEST_HINT_MS) or BUSY_RETRIES retries were made; answers the last one.
 */
export async function followingHints<T>(
  attempt: () => Promise<T>,
  hint: (answer: T) => number | undefined,
): Promise<T> {
  for (let retries = 0; ; retries++) {
    const answer = await attempt();
    const wait = hint(answer);
    if (wait === undefined || wait > LONGEST_HINT_MS || retries >= BUSY_RETRIES) return answer;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
}

/** The wait an error body asks for when it is `unavailable` (ms), or undefined. */
export function busyHint(error: ErrorBody): number | undefined {
  return error.code === "unavailable" ? retryAfterMs(error) : undefined;
}

/** The wait an HTTP `Retry-After` header asks for (ms): delay-seconds or an HTTP date. */
export function retryAfterHeader(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A request's outcome: the successful response (its body unread), or the error it was refused with. */
export type Sent = { ok: true; response: Response } | { ok: false; error: ErrorBody; retryAfter?: number };

/** Sends once; a response that is not OK is read as the envelope's error (with its Retry-After). */
async function sendOnce(path: string, init: RequestInit): Promise<Sent> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, error: UNREACHABLE };
  }
  if (response.ok) return { ok: true, response };
  const retryAfter = retryAfterHeader(response.headers.get("retry-after"));
  try {
    const body = (await response.json()) as Result<unknown>;
    if (!body.ok) return { ok: false, error: body.error, retryAfter };
  } catch {
    // Not our envelope (a proxy's page): judged by its status below.
  }
  const code = response.status === 503 ? "unavailable" : "internal";
  return { ok: false, error: { code, message: `The server answered ${response.status}.` }, retryAfter };
}

/**
 * Sends a request, following the server's retry hints: an `unavailable` answer is sent again after
 * the wait its `details.retryAfterMs` (else its `Retry-After` header) names. The body must be one
 * that can be sent again (a string). A request that never reached the server is not repeated.
 */
export function send(path: string, init: RequestInit = {}): Promise<Sent> {
  return followingHints(
    () => sendOnce(path, init),
    (sent) =>
      sent.ok || sent.error.code !== "unavailable" ? undefined : (busyHint(sent.error) ?? sent.retryAfter),
  );
}

/** Sends a request (following retry hints) and reads the answer as the API's envelope. */
export async function fetchEnvelope<T>(path: string, init: RequestInit = {}): Promise<Result<T>> {
  const sent = await send(path, init);
  if (!sent.ok) return { ok: false, error: sent.error };
  try {
    return (await sent.response.json()) as Result<T>;
  } catch {
    return {
      ok: false,
      error: { code: "internal", message: `The server answered ${sent.response.status}.` },
    };
  }
}
