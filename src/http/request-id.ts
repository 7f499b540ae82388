import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

/**
 * What a caller's (or a proxy's) request id may look like to be kept: 1 to 128 letters, digits,
 * `_`, `-`, `.` or `:`. Anything else (too long, spaces, control characters that could forge a log
 * line) is replaced by a new id rather than refused: the id is for tracing, not a reason to fail.
 */
const ACCEPTED_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request's id: the caller's `X-Request-Id` when it is acceptable, else a new UUID (unique across nodes). */
export function requestIdFor(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * pino-http's `genReqId`: picks the request's id and echoes it in the response header, so a
 * client, a proxy and our logs all name the request the same way.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
