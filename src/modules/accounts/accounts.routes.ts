import { Router } from "express";
import type { AppContext } from "../../context.ts";
import { fail } from "../../errors.ts";
import { RateLimit } from "../../http/rate-limit.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { LoginInput, RegisterInput } from "../../protocol/schemas.ts";
import { authenticate, getAccount, presentAccount, registerAccount } from "./accounts.service.ts";

/**
 * POST /api/auth/register, POST /api/auth/login, POST /api/auth/refresh, GET /api/auth/me.
 * Login is rate-limited per address and e-mail (10 per 15 minutes) and per address (100 per 15 minutes).
 */
export function accountRoutes(context: AppContext): Router {
  const router = Router();
  const perAccount = new RateLimit(10, 15 * 60);
  const perAddress = new RateLimit(100, 15 * 60);
  const registrations = new RateLimit(20, 60 * 60);

  const session = (account: { id: string; email: string; displayName: string; createdAt: Date }) => {
    const issued = context.tokens.issue({ kind: "moderator", sub: account.id });
    return {
      token: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
      account: presentAccount(account),
    };
  };

  router.post(
    "/register",
    route(async (req) => {
      await registrations.consume(req.ip ?? "unknown");
      const input = parseInput(RegisterInput, req.body);
      return session(await registerAccount(context.prisma, input));
    }, 201),
  );

  router.post(
    "/login",
    route(async (req) => {
      const input = parseInput(LoginInput, req.body);
      const key = `${req.ip}:${input.email}`;
      await perAddress.consume(req.ip ?? "unknown");
      await perAccount.consume(key);
      const account = await authenticate(context.prisma, input);
      await perAccount.reset(key);
      return session(account);
    }),
  );

  router.post(
    "/refresh",
    route(async (req) => {
      const claims = bearerClaims(req, context.tokens);
      if (claims.kind !== "moderator")
        throw fail.forbidden("Guests refresh through their seminar connection.");
      return session(await getAccount(context.prisma, claims.sub));
    }),
  );

  router.get(
    "/me",
    route(async (req) => {
      const claims = bearerClaims(req, context.tokens);
      if (claims.kind !== "moderator") throw fail.forbidden("Only moderators have accounts.");
      return presentAccount(await getAccount(context.prisma, claims.sub));
    }),
  );

  return router;
}
