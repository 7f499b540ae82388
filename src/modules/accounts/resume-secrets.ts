import { createHash, randomBytes } from "node:crypto";

/**
 * A guest's resume secret: 256 random bits, base64url (43 characters), handed to the guest once
 * at join. Only its SHA-256 is stored (memberships.resume_secret_hash), so a copy of the database
 * cannot be used to take over a membership; with 256 random bits a plain hash is enough (there
 * is nothing to guess that a slow hash would protect).
 */
export function newResumeSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString("base64url");
  return { secret, hash: hashResumeSecret(secret) };
}

/** The stored form of a resume secret: SHA-256, lower-case hex (64 characters). */
export function hashResumeSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
