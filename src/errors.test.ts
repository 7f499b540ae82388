import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, isDatabaseUnavailable, toErrorBody, UNAVAILABLE_RETRY_AFTER_MS } from "./errors.ts";
import { Prisma } from "./generated/prisma/client.ts";

const clientVersion = "7.10.0";

/** A Prisma 7 error as the pg driver adapter produces it for a PostgreSQL error with `sqlState`. */
function adapterError(prismaCode: string, sqlState: string, message = "the server said no") {
  return new Prisma.PrismaClientKnownRequestError(`Database error. Code: \`${sqlState}\`.`, {
    code: prismaCode,
    clientVersion,
    meta: {
      driverAdapterError: Object.assign(new Error("DriverAdapterError"), {
        cause: { kind: "postgres", code: sqlState, originalCode: sqlState, message, severity: "FATAL" },
      }),
    },
  });
}

/** A Prisma 7 error for a driver adapter error of `kind` (no SQLSTATE: socket-level). */
function kindError(prismaCode: string, kind: string) {
  return new Prisma.PrismaClientKnownRequestError("Database error.", {
    code: prismaCode,
    clientVersion,
    meta: { driverAdapterError: Object.assign(new Error("DriverAdapterError"), { cause: { kind } }) },
  });
}

const unavailable = {
  code: "unavailable",
  message: "The database is unavailable; try again.",
  details: { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS },
};

describe("toErrorBody: a lost database is unavailable, with a retry hint", () => {
  it.each([
    ["57P01 admin shutdown (a terminated backend)", adapterError("P2039", "57P01")],
    ["57P02 crash shutdown", adapterError("P2039", "57P02")],
    ["57P03 cannot connect now (starting up)", adapterError("P2039", "57P03")],
    ["08006 connection failure", adapterError("P2039", "08006")],
    ["08003 connection does not exist", adapterError("P2010", "08003")],
    ["53300 too many connections (raw query)", adapterError("P2010", "53300")],
    ["55000 object not in prerequisite state", adapterError("P2039", "55000")],
    ["25006 read-only transaction after a failover", adapterError("P2039", "25006")],
    ["P1001 not reachable", kindError("P1001", "DatabaseNotReachable")],
    ["P1017 connection closed", kindError("P1017", "ConnectionClosed")],
    ["P1008 socket timeout", kindError("P1008", "SocketTimeout")],
    ["P2037 too many connections", kindError("P2037", "TooManyConnections")],
    [
      "P2028 transaction could not start",
      new Prisma.PrismaClientKnownRequestError("x", { code: "P2028", clientVersion }),
    ],
    ["plain Error: Connection terminated unexpectedly", new Error("Connection terminated unexpectedly")],
    [
      "plain Error: …connection error…",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
    ["pool timeout", new Error("timeout exceeded when trying to connect")],
    [
      "ECONNREFUSED socket error",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    ],
    [
      "ECONNRESET wrapped as a cause",
      new Error("query failed", { cause: Object.assign(new Error("read"), { code: "ECONNRESET" }) }),
    ],
    [
      "initialization error",
      new Prisma.PrismaClientInitializationError("Can't reach database server", clientVersion),
    ],
  ])("%s", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(toErrorBody(error)).toEqual({ body: unavailable, unknown: true });
  });

  it("keeps conflicts, not-found, validation and our own errors as they are", () => {
    const duplicate = new Prisma.PrismaClientKnownRequestError("Unique constraint failed", {
      code: "P2002",
      clientVersion,
    });
    expect(toErrorBody(duplicate).body.code).toBe("conflict");
    expect(toErrorBody(adapterError("P2034", "40P01")).body.code).toBe("conflict");
    expect(toErrorBody(adapterError("P2010", "40001")).body.code).toBe("conflict");
    expect(
      toErrorBody(new Prisma.PrismaClientKnownRequestError("gone", { code: "P2025", clientVersion })).body
        .code,
    ).toBe("not_found");
    const zod = z.string().safeParse(1);
    expect(toErrorBody(zod.error).body.code).toBe("validation_failed");
    // An AppError whose text happens to mention a connection error is still what it says it is.
    expect(toErrorBody(new AppError("conflict", "connection error in your seminar")).body.code).toBe(
      "conflict",
    );
  });

  it("answers internal (and asks to log) for errors that are ours, not the database's", () => {
    for (const error of [
      new TypeError("Cannot read properties of undefined"),
      adapterError("P2039", "22P02", "invalid input syntax for type json"),
      adapterError("P2039", "23514", "check constraint"),
      "a thrown string",
      null,
    ]) {
      expect(toErrorBody(error)).toEqual({
        body: { code: "internal", message: "Something went wrong on our side." },
        unknown: true,
      });
    }
  });
});
