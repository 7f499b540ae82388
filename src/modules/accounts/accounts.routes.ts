import { Router } from "express";
import type { AppContext } from "../../context.ts";
import { AppError, fail } from "../../errors.ts";
import { bearerClaims, parseInput, route } from "../../http/respond.ts";
import { LoginInput, RegisterInput } from "../../protocol/schemas.ts";
import { authenticate, getAccount, presentAccount, registerAccount } from "./accounts.service.ts";
import { LoginThrottle } from "./login-throttle.ts";

/**
 * POST /api/auth/register, POST /api/auth/login, POST /api/auth/refresh, GET /api/auth/me.
 * Failed logins are limited (LoginThrottle): 10 consecutive failures per address and e-mail, 100
 * failures per address, each in 15 minutes; successful logins count for nothing.
 */
export function accountRoutes(context: AppContext): Router {
  const router = Router();
  const logins = new LoginThrottle(context.rateLimits);
  const registrations = context.rateLimits.create("registrations", 20, 60 * 60);

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
      const address = req.ip ?? "unknown";
      await logins.check(address, input.email);
      const account = await authenticate(context.prisma, input).catch(async (error: unknown) => {
        // Only wrong credentials count; a database outage is nobody's failed attempt.
        if (error instanceof AppError && error.code === "unauthenticated")
          await logins.failed(address, input.email);
        throw error;
      });
      await logins.succeeded(address, input.email);
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
