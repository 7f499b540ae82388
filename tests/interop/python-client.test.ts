import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { PresenceUpdate } from "../../src/protocol/events.ts";
import type { BallotView, TallyView } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../helpers/server.ts";

/** Debian's python3-socketio, python3-requests and python3-websocket import only under this one. */
const PYTHON = "/usr/bin/python3";
const PARTICIPANT = fileURLToPath(new URL("./participant.py", import.meta.url));
/** The participant gives up after 20 s on its own; this only guards against a hung interpreter. */
const KILL_AFTER_MS = 40_000;

/** What participant.py prints: one JSON line. */
interface PythonReport {
  pythonSocketio: string;
  memberId: string;
  snapshotSeq: number;
  annotation: {
    id: string;
    paragraphId: string;
    selector: { start: number; end: number; exact: string; prefix: string; suffix: string };
  };
  ballot: BallotView;
  broadcastSeqs: number[];
  appliedSeqs: number[];
  events: { seq: number; type: string; actor: string | null }[];
  catchUps: number;
  tallyUpdates: number;
  tallies: TallyView[];
  presenceUpdates: number;
  presence: PresenceUpdate | null;
  errors: string[];
  failure: string | null;
}

const server = await startTestServer();

/** Fails (never skips) when the Python client's packages are missing: CI installs them. */
function requirePythonClient(): void {
  const probe = spawnSync(PYTHON, ["-c", "import socketio, requests, websocket"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import socketio, requests and websocket (${probe.error?.message ?? probe.stderr.trim().split("\n").at(-1)}). ` +
        "Install them with: apt-get install -y python3-socketio python3-requests python3-websocket " +
        "(.ci/run does this before the tests).",
    );
  }
}

/** Starts participant.py; resolves with its exit code and output when it ends. */
function runParticipant(url: string, joinCode: string) {
  const child = spawn(PYTHON, [PARTICIPANT, url, joinCode], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

function parseReport(output: { code: number | null; stdout: string; stderr: string }): PythonReport {
  const line = output.stdout.trim().split("\n").at(-1) ?? "";
  try {
    const report: PythonReport = JSON.parse(line);
    return report;
  } catch {
    throw new Error(
      `participant.py printed no JSON report (exit ${output.code}).\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`,
    );
  }
}

describe("a client nobody here wrote: Debian's python-socketio", () => {
  it("joins, syncs, annotates and votes, and receives every room event in one-argument handlers", async () => {
    requirePythonClient();
    const { seminar, moderator } = await buildSeminar(server, {
      prompts: [
        { kind: "single_choice", question: "Should DeepSeek be a national team?", options: ["Yes", "No"] },
      ],
    });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const promptId = host.stream.state!.prompts[0]!.id;
    expectOk(await host.send("prompt:open", { promptId }));
    const js = await buildGuest(server, seminar.joinCode!, "JS participant");
    const jsClient = await RoomClient.join(server.url, { token: js.token });

    const finished = runParticipant(server.url, seminar.joinCode!);
    // Annotate once the Python client has: by then it is connected and synced, so it can only
    // learn of this annotation from the live broadcast.
    await eventually(
      () =>
        jsClient.received.some(
          (event) => event.type === "annotation:created" && event.actor !== js.member.id,
        ),
      25_000,
      "the Python client's annotation",
    );
    // A guest arriving now reaches the Python client as a room:omitted range (the roster is the
    // moderators'); the annotation after it must still apply without a gap.
    await buildGuest(server, seminar.joinCode!, "Late guest");
    await eventually(
      () => jsClient.received.some((event) => event.type === "room:omitted"),
      10_000,
      "the late guest's arrival, omitted",
    );
    const paragraph = jsClient.stream.state!.essay.paragraphs.find((block) => block.kind === "paragraph")!;
    expectOk(
      await jsClient.send("annotation:create", {
        paragraphId: paragraph.id,
        body: "Written by a JavaScript client.",
        clientId: randomUUID(),
      }),
    );
    const output = await finished;
    host.close();
    jsClient.close();

    const report = parseReport(output);
    // No handler raised, nothing timed out, and the process said so with its exit code.
    expect(report.errors, output.stderr).toEqual([]);
    expect(report.failure).toBeNull();
    expect(output.code).toBe(0);
    expect(report.pythonSocketio).toMatch(/^5\./);

    // The annotation is stored once, anchored where the Python client computed it in code points
    // (the span follows a character outside the BMP, so UTF-16 offsets would differ).
    const stored = await server.prisma.annotation.findMany({ where: { authorId: report.memberId } });
    expect(stored.map((row) => row.id)).toEqual([report.annotation.id]);
    const { selector } = report.annotation;
    expect(stored[0]).toMatchObject({
      paragraphId: report.annotation.paragraphId,
      startOffset: selector.start,
      endOffset: selector.end,
      quoteExact: selector.exact,
    });
    const text = (
      await server.prisma.paragraph.findUniqueOrThrow({ where: { id: report.annotation.paragraphId } })
    ).text;
    expect([...text].slice(selector.start, selector.end).join("")).toBe(selector.exact);
    expect(text.slice(selector.start, selector.end)).not.toBe(selector.exact);
    const createdEvents = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, type: "annotation:created", actorId: report.memberId },
    });
    expect(createdEvents).toHaveLength(1);

    // The ballot is stored, and the last tally the Python client kept equals what is stored.
    const ballots = await server.prisma.ballot.findMany({ where: { promptId }, include: { choices: true } });
    expect(ballots.map((ballot) => ballot.memberId)).toEqual([report.memberId]);
    expect(ballots[0]!.choices.map((choice) => choice.optionId)).toEqual(report.ballot.optionIds);
    const options = await server.prisma.promptOption.findMany({ where: { promptId } });
    const counts = Object.fromEntries(
      options.map((option) => [
        option.id,
        ballots.filter((ballot) => ballot.choices.some((choice) => choice.optionId === option.id)).length,
      ]),
    );
    const seen = report.tallies.find((tally) => tally.promptId === promptId);
    expect(seen).toMatchObject({
      counts,
      ballots: ballots.length,
      version: ballots.reduce((sum, ballot) => sum + ballot.revision, 0),
    });
    expect(report.tallyUpdates).toBeGreaterThan(0);

    // Every event after the snapshot was applied once, in seq order, with no gap, and each one
    // reached a one-argument handler as a broadcast (none had to be fetched by room:sync).
    const applied = report.appliedSeqs;
    expect(applied.length).toBeGreaterThan(0);
    expect(applied).toEqual(applied.map((_, i) => report.snapshotSeq + 1 + i));
    const log = await server.prisma.roomEvent.findMany({
      where: { seminarId: seminar.id, seq: { gt: report.snapshotSeq, lte: applied.at(-1)! } },
      orderBy: { seq: "asc" },
    });
    // A guest's first arrival is in the log as member:joined and reached the participant as an
    // omitted range; everything else as the event itself.
    const omitted = report.events.filter((event) => event.type === "room:omitted");
    expect(omitted).toHaveLength(1);
    const late = log.find((row) => row.seq === omitted[0]!.seq);
    expect(late).toMatchObject({ type: "member:joined" });
    expect(report.events).toEqual(
      log.map((row) =>
        row.seq === late!.seq
          ? { seq: row.seq, type: "room:omitted", actor: null }
          : { seq: row.seq, type: row.type, actor: row.actorId },
      ),
    );
    const broadcastAfterSnapshot = report.broadcastSeqs.filter((seq) => seq > report.snapshotSeq);
    expect(new Set(broadcastAfterSnapshot).size).toBe(broadcastAfterSnapshot.length);
    expect(broadcastAfterSnapshot.toSorted((a, b) => a - b)).toEqual(applied);

    // Its own annotation and the JavaScript client's both came back as room events.
    expect(report.events).toContainEqual(
      expect.objectContaining({ type: "annotation:created", actor: report.memberId }),
    );
    const jsEvent = log.find((row) => row.type === "annotation:created" && row.actorId === js.member.id);
    expect(jsEvent).toBeDefined();
    expect(report.broadcastSeqs).toContain(jsEvent!.seq);

    // Presence reached it whole (presence:update, as participants get it), naming it, in a room
    // this small by name: the list and the count agree.
    expect(report.presenceUpdates).toBeGreaterThan(0);
    const presence = report.presence!;
    expect(presence.presenceSummary.complete).toBe(true);
    expect(presence.presence.map((entry) => entry.memberId)).toContain(report.memberId);
    expect(presence.presenceSummary.present).toBe(presence.presence.length);
  }, 60_000);
});
