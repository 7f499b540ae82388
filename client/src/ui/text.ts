/** Formatting helpers for what the room shows. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** A time of day ("14:05") for an ISO timestamp. */
export function timeOf(iso: string): string {
  return timeFormat.format(new Date(iso));
}

/** The first `max` characters of a text, cut at a character boundary, with an ellipsis. */
export function excerpt(text: string, max = 80): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join("").trimEnd()}…`;
}

/** "1 comment", "3 comments", "1,204 comments" (the count in the reader's locale). */
export function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/**
 * A fresh random UUID v4 for clientId and clientBallotId. Built from getRandomValues because
 * crypto.randomUUID exists only in secure contexts, and a classroom server is often plain HTTP
 * on a local address.
 */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
