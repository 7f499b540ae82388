/**
 * Every kind of bad token, presented on REST (a member read and a moderator write) and at socket
 * connect: each is refused with its typed code, and nothing is stored or changed. Tokens are made
 * with jsonwebtoken and the server's own secret where the attack needs it (an insider's mistake,
 * a leaked secret with wrong claims), or without it (what anyone can do).
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { type ErrorCode, HTTP_STATUS } from "../../src/protocol/result.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { connect, send, startTestServer } from "../helpers/server.ts";

const SECRET = "jwt-matrix-secret-jwt-matrix-secret-0001";
const server = await startTestServer({ JWT_SECRET: SECRET });

const a = await buildSeminar(server, { title: "Seminar A" });
const b = await buildSeminar(server, { title: "Seminar B" });
const guestA = await buildGuest(server, a.seminar.joinCode!, "Guest A");
const guestB = await buildGuest(server, b.seminar.joinCode!, "Guest B");
const memberA = guestA.member.id;

const claimsOf = (token: string) => jwt.decode(token) as Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);
/** A guest of seminar A's claims as the server issues them. */
const guestClaims = () => ({
  kind: "guest",
  sem: a.seminar.id,
  rv: 0,
  sub: memberA,
  iss: "stepstone",
  aud: "stepstone",
  iat: now(),
  exp: now() + 600,
});
const sign = (payload: object, secret: string | Buffer = SECRET, algorithm: jwt.Algorithm = "HS256") =>
  jwt.sign(payload, secret, { algorithm, noTimestamp: true });
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const without = (key: string) => {
  const claims: Record<string, unknown> = guestClaims();
  delete claims[key];
  return claims;
};
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();

