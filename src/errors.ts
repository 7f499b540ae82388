import { ZodError } from "zod";
import { Prisma } from "./generated/prisma/client.ts";
import type { ErrorBody, ErrorCode } from "./protocol/result.ts";

/** An error we expect and answer with its code; anything else is `internal`. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Shorthands that read as what they mean at the call site. */
export const fail = {
  validation: (message: string, details?: unknown) => new AppError("validation_failed", message, details),
  unauthenticated: (message = "Sign in or join the seminar first.") =>
    new AppError("unauthenticated", message),
  forbidden: (message = "Your role does not allow this.") => new AppError("forbidden", message),
  notFound: (what = "Resource") => new AppError("not_found", `${what} not found.`),
  conflict: (message: string, details?: unknown) => new AppError("conflict", message, details),
  roomClosed: (message = "This seminar's room is closed.") => new AppError("room_closed", message),
  rateLimited: (retryAfterMs: number) =>
    new AppError("rate_limited", "Too many requests; slow down.", { retryAfterMs }),
  /** A refusal from the rights table (moderation.policy refusalOf), with its code and details. */
  refused: (refusal: { code: ErrorCode; message: string; details: unknown }) =>
    new AppError(refusal.code, refusal.message, refusal.details),
};

/** Turns zod issues into the `details` of a validation_failed error. */
export function fromZodError(error: ZodError, message = "The request is not valid."): AppError {
  return new AppError(
    "validation_failed",
    message,
    error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  );
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "57P01",
  "57P03",
  "53300",
]);

/**
 * Maps any thrown value to an error body. Unique violations become `conflict` here and only here;
 * lost database connections become `unavailable`; everything unknown is `internal` (and `unknown`
 * is true so the caller logs it).
 */
export function toErrorBody(error: unknown): { body: ErrorBody; unknown: boolean } {
  if (error instanceof AppError) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { body, unknown: false };
  }
  if (error instanceof ZodError) return toErrorBody(fromZodError(error));
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code === "P2002") {
      return { body: { code: "conflict", message: "That already exists." }, unknown: false };
    }
    if (error.code === "P2025") return { body: { code: "not_found", message: "Not found." }, unknown: false };
    // P2034: write conflict or deadlock; P2010 carries raw-query failures such as 40P01/40001.
    const sqlState = JSON.stringify(error.meta ?? {});
    if (error.code === "P2034" || (error.code === "P2010" && /40P01|40001/.test(sqlState))) {
      return { body: { code: "conflict", message: "Concurrent change; try again." }, unknown: false };
    }
  }
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code;
  const causeCode = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (
    error instanceof Prisma.PrismaClientInitializationError ||
    CONNECTION_ERROR_CODES.has(String(code)) ||
    CONNECTION_ERROR_CODES.has(String(causeCode))
  ) {
    return {
      body: { code: "unavailable", message: "The database is unavailable; try again." },
      unknown: true,
    };
  }
  return { body: { code: "internal", message: "Something went wrong on our side." }, unknown: true };
}
