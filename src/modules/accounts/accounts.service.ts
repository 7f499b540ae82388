import { hash, verify } from "@node-rs/argon2";
import type { PrismaClient } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type { LoginInput, RegisterInput } from "../../protocol/schemas.ts";

/** Argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane). */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A hash of a password nobody has, so unknown e-mails take as long as wrong passwords. */
let dummyHash: Promise<string> | undefined;

export interface AccountRecord {
  id: string;
  email: string;
  displayName: string;
  createdAt: Date;
}

/** Creates a moderator account. `conflict` when the e-mail is taken. */
export async function registerAccount(prisma: PrismaClient, input: RegisterInput): Promise<AccountRecord> {
  const passwordHash = await hash(input.password, ARGON2);
  const existing = await prisma.account.findUnique({ where: { email: input.email }, select: { id: true } });
  if (existing) throw fail.conflict("An account with that e-mail already exists.");
  return prisma.account.create({
    data: { email: input.email, passwordHash, displayName: input.displayName },
    select: { id: true, email: true, displayName: true, createdAt: true },
  });
}

/**
 * Checks credentials. Always verifies a hash (a dummy one for unknown e-mails) so that timing
 * does not reveal which e-mails exist; argon2's verify compares in constant time.
 * `unauthenticated` with one generic message for every failure.
 */
export async function authenticate(prisma: PrismaClient, input: LoginInput): Promise<AccountRecord> {
  const account = await prisma.account.findUnique({ where: { email: input.email } });
  dummyHash ??= hash("stepstone-dummy-password", ARGON2);
  const valid = await verify(account?.passwordHash ?? (await dummyHash), input.password).catch(() => false);
  if (!account || !valid) throw fail.unauthenticated("Wrong e-mail or password.");
  return {
    id: account.id,
    email: account.email,
    displayName: account.displayName,
    createdAt: account.createdAt,
  };
}

/** Loads an account by id; `unauthenticated` when it no longer exists. */
export async function getAccount(prisma: PrismaClient, id: string): Promise<AccountRecord> {
  const account = await prisma.account.findUnique({
    where: { id },
    select: { id: true, email: true, displayName: true, createdAt: true },
  });
  if (!account) throw fail.unauthenticated("The account no longer exists.");
  return account;
}

/** The account as its owner sees it. */
export function presentAccount(account: AccountRecord) {
  return {
    id: account.id,
    email: account.email,
    displayName: account.displayName,
    createdAt: account.createdAt.toISOString(),
  };
}