/** Each case: a token, and the code REST and socket connect must answer. */
const CASES: { name: string; token: string; code: ErrorCode | "ok" }[] = [
  { name: "the genuine guest token (control)", token: guestA.token, code: "ok" },
  {
    // Signed with the real secret, so only the length cap (4,096, as at the handshake) refuses it.
    name: "a correctly signed token longer than tokens may be",
    token: sign({ ...guestClaims(), padding: "x".repeat(4_000) }),
    code: "unauthenticated",
  },
  {
    name: "alg none",
    token: `${b64({ alg: "none", typ: "JWT" })}.${b64(guestClaims())}.`,
    code: "unauthenticated",
  },
  {
    name: "alg none with the real signature kept",
    token: `${b64({ alg: "none", typ: "JWT" })}.${guestA.token.split(".")[1]}.${guestA.token.split(".")[2]}`,
    code: "unauthenticated",
  },
  {
    name: "HS512 with the right secret",
    token: sign(guestClaims(), SECRET, "HS512"),
    code: "unauthenticated",
  },
  {
    name: "HS384 with the right secret",
    token: sign(guestClaims(), SECRET, "HS384"),
    code: "unauthenticated",
  },
  {
    name: "RS256 with a key of the attacker's",
    token: sign(guestClaims(), rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "RS256"),
    code: "unauthenticated",
  },
  {
    name: "HS256 keyed with a public key (RS/HS confusion)",
    token: sign(guestClaims(), Buffer.from(publicPem)),
    code: "unauthenticated",
  },
  {
    name: "another secret",
    token: sign(guestClaims(), "another-secret-another-secret-another-1"),
    code: "unauthenticated",
  },
  {
    name: "signature stripped",
    token: `${guestA.token.split(".").slice(0, 2).join(".")}.`,
    code: "unauthenticated",
  },
  {
    name: "expired",
    token: sign({ ...guestClaims(), iat: now() - 7_200, exp: now() - 3_600 }),
    code: "unauthenticated",
  },
  {
    name: "not valid yet (nbf)",
    token: sign({ ...guestClaims(), nbf: now() + 3_600 }),
    code: "unauthenticated",
  },
  { name: "no exp", token: sign(without("exp")), code: "unauthenticated" },
  { name: "no aud", token: sign(without("aud")), code: "unauthenticated" },
  { name: "another aud", token: sign({ ...guestClaims(), aud: "another-app" }), code: "unauthenticated" },
  { name: "no iss", token: sign(without("iss")), code: "unauthenticated" },
  { name: "another iss", token: sign({ ...guestClaims(), iss: "evil" }), code: "unauthenticated" },
  { name: "no sub", token: sign(without("sub")), code: "unauthenticated" },
  { name: "sub not a uuid", token: sign({ ...guestClaims(), sub: "1 OR 1=1" }), code: "unauthenticated" },
  { name: "sub of nobody", token: sign({ ...guestClaims(), sub: randomUUID() }), code: "unauthenticated" },
  { name: "no sem", token: sign(without("sem")), code: "unauthenticated" },
  { name: "no kind", token: sign(without("kind")), code: "unauthenticated" },
  { name: "kind admin", token: sign({ ...guestClaims(), kind: "admin" }), code: "unauthenticated" },
  { name: "no rv", token: sign(without("rv")), code: "unauthenticated" },
  { name: "an older rights version", token: sign({ ...guestClaims(), rv: -1 }), code: "unauthenticated" },
  { name: "rv as a string", token: sign({ ...guestClaims(), rv: "0" }), code: "unauthenticated" },
  {
    name: "payload tampered (sem of seminar B), signature kept",
    token: (() => {
      const [header, , signature] = guestA.token.split(".");
      return `${header}.${b64({ ...claimsOf(guestA.token), sem: b.seminar.id })}.${signature}`;
    })(),
    code: "unauthenticated",
  },
  {
    name: "payload tampered (rv raised), signature kept",
    token: (() => {
      const [header, , signature] = guestA.token.split(".");
      return `${header}.${b64({ ...claimsOf(guestA.token), rv: 5 })}.${signature}`;
    })(),
    code: "unauthenticated",
  },
  {
    name: "guest of A with sem B (signed)",
    token: sign({ ...guestClaims(), sem: b.seminar.id }),
    code: "not_found",
  },
  { name: "guest of seminar B", token: guestB.token, code: "not_found" },
  { name: "moderator of seminar B", token: b.moderator.token, code: "not_found" },
  {
    name: "guest's membership id as a moderator's account (kind moderator, signed)",
    token: sign({ kind: "moderator", sub: memberA, iss: "stepstone", aud: "stepstone", exp: now() + 600 }),
    code: "not_found",
  },
  {
    name: "extra claims (role host, seminar, admin) are ignored",
    token: sign({ ...guestClaims(), role: "host", seminar: a.seminar.id, admin: true, scope: "*" }),
    code: "ok",
  },
  {
    name: "over-long (5,000 characters)",
    token: `${guestA.token}${"A".repeat(5_000)}`,
    code: "unauthenticated",
  },
  { name: "garbage", token: "garbage", code: "unauthenticated" },
  { name: "three empty parts", token: "..", code: "unauthenticated" },
  {
    name: "JSON header that is not an object",
    token: `${b64([1])}.${b64(guestClaims())}.x`,
    code: "unauthenticated",
  },
  { name: "non-base64 parts", token: "%%%.$$$.***", code: "unauthenticated" },
];

/** What the matrix must leave untouched: both seminars' rows. */
async function footprint() {
  const rows = await server.db.prisma.seminar.findMany({
    where: { id: { in: [a.seminar.id, b.seminar.id] } },
    select: { id: true, state: true, lastSeq: true, title: true, transcriptAccess: true },
    orderBy: { id: "asc" },
  });
  const members = await server.db.prisma.membership.findMany({
    where: { seminarId: { in: [a.seminar.id, b.seminar.id] } },
    select: { id: true, role: true, status: true, rightsVersion: true },
    orderBy: { id: "asc" },
  });
  return { rows, members };
}

