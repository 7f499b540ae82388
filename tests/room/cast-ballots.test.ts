/**
 * The database function that writes a group of ballots (stepstone_cast_ballots), called directly
 * on a real PostgreSQL: a group where every voter appears once is written by set-based statements,
 * a group with a voter twice ballot after ballot. Both must answer and store exactly the same.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

const PICK_TWO = {
  kind: "multiple_choice",
  question: "Which matter most?",
  options: ["Cost", "Openness", "Speed"],
  maxChoices: 2,
  anonymous: true,
  resultsVisibility: "live",
};

interface Cast {
  member: string;
  client: string;
  options: string[];
  /** The rights version the voter's connection was admitted with (null: not checked). */
  rights?: number | null;
}

interface Row {
  ordinal: number;
  outcome: string;
  stored_revision: number | null;
  stored_options: string[] | null;
}

/** An open prompt of three options, three participants and an observer. */
async function openPrompt() {
  const { seminar, moderator } = await buildSeminar(server, { prompts: [PICK_TWO] });
  const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
  const prompt = host.stream.state!.prompts[0]!;
  expectOk(await host.send("prompt:open", { promptId: prompt.id }));
  host.close();
  const member = (role: "participant" | "observer", name: string) =>
    server.prisma.membership.create({ data: { seminarId: seminar.id, role, displayName: name } });
  const [ada, bo, cy, olive] = await Promise.all([
    member("participant", "Ada"),
    member("participant", "Bo"),
    member("participant", "Cy"),
    member("observer", "Olive"),
  ]);
  const [o1, o2, o3] = prompt.options.map((option) => option.id) as [string, string, string];
  return {
    seminarId: seminar.id,
    promptId: prompt.id,
    ada: ada.id,
    bo: bo.id,
    cy: cy.id,
    olive: olive.id,
    o1,
    o2,
    o3,
  };
}

/** Calls the function with a group, as castBallotGroup does. */
function cast(room: { seminarId: string; promptId: string }, group: Cast[]) {
  return server.prisma.$queryRaw<Row[]>`
    SELECT ordinal, outcome, stored_revision, stored_options::text[] AS stored_options
    FROM stepstone_cast_ballots(${room.promptId}::uuid, ${room.seminarId}::uuid,
      ${group.map((c) => c.member)}::uuid[], ${group.map((c) => c.rights ?? null)}::int[],
      ${group.map((c) => c.client)}::uuid[], ${group.map((c) => c.options.length)}::int[],
      ${group.flatMap((c) => c.options)}::uuid[])`;
}

/** What is stored for the prompt: member -> revision and sorted choices. */
async function stored(promptId: string) {
  const ballots = await server.prisma.ballot.findMany({
    where: { promptId },
    select: { memberId: true, revision: true, choices: { select: { optionId: true } } },
  });
  return Object.fromEntries(
    ballots.map((b) => [
      b.memberId,
      { revision: b.revision, options: b.choices.map((c) => c.optionId).sort() },
    ]),
  );
}

const sorted = (ids: string[]) => [...ids].sort();

describe("stepstone_cast_ballots", () => {
  it("writes a group of distinct voters at once: new, replaced, retried and refused ballots each answered", async () => {
    const room = await openPrompt();
    const { ada, bo, cy, olive, o1, o2, o3 } = room;
    const adaFirst = randomUUID();
    const boFirst = randomUUID();
    const first = await cast(room, [
      { member: ada, client: adaFirst, options: [o1] },
      { member: bo, client: boFirst, options: [o1, o2] },
      // An observer does not vote; a connection admitted at an older rights version neither.
      { member: olive, client: randomUUID(), options: [o1] },
      { member: cy, client: randomUUID(), options: [o3], rights: 7 },
    ]);
    expect(first).toEqual([
      { ordinal: 1, outcome: "stored", stored_revision: 1, stored_options: [o1] },
      { ordinal: 2, outcome: "stored", stored_revision: 1, stored_options: [o1, o2] },
      { ordinal: 3, outcome: "not_a_voter", stored_revision: null, stored_options: null },
      { ordinal: 4, outcome: "not_a_voter", stored_revision: null, stored_options: null },
    ]);

    const second = await cast(room, [
      // A retry of Ada's ballot changes nothing and is answered with what is stored.
      { member: ada, client: adaFirst, options: [o2] },
      // Bo changes his mind: o1 goes, o2 stays, o3 comes.
      { member: bo, client: randomUUID(), options: [o2, o3] },
      { member: cy, client: randomUUID(), options: [o3], rights: 0 },
    ]);
    expect(second).toEqual([
      { ordinal: 1, outcome: "unchanged", stored_revision: 1, stored_options: [o1] },
      { ordinal: 2, outcome: "stored", stored_revision: 2, stored_options: [o2, o3] },
      { ordinal: 3, outcome: "stored", stored_revision: 1, stored_options: [o3] },
    ]);
    expect(await stored(room.promptId)).toEqual({
      [ada]: { revision: 1, options: [o1] },
      [bo]: { revision: 2, options: sorted([o2, o3]) },
      [cy]: { revision: 1, options: [o3] },
    });
  });

  it("answers and stores the same when a voter is twice in the group (ballot after ballot)", async () => {
    // The same ballots as above, with Ada's two ballots of the second round in one group.
    const room = await openPrompt();
    const { ada, bo, cy, o1, o2, o3 } = room;
    const adaFirst = randomUUID();
    await cast(room, [
      { member: ada, client: adaFirst, options: [o1] },
      { member: bo, client: randomUUID(), options: [o1, o2] },
    ]);
    const adaSecond = randomUUID();
    const rows = await cast(room, [
      { member: ada, client: adaFirst, options: [o2] },
      { member: bo, client: randomUUID(), options: [o2, o3] },
      { member: cy, client: randomUUID(), options: [o3] },
      { member: ada, client: adaSecond, options: [o2, o3] },
      { member: ada, client: adaSecond, options: [o1] },
    ]);
    expect(rows).toEqual([
      { ordinal: 1, outcome: "unchanged", stored_revision: 1, stored_options: [o1] },
      { ordinal: 2, outcome: "stored", stored_revision: 2, stored_options: [o2, o3] },
      { ordinal: 3, outcome: "stored", stored_revision: 1, stored_options: [o3] },
      { ordinal: 4, outcome: "stored", stored_revision: 2, stored_options: [o2, o3] },
      { ordinal: 5, outcome: "unchanged", stored_revision: 2, stored_options: sorted([o2, o3]) },
    ]);
    expect(await stored(room.promptId)).toEqual({
      [ada]: { revision: 2, options: sorted([o2, o3]) },
      [bo]: { revision: 2, options: sorted([o2, o3]) },
      [cy]: { revision: 1, options: [o3] },
    });
  });

  it("refuses a whole group once the prompt is closed, storing nothing", async () => {
    const room = await openPrompt();
    await server.prisma.prompt.update({ where: { id: room.promptId }, data: { state: "closed" } });
    await expect(
      cast(room, [{ member: room.ada, client: randomUUID(), options: [room.o1] }]),
    ).rejects.toThrow(/stepstone:prompt_not_open/);
    expect(await stored(room.promptId)).toEqual({});
  });
});
