import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PromptStateView, TallySnapshotView } from "../../src/protocol/prompts.ts";
import type { TallyView } from "../../src/protocol/views.ts";
import { buildSeminar, expectOk, YES_NO } from "../helpers/factories.ts";
import {
  type ClientSocket,
  connect,
  eventually,
  RoomClient,
  send,
  startTestServer,
} from "../helpers/server.ts";

const server = await startTestServer();

/** Members created directly (the join route is rate-limited per IP), with guest tokens. */
async function addMembers(
  seminarId: string,
  count: number,
  role: "participant" | "observer" = "participant",
) {
  const rows = await server.prisma.membership.createManyAndReturn({
    data: Array.from({ length: count }, (_, i) => ({
      seminarId,
      role,
      displayName: `${role} ${i} ${randomUUID().slice(0, 8)}`,
    })),
    select: { id: true },
  });
  return rows.map((row) => ({
    memberId: row.id,
    token: server.app.context.tokens.issue({ kind: "guest", sub: row.id, sem: seminarId, rv: 0 }).token,
  }));
}

/** Every message a socket received, as sent (for checking what must not have been sent). */
function record(socket: ClientSocket): { event: string; args: unknown[] }[] {
  const packets: { event: string; args: unknown[] }[] = [];
  socket.onAny((event: string, ...args: unknown[]) => packets.push({ event, args: structuredClone(args) }));
  return packets;
}

/** A seminar with `prompts` (drafts), its host in the room and `participants` guests in it. */
async function room(prompts: unknown[], participants = 1, options: { start?: boolean } = {}) {
  const { seminar, moderator } = await buildSeminar(server, { prompts, start: options.start ?? true });
  const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
  const members = await addMembers(seminar.id, participants);
  const guests = await Promise.all(
    members.map((member) => RoomClient.join(server.url, { token: member.token })),
  );
  const promptIds = host.stream.state!.prompts.map((prompt) => prompt.id);
  const close = () => {
    host.close();
    for (const guest of guests) guest.close();
  };
  return { seminar, moderator, host, members, guests, promptIds, close };
}

/** What the database holds for a prompt: counts per option, ballots and the tally version. */
async function stored(promptId: string) {
  const prompt = await server.prisma.prompt.findUniqueOrThrow({
    where: { id: promptId },
    select: { options: { select: { id: true }, orderBy: { position: "asc" } } },
  });
  const ballots = await server.prisma.ballot.findMany({ where: { promptId }, include: { choices: true } });
  const counts: Record<string, number> = Object.fromEntries(prompt.options.map((option) => [option.id, 0]));
  for (const ballot of ballots) for (const choice of ballot.choices) counts[choice.optionId]! += 1;
  // The tally version is the number of ballot writes: the sum of the ballots' revisions.
  const version = ballots.reduce((sum, ballot) => sum + ballot.revision, 0);
  return { version, counts, ballots };
}

const lastTally = (client: RoomClient, promptId: string): TallyView | undefined =>
  client.stream.state?.tallies.find((tally) => tally.promptId === promptId);

const vote = (
  client: RoomClient | ClientSocket,
  promptId: string,
  optionIds: string[],
  clientBallotId = randomUUID(),
) =>
  "stream" in client
    ? client.send("prompt:vote", { promptId, optionIds, clientBallotId })
    : send(client, "prompt:vote", { promptId, optionIds, clientBallotId });

/**
 * Resolves once every packet the server sent these clients before now has arrived: a round trip
 * on each connection (room:sync after the last seq) is answered behind them, in order. Lets a test
 * check that something was *not* sent without waiting an arbitrary time.
 */
const barrier = (clients: RoomClient[]) => Promise.all(clients.map((client) => client.sync()));

