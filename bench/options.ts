/**
 * Command-line flags of `npm run bench -- …`. Defaults make a run of about two minutes on a
 * two-core machine; `--goals` sets the sizes the product's goals are stated at.
 */
import { parseArgs } from "node:util";

/** The scenarios, in the order they run. `relay` adds the bare-relay run of each. */
export const SCENARIOS = ["join", "vote", "annotate", "rooms", "hall", "transcript"] as const;

/** One scenario's name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a run is configured by. */
export interface BenchOptions {
  scenarios: ScenarioName[];
  /** Also run every scenario against the bare Socket.IO relay (the ceiling). */
  relay: boolean;
  /** Participants of the join storm, the vote burst and the annotation fan-out. */
  joinParticipants: number;
  voteParticipants: number;
  annotateParticipants: number;
  rooms: number;
  roomSize: number;
  /** Participants of the lecture hall (one room on one node). */
  hallParticipants: number;
  /** Annotations per second fanned out to the whole hall. */
  hallAnnotationRate: number;
  /** Seconds of steady load in the annotation and many-rooms scenarios. */
  durationSeconds: number;
  /** Annotations per second in the fan-out scenario. */
  annotationRate: number;
  /** The join storm's arrivals are spread evenly over this many seconds. */
  joinWindowSeconds: number;
  /** Share of voters who change their vote within the burst. */
  voteChangeShare: number;
  /** The transcript scenario's generated session: annotations, and ballots over five prompts. */
  transcriptAnnotations: number;
  transcriptBallots: number;
  workers: number;
  /** socket.io-client participants per room (the rest use the light client). */
  checkers: number;
  /** Connections per second while setting a scenario up (not measured). */
  connectRate: number;
  pin: boolean;
  /**
   * How many server processes run each scenario, in the order to run them: `[1]` by default,
   * `[1, 2]` for one node and then two on the same scenario. Several nodes share one PostgreSQL
   * and a Redis (REDIS_URL), as a deployment does.
   */
  nodes: number[];
  /** Write a V8 CPU profile of each server (application and relay) over each measured window. */
  cpuProf: boolean;
  goals: boolean;
}

const USAGE = `Usage: npm run bench -- [flags]

  --scenarios LIST       join,vote,annotate,rooms,hall,transcript,relay (default: all; "relay" adds the
                         ceiling runs; transcript has none)
  --participants N       participants of join, vote and annotate (default 300)
  --join-participants N, --vote-participants N, --annotate-participants N   per scenario
  --rooms R              rooms in the many-rooms scenario (default 10)
  --hall-participants N  one room of N in the lecture-hall scenario (default 1000; 5000 with --goals)
  --hall-annotation-rate A   annotations per second fanned out to the hall (default 2)
  --room-size M          participants per room (default 20)
  --duration S           seconds of steady load for annotate and rooms (default 10)
  --annotation-rate A    annotations per second in annotate (default 20)
  --join-window S        the join storm's arrivals spread over S seconds (default 1)
  --vote-change SHARE    share of voters who change their vote (default 0.2)
  --transcript-annotations N, --transcript-ballots N
                         the exported session (default 5,000 and 25,000; goal size 20,000 and 100,000)
  --workers W            generator processes (default 2)
  --checkers C           socket.io-client participants per room (default 2)
  --connect-rate C       connections per second during set-up (default 300)
  --goals                the goal sizes: 1,000 join/vote, 500 annotate at 20/s, 50 rooms of 20, 20 s,
                         a hall of 5,000, a transcript of 20,000 annotations and 100,000 ballots
  --cpu-prof             profile each server (application and relay) over each measured window
                         (bench/results/profiles/<run>/<scenario>-<app|relay>.cpuprofile, summarised at the end)
  --nodes LIST           server processes per run: 1 (default), 2, or "1,2" to run each scenario on one
                         node and then on two (app and relay alike: with several, on PostgreSQL and Redis,
                         participants alternating between the nodes as a load balancer would)
  --no-pin               do not pin server and generator to separate cores
  --help
`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number`);
  return number;
}

/** Parses the flags; prints the usage and exits on --help. Throws on a bad value. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenarios: { type: "string" },
      participants: { type: "string" },
      "join-participants": { type: "string" },
      "vote-participants": { type: "string" },
      "annotate-participants": { type: "string" },
      rooms: { type: "string" },
      "room-size": { type: "string" },
      "hall-participants": { type: "string" },
      "hall-annotation-rate": { type: "string" },
      duration: { type: "string" },
      "annotation-rate": { type: "string" },
      "join-window": { type: "string" },
      "vote-change": { type: "string" },
      "transcript-annotations": { type: "string" },
      "transcript-ballots": { type: "string" },
      workers: { type: "string" },
      checkers: { type: "string" },
      "connect-rate": { type: "string" },
      nodes: { type: "string" },
      goals: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      "no-pin": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const listed = (values.scenarios ?? [...SCENARIOS, "relay"].join(","))
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of listed) {
    if (name !== "relay" && !(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.join(", ")}, relay)`);
    }
  }
  const nodes = [...new Set((values.nodes ?? "1").split(",").map((item) => Number(item.trim())))];
  if (nodes.length === 0 || nodes.some((count) => !Number.isInteger(count) || count < 1 || count > 8)) {
    throw new Error("--nodes must list node counts from 1 to 8, for example 2 or 1,2");
  }
  const goals = values.goals;
  const participants = positive("participants", values.participants, 300);
  const voteChange = values["vote-change"] === undefined ? 0.2 : Number(values["vote-change"]);
  if (!(voteChange >= 0 && voteChange <= 1)) throw new Error("--vote-change must be between 0 and 1");
  return {
    scenarios: SCENARIOS.filter((name) => listed.includes(name)),
    relay: listed.includes("relay"),
    joinParticipants: Math.round(
      positive("join-participants", values["join-participants"], goals ? 1000 : participants),
    ),
    voteParticipants: Math.round(
      positive("vote-participants", values["vote-participants"], goals ? 1000 : participants),
    ),
    annotateParticipants: Math.round(
      positive("annotate-participants", values["annotate-participants"], goals ? 500 : participants),
    ),
    rooms: Math.round(positive("rooms", values.rooms, goals ? 50 : 10)),
    roomSize: Math.round(positive("room-size", values["room-size"], 20)),
    hallParticipants: Math.round(
      positive("hall-participants", values["hall-participants"], goals ? 5000 : 1000),
    ),
    hallAnnotationRate: positive("hall-annotation-rate", values["hall-annotation-rate"], 2),
    durationSeconds: positive("duration", values.duration, goals ? 20 : 10),
    annotationRate: positive("annotation-rate", values["annotation-rate"], 20),
    joinWindowSeconds: positive("join-window", values["join-window"], 1),
    voteChangeShare: voteChange,
    transcriptAnnotations: Math.round(
      positive("transcript-annotations", values["transcript-annotations"], goals ? 20_000 : 5_000),
    ),
    transcriptBallots: Math.round(
      positive("transcript-ballots", values["transcript-ballots"], goals ? 100_000 : 25_000),
    ),
    workers: Math.round(positive("workers", values.workers, 2)),
    checkers: Math.round(values.checkers === undefined ? 2 : Number(values.checkers)),
    connectRate: positive("connect-rate", values["connect-rate"], 300),
    pin: !values["no-pin"],
    nodes,
    cpuProf: values["cpu-prof"],
    goals,
  };
}
