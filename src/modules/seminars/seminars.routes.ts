import { Router } from "express";
import type { AppContext } from "../../context.ts";
import { fail } from "../../errors.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { LIMITS } from "../../protocol/limits.ts";
import { ResumeInput, RevokeResumeInput } from "../../protocol/moderation.ts";
import { CreateSeminarInput, EssayInput, Id, JoinSeminarInput } from "../../protocol/schemas.ts";
import { SeminarSettingsInput } from "../../protocol/transcripts.ts";
import type { Realtime } from "../../realtime/server.ts";
import { getAccount } from "../accounts/accounts.service.ts";
import { endSessionClosingPrompts } from "./seminars.handlers.ts";
import { type Actor, isModerator } from "./seminars.policy.ts";
import { type MemberRecord, presentMember, presentSeminar } from "./seminars.presenter.ts";
import {
  createSeminar,
  getSeminar,
  joinByCode,
  listSeminars,
  replaceEssay,
  resolveMember,
  resumeMembership,
  revokeResumeSecret,
  type SeminarRecord,
  startSession,
  updateSeminarSettings,
} from "./seminars.service.ts";
import { buildSnapshot } from "./snapshot.ts";

/**
 * /api/seminars: create and list (moderators), read (members), join by code (anyone), resume a
 * guest's membership with its resume secret and revoke the secret (whoever holds it), start and
 * end, change settings (moderators).
 */
export function seminarRoutes(context: AppContext, realtime: Realtime): Router {
  const router = Router();
  // A lecture hall often shares one address (NAT), so the per-address limit is generous; join
  // codes have 31^6 values, so guessing one at this rate is hopeless anyway.
  const joins = context.rateLimits.create("joins", context.config.joinsPerMinutePerAddress, 60);
  // Creating a seminar and replacing its essay both run the importer: one budget per account,
  // counted before the body is read, so refused and oversized attempts count too.
  const essayImports = context.rateLimits.create(
    "essay_imports",
    LIMITS.essayImportsPerAccount.points,
    LIMITS.essayImportsPerAccount.windowSeconds,
  );
  // Resuming and revoking share a per-address limit: a secret has 256 random bits, so the limit
  // bounds load, not guessing; a reloading lecture hall behind one address stays under it.
  const resumes = context.rateLimits.create("resumes", context.config.resumesPerMinutePerAddress, 60);

  /** A guest's token for their membership as stored now, with the seminar and the member. */
  const guestSession = (seminar: SeminarRecord, member: MemberRecord & { rightsVersion: number }) => {
    const issued = context.tokens.issue({
      kind: "guest",
      sub: member.id,
      sem: seminar.id,
      rv: member.rightsVersion,
    });
    return {
      token: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
      seminar: presentSeminar(seminar, { moderator: false, publicUrl: context.publicUrl() }),
      member: presentMember(member),
    };
  };

  const moderatorClaims = (req: Parameters<typeof bearerClaims>[0]) => {
    const claims = bearerClaims(req, context.tokens);
    if (claims.kind !== "moderator") throw fail.forbidden("Only moderators can do this.");
    return claims;
  };
  const memberOf = async (req: Parameters<typeof bearerClaims>[0], seminarId: string) => {
    const claims = bearerClaims(req, context.tokens);
    return resolveMember(context.prisma, claims, seminarId);
  };

  router.post(
    "/",
    route(async (req) => {
      const claims = moderatorClaims(req);
      await essayImports.consume(claims.sub);
      const input = parseInput(CreateSeminarInput, req.body);
      const account = await getAccount(context.prisma, claims.sub);
      const seminar = await createSeminar(context, account, input);
      return presentSeminar(seminar, { moderator: true, publicUrl: context.publicUrl() });
    }, 201),
  );

  router.get(
    "/",
    route(async (req) => {
      const claims = moderatorClaims(req);
      const seminars = await listSeminars(context.prisma, claims.sub);
      return seminars.map((seminar) =>
        presentSeminar(seminar, { moderator: true, publicUrl: context.publicUrl() }),
      );
    }),
  );

  router.post(
    "/join",
    route(async (req) => {
      await joins.consume(req.ip ?? "unknown");
      const input = parseInput(JoinSeminarInput, req.body);
      const { seminar, member, resumeSecret } = await joinByCode(context, realtime, input);
      return { ...guestSession(seminar, member), resumeSecret };
    }, 201),
  );

  router.post(
    "/resume",
    route(async (req) => {
      await resumes.consume(req.ip ?? "unknown");
      const input = parseInput(ResumeInput, req.body);
      const { seminar, member } = await realtime.admission.run(() => resumeMembership(context.prisma, input));
      return guestSession(seminar, member);
    }),
  );

  router.post(
    "/resume/revoke",
    route(async (req) => {
      await resumes.consume(req.ip ?? "unknown");
      const input = parseInput(RevokeResumeInput, req.body);
      await revokeResumeSecret(context.prisma, input.secret);
      return { revoked: true };
    }),
  );

  router.get(
    "/:id",
    route(async (req) => {
      const seminarId = parseInput(Id, req.params.id);
      const member = await memberOf(req, seminarId);
      return realtime.admission.run(() =>
        buildSnapshot(context, realtime.presence, {
          seminarId,
          memberId: member.id,
          role: member.role,
          displayName: member.displayName,
        }),
      );
    }),
  );

  const transition = (run: (actor: Actor) => Promise<unknown>) =>
    route(async (req) => {
      const seminarId = parseInput(Id, req.params.id);
      const member = await memberOf(req, seminarId);
      if (!isModerator(member.role)) throw fail.forbidden("Only moderators can do this.");
      await run({ seminarId, memberId: member.id, role: member.role });
      return presentSeminar(await getSeminar(context.prisma, seminarId), {
        moderator: true,
        publicUrl: context.publicUrl(),
      });
    });
  router.put(
    "/:id/essay",
    route(async (req) => {
      const seminarId = parseInput(Id, req.params.id);
      const claims = bearerClaims(req, context.tokens);
      await essayImports.consume(claims.sub);
      const member = await resolveMember(context.prisma, claims, seminarId);
      const input = parseInput(EssayInput, req.body);
      return replaceEssay(realtime.rooms, { seminarId, memberId: member.id, role: member.role }, input);
    }),
  );

  // PATCH /:id/settings { transcriptAccess? }: moderators; the room gets seminar:updated.
  router.patch(
    "/:id/settings",
    route(async (req) => {
      const seminarId = parseInput(Id, req.params.id);
      const member = await memberOf(req, seminarId);
      if (!isModerator(member.role)) throw fail.forbidden("Only moderators change the seminar's settings.");
      const input = parseInput(SeminarSettingsInput, req.body);
      const seminar = await updateSeminarSettings(
        realtime.rooms,
        { seminarId, memberId: member.id, role: member.role },
        input,
      );
      return presentSeminar(seminar, { moderator: true, publicUrl: context.publicUrl() });
    }),
  );

  router.post(
    "/:id/start",
    transition((actor) => startSession(realtime.rooms, actor)),
  );
  router.post(
    "/:id/end",
    transition((actor) => endSessionClosingPrompts(context, realtime, actor)),
  );

  return router;
}