async function connectCode(auth: { token: unknown; seminarId?: string }): Promise<string> {
  try {
    const socket = await connect(server.url, auth as { token: string; seminarId?: string });
    socket.close();
    return "ok";
  } catch (error) {
    return (
      (error as Error & { data?: { code?: string } }).data?.code ?? `no code: ${(error as Error).message}`
    );
  }
}

const statusOf = (code: ErrorCode | "ok") => (code === "ok" ? 200 : HTTP_STATUS[code]);

describe("the JWT matrix", () => {
  it("refuses every bad token on REST and at socket connect with its typed code, and changes nothing", async () => {
    const before = await footprint();
    const answers: Record<string, { read: string; write: string; socket: string }> = {};
    for (const { name, token } of CASES) {
      const read = await server.http("GET", `/api/seminars/${a.seminar.id}`, undefined, token);
      // A moderator's write: a forged token must not reach it (a genuine guest is forbidden).
      const write = await server.http(
        "PATCH",
        `/api/seminars/${a.seminar.id}/settings`,
        { transcriptAccess: true },
        token,
      );
      const code = (answer: typeof read) => {
        const expectedStatus = answer.body.ok ? 200 : statusOf(answer.body.error.code);
        expect(answer.status, `${name}: status matches the code`).toBe(expectedStatus);
        return answer.body.ok ? "ok" : answer.body.error.code;
      };
      answers[name] = {
        read: code(read),
        write: code(write),
        socket: await connectCode({ token, seminarId: a.seminar.id }),
      };
    }
    const expected = Object.fromEntries(
      CASES.map(({ name, code }) => [
        name,
        { read: code, write: code === "ok" ? "forbidden" : code, socket: code },
      ]),
    );
    expect(answers).toEqual(expected);
    expect(await footprint()).toEqual(before);
  });

  it("refuses handshakes whose token is not a string, and REST requests without a bearer token", async () => {
    const before = await footprint();
    for (const token of [undefined, null, 42, { token: guestA.token }, [guestA.token], "", " ".repeat(10)]) {
      expect(await connectCode({ token, seminarId: a.seminar.id }), JSON.stringify(token)).toBe(
        "unauthenticated",
      );
    }
    for (const header of [
      "",
      "Bearer",
      "Bearer ",
      `Basic ${guestA.token}`,
      `Bearer ${guestA.token} extra`,
      `Token ${guestA.token}`,
    ]) {
      const response = await fetch(`${server.url}/api/seminars/${a.seminar.id}`, {
        headers: header ? { authorization: header } : {},
      });
      expect(response.status, header).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
    }
    expect(await footprint()).toEqual(before);
  });

  it("keeps a guest token a guest's: moderator routes and commands are forbidden, moderator fields absent", async () => {
    const before = await footprint();
    for (const [method, path] of [
      ["POST", `/api/seminars/${a.seminar.id}/end`],
      ["POST", `/api/seminars/${a.seminar.id}/start`],
      ["PATCH", `/api/seminars/${a.seminar.id}/settings`],
      ["GET", `/api/seminars/${a.seminar.id}/moderation-log`],
      ["POST", "/api/seminars"],
      ["GET", "/api/seminars"],
      ["POST", "/api/auth/refresh"],
    ] as const) {
      const body = method === "GET" ? undefined : path.endsWith("settings") ? { transcriptAccess: true } : {};
      const answer = await server.http(method, path, body, guestA.token);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    const socket = await connect(server.url, { token: guestA.token });
    for (const command of ["seminar:end", "room:lock"] as const) {
      const ack = await send(socket, command, {});
      expect(ack, command).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    // The snapshot is a participant's: no moderation log.
    const snapshot = expectOk(
      await server.http<{ viewer: { role: string }; moderationLog?: unknown }>(
        "GET",
        `/api/seminars/${a.seminar.id}`,
        undefined,
        guestA.token,
      ),
    );
    expect(snapshot.viewer.role).toBe("participant");
    expect(snapshot.moderationLog).toBeUndefined();
    socket.close();
    expect(await footprint()).toEqual(before);
  });
});
