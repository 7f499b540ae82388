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

/** How long a client should wait before retrying when the database is unavailable (ms). */
export const UNAVAILABLE_RETRY_AFTER_MS = 1_000;

/** Node socket errors that mean the database could not be reached or dropped the connection. */
const SOCKET_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs that say the server cannot serve us now, whatever we asked: connection exceptions
 * (class 08), insufficient resources (class 53, e.g. 53300 too many connections), operator
 * intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57P04
 * database dropped, 57014 statement cancelled), 55000 (not in the required state, e.g. during
 * recovery), 25006 (read-only transaction: a standby after a failover) and 25P03 (the server ended
 * a transaction left idle past idle_in_transaction_session_timeout).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-4]|57014|55000|25006|25P03)$/;

/**
 * Prisma error codes for a database that cannot be reached or kept: P1001 not reachable, P1002
 * timed out, P1008 socket timeout, P1017 connection closed, P2024 connection pool timeout, P2028
 * transaction API error (the transaction could not start or expired while the database hung),
 * P2037 too many connections.
 */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2037"]);

/** The driver adapter's error kinds (Prisma 7, `meta.driverAdapterError.cause.kind`) that mean the same. */
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TransactionAlreadyClosed",
]);

/**
 * Messages of plain errors from `pg` and its pool, which reach us without a code: a dropped
 * connection ("Connection terminated unexpectedly", "…connection error…", "not queryable") and an
 * exhausted or hanging pool ("timeout exceeded when trying to connect").
 */
const UNAVAILABLE_MESSAGE =
  /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|can't reach database server|server closed the connection|terminating connection/i;

/** The value at `key` of an object, or undefined for anything else. */
function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * True when `error` (or what it wraps: `cause`, Prisma 7's `meta.driverAdapterError` and its
 * `cause`) says the database is unreachable or refusing work, rather than our request being wrong.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  if (error instanceof AppError || error instanceof ZodError) return false;
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  const code = field(error, "code");
  if (typeof code === "string") {
    if (SOCKET_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)) return true;
    if (error instanceof Prisma.PrismaClientKnownRequestError && UNAVAILABLE_PRISMA_CODES.has(code))
      return true;
  }
  const originalCode = field(error, "originalCode");
  if (typeof originalCode === "string" && UNAVAILABLE_SQLSTATE.test(originalCode)) return true;
  const kind = field(error, "kind");
  if (typeof kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
  const message = field(error, "message");
  if (typeof message === "string" && UNAVAILABLE_MESSAGE.test(message)) return true;
  return (
    isDatabaseUnavailable(field(error, "cause"), depth + 1) ||
    isDatabaseUnavailable(field(field(error, "meta"), "driverAdapterError"), depth + 1)
  );
}

/**
 * Maps any thrown value to an error body, in this one place for sockets and HTTP. Unique
 * violations become `conflict`; a database that is unreachable, restarting, out of connections or
 * hanging becomes `unavailable` with `details.retryAfterMs`; everything unknown is `internal`.
 * `unknown` is true when the caller should log the error (internal and unavailable).
 */
export function toErrorBody(error: unknown): { body: ErrorBody; unknown: boolean } {
  if (error instanceof AppError) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { body, unknown: false };
  }
  if (error instanceof ZodError) return toErrorBody(fromZodError(error));
  if (isDatabaseUnavailable(error)) {
    return {
      body: {
        code: "unavailable",
        message: "The database is unavailable; try again.",
        details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
      },
      unknown: true,
    };
  }
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
  return { body: { code: "internal", message: "Something went wrong on our side." }, unknown: true };
}
