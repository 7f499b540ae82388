import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../tests/helpers/database.ts";
import type { Tx } from "../../db/client.ts";
import { RoomWriter } from "../../realtime/room-writer.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import {
  castVote,
  changePromptState,
  createBallotQueue,
  createPrompt,
  loadPromptState,
  type PromptDeps,
  recordTally,
  updatePrompt,
} from "./prompts.service.ts";

const db = await useTestDatabase();
const prisma = db.prisma;

/** A live seminar with a host and `participants` participants, and services that record what they report. */
async function seminarWith(participants: number) {
  const account = await prisma.account.create({
    data: { email: `${randomUUID()}@example.test`, passwordHash: "x", displayName: "Host" },
  });
  const seminar = await prisma.seminar.create({
    data: { ownerId: account.id, title: "Service test", joinCode: randomUUID().slice(0, 12), state: "live" },
  });
  const host = await prisma.membership.create({
    data: { seminarId: seminar.id, accountId: account.id, role: "host", displayName: "Host" },
  });
  const members = await prisma.membership.createManyAndReturn({
    data: Array.from({ length: participants }, (_, i) => ({
      seminarId: seminar.id,
      role: "participant" as const,
      displayName: `P${i}`,
    })),
  });
  const changed: string[] = [];
  const sentNow: string[] = [];
  const published: string[] = [];
  const tallies: PromptDeps["tallies"] = {
    changed: (_seminarId, promptId) => void changed.push(promptId),
    sendNow: async (_seminarId, promptId) => void sentNow.push(promptId),
  };
  const deps: PromptDeps = {
    prisma,
    rooms: new RoomWriter(prisma, async (_seminarId, events) => {
      published.push(...events.map((event) => event.type));
    }),
    tallies,
    ballots: createBallotQueue({ prisma, tallies }, { logger: console }),
  };
  const moderator: Actor = { seminarId: seminar.id, memberId: host.id, role: "host" };
  const voters: Actor[] = members.map((member) => ({
    seminarId: seminar.id,
    memberId: member.id,
    role: "participant",
  }));
  return { seminar, deps, moderator, voters, changed, sentNow, published };
}

const inTx = <T>(run: (tx: Tx) => Promise<T>) =>
  prisma.$transaction(run, { isolationLevel: "RepeatableRead" });

