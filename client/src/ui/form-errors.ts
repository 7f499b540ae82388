/**
 * Turning the API's error envelope into what a form shows: the message of each field from a
 * `validation_failed` answer (its `details`), and one sentence for the whole form.
 */
import type { ErrorBody } from "../../../src/protocol/result.ts";

/** The first message per field path ("email", "essay.text", "prompts.0.options") of a validation failure. */
export function fieldErrors(error: ErrorBody | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (error?.code !== "validation_failed" || !Array.isArray(error.details)) return result;
  for (const detail of error.details as { path?: unknown; message?: unknown }[]) {
    const path = String(detail.path ?? "");
    if (!(path in result)) result[path] = String(detail.message ?? "is not valid");
  }
  return result;
}

/** One sentence for a refused request; `messages` replaces the default for the codes it names. */
export function describeError(
  error: ErrorBody,
  messages: Partial<Record<ErrorBody["code"], string>> = {},
): string {
  const own = messages[error.code];
  if (own) return own;
  switch (error.code) {
    case "validation_failed":
      return "Please check the fields marked below.";
    case "unauthenticated":
      return "Your session has ended. Please sign in again.";
    case "forbidden":
      return error.message || "You are not allowed to do this.";
    case "rate_limited":
      return "Too many attempts. Wait a moment and try again.";
    case "payload_too_large":
      return "This is too large to send.";
    case "unavailable":
      return error.message || "The server is unavailable. Try again in a moment.";
    case "internal":
      return "Something went wrong on our side. Try again.";
    default:
      return error.message;
  }
}
