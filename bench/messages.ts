/**
 * What the bench's processes say to each other over their IPC channels: the orchestrator
 * (bench/run.ts), the generator workers (bench/worker.ts) and the server child (bench/server.ts).
 * Times are `now()` values (bench/clock.ts), which every process on the machine shares.
 */
import type { HistogramData } from "./histogram.ts";

/** The server under test: the real application, or the bare Socket.IO relay that is the ceiling. */
export type TargetName = "app" | "relay";

/** Which client implementation a simulated participant uses. */
export type ClientKind = "light" | "io";

/** A participant that already has a token and connects directly (no HTTP join). */
export interface ClientSpec {
  /** Global index of the participant (unique across workers). */
  idx: number;
  /** Index of the room the participant is in (per-room figures). */
  room: number;
  token: string;
  seminarId: string;
  kind: ClientKind;
  /** The server node it connects to (an index into the command's `urls`). */
  node: number;
}

/** A participant of the join storm: joins by code over HTTP at `at`, then connects and syncs. */
export interface JoinSpec {
  idx: number;
  room: number;
  code: string;
  displayName: string;
  /** Scheduled start (ms, bench clock); latency is measured from here. */
  at: number;
  kind: ClientKind;
  /** The server node it joins and connects through (an index into the command's `urls`). */
  node: number;
}

/** A participant of a reconnect storm: connected before and dropped, it comes back at `at`. */
export interface RejoinSpec {
  idx: number;
  /** Scheduled reconnection (ms, bench clock); latency is measured from here. */
  at: number;
  token: string;
  seminarId: string;
  /** The server node it reconnects to (an index into the command's `urls`). */
  node: number;
}

/** One scheduled command of a plan. */
export interface PlannedAction {
  /** When it must be sent (ms, bench clock); its latency is measured from here, not from the send. */
  at: number;
  /** The participant that sends it. */
  idx: number;
  /** The Socket.IO command. */
  event: string;
  payload: unknown;
  /** What the figures are grouped by (for example "vote", "annotate"). */
  tag: string;
}

/** Orchestrator to worker. */
export type WorkerCommand =
  | { type: "connect"; urls: string[]; clients: ClientSpec[]; ratePerSecond: number }
  | { type: "join"; urls: string[]; joins: JoinSpec[] }
  | { type: "plan"; actions: PlannedAction[]; ackTimeoutMs: number }
  | { type: "drop"; keep: number[] }
  | { type: "rejoin"; urls: string[]; rejoins: RejoinSpec[] }
  | { type: "collect" }
  | { type: "closeAll" }
  | { type: "exit" };

/** Acks of one tag. */
export interface AckStats {
  sent: number;
  ok: number;
  /** Error code (or "timeout", "disconnected") -> count. */
  errors: Record<string, number>;
  /** Scheduled send to ack (ms). */
  latency: HistogramData;
  /** Scheduled send to actual send: how late the generator itself was (ms). */
  lag: HistogramData;
}

/** Result of a `connect` command. */
export interface ConnectReport {
  type: "connected";
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Busy answers (`unavailable` with a retry hint) followed, by step (connect, room:sync). */
  busy: Record<string, number>;
  /** Connect start to snapshot received (ms). */
  latency: HistogramData;
  /** Bytes of the room:sync answers. */
  snapshotBytes: number;
}

/** Result of a `join` command. */
export interface JoinReport {
  type: "joined";
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Busy answers (`unavailable` with a retry hint) followed, by step (join, connect, room:sync). */
  busy: Record<string, number>;
  /** Scheduled start to snapshot received (ms). */
  total: HistogramData;
  /** Scheduled start to HTTP join answered (ms). */
  http: HistogramData;
  /** HTTP answer to socket connected (ms). */
  connect: HistogramData;
  /** Socket connected to room:sync answered (ms). */
  sync: HistogramData;
  /** Scheduled start to actual start (ms): the generator's own lateness. */
  lag: HistogramData;
  firstAt: number;
  lastDoneAt: number;
  snapshotBytes: number;
}

/** Result of a `rejoin` command: every participant reconnected and caught up, or failed. */
export interface RejoinReport {
  type: "rejoined";
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Busy answers (`unavailable` with a retry hint) followed, by step (connect, room:sync). */
  busy: Record<string, number>;
  /** Scheduled reconnection to room:sync answered (ms). */
  total: HistogramData;
  /** Scheduled reconnection to actual start (ms): the generator's own lateness. */
  lag: HistogramData;
  /** Answers by mode: "events" (a catch-up) or "snapshot". */
  modes: Record<string, number>;
  /** Room events carried by the catch-ups, in all. */
  events: number;
  firstAt: number;
  lastDoneAt: number;
  /** CPU the worker spent over the storm (ms) and the storm's wall time in it (ms); summed over workers. */
  cpuMs: number;
  wallMs: number;
}

/** Result of a `plan` command, once every action was answered or timed out. */
export interface PlanReport {
  type: "planDone";
  lastAckAt: number;
  pending: number;
}

/** One tally:update as one participant received it: [participant idx, promptId, version, ballots, at]. */
export type TallyReceipt = [number, string, number, number, number];

/** What a worker observed since the last `collect`. */
export interface WorkerReport {
  type: "collected";
  acks: Record<string, AckStats>;
  /** Ack latency of every command, per room index. */
  roomAcks: Record<string, HistogramData>;
  /** Annotation deliveries to participants other than the sender: scheduled send to receipt (ms). */
  delivery: HistogramData;
  /** The same deliveries split by whether sender and receiver were connected to the same node. */
  deliverySameNode: HistogramData;
  deliveryCrossNode: HistogramData;
  roomDelivery: Record<string, HistogramData>;
  /** Per annotation ("sender:at"): [latest receipt latency in this worker (ms), receipts]. */
  perMessage: Record<string, [number, number]>;
  tallies: TallyReceipt[];
  /** "promptId@version" -> counts, for every tally version seen. */
  tallyCounts: Record<string, Record<string, number>>;
  /** Server-to-client messages by event name. */
  received: Record<string, number>;
  bytesReceived: number;
  /** room:event sequence checks over all participants. */
  order: { events: number; gaps: number; stale: number };
  /** The socket.io-client participants: acks checked in full and the stream applied with RoomStream. */
  checkers: {
    clients: number;
    acksChecked: number;
    acksMalformed: number;
    gapSyncs: number;
    applied: number;
  };
  disconnects: number;
  /** Participants connected now. */
  connected: number;
}

/** Worker to orchestrator. */
export type WorkerMessage =
  | { type: "ready" }
  | ConnectReport
  | JoinReport
  | PlanReport
  | RejoinReport
  | WorkerReport
  | { type: "dropped"; dropped: number }
  | { type: "closed" }
  | { type: "error"; message: string };

/** Orchestrator to server child. */
export type ServerCommand =
  | { type: "stats"; reset: boolean }
  | { type: "gc" }
  | { type: "profileStart" }
  | { type: "profileStop"; path: string }
  | { type: "stop" };

/** A server child's view of itself. */
export interface ServerStats {
  type: "stats";
  rssBytes: number;
  heapUsedBytes: number;
  /** Event loop delay since the last reset (ms). */
  loopDelay: { p50: number; p99: number; max: number };
  /** Socket.IO connections open now. */
  sockets: number;
}

/** Server child to orchestrator. */
export type ServerMessage =
  | { type: "ready"; port: number }
  | ServerStats
  | { type: "gcDone" }
  | { type: "profileStarted" }
  | { type: "profileWritten"; path: string }
  | { type: "error"; message: string };
