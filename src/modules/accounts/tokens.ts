import { createSecretKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { fail } from "../../errors.ts";

/** The only algorithm we sign with and accept: no `none`, no RSA/HMAC confusion. */
const ALGORITHM = "HS256" as const;

/** A moderator's account token: `sub` is the account id. */
export interface ModeratorClaims {
  kind: "moderator";
  sub: string;
}

/** A guest's token, valid in one seminar only: `sub` is the membership id. */
export interface GuestClaims {
  kind: "guest";
  sub: string;
  /** The seminar the token is scoped to. */
  sem: string;
  /** The membership's rights version when issued; an older one is refused. */
  rv: number;
}

export type TokenClaims = ModeratorClaims | GuestClaims;

const Claims = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("moderator"), sub: z.uuid(), exp: z.number() }),
  z.object({ kind: z.literal("guest"), sub: z.uuid(), sem: z.uuid(), rv: z.number().int(), exp: z.number() }),
]);

/** A signed token and when it expires. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** Signs and verifies our JWTs with the configured secret, issuer, audience and lifetimes. */
export class TokenService {
  /**
   * The secret as a KeyObject, made once: given a string, jsonwebtoken tries to parse it as a
   * public or private key on every call (about half a millisecond each, 9 % of a join storm's CPU).
   */
  private readonly key: KeyObject;

  constructor(private readonly config: Config["jwt"]) {
    this.key = createSecretKey(Buffer.from(config.secret, "utf8"));
  }

  /** Issues a token for the claims; moderators and guests have separate lifetimes. */
  issue(claims: TokenClaims): IssuedToken {
    const ttl = claims.kind === "moderator" ? this.config.moderatorTtlSeconds : this.config.guestTtlSeconds;
    const { sub, ...rest } = claims;
    const token = jwt.sign(rest, this.key, {
      algorithm: ALGORITHM,
      expiresIn: ttl,
      issuer: this.config.issuer,
      audience: this.config.audience,
      subject: sub,
    });
    return { token, expiresAt: new Date(Date.now() + ttl * 1000) };
  }

  /**
   * Verifies signature (HS256 only), expiry, issuer and audience, then the claims' shape.
   * Throws `unauthenticated` for anything else.
   */
  verify(token: string): TokenClaims & { expiresAt: number } {
    let payload: unknown;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.config.issuer,
        audience: this.config.audience,
      });
    } catch (error) {
      throw fail.unauthenticated(
        error instanceof jwt.TokenExpiredError
          ? "Your session has expired; sign in again."
          : "The token is not valid.",
      );
    }
    const parsed = Claims.safeParse(payload);
    if (!parsed.success) throw fail.unauthenticated("The token is not valid.");
    const { exp, ...claims } = parsed.data;
    return { ...claims, expiresAt: exp * 1000 };
  }
}
