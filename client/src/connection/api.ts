/**
 * The REST calls the participant client makes: joining by code and resuming with the secret. Inputs are checked
 * with the protocol's own schemas before they leave, so the guest sees the same rule as the server.
 */
import type { z } from "zod";
import { ResumeInput } from "../../../src/protocol/moderation.ts";
import type { ErrorBody, Result } from "../../../src/protocol/result.ts";
import { JoinSeminarInput } from "../../../src/protocol/schemas.ts";
import type { MemberView, SeminarView } from "../../../src/protocol/views.ts";
import { fetchEnvelope } from "./http.ts";

/** The join answer (POST /api/seminars/join); a resume answer has no new secret. */
export interface JoinAnswer {
  token: string;
  expiresAt: string;
  seminar: SeminarView;
  member: MemberView;
  /** Keep it: exchanges for a fresh token as the same member (POST /api/seminars/resume). */
  resumeSecret?: string;
}

/** Turns a zod failure into the protocol's validation error body, with the first message per field. */
export function validationError(error: z.ZodError): ErrorBody {
  return {
    code: "validation_failed",
    message: "Please check the highlighted fields.",
    details: error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  };
}

/** POSTs JSON and answers with the envelope, following the server's retry hints (http.ts). */
function postJson<T>(path: string, body: unknown): Promise<Result<T>> {
  return fetchEnvelope<T>(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
}

/** Joins a seminar by code as a guest. Validates first; answers with the envelope. */
export async function joinSeminar(input: z.input<typeof JoinSeminarInput>): Promise<Result<JoinAnswer>> {
  const parsed = JoinSeminarInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return postJson<JoinAnswer>("/api/seminars/join", parsed.data);
}

/** Exchanges a resume secret for a fresh token as the same member (after expiry, on another device). */
export async function resumeWithSecret(input: z.input<typeof ResumeInput>): Promise<Result<JoinAnswer>> {
  const parsed = ResumeInput.safeParse(input);
  if (!parsed.success) return { ok: false, error: validationError(parsed.error) };
  return postJson<JoinAnswer>("/api/seminars/resume", parsed.data);
}