describe("prompt service", () => {
  it("replaces a draft's definition, then refuses edits once open; every step is published after commit", async () => {
    const { deps, moderator, published, sentNow } = await seminarWith(0);
    const draft = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Yes or no?",
      options: ["Yes", "No"],
      anonymous: true,
      resultsVisibility: "live",
    });
    const scale = await updatePrompt(deps, moderator, draft.id, {
      kind: "scale",
      question: "How much?",
      min: 0,
      max: 4,
      anonymous: false,
      resultsVisibility: "moderators",
    });
    expect(scale).toMatchObject({
      id: draft.id,
      kind: "scale",
      anonymous: false,
      resultsVisibility: "moderators",
    });
    expect(scale.options.map((option) => option.value)).toEqual([0, 1, 2, 3, 4]);
    expect(await prisma.promptOption.count({ where: { promptId: draft.id } })).toBe(5);
    await changePromptState(deps, moderator, draft.id, "open");
    await expect(
      updatePrompt(deps, moderator, draft.id, {
        kind: "single_choice",
        question: "Too late",
        options: ["a", "b"],
        anonymous: true,
        resultsVisibility: "live",
      }),
    ).rejects.toMatchObject({ code: "conflict" });
    expect(published).toEqual(["prompt:created", "prompt:updated", "prompt:opened"]);
    expect(sentNow).toEqual([draft.id]);
  });

  it("keeps one ballot with the last revision's choices when one member sends 50 ballots at once", async () => {
    const { deps, moderator, voters, changed } = await seminarWith(1);
    const prompt = await createPrompt(deps, moderator, {
      kind: "multiple_choice",
      question: "Two of four",
      options: ["A", "B", "C", "D"],
      maxChoices: 2,
      anonymous: true,
      resultsVisibility: "live",
    });
    await changePromptState(deps, moderator, prompt.id, "open");
    const ids = prompt.options.map((option) => option.id);
    const picks = Array.from({ length: 50 }, (_, i) =>
      i % 3 === 0 ? [ids[i % 4]!] : [ids[i % 4]!, ids[(i + 1) % 4]!],
    );
    const ballots = await Promise.all(
      picks.map((optionIds) =>
        castVote(deps, voters[0]!, { promptId: prompt.id, optionIds, clientBallotId: randomUUID() }),
      ),
    );
    expect(ballots.map((ballot) => ballot.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const stored = await prisma.ballot.findMany({
      where: { promptId: prompt.id },
      include: { choices: true },
    });
    expect(stored).toHaveLength(1);
    const last = ballots.find((ballot) => ballot.revision === 50)!;
    expect(stored[0]!.clientBallotId).toBe(last.clientBallotId);
    expect(stored[0]!.choices.map((choice) => choice.optionId).sort()).toEqual(last.optionIds);
    expect(changed).toHaveLength(50);

    const reading = await recordTally(prisma, prompt.id);
    expect(reading!.tally.version).toBe(50);
    expect(reading!.tally.ballots).toBe(1);
    expect(Object.values(reading!.tally.counts).reduce((a, b) => a + b, 0)).toBe(last.optionIds.length);
    expect(reading!.tally.voters).toBeNull();
  });

  it("stores a tally version once in the history", async () => {
    const { deps, moderator, voters } = await seminarWith(2);
    const prompt = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Q",
      options: ["a", "b"],
      anonymous: true,
      resultsVisibility: "live",
    });
    await changePromptState(deps, moderator, prompt.id, "open");
    await castVote(deps, voters[0]!, {
      promptId: prompt.id,
      optionIds: [prompt.options[0]!.id],
      clientBallotId: randomUUID(),
    });
    // Recorded twice at the same version (another node, an unchanged flush): kept once.
    expect((await recordTally(prisma, prompt.id))!.tally.version).toBe(1);
    expect((await recordTally(prisma, prompt.id))!.tally.version).toBe(1);
    const rows = await prisma.tallySnapshot.findMany({ where: { promptId: prompt.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      version: 1,
      ballots: 1,
      counts: { [prompt.options[0]!.id]: 1, [prompt.options[1]!.id]: 0 },
    });
  });

  it("records the same tally, voters and facts as a moderator's prompt state reads, and keeps each version", async () => {
    const { deps, moderator, voters } = await seminarWith(5);
    const named = await createPrompt(deps, moderator, {
      kind: "multiple_choice",
      question: "Which?",
      options: ["a", "b", "c", "d"],
      maxChoices: 3,
      anonymous: false,
      resultsVisibility: "after_close",
    });
    const anonymous = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Yes?",
      options: ["yes", "no"],
      anonymous: true,
      resultsVisibility: "live",
    });
    for (const prompt of [named, anonymous]) await changePromptState(deps, moderator, prompt.id, "open");
    const [a, b, c] = named.options.map((option) => option.id);
    // Option d is picked by nobody; voter 2 changes their ballot (revision 2): a 2, b 3, c 1.
    const picks = [[a!, b!], [b!], [a!, c!], [b!, c!, a!]];
    for (const [i, optionIds] of picks.entries()) {
      await castVote(deps, voters[Math.min(i, 2)]!, {
        promptId: named.id,
        optionIds,
        clientBallotId: randomUUID(),
      });
    }
    for (const voter of voters.slice(0, 3)) {
      await castVote(deps, voter, {
        promptId: anonymous.id,
        optionIds: [anonymous.options[0]!.id],
        clientBallotId: randomUUID(),
      });
    }
    const state = await prisma.$transaction((tx) => loadPromptState(tx, moderator.seminarId, moderator));
    for (const prompt of [named, anonymous]) {
      const reading = await recordTally(prisma, prompt.id);
      const expected = state.tallies.find((tally) => tally.promptId === prompt.id)!;
      expect(reading).not.toBeNull();
      expect(reading!.seminarId).toBe(moderator.seminarId);
      expect(reading!.facts).toEqual({
        state: "open",
        resultsVisibility: prompt.resultsVisibility,
        revealedAt: null,
        anonymous: prompt.anonymous,
      });
      const { voters: readVoters, ...counts } = reading!.tally;
      const { voters: expectedVoters, ...expectedCounts } = expected;
      expect(counts).toEqual(expectedCounts);
      expect(readVoters).toEqual(expectedVoters ?? null);
    }
    const namedReading = await recordTally(prisma, named.id);
    expect(namedReading!.tally).toMatchObject({ version: 4, ballots: 3 });
    expect(Object.values(namedReading!.tally.counts)).toEqual([2, 3, 1, 0]);
    expect(Object.keys(namedReading!.tally.counts)).toEqual(named.options.map((option) => option.id));
    expect(namedReading!.tally.voters![named.options[3]!.id]).toEqual([]);
    expect(await recordTally(prisma, randomUUID())).toBeNull();
    const history = await prisma.tallySnapshot.findMany({ where: { promptId: named.id } });
    expect(history.map((row) => [row.version, row.ballots, row.counts])).toEqual([
      [4, 3, namedReading!.tally.counts],
    ]);
  });

  it("loads for each viewer only the tallies and voters they may see, and their own ballots", async () => {
    const { seminar, deps, moderator, voters } = await seminarWith(2);
    const named = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Named, moderators only",
      options: ["a", "b"],
      anonymous: false,
      resultsVisibility: "moderators",
    });
    const open = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Anonymous, live",
      options: ["a", "b"],
      anonymous: true,
      resultsVisibility: "live",
    });
    const draft = await createPrompt(deps, moderator, {
      kind: "single_choice",
      question: "Still a draft",
      options: ["a", "b"],
      anonymous: true,
      resultsVisibility: "live",
    });
    for (const prompt of [named, open]) await changePromptState(deps, moderator, prompt.id, "open");
    const mine = await castVote(deps, voters[0]!, {
      promptId: named.id,
      optionIds: [named.options[1]!.id],
      clientBallotId: randomUUID(),
    });
    await castVote(deps, voters[1]!, {
      promptId: open.id,
      optionIds: [open.options[0]!.id],
      clientBallotId: randomUUID(),
    });

    const forModerator = await inTx((tx) => loadPromptState(tx, seminar.id, moderator));
    expect(forModerator.prompts.map((prompt) => prompt.id)).toEqual([named.id, open.id, draft.id]);
    expect(forModerator.tallies).toEqual([
      {
        promptId: named.id,
        version: 1,
        counts: { [named.options[0]!.id]: 0, [named.options[1]!.id]: 1 },
        ballots: 1,
        voters: { [named.options[0]!.id]: [], [named.options[1]!.id]: [voters[0]!.memberId] },
      },
      {
        promptId: open.id,
        version: 1,
        counts: { [open.options[0]!.id]: 1, [open.options[1]!.id]: 0 },
        ballots: 1,
      },
    ]);
    expect(forModerator.myBallots).toEqual([]);

    const forParticipant = await inTx((tx) => loadPromptState(tx, seminar.id, voters[0]!));
    expect(forParticipant.tallies.map((tally) => tally.promptId)).toEqual([open.id]);
    expect(JSON.stringify(forParticipant)).not.toContain("voters");
    expect(forParticipant.myBallots).toEqual([mine]);

    await changePromptState(deps, moderator, named.id, "reveal");
    const revealed = await inTx((tx) => loadPromptState(tx, seminar.id, voters[1]!));
    expect(revealed.tallies.map((tally) => tally.promptId)).toEqual([named.id, open.id]);
    expect(JSON.stringify(revealed)).not.toContain("voters");
  });
});
