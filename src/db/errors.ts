import { Prisma } from "./client.ts";

/**
 * Whether `error` is a unique-index violation (SQLSTATE 23505), as Prisma reports it for typed
 * queries (P2002) and raw ones (P2010 carrying the driver's code). `index` narrows it to one
 * constraint or column name. The one place that recognises them: callers turn them into a retry,
 * the stored row, or `conflict`.
 */
export function isUniqueViolation(error: unknown, index?: string): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const detail = JSON.stringify(error.meta ?? {}) + error.message;
  const unique = error.code === "P2002" || (error.code === "P2010" && /23505|unique/i.test(detail));
  return unique && (index === undefined || detail.includes(index));
}
