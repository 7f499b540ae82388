/**
 * Simulated participants for the generator workers, and the recorder they report to. Two kinds:
 * `LightParticipant` (bench/light-client.ts over `ws`) carries the bulk of the load and scans raw
 * frames; `CheckerParticipant` is a real socket.io-client that applies the room stream with the
 * protocol's RoomStream (filling gaps with room:sync as the web client does) and checks every ack's
 * envelope, so the bench also verifies acks and ordering the way a real client sees them.
 */
import { io as connectSocketIo, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../src/protocol/events.ts";
import { type ErrorBody, type Result, retryAfterMs } from "../src/protocol/result.ts";
import { RoomStream } from "../src/protocol/room-state.ts";
import type { RoomStreamEvent, SyncView, TallyView } from "../src/protocol/views.ts";
import { now } from "./clock.ts";
import { Histogram } from "./histogram.ts";
import { LightClient, LightClientError } from "./light-client.ts";
import type { AckStats, ClientKind, TallyReceipt, WorkerReport } from "./messages.ts";

/** The outcome of one command: ok, or the error code (protocol code, "timeout", "disconnected"). */
export interface SendOutcome {
  ok: boolean;
  code?: string;
  /** Size of the answer in bytes where known (light participants). */
  bytes: number;
}

/** One simulated participant, whichever client it uses. */
export interface Participant {
  readonly idx: number;
  readonly room: number;
  /** The server node it is connected to. */
  readonly node: number;
  readonly kind: ClientKind;
  /** Connects with `auth`; rejects with a LightClientError-like `code`. */
  connect(url: string, auth: Record<string, unknown>): Promise<void>;
  /** Sends a command and waits for its ack. */
  send(event: string, payload: unknown, timeoutMs: number): Promise<SendOutcome>;
  /** room:sync for a snapshot; resolves with the answer's size in bytes (0 when unknown). */
  syncSnapshot(timeoutMs: number): Promise<number>;
  /** Ends the connection as a network failure would, keeping what the participant holds of the room. */
  drop(): void;
  /** After `drop`: connects again with `auth` (the room state it holds is kept for `catchUp`). */
  reconnect(url: string, auth: Record<string, unknown>): Promise<void>;
  /**
   * room:sync with `since` set to the last sequence number it holds, as a reconnecting client
   * asks; applies the answer (events checked for gaps, or a snapshot).
   */
  catchUp(timeoutMs: number): Promise<CatchUpOutcome>;
  close(): void;
}

/** How a reconnecting participant was brought up to date. */
export interface CatchUpOutcome {
  mode: "events" | "snapshot";
  /** Room events in the answer (events mode). */
  events: number;
  /** Bytes of the answer (0 when unknown). */
  bytes: number;
}

const MARKER = "bench:";
/** `bench:<sender idx>:<scheduled send time>:<sender's node>` (the node is left out by older runs). */
const MARKER_PATTERN = /bench:(\d+):(\d+(?:\.\d+)?)(?::(\d+))?/;
// A stream entry's seq, and for an omitted range (room:omitted) the first seq it covers.
const OMITTED_TAIL = '"type":"room:omitted","at":"[^"]*","actor":null,"data":\\{"from":(\\d+)\\}';
const SEQ_PATTERN = new RegExp(`^42\\["room:event",\\{"seq":(\\d+),(?:${OMITTED_TAIL})?`);
const BATCH_SEQ_PATTERN = new RegExp(`\\{"seq":(\\d+),(?:${OMITTED_TAIL}|"type":)`, "g");
const SNAPSHOT_SEQ_PATTERN = /"snapshot":\{"seq":(\d+)/;

/**
 * Tracks one participant's room stream sequence numbers: gaps and stale (already covered)
 * entries. An entry covers `from` to `seq` (an omitted range more than one).
 */
class SeqTracker {
  private last = -1;
  private early: [from: number, seq: number][] = [];

  constructor(private readonly recorder: Recorder) {}

  /**
   * The connection was lost: the last seq held, returned for a catch-up; events until `resume`
   * wait as before a snapshot.
   */
  suspend(): number {
    const held = this.last;
    this.last = -1;
    return held;
  }

  /**
   * A catch-up's events after `since` (the seq held when suspended), then the live events that
   * arrived before it, in order; a catch-up that ends short of its `seq` counts as a gap.
   */
  resume(since: number, entries: [from: number, seq: number][], seq: number): void {
    this.last = since;
    for (const [from, value] of entries) this.receive(value, from);
    if (this.last < seq) {
      this.recorder.order.gaps += 1;
      this.last = seq;
    }
    this.baseline(this.last);
  }

  /** The snapshot's seq: events up to it are covered. */
  baseline(seq: number): void {
    this.last = seq;
    const early = this.early.sort((a, b) => a[0] - b[0]);
    this.early = [];
    for (const [from, value] of early) this.receive(value, from);
  }

  receive(seq: number, from = seq): void {
    const order = this.recorder.order;
    order.events += 1;
    if (this.last < 0) {
      this.early.push([from, seq]);
      return;
    }
    if (seq <= this.last) order.stale += 1;
    else {
      if (from > this.last + 1) order.gaps += 1;
      this.last = seq;
    }
  }
}

/** Creates an empty AckStats accumulator. */
function ackAccumulator(): {
  sent: number;
  ok: number;
  errors: Record<string, number>;
  latency: Histogram;
  lag: Histogram;
} {
  return { sent: 0, ok: 0, errors: {}, latency: new Histogram(), lag: new Histogram() };
}

/** Everything a worker measures between two `collect`s. */
export class Recorder {
  acks = new Map<string, ReturnType<typeof ackAccumulator>>();
  roomAcks = new Map<number, Histogram>();
  delivery = new Histogram();
  deliverySameNode = new Histogram();
  deliveryCrossNode = new Histogram();
  roomDelivery = new Map<number, Histogram>();
  perMessage = new Map<string, [number, number]>();
  tallies: TallyReceipt[] = [];
  tallyCounts = new Map<string, Record<string, number>>();
  received: Record<string, number> = {};
  bytesReceived = 0;
  order = { events: 0, gaps: 0, stale: 0 };
  checkers = { clients: 0, acksChecked: 0, acksMalformed: 0, gapSyncs: 0, applied: 0 };
  disconnects = 0;

  /** The accumulator of a tag. */
  ack(tag: string): ReturnType<typeof ackAccumulator> {
    let stats = this.acks.get(tag);
    if (!stats) {
      stats = ackAccumulator();
      this.acks.set(tag, stats);
    }
    return stats;
  }

  /** Records an ok ack's latency for its room. */
  roomAck(room: number, latencyMs: number): void {
    let histogram = this.roomAcks.get(room);
    if (!histogram) {
      histogram = new Histogram();
      this.roomAcks.set(room, histogram);
    }
    histogram.record(latencyMs);
  }

  /** Counts a server-to-client message. */
  message(name: string): void {
    this.received[name] = (this.received[name] ?? 0) + 1;
  }

  /** An annotation carrying a bench marker reached participant `receiver` at `at`. */
  marker(receiver: { idx: number; room: number; node: number }, text: string, at: number): void {
    const match = MARKER_PATTERN.exec(text);
    if (!match) return;
    const sender = Number(match[1]);
    if (sender === receiver.idx) return;
    const latency = at - Number(match[2]);
    this.delivery.record(latency);
    if (match[3] !== undefined) {
      (Number(match[3]) === receiver.node ? this.deliverySameNode : this.deliveryCrossNode).record(latency);
    }
    let room = this.roomDelivery.get(receiver.room);
    if (!room) {
      room = new Histogram();
      this.roomDelivery.set(receiver.room, room);
    }
    room.record(latency);
    const key = `${match[1]}:${match[2]}`;
    const entry = this.perMessage.get(key);
    if (entry) {
      entry[0] = Math.max(entry[0], latency);
      entry[1] += 1;
    } else {
      this.perMessage.set(key, [latency, 1]);
    }
  }

  /** A tally:update reached participant `idx`. */
  tally(idx: number, tally: TallyView, at: number): void {
    this.tallies.push([idx, tally.promptId, tally.version, tally.ballots, at]);
    const key = `${tally.promptId}@${tally.version}`;
    if (!this.tallyCounts.has(key)) this.tallyCounts.set(key, tally.counts);
  }

  /** The report of everything recorded; the recorder starts afresh. */
  drain(connected: number): WorkerReport {
    const acks: Record<string, AckStats> = {};
    for (const [tag, stats] of this.acks) {
      acks[tag] = {
        sent: stats.sent,
        ok: stats.ok,
        errors: stats.errors,
        latency: stats.latency.toJSON(),
        lag: stats.lag.toJSON(),
      };
    }
    const report: WorkerReport = {
      type: "collected",
      acks,
      roomAcks: Object.fromEntries([...this.roomAcks].map(([room, h]) => [String(room), h.toJSON()])),
      delivery: this.delivery.toJSON(),
      deliverySameNode: this.deliverySameNode.toJSON(),
      deliveryCrossNode: this.deliveryCrossNode.toJSON(),
      roomDelivery: Object.fromEntries([...this.roomDelivery].map(([room, h]) => [String(room), h.toJSON()])),
      perMessage: Object.fromEntries(this.perMessage),
      tallies: this.tallies,
      tallyCounts: Object.fromEntries(this.tallyCounts),
      received: this.received,
      bytesReceived: this.bytesReceived,
      order: this.order,
      checkers: this.checkers,
      disconnects: this.disconnects,
      connected,
    };
    const checkers = this.checkers.clients;
    Object.assign(this, new Recorder());
    this.checkers.clients = checkers;
    return report;
  }
}

function errorCode(error: unknown): string {
  if (error instanceof LightClientError) return error.code;
  const data = (error as { data?: { code?: string } }).data;
  if (data?.code) return data.code;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed? ?out/i.test(message)) return "timeout";
  return "network";
}

/** Error code of a failed connect or command, for the reports. */
export { errorCode };

/**
 * The wait a refusal asks for when the server was busy (`unavailable` with details.retryAfterMs,
 * from a light client, a socket.io-client connect_error or an HTTP answer), else undefined: the
 * generator's clients follow it as the web client does.
 */
export function busyRetryAfter(error: unknown): number | undefined {
  if (error instanceof LightClientError) return error.code === "unavailable" ? error.retryAfterMs : undefined;
  const data = (error as { data?: { code?: unknown; message?: unknown; details?: unknown } }).data;
  if (data?.code !== "unavailable") return undefined;
  return retryAfterMs({ code: "unavailable", message: String(data.message ?? ""), details: data.details });
}

/** A room:sync answered with an error, as the retry loops read it (its code and retry hint). */
function syncRefused(error: ErrorBody): LightClientError {
  return new LightClientError(error.code, "room:sync refused", retryAfterMs(error));
}

/** The bulk participant: a LightClient whose frames are scanned, not parsed, where possible. */
export class LightParticipant implements Participant {
  readonly kind = "light" as const;
  private client: LightClient;
  private readonly seq: SeqTracker;
  /** The seq held when the connection was dropped (for catchUp); undefined while connected. */
  private heldSeq: number | undefined;

  constructor(
    readonly idx: number,
    readonly room: number,
    readonly node: number,
    url: string,
    private readonly recorder: Recorder,
  ) {
    this.seq = new SeqTracker(recorder);
    this.client = this.newClient(url);
  }

  private newClient(url: string): LightClient {
    const client = new LightClient(url, (name, frame) => this.onEvent(name, frame));
    client.onClose = () => {
      this.recorder.disconnects += 1;
    };
    return client;
  }

  private onEvent(name: string, data: Buffer): void {
    const at = now();
    const recorder = this.recorder;
    recorder.message(name);
    recorder.bytesReceived += data.length;
    // Only the frames scanned below are decoded (presence, most of a hall's traffic, is counted).
    if (name !== "room:event" && name !== "room:events" && name !== "tally:update") return;
    const frame = data.toString();
    if (name === "room:event") {
      const seq = SEQ_PATTERN.exec(frame);
      if (seq) this.seq.receive(Number(seq[1]), seq[2] ? Number(seq[2]) : undefined);
      const marker = frame.indexOf(MARKER);
      if (marker >= 0) recorder.marker(this, frame.slice(marker, marker + 48), at);
    } else if (name === "room:events") {
      for (const match of frame.matchAll(BATCH_SEQ_PATTERN)) {
        recorder.message("room:event in batch");
        this.seq.receive(Number(match[1]), match[2] ? Number(match[2]) : undefined);
      }
      for (let marker = frame.indexOf(MARKER); marker >= 0; marker = frame.indexOf(MARKER, marker + 1)) {
        recorder.marker(this, frame.slice(marker, marker + 48), at);
      }
    } else if (name === "tally:update") {
      const [, tally] = JSON.parse(frame.slice(2)) as [string, TallyView];
      recorder.tally(this.idx, tally, at);
    }
  }

  connect(_url: string, auth: Record<string, unknown>): Promise<void> {
    return this.client.connect(auth);
  }

  async send(event: string, payload: unknown, timeoutMs: number): Promise<SendOutcome> {
    try {
      const raw = await this.client.emit(event, payload, timeoutMs);
      this.recorder.bytesReceived += raw.length;
      if (raw.startsWith('[{"ok":true')) return { ok: true, bytes: raw.length };
      const [result] = JSON.parse(raw) as [Result<unknown>];
      return { ok: false, code: result.ok ? "malformed" : result.error.code, bytes: raw.length };
    } catch (error) {
      return { ok: false, code: errorCode(error), bytes: 0 };
    }
  }

  async syncSnapshot(timeoutMs: number): Promise<number> {
    const raw = await this.client.emit("room:sync", {}, timeoutMs);
    if (!raw.startsWith('[{"ok":true')) {
      const [result] = JSON.parse(raw) as [Result<unknown>];
      if (result.ok) throw new LightClientError("malformed", "room:sync refused");
      throw syncRefused(result.error);
    }
    const seq = SNAPSHOT_SEQ_PATTERN.exec(raw);
    this.seq.baseline(seq ? Number(seq[1]) : 0);
    return raw.length;
  }

  drop(): void {
    this.client.close();
    this.heldSeq = this.seq.suspend();
  }

  reconnect(url: string, auth: Record<string, unknown>): Promise<void> {
    this.client.close();
    this.client = this.newClient(url);
    return this.client.connect(auth);
  }

  async catchUp(timeoutMs: number): Promise<CatchUpOutcome> {
    const since = this.heldSeq;
    if (since === undefined || since < 0)
      throw new LightClientError("malformed", "nothing held to catch up from");
    const raw = await this.client.emit("room:sync", { since }, timeoutMs);
    const [result] = JSON.parse(raw) as [Result<SyncView>];
    if (!result.ok) throw syncRefused(result.error);
    this.heldSeq = undefined;
    const answer = result.data;
    if (answer.mode === "snapshot") {
      this.seq.baseline(answer.snapshot.seq);
      return { mode: "snapshot", events: 0, bytes: raw.length };
    }
    const entries = answer.events.map((event): [number, number] => [
      event.type === "room:omitted" ? event.data.from : event.seq,
      event.seq,
    ]);
    this.seq.resume(since, entries, answer.seq);
    return { mode: "events", events: answer.events.length, bytes: raw.length };
  }

  close(): void {
    this.client.close();
  }
}

type CheckerSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A real socket.io-client participant that applies the room stream and checks every ack. */
export class CheckerParticipant implements Participant {
  readonly kind = "io" as const;
  private socket: CheckerSocket | undefined;
  private readonly stream = new RoomStream();
  private syncing = false;

  constructor(
    readonly idx: number,
    readonly room: number,
    readonly node: number,
    private readonly recorder: Recorder,
  ) {
    recorder.checkers.clients += 1;
  }

  connect(url: string, auth: Record<string, unknown>): Promise<void> {
    const socket: CheckerSocket = connectSocketIo(url, {
      auth,
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    this.socket = socket;
    const recorder = this.recorder;
    const onEvent = (event: RoomStreamEvent) => {
      const at = now();
      if (event.type === "annotation:created") {
        const body = event.data.annotation.body;
        if (body.includes(MARKER)) recorder.marker(this, body, at);
      }
      const before = this.stream.applied.length;
      if (this.stream.receive(event)) void this.fillGap();
      recorder.checkers.applied += this.stream.applied.length - before;
      this.stream.applied.length = 0;
    };
    socket.on("room:event", (event: RoomStreamEvent) => {
      recorder.message("room:event");
      onEvent(event);
    });
    socket.on("room:events", (events: RoomStreamEvent[]) => {
      recorder.message("room:events");
      for (const event of events) onEvent(event);
    });
    socket.on("tally:update", (tally: TallyView) => {
      recorder.message("tally:update");
      recorder.tally(this.idx, tally, now());
    });
    socket.on("presence:update", () => recorder.message("presence:update"));
    socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") recorder.disconnects += 1;
    });
    return new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  private async fillGap(): Promise<void> {
    if (this.syncing || !this.socket) return;
    this.syncing = true;
    this.recorder.checkers.gapSyncs += 1;
    try {
      const result = await this.call<SyncView>("room:sync", { since: this.stream.seq }, 15_000);
      if (result.ok) this.stream.sync(result.data);
    } catch {
      // Counted by the disconnect handler; the next event retries.
    } finally {
      this.syncing = false;
    }
  }

  private async call<T>(event: string, payload: unknown, timeoutMs: number): Promise<Result<T>> {
    const socket = this.socket as unknown as Socket | undefined;
    if (!socket?.connected) throw new LightClientError("disconnected", "not connected");
    const result = (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Result<T>;
    const checkers = this.recorder.checkers;
    checkers.acksChecked += 1;
    const wellFormed =
      typeof result === "object" &&
      result !== null &&
      (result.ok === true ? "data" in result : typeof result.error?.code === "string");
    if (!wellFormed) checkers.acksMalformed += 1;
    return result;
  }

  async send(event: string, payload: unknown, timeoutMs: number): Promise<SendOutcome> {
    try {
      const result = await this.call(event, payload, timeoutMs);
      return result.ok ? { ok: true, bytes: 0 } : { ok: false, code: result.error.code, bytes: 0 };
    } catch (error) {
      return { ok: false, code: errorCode(error), bytes: 0 };
    }
  }

  async syncSnapshot(timeoutMs: number): Promise<number> {
    const result = await this.call<SyncView>("room:sync", {}, timeoutMs);
    if (!result.ok) throw syncRefused(result.error);
    this.stream.sync(result.data);
    this.stream.applied.length = 0;
    return 0;
  }

  drop(): void {
    this.socket?.close();
  }

  reconnect(url: string, auth: Record<string, unknown>): Promise<void> {
    this.socket?.close();
    return this.connect(url, auth);
  }

  async catchUp(timeoutMs: number): Promise<CatchUpOutcome> {
    const result = await this.call<SyncView>("room:sync", { since: this.stream.seq }, timeoutMs);
    if (!result.ok) throw syncRefused(result.error);
    this.stream.sync(result.data);
    this.recorder.checkers.applied += this.stream.applied.length;
    this.stream.applied.length = 0;
    const answer = result.data;
    return answer.mode === "events"
      ? { mode: "events", events: answer.events.length, bytes: 0 }
      : { mode: "snapshot", events: 0, bytes: 0 };
  }

  close(): void {
    this.socket?.close();
  }
}
