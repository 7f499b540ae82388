/**
 * The result envelope shared by HTTP responses and Socket.IO acks, and the stable error codes.
 * This module is imported by the web client: no Node, Express or Prisma imports here.
 */

/** Every error code the API can answer with. Stable: clients switch on them. */
export const ERROR_CODES = [
  /** The payload, query or body did not match its schema; `details` lists the issues. */
  "validation_failed",
  /** No token, or a token that is expired, malformed or not ours. */
  "unauthenticated",
  /** The caller is known but their role or state does not allow this. */
  "forbidden",
  /** No such thing, or not within the caller's seminar. */
  "not_found",
  /** The change conflicts with what is stored (duplicate, stale version, wrong state). */
  "conflict",
  /** Too many requests or events; `details.retryAfterMs` says when to try again. */
  "rate_limited",
  /** The seminar has ended or its room is locked. */
  "room_closed",
  /** A dependency (the database) is unavailable; try again. */
  "unavailable",
  /** The payload is larger than allowed. */
  "payload_too_large",
  /** The body is not JSON in UTF-8, or uses a Content-Encoding we do not read (HTTP only). */
  "unsupported_media_type",
  /** Something went wrong on our side; it has been logged. */
  "internal",
] as const;

/** A stable, snake_case error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error half of the envelope. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** HTTP answers only: the request's id (also the X-Request-Id header), as found in the logs. */
  requestId?: string;
}

/**
 * The wait an `unavailable` or `rate_limited` answer asks for (`details.retryAfterMs`, ms), or
 * undefined when it names none. A client waits that long before sending the same request again.
 */
export function retryAfterMs(error: ErrorBody): number | undefined {
  const details = error.details;
  if (typeof details !== "object" || details === null || !("retryAfterMs" in details)) return undefined;
  return typeof details.retryAfterMs === "number" ? details.retryAfterMs : undefined;
}

/** What every Socket.IO ack and every HTTP response body is. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** The HTTP status each error code is answered with. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  room_closed: 423,
  unavailable: 503,
  internal: 500,
};
