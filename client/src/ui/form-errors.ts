/**
 * Turning the API's error envelope into what a form shows: the message of each field from a
 * `validation_failed` answer (its `details`), and one sentence for the whole form.
 */
import type { ErrorBody } from "../../../src/protocol/result.ts";

/** zod's default messages, said as the end of a sentence that starts with the field's name. */
const PHRASES: [RegExp, string][] = [
  [/^Too small: expected string to have >=1 characters?$/, "must not be empty"],
  [/^Too small: expected string to have >=(\d+) characters?$/, "must be at least $1 characters long"],
  [/^Too big: expected string to have <=(\d+) characters?$/, "must be at most $1 characters long"],
  [/^Too small: expected array to have >=(\d+) items?$/, "need at least $1 entries"],
  [/^Too big: expected array to have <=(\d+) items?$/, "allow at most $1 entries"],
  [/^Too small: expected number to be >=(\S+)$/, "must be at least $1"],
  [/^Too big: expected number to be <=(\S+)$/, "must be at most $1"],
  [/^Invalid input: expected number, received NaN$/, "must be a number"],
  [/^Invalid input: expected int, received number$/, "must be a whole number"],
  [/^Invalid email address$/, "is not a valid e-mail address"],
];

/** A field's message as the end of a sentence ("must be at least 10 characters long"). */
export function phrase(message: string): string {
  for (const [pattern, replacement] of PHRASES)
    if (pattern.test(message)) return message.replace(pattern, replacement);
  return message;
}

/** The first message per field path ("email", "essay.text", "prompts.0.options") of a validation failure. */
export function fieldErrors(error: ErrorBody | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (error?.code !== "validation_failed" || !Array.isArray(error.details)) return result;
  for (const detail of error.details as { path?: unknown; message?: unknown }[]) {
    const path = String(detail.path ?? "");
    if (!(path in result)) result[path] = phrase(String(detail.message ?? "is not valid"));
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

/** The field problems of a validation failure as sentences ("prompts.0.options: …"), for forms that cannot mark the field. */
export function problemList(error: ErrorBody | undefined): string[] {
  return Object.entries(fieldErrors(error)).map(([path, message]) =>
    path ? `${path}: ${message}` : message,
  );
}
