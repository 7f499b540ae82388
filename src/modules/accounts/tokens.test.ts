import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { TokenService } from "./tokens.ts";

const config = buildConfig({ JWT_SECRET: "unit-test-secret-unit-test-secret-123456" }).jwt;
const tokens = new TokenService(config);
const memberId = "8c0a9a62-2b0e-4a77-9a38-7f2d1c1f0a11";
const seminarId = "0d3c6b7e-4f1a-4c55-8a53-2e1b7a9c4d22";

function expectUnauthenticated(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("unauthenticated");
    return;
  }
  throw new Error("expected the token to be refused");
}

describe("TokenService", () => {
  it("round-trips moderator and guest claims with exp, iss, aud and sub", () => {
    const moderator = tokens.issue({ kind: "moderator", sub: memberId });
    expect(tokens.verify(moderator.token)).toMatchObject({ kind: "moderator", sub: memberId });
    const guest = tokens.issue({ kind: "guest", sub: memberId, sem: seminarId, rv: 3 });
    const decoded = jwt.decode(guest.token) as Record<string, unknown>;
    expect(decoded).toMatchObject({
      iss: "stepstone",
      aud: "stepstone",
      sub: memberId,
      sem: seminarId,
      rv: 3,
    });
    expect(typeof decoded.exp).toBe("number");
    expect(tokens.verify(guest.token)).toMatchObject({ kind: "guest", sub: memberId, sem: seminarId, rv: 3 });
  });

  it("refuses a token signed with another secret", () => {
    const other = new TokenService({ ...config, secret: "another-secret-another-secret-1234567" });
    expectUnauthenticated(() => tokens.verify(other.issue({ kind: "moderator", sub: memberId }).token));
  });

  it("refuses alg none", () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const body = Buffer.from(
      JSON.stringify({
        kind: "moderator",
        sub: memberId,
        iss: "stepstone",
        aud: "stepstone",
        exp: 9_999_999_999,
      }),
    ).toString("base64url");
    expectUnauthenticated(() => tokens.verify(`${header}.${body}.`));
  });

  it("refuses another HMAC algorithm with the right secret (algorithm pinned)", () => {
    const token = jwt.sign({ kind: "moderator" }, config.secret, {
      algorithm: "HS512",
      subject: memberId,
      issuer: "stepstone",
      audience: "stepstone",
      expiresIn: 60,
    });
    expectUnauthenticated(() => tokens.verify(token));
  });

  it("refuses an expired token, a wrong audience or issuer, and malformed claims", () => {
    const sign = (claims: object, options: jwt.SignOptions) =>
      jwt.sign(claims, config.secret, {
        algorithm: "HS256",
        issuer: "stepstone",
        audience: "stepstone",
        ...options,
      });
    expectUnauthenticated(() => tokens.verify(sign({ kind: "moderator", exp: 1 }, { subject: memberId })));
    expectUnauthenticated(() =>
      tokens.verify(sign({ kind: "moderator" }, { subject: memberId, expiresIn: 60, audience: "x" })),
    );
    expectUnauthenticated(() =>
      tokens.verify(sign({ kind: "moderator" }, { subject: memberId, expiresIn: 60, issuer: "x" })),
    );
    expectUnauthenticated(() => tokens.verify(sign({ kind: "guest" }, { subject: memberId, expiresIn: 60 })));
    expectUnauthenticated(() => tokens.verify("not-a-token"));
  });
});
