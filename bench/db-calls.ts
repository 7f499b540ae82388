/**
 * `npx tsx bench/db-calls.ts`: what one database call on the join path costs the server's CPU,
 * through Prisma's ORM and as a plain statement (`$queryRaw`), on a fresh bench database. The
 * server pays this CPU in its own process (Prisma 7 plans ORM queries in WebAssembly and maps rows
 * in JavaScript), so a call's price is this process's CPU time per call, not the database's. Each
 * figure is also given as a ratio to the baseline: a plain one-row statement, timed in the same
 * run. See bench/README.md.
 */
import { parseArgs } from "node:util";
import { createPrismaClient } from "../src/db/client.ts";
import { annotationSelect, listAnnotationRecords } from "../src/modules/annotations/annotations.service.ts";
import { createBenchDatabase } from "./database.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "600" } } });
const calls = Number(values.calls);
/** Rounds over every case; a case's figure is its best round. */
const ROUNDS = 3;
/** Annotations in the seminar whose annotations are read. */
const ANNOTATIONS = 300;
if (!Number.isInteger(calls) || calls < 10) throw new Error("--calls must be an integer of at least 10");

const database = await createBenchDatabase();
const prisma = createPrismaClient(database.url);
try {
  const owner = await prisma.account.create({
    data: { email: "bench@example.test", displayName: "Bench", passwordHash: "-" },
  });
  const seminar = await prisma.seminar.create({
    data: { ownerId: owner.id, title: "Calls", joinCode: "CALLS0000000" },
  });
  let named = 0;
  /** A batch of guests as a join storm admits them (14 a transaction on average, 2026-12-03). */
  const guests = () =>
    Array.from({ length: 14 }, () => ({ role: "participant" as const, displayName: `guest ${named++}` }));

  /** CPU of this process per call (ms) over `count` calls. */
  async function cpuPerCall(call: () => Promise<unknown>, count: number): Promise<number> {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) await call();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / count;
  }

  // A discussion under way: 300 annotations, each with two reactions.
  const essay = await prisma.essay.create({
    data: {
      seminarId: seminar.id,
      title: "Calls",
      format: "text",
      sourceText: "A paragraph.",
      paragraphs: { create: [{ position: 0, kind: "paragraph", text: "A paragraph." }] },
    },
    include: { paragraphs: true },
  });
  const [author, reader] = await prisma.membership.createManyAndReturn({
    data: [
      { seminarId: seminar.id, role: "participant", displayName: "author" },
      { seminarId: seminar.id, role: "participant", displayName: "reader" },
    ],
  });
  const annotations = await prisma.annotation.createManyAndReturn({
    data: Array.from({ length: ANNOTATIONS }, (_, i) => ({
      seminarId: seminar.id,
      paragraphId: essay.paragraphs[0]!.id,
      authorId: author!.id,
      body: `Annotation ${i}: a sentence or two about the paragraph, as people write them.`,
      tags: ["question"],
    })),
  });
  await prisma.reaction.createMany({
    data: annotations.flatMap((annotation) => [
      { annotationId: annotation.id, memberId: author!.id, kind: "agree" },
      { annotationId: annotation.id, memberId: reader!.id, kind: "question" },
    ]),
  });

  const cases: [string, () => Promise<unknown>][] = [
    ["plain one-row statement (baseline)", () => prisma.$queryRaw`SELECT ${seminar.id}::uuid AS id`],
    [
      "seminar: ORM findUnique",
      () =>
        prisma.seminar.findUnique({
          where: { id: seminar.id },
          select: { id: true, title: true, lastSeq: true },
        }),
    ],
    [
      "seminar: plain statement",
      () =>
        prisma.$queryRaw`SELECT id::text AS id, title, last_seq FROM seminars WHERE id = ${seminar.id}::uuid`,
    ],
    [
      "14 guests: ORM createManyAndReturn",
      () =>
        prisma.membership.createManyAndReturn({
          data: guests().map((guest) => ({ seminarId: seminar.id, ...guest })),
        }),
    ],
    [
      "14 guests: plain INSERT … unnest … RETURNING",
      () => {
        const batch = guests();
        return prisma.$queryRaw`
          INSERT INTO memberships (seminar_id, role, display_name)
          SELECT ${seminar.id}::uuid, guest.role::member_role, guest.display_name
          FROM unnest(${batch.map((guest) => guest.role)}::text[], ${batch.map((guest) => guest.displayName)}::text[])
            AS guest(role, display_name)
          RETURNING id::text AS id, role::text AS role, display_name, status::text AS status, created_at`;
      },
    ],
    [
      `${ANNOTATIONS} annotations with reactions: ORM findMany`,
      () =>
        prisma.annotation.findMany({
          where: { seminarId: seminar.id },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          select: annotationSelect,
        }),
    ],
    [
      `${ANNOTATIONS} annotations with reactions: plain statement`,
      () => listAnnotationRecords(prisma, seminar.id),
    ],
    [
      "transaction of one plain statement (repeatable read)",
      () =>
        prisma.$transaction((tx) => tx.$queryRaw`SELECT 1 AS one`, {
          isolationLevel: "RepeatableRead",
        }),
    ],
  ];
  // Every case warmed first (V8 and Prisma's plan cache), then ROUNDS rounds over all of them in
  // turn; a case's figure is its least disturbed round.
  for (const [, call] of cases) await cpuPerCall(call, Math.ceil(calls / 10));
  const best = cases.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, call]] of cases.entries()) {
      best[i] = Math.min(best[i]!, await cpuPerCall(call, Math.ceil(calls / ROUNDS)));
    }
  }
  const baseline = best[0]!;
  console.log(
    `CPU of this process per call, best of ${ROUNDS} rounds of ${Math.ceil(calls / ROUNDS)} (PostgreSQL ${database.version})\n`,
  );
  console.log("| call | CPU per call | × baseline |\n| --- | ---: | ---: |");
  for (const [i, [name]] of cases.entries()) {
    console.log(`| ${name} | ${best[i]!.toFixed(3)} ms | ${(best[i]! / baseline).toFixed(2)} |`);
  }
} finally {
  await prisma.$disconnect();
  await database.drop();
}
