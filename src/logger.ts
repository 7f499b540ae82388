import { pino } from "pino";
import type { Config } from "./config.ts";

/** The structured logger (JSON lines on stdout). */
export type Logger = pino.Logger;

/** Builds the process logger; tokens and passwords are redacted wherever they appear. */
export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({
    level: config.logLevel,
    base: { service: "stepstone" },
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        "*.password",
        "*.token",
        "password",
        "token",
      ],
      censor: "[redacted]",
    },
  });
}
