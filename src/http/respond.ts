import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import { AppError, fail, fromZodError, toErrorBody } from "../errors.ts";
import type { TokenClaims, TokenService } from "../modules/accounts/tokens.ts";
import { type ErrorBody, HTTP_STATUS } from "../protocol/result.ts";
import { BearerToken } from "../protocol/schemas.ts";

/** Parses a body, query or params with its zod schema; a mismatch is `validation_failed`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/** Wraps a route whose function returns the data of a `{ ok: true, data }` answer. */
export function route<T>(run: (req: Request, res: Response) => Promise<T>, status = 200): RequestHandler {
  return async (req, res) => {
    const data = await run(req, res);
    res.status(status).json({ ok: true, data });
  };
}

/** Reads the bearer token of a request and verifies it. */
export function bearerClaims(req: Request, tokens: TokenService): TokenClaims & { expiresAt: number } {
  const header = req.get("authorization") ?? "";
  const token = BearerToken.safeParse(/^Bearer\s+(\S+)$/i.exec(header)?.[1]);
  if (!token.success) throw fail.unauthenticated();
  return tokens.verify(token.data);
}

/** The error bodies of the HTTP framework's own client errors (body-parser, path decoding), by `type`. */
const HTTP_ERROR_BODIES: Record<string, ErrorBody> = {
  "entity.too.large": { code: "payload_too_large", message: "The request body is too large." },
  "entity.parse.failed": { code: "validation_failed", message: "The request body is not valid JSON." },
  "charset.unsupported": {
    code: "unsupported_media_type",
    message: "The request body must be JSON in UTF-8 (Content-Type: application/json; charset=utf-8).",
  },
  "encoding.unsupported": {
    code: "unsupported_media_type",
    message: "Unsupported Content-Encoding; send the body as identity, gzip, deflate or br.",
  },
  "request.aborted": { code: "validation_failed", message: "The request body was not received completely." },
  "request.size.invalid": {
    code: "validation_failed",
    message: "The request body's length does not match its Content-Length.",
  },
};

/**
 * Maps a client error raised by Express (a bad % escape in a path parameter) or body-parser (an
 * http-errors 4xx with `expose`) to its
 * body: these say what was wrong with the request, so they are never `internal`. Undefined for
 * anything else (5xx framework errors are ours and stay `internal`).
 */
export function fromHttpError(error: unknown): ErrorBody | undefined {
  if (error instanceof AppError || typeof error !== "object" || error === null) return undefined;
  const { status, type, expose } = error as { status?: unknown; type?: unknown; expose?: unknown };
  // Express decodes path parameters with decodeURIComponent and marks the URIError as a 400.
  if (error instanceof URIError && status === 400) {
    return { code: "validation_failed", message: "The path contains a malformed % escape." };
  }
  if (typeof status !== "number" || status < 400 || status > 499 || expose !== true) return undefined;
  if (typeof type === "string" && HTTP_ERROR_BODIES[type]) return HTTP_ERROR_BODIES[type];
  if (status === 413) return HTTP_ERROR_BODIES["entity.too.large"];
  if (status === 415) return { code: "unsupported_media_type", message: "Unsupported media type." };
  return { code: "validation_failed", message: "The request is not valid." };
}

/**
 * An HTTP error answer: the envelope with the status of its code. Every HTTP error carries
 * `error.requestId` (also in the `X-Request-Id` header), the id an operator finds in the logs.
 */
export function sendError(req: Request, res: Response, body: ErrorBody): void {
  const error: ErrorBody & { requestId: string } = { ...body, requestId: String(req.id) };
  // A retryable refusal says when in HTTP's own terms too (whole seconds, rounded up).
  const retryAfterMs = (body.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfterMs === "number") res.set("Retry-After", String(Math.ceil(retryAfterMs / 1000)));
  res.status(HTTP_STATUS[body.code]).json({ ok: false, error });
}

/**
 * The one JSON error shape for every HTTP error, including body-parser and unknown routes.
 * Internal errors are logged at error level; an unavailable database at warn (it is not a bug).
 * `req.log` carries the request id, so the answer's requestId leads to the log line.
 */
export function errorHandler() {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const framework = fromHttpError(error);
    const mapped = framework ? { body: framework, unknown: false } : toErrorBody(error);
    if (mapped.unknown) {
      const context = { err: error, method: req.method, url: req.originalUrl };
      if (mapped.body.code === "unavailable") req.log.warn(context, "request refused: database unavailable");
      else req.log.error(context, "request failed");
    }
    sendError(req, res, mapped.body);
  };
}

/**
 * OPTIONS for any path: 204 without a body. The REST API is same-origin only (no CORS
 * preflights to answer), and Express would otherwise answer known paths in plain text.
 */
export const optionsHandler: RequestHandler = (req, res, next) => {
  if (req.method !== "OPTIONS") {
    next();
    return;
  }
  res.status(204).end();
};

/** 404 in the same shape for unknown routes (the web client's own pages are served before it). */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(req, res, { code: "not_found", message: "No such route." });
};