describe("the prompt life cycle", () => {
  it("creates, edits, opens, closes, reopens and reveals, each a room event every client applies", async () => {
    const { seminar, host, guests, close } = await room([], 1);
    const [guest] = guests;
    const paragraph = host.stream.state!.essay.paragraphs.find((block) => block.kind === "paragraph")!;
    const created = expectOk(
      await host.send("prompt:create", {
        ...YES_NO,
        paragraphId: paragraph.id,
        resultsVisibility: "after_close",
      }),
    );
    expect(created).toMatchObject({
      state: "draft",
      paragraphId: paragraph.id,
      revealed: false,
      anonymous: true,
    });
    expect(created.options.map((option) => option.label)).toEqual(["Yes", "No"]);

    const updated = expectOk(
      await host.send("prompt:update", {
        promptId: created.id,
        prompt: {
          kind: "multiple_choice",
          question: "Which matter most?",
          options: ["Cost", "Openness", "Speed"],
          maxChoices: 2,
        },
      }),
    );
    expect(updated).toMatchObject({
      id: created.id,
      kind: "multiple_choice",
      maxChoices: 2,
      paragraphId: null,
    });
    expect(updated.options).toHaveLength(3);

    const opened = expectOk(await host.send("prompt:open", { promptId: created.id }));
    expect(opened.state).toBe("open");
    expect(opened.openedAt).not.toBeNull();
    expectOk(await vote(guest!, created.id, [updated.options[0]!.id, updated.options[2]!.id]));
    expect(expectOk(await host.send("prompt:close", { promptId: created.id })).state).toBe("closed");
    const reopened = expectOk(await host.send("prompt:reopen", { promptId: created.id }));
    expect(reopened).toMatchObject({ state: "open", closedAt: null, openedAt: opened.openedAt });
    expect(expectOk(await host.send("prompt:reveal", { promptId: created.id })).revealed).toBe(true);

    const types = [
      "prompt:created",
      "prompt:updated",
      "prompt:opened",
      "prompt:closed",
      "prompt:opened",
      "prompt:revealed",
    ];
    const lastSeq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    await guest!.waitForSeq(lastSeq);
    expect(guest!.received.map((event) => event.type)).toEqual(types);
    // Ballots are not room events.
    const logged = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, type: { startsWith: "prompt:" } },
    });
    expect(logged.map((event) => event.type)).toEqual(types);
    expect(guest!.stream.state!.prompts).toEqual(host.stream.state!.prompts);
    expect(guest!.stream.state!.prompts[0]).toMatchObject({
      state: "open",
      revealed: true,
      kind: "multiple_choice",
    });
    // The ballot survived the reopening; the client holds the counts now that they are revealed.
    await eventually(() => lastTally(guest!, created.id)?.ballots === 1, 5_000, "revealed tally");
    close();
  });

  it("lets moderators prepare prompts in a draft seminar but open them only once it is live", async () => {
    const { seminar, host, close } = await room([], 0, { start: false });
    const draft = expectOk(await host.send("prompt:create", YES_NO));
    expect(draft.position).toBe(0);
    const seq = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    expect(await host.send("prompt:open", { promptId: draft.id })).toMatchObject({
      ok: false,
      error: { code: "room_closed" },
    });
    const after = await server.prisma.prompt.findUniqueOrThrow({ where: { id: draft.id } });
    expect(after.state).toBe("draft");
    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq).toBe(seq);
    close();
  });

  it("refuses participants' and misplaced life-cycle commands with typed errors and stores nothing", async () => {
    const { seminar, host, guests, promptIds, close } = await room([YES_NO, YES_NO], 1);
    const [guest] = guests;
    const [first, second] = promptIds as [string, string];
    const other = await room([YES_NO], 0);
    const foreignParagraph = other.host.stream.state!.essay.paragraphs[0]!.id;
    expectOk(await host.send("prompt:open", { promptId: first }));
    const before = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    const prompts = await server.prisma.prompt.findMany({
      where: { seminarId: seminar.id },
      include: { options: true },
    });

    for (const name of ["prompt:open", "prompt:close", "prompt:reopen", "prompt:reveal"] as const) {
      expect(await guest!.send(name, { promptId: second })).toMatchObject({
        ok: false,
        error: { code: "forbidden" },
      });
    }
    expect(await guest!.send("prompt:create", YES_NO)).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(await guest!.send("prompt:update", { promptId: second, prompt: YES_NO })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    // A moderator editing an open prompt, or moving it the wrong way.
    expect(await host.send("prompt:update", { promptId: first, prompt: YES_NO })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(await host.send("prompt:open", { promptId: first })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(await host.send("prompt:reopen", { promptId: first })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(await host.send("prompt:close", { promptId: second })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(await host.send("prompt:reveal", { promptId: second })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    // Outside the seminar is not_found; a paragraph of another seminar's essay is refused.
    expect(await host.send("prompt:open", { promptId: other.promptIds[0]! })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await host.send("prompt:create", { ...YES_NO, paragraphId: foreignParagraph })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    expect(
      await host.send("prompt:create", {
        kind: "multiple_choice",
        question: "Q",
        options: ["a", "b"],
        maxChoices: 3,
      }),
    ).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(await host.send("prompt:create", { kind: "scale", question: "Q", min: 5, max: 1 })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });

    expect((await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq).toBe(
      before.lastSeq,
    );
    expect(
      await server.prisma.prompt.findMany({ where: { seminarId: seminar.id }, include: { options: true } }),
    ).toEqual(prompts);
    expect(await server.prisma.prompt.count({ where: { seminarId: other.seminar.id } })).toBe(1);
    close();
    other.close();
  });
});

describe("ballots", () => {
  it("stores one ballot per participant, replaceable while open, and acks it", async () => {
    const { host, guests, promptIds, members, close } = await room(
      [{ kind: "multiple_choice", question: "Pick up to two", options: ["A", "B", "C"], maxChoices: 2 }],
      2,
    );
    const [promptId] = promptIds as [string];
    const options = host.stream.state!.prompts[0]!.options.map((option) => option.id);
    expectOk(await host.send("prompt:open", { promptId }));
    const first = expectOk(await vote(guests[0]!, promptId, [options[0]!, options[1]!]));
    expect(first).toMatchObject({ promptId, revision: 1 });
    expect(first.optionIds).toEqual([options[0]!, options[1]!].sort());
    const changed = expectOk(await vote(guests[0]!, promptId, [options[2]!]));
    expect(changed).toMatchObject({ optionIds: [options[2]], revision: 2 });
    expectOk(await vote(guests[1]!, promptId, [options[2]!]));

    const db = await stored(promptId);
    expect(db.ballots).toHaveLength(2);
    expect(db.counts).toEqual({ [options[0]!]: 0, [options[1]!]: 0, [options[2]!]: 2 });
    expect(db.version).toBe(3);
    for (const client of [host, ...guests]) {
      await eventually(() => lastTally(client, promptId)?.version === 3, 5_000, "the tally");
      expect(lastTally(client, promptId)).toEqual({ promptId, version: 3, counts: db.counts, ballots: 2 });
    }
    // A late joiner gets the tally and its own ballot with the snapshot, without waiting for a vote.
    const again = await RoomClient.join(server.url, { token: members[0]!.token });
    expect(again.stream.state!.tallies).toEqual([{ promptId, version: 3, counts: db.counts, ballots: 2 }]);
    expect(again.stream.state!.myBallots).toEqual([changed]);
    again.close();
    // A ballot of two options comes back whole in a snapshot (its choices read with it).
    const both = expectOk(await vote(guests[1]!, promptId, [options[0]!, options[1]!]));
    const rejoined = await RoomClient.join(server.url, { token: members[1]!.token });
    expect(rejoined.stream.state!.myBallots).toEqual([both]);
    rejoined.close();
    close();
  });

  it("refuses bad ballots with typed errors and stores nothing", async () => {
    const { seminar, moderator, host, guests, promptIds, close } = await room(
      [
        YES_NO,
        { kind: "multiple_choice", question: "Two at most", options: ["A", "B", "C"], maxChoices: 2 },
        { kind: "scale", question: "Agree?", min: 1, max: 5, minLabel: "Disagree", maxLabel: "Agree" },
        YES_NO,
      ],
      1,
    );
    const [guest] = guests;
    const [single, multiple, scale, draft] = promptIds as [string, string, string, string];
    const optionsOf = (id: string) =>
      host.stream.state!.prompts.find((prompt) => prompt.id === id)!.options.map((o) => o.id);
    for (const id of [single, multiple, scale]) expectOk(await host.send("prompt:open", { promptId: id }));
    const closedPrompt = expectOk(await host.send("prompt:create", YES_NO));
    expectOk(await host.send("prompt:open", { promptId: closedPrompt.id }));
    expectOk(await host.send("prompt:close", { promptId: closedPrompt.id }));
    const observer = await RoomClient.join(server.url, {
      token: (await addMembers(seminar.id, 1, "observer"))[0]!.token,
    });
    const other = await room([YES_NO], 0);
    expectOk(await other.host.send("prompt:open", { promptId: other.promptIds[0]! }));
    const scalePoints = host.stream.state!.prompts.find((prompt) => prompt.id === scale)!.options;
    expect(scalePoints.map((point) => point.value)).toEqual([1, 2, 3, 4, 5]);
    expect(scalePoints.map((point) => point.label)).toEqual(["1 Disagree", "2", "3", "4", "5 Agree"]);

    const refusals: [Promise<unknown>, string][] = [
      [vote(guest!, draft, [optionsOf(draft)[0]!]), "conflict"],
      [vote(guest!, closedPrompt.id, [closedPrompt.options[0]!.id]), "conflict"],
      [vote(guest!, single, [optionsOf(multiple)[0]!]), "validation_failed"],
      [vote(guest!, single, optionsOf(single)), "validation_failed"],
      [vote(guest!, multiple, optionsOf(multiple)), "validation_failed"],
      [vote(guest!, multiple, [optionsOf(multiple)[0]!, optionsOf(multiple)[0]!]), "validation_failed"],
      [vote(guest!, scale, [optionsOf(single)[0]!]), "validation_failed"],
      [vote(guest!, scale, [randomUUID()]), "validation_failed"],
      [vote(guest!, scale, [optionsOf(scale)[0]!, optionsOf(scale)[4]!]), "validation_failed"],
      [vote(guest!, single, []), "validation_failed"],
      [
        guest!.sendRaw("prompt:vote", {
          promptId: single,
          optionIds: [optionsOf(single)[0]],
          clientBallotId: "x",
        }),
        "validation_failed",
      ],
      [vote(observer, single, [optionsOf(single)[0]!]), "forbidden"],
      [vote(host, single, [optionsOf(single)[0]!]), "forbidden"],
      [vote(guest!, other.promptIds[0]!, [other.host.stream.state!.prompts[0]!.options[0]!.id]), "not_found"],
    ];
    for (const [result, code] of refusals) expect(await result).toMatchObject({ ok: false, error: { code } });

    expect(
      await server.prisma.ballot.count({
        where: { prompt: { seminarId: { in: [seminar.id, other.seminar.id] } } },
      }),
    ).toBe(0);
    // Once the seminar ends, participants' ballots are refused as room_closed.
    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/end`, {}, moderator.token));
    expect(await vote(guest!, single, [optionsOf(single)[0]!])).toMatchObject({
      ok: false,
      error: { code: "room_closed" },
    });
    expect(await server.prisma.ballot.count({ where: { promptId: single } })).toBe(0);
    observer.close();
    other.close();
    close();
  });

  it("counts a retried ballot once, also when the retries race", async () => {
    const { host, guests, promptIds, close } = await room([YES_NO], 1);
    const [promptId] = promptIds as [string];
    const [yes, no] = host.stream.state!.prompts[0]!.options.map((option) => option.id) as [string, string];
    expectOk(await host.send("prompt:open", { promptId }));
    const id = randomUUID();
    const acks = await Promise.all(Array.from({ length: 8 }, () => vote(guests[0]!, promptId, [yes], id)));
    for (const ack of acks)
      expect(expectOk(ack)).toEqual({ promptId, optionIds: [yes], clientBallotId: id, revision: 1 });
    // A retry answers with what is stored, even if its payload differs.
    expect(expectOk(await vote(guests[0]!, promptId, [no], id))).toMatchObject({
      optionIds: [yes],
      revision: 1,
    });
    const db = await stored(promptId);
    expect(db.ballots).toHaveLength(1);
    expect(db.version).toBe(1);
    expect(db.counts).toEqual({ [yes]: 1, [no]: 0 });
    // After the close, a retry of the stored ballot is still acknowledged; a new ballot is not.
    expectOk(await host.send("prompt:close", { promptId }));
    expect(expectOk(await vote(guests[0]!, promptId, [yes], id)).revision).toBe(1);
    expect(await vote(guests[0]!, promptId, [no])).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect((await stored(promptId)).version).toBe(1);
    close();
  });

  it("keeps exactly one ballot when one participant sends 50 different ballots at once", async () => {
    const { seminar, host, promptIds, close } = await room(
      [{ kind: "multiple_choice", question: "Any two", options: ["A", "B", "C", "D"], maxChoices: 2 }],
      0,
    );
    const [promptId] = promptIds as [string];
    const options = host.stream.state!.prompts[0]!.options.map((option) => option.id);
    expectOk(await host.send("prompt:open", { promptId }));
    const [member] = await addMembers(seminar.id, 1);
    // Five sockets of the same member (the per-member cap), ten ballots each (under the per-socket burst).
    const sockets = await Promise.all(
      Array.from({ length: 5 }, () => connect(server.url, { token: member!.token })),
    );
    const submissions = Array.from({ length: 50 }, (_, i) => ({
      socket: sockets[i % 5]!,
      optionIds: i % 2 === 0 ? [options[i % 4]!] : [options[i % 4]!, options[(i + 1) % 4]!],
      clientBallotId: randomUUID(),
    }));
    const acks = await Promise.all(
      submissions.map((s) => vote(s.socket, promptId, s.optionIds, s.clientBallotId)),
    );
    const ballots = acks.map((ack) => expectOk(ack));
    expect(ballots.map((ballot) => ballot.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );

    const db = await stored(promptId);
    expect(db.ballots).toHaveLength(1);
    const [kept] = db.ballots;
    expect(kept!.revision).toBe(50);
    expect(db.version).toBe(50);
    // The stored ballot is the one acknowledged with the last revision, choices and all.
    const last = ballots.find((ballot) => ballot.revision === 50)!;
    expect(kept!.clientBallotId).toBe(last.clientBallotId);
    expect(kept!.choices.map((choice) => choice.optionId).sort()).toEqual(last.optionIds);
    await eventually(() => lastTally(host, promptId)?.version === 50, 5_000, "final tally");
    expect(lastTally(host, promptId)).toMatchObject({ ballots: 1, counts: db.counts });
    for (const socket of sockets) socket.close();
    close();
  });

  it("either counts a ballot racing the close or refuses it, never stores it uncounted", async () => {
    const { seminar, host, close } = await room([], 0);
    const members = await addMembers(seminar.id, 12);
    const voters = await Promise.all(
      members.map((member) => RoomClient.join(server.url, { token: member.token })),
    );
    const outcome = { accepted: 0, refused: 0 };
    // From "the close is first" to "the ballots are first", through rounds where they interleave:
    // negative delays hold the ballots back, positive ones the close.
    const delays = [-60, -30, -15, -8, -4, 0, 2, 5, 10, 20, 40, 250];
    for (const [round, delay] of delays.entries()) {
      const prompt = expectOk(await host.send("prompt:create", { ...YES_NO, question: `Round ${round}` }));
      expectOk(await host.send("prompt:open", { promptId: prompt.id }));
      const [acks, closed] = await Promise.all([
        new Promise((resolve) => setTimeout(resolve, Math.max(0, -delay))).then(() =>
          Promise.all(voters.map((voter, i) => vote(voter, prompt.id, [prompt.options[i % 2]!.id]))),
        ),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)))
          .then(() => host.send("prompt:close", { promptId: prompt.id }))
          // The closing tally is sent before the close is acknowledged (same connection, in order).
          .then((result) => ({ result, tally: lastTally(host, prompt.id) })),
      ]);
      expectOk(closed.result);
      const acked = new Set<string>();
      acks.forEach((ack, i) => {
        if (ack.ok) acked.add(members[i]!.memberId);
        else expect(ack.error.code).toBe("conflict");
      });
      outcome.accepted += acked.size;
      outcome.refused += acks.length - acked.size;
      const db = await stored(prompt.id);
      expect(new Set(db.ballots.map((ballot) => ballot.memberId))).toEqual(acked);
      expect(db.version).toBe(acked.size);
      // The tally sent at the close is final: it counts exactly the stored (= acknowledged) ballots,
      // and nothing changes after it.
      const final = { promptId: prompt.id, version: db.version, counts: db.counts, ballots: acked.size };
      expect(closed.tally).toEqual(final);
      await eventually(
        () => lastTally(voters[0]!, prompt.id)?.version === db.version,
        5_000,
        "the closing tally",
      );
      expect(lastTally(voters[0]!, prompt.id)).toEqual(final);
    }
    // Every vote has been answered, so none is still in flight: what is stored now is final.
    expect(await server.prisma.ballot.count({ where: { prompt: { seminarId: seminar.id } } })).toBe(
      outcome.accepted,
    );
    expect(outcome.accepted + outcome.refused).toBe(delays.length * voters.length);
    // Both outcomes happened (the first rounds close first, the last vote first).
    expect(outcome.accepted).toBeGreaterThan(0);
    expect(outcome.refused).toBeGreaterThan(0);
    for (const voter of voters) voter.close();
    close();
  });
});

describe("who sees which counts", () => {
  it("sends hidden counts to moderators only, until the close or the reveal", async () => {
    const { seminar, moderator, host, guests, members, promptIds, close } = await room(
      [
        { ...YES_NO, question: "After close", resultsVisibility: "after_close" },
        { ...YES_NO, question: "Moderators", resultsVisibility: "moderators" },
      ],
      3,
    );
    const [afterClose, modsOnly] = promptIds as [string, string];
    const observer = await RoomClient.join(server.url, {
      token: (await addMembers(seminar.id, 1, "observer"))[0]!.token,
    });
    const watchers = [...guests, observer];
    const packets = watchers.map((client) => record(client.socket));
    const hostPackets = record(host.socket);
    const hidden = new Set([afterClose, modsOnly]);
    const leaked = () =>
      packets
        .flat()
        .filter(
          (packet) => JSON.stringify(packet.args).match(/"counts"/) && hidden.has(promptOf(packet.args)),
        );
    const promptOf = (args: unknown[]) => (args[0] as { promptId?: string } | undefined)?.promptId ?? "";

    for (const id of promptIds) expectOk(await host.send("prompt:open", { promptId: id }));
    const yesOf = (id: string) =>
      host.stream.state!.prompts.find((prompt) => prompt.id === id)!.options[0]!.id;
    for (const guest of guests) for (const id of promptIds) expectOk(await vote(guest, id, [yesOf(id)]));
    await eventually(
      () => lastTally(host, afterClose)?.ballots === 3 && lastTally(host, modsOnly)?.ballots === 3,
      5_000,
      "host",
    );
    // Whatever the flush that reached the host sent the others has reached them too.
    await barrier(watchers);
    expect(leaked()).toEqual([]);
    expect(
      hostPackets.some((packet) => packet.event === "tally:update" && promptOf(packet.args) === modsOnly),
    ).toBe(true);

    // Nor through a fresh snapshot, a catch-up or REST.
    const late = await RoomClient.join(server.url, { token: members[0]!.token });
    expect(late.stream.state!.tallies).toEqual([]);
    const sync = await send(late.socket, "room:sync", { since: late.stream.seq });
    expect(expectOk(sync)).toMatchObject({ mode: "events", tallies: [] });
    const rest = await server.http<PromptStateView>(
      "GET",
      `/api/seminars/${seminar.id}/prompts`,
      undefined,
      members[0]!.token,
    );
    expect(expectOk(rest).tallies).toEqual([]);
    expect(expectOk(rest).myBallots).toHaveLength(2);
    const hostRest = expectOk(
      await server.http<PromptStateView>(
        "GET",
        `/api/seminars/${seminar.id}/prompts`,
        undefined,
        moderator.token,
      ),
    );
    expect(hostRest.tallies.map((tally) => tally.ballots)).toEqual([3, 3]);

    // Closing shows the after_close counts at once; the moderators-only ones stay hidden.
    expectOk(await host.send("prompt:close", { promptId: afterClose }));
    expectOk(await host.send("prompt:close", { promptId: modsOnly }));
    for (const client of watchers)
      await eventually(() => lastTally(client, afterClose)?.ballots === 3, 5_000, "after close");
    await barrier(watchers);
    hidden.delete(afterClose);
    expect(leaked()).toEqual([]);
    expect(watchers.every((client) => lastTally(client, modsOnly) === undefined)).toBe(true);

    // Revealing shows them.
    expectOk(await host.send("prompt:reveal", { promptId: modsOnly }));
    for (const client of [...watchers, late]) {
      await eventually(() => lastTally(client, modsOnly)?.ballots === 3, 5_000, "revealed");
    }
    const fresh = await RoomClient.join(server.url, { token: members[1]!.token });
    expect(fresh.stream.state!.tallies.map((tally) => tally.promptId).sort()).toEqual([...promptIds].sort());
    for (const client of [observer, late, fresh]) client.close();
    close();
  });

  it("never tells anyone who voted for what on anonymous prompts, and only moderators on named ones", async () => {
    const { seminar, moderator, host, guests, members, promptIds, close } = await room(
      [
        { ...YES_NO, question: "Anonymous" },
        { ...YES_NO, question: "Named", anonymous: false },
      ],
      3,
    );
    const [anonymous, named] = promptIds as [string, string];
    const everyone = [host, ...guests];
    const packets = everyone.map((client) => record(client.socket));
    for (const id of promptIds) expectOk(await host.send("prompt:open", { promptId: id }));
    const optionsOf = (id: string) =>
      host.stream.state!.prompts.find((prompt) => prompt.id === id)!.options.map((o) => o.id);
    for (const [i, guest] of guests.entries()) {
      for (const id of promptIds) expectOk(await vote(guest, id, [optionsOf(id)[i === 0 ? 1 : 0]!]));
    }
    for (const client of everyone) {
      await eventually(
        () => lastTally(client, named)?.ballots === 3 && lastTally(client, anonymous)?.ballots === 3,
        5_000,
        "tallies",
      );
    }
    for (const id of promptIds) expectOk(await host.send("prompt:close", { promptId: id }));
    // The closing tallies were sent before the closes were acknowledged; let them reach everyone.
    await barrier(everyone);

    const [yes, no] = optionsOf(named) as [string, string];
    const votersSent = (index: number) =>
      packets[index]!.filter((packet) => packet.event === "tally:update")
        .map((packet) => packet.args[0] as TallyView)
        .filter((tally) => tally.voters !== undefined);
    // The host got voters for the named prompt only; participants never got any.
    expect(votersSent(0).length).toBeGreaterThan(0);
    expect(votersSent(0).every((tally) => tally.promptId === named)).toBe(true);
    expect(lastTally(host, named)!.voters).toEqual({
      [yes]: [members[1]!.memberId, members[2]!.memberId].sort(),
      [no]: [members[0]!.memberId],
    });
    for (let i = 1; i < everyone.length; i++) {
      expect(JSON.stringify(packets[i])).not.toContain("voters");
      expect(JSON.stringify(everyone[i]!.stream.state!.tallies)).not.toContain("voters");
    }
    // Member ids never appear in anything sent about the anonymous prompt.
    const anonymousPayloads = JSON.stringify(
      packets.flat().filter((packet) => JSON.stringify(packet.args).includes(anonymous)),
    );
    for (const member of members) expect(anonymousPayloads).not.toContain(member.memberId);

    // REST: the same rule.
    const hostView = expectOk(
      await server.http<PromptStateView>(
        "GET",
        `/api/seminars/${seminar.id}/prompts`,
        undefined,
        moderator.token,
      ),
    );
    expect(hostView.tallies.find((tally) => tally.promptId === anonymous)!.voters).toBeUndefined();
    expect(hostView.tallies.find((tally) => tally.promptId === named)!.voters).toEqual(
      lastTally(host, named)!.voters,
    );
    const guestView = await server.http(
      "GET",
      `/api/seminars/${seminar.id}/prompts`,
      undefined,
      members[0]!.token,
    );
    expect(JSON.stringify(guestView.body)).not.toContain("voters");
    const one = await server.http(
      "GET",
      `/api/seminars/${seminar.id}/prompts/${anonymous}`,
      undefined,
      moderator.token,
    );
    expect(JSON.stringify(one.body)).not.toContain("voters");
    const history = await server.http(
      "GET",
      `/api/seminars/${seminar.id}/prompts/${named}/history`,
      undefined,
      moderator.token,
    );
    expect(JSON.stringify(history.body)).not.toContain("voters");
    for (const member of members) expect(JSON.stringify(history.body)).not.toContain(member.memberId);
    close();
  });
});

describe("tally history and catch-up", () => {
  it("keeps the tallies sent, by version, for moderators", async () => {
    const { seminar, moderator, host, guests, members, promptIds, close } = await room([YES_NO], 3);
    const [promptId] = promptIds as [string];
    const [yes, no] = host.stream.state!.prompts[0]!.options.map((option) => option.id) as [string, string];
    expectOk(await host.send("prompt:open", { promptId }));
    for (const guest of guests) {
      expectOk(await vote(guest, promptId, [yes]));
      await eventually(
        () => lastTally(host, promptId)?.version === guests.indexOf(guest) + 1,
        5_000,
        "each tally",
      );
    }
    expectOk(await vote(guests[0]!, promptId, [no]));
    expectOk(await host.send("prompt:close", { promptId }));

    const history = expectOk(
      await server.http<TallySnapshotView[]>(
        "GET",
        `/api/seminars/${seminar.id}/prompts/${promptId}/history`,
        undefined,
        moderator.token,
      ),
    );
    const versions = history.map((entry) => entry.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).toBe(0);
    expect(history.at(-1)).toMatchObject({ version: 4, ballots: 3, counts: { [yes]: 2, [no]: 1 } });
    expect(history.find((entry) => entry.version === 2)).toMatchObject({
      ballots: 2,
      counts: { [yes]: 2, [no]: 0 },
    });

    const forbidden = await server.http(
      "GET",
      `/api/seminars/${seminar.id}/prompts/${promptId}/history`,
      undefined,
      members[0]!.token,
    );
    expect(forbidden.body).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const stranger = await buildSeminar(server);
    const outside = await server.http(
      "GET",
      `/api/seminars/${seminar.id}/prompts/${promptId}/history`,
      undefined,
      stranger.moderator.token,
    );
    expect(outside.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    const foreign = await server.http(
      "GET",
      `/api/seminars/${stranger.seminar.id}/prompts/${promptId}/history`,
      undefined,
      stranger.moderator.token,
    );
    expect(foreign.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    close();
  });

  it("gives a client that was cut off the tallies it missed with its catch-up", async () => {
    const { host, guests, members, promptIds, close } = await room([YES_NO], 2);
    const [promptId] = promptIds as [string];
    const [yes] = host.stream.state!.prompts[0]!.options.map((option) => option.id) as [string, string];
    const leaver = guests[1]!;
    expectOk(await host.send("prompt:open", { promptId }));
    await leaver.waitForSeq(host.stream.seq);
    leaver.socket.io.engine.close();
    const ballot = expectOk(await vote(guests[0]!, promptId, [yes]));
    await eventually(() => lastTally(host, promptId)?.version === 1, 5_000, "tally");
    const back = await RoomClient.join(server.url, { token: members[1]!.token }, leaver.stream);
    expect(lastTally(back, promptId)).toEqual({
      promptId,
      version: 1,
      counts: lastTally(host, promptId)!.counts,
      ballots: 1,
    });
    const own = await RoomClient.join(server.url, { token: members[0]!.token });
    expect(own.stream.state!.myBallots).toEqual([ballot]);
    back.close();
    own.close();
    close();
  });
});
