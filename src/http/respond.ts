import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import { AppError, fail, fromZodError, toErrorBody } from "../errors.ts";
import type { TokenClaims, TokenService } from "../modules/accounts/tokens.ts";
import { type ErrorBody, HTTP_STATUS } from "../protocol/result.ts";

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
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw fail.unauthenticated();
  return tokens.verify(match[1]!);
}

/**
 * An HTTP error answer: the envelope with the status of its code. Every HTTP error carries
 * `error.requestId` (also in the `X-Request-Id` header), the id an operator finds in the logs.
 */
export function sendError(req: Request, res: Response, body: ErrorBody): void {
  const error: ErrorBody & { requestId: string } = { ...body, requestId: String(req.id) };
  res.status(HTTP_STATUS[body.code]).json({ ok: false, error });
}

/** The one JSON error shape for every HTTP error, including body-parser and unknown routes. */
export function errorHandler() {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let mapped = toErrorBody(error);
    const status = (error as { status?: number; type?: string }).status;
    const type = (error as { type?: string }).type;
    if (type === "entity.too.large") {
      mapped = {
        body: { code: "payload_too_large", message: "The request body is too large." },
        unknown: false,
      };
    } else if (type === "entity.parse.failed" || (status === 400 && !(error instanceof AppError))) {
      mapped = {
        body: { code: "validation_failed", message: "The request body is not valid JSON." },
        unknown: false,
      };
    }
    // req.log carries the request id, so the answer's requestId leads to this line.
    if (mapped.unknown) req.log.error({ err: error }, "request failed");
    sendError(req, res, mapped.body);
  };
}

/** 404 in the same shape for unknown routes (the web client, a later stage, will serve pages). */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(req, res, { code: "not_found", message: "No such route." });
};
