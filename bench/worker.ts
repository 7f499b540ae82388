/**
 * A load-generator worker: a child process of bench/run.ts (pinned to its own core where the
 * machine allows) that holds a share of the simulated participants, sends their commands on the
 * schedule it is given (open loop: a late answer never delays the next send, and every latency is
 * measured from the scheduled time, so slow answers are not hidden) and reports what it saw.
 */

import { Agent, request } from "node:http";
import type { Result } from "../src/protocol/result.ts";
import { now, sleepUntil } from "./clock.ts";
import { Histogram } from "./histogram.ts";
import type {
  ClientSpec,
  ConnectReport,
  JoinReport,
  JoinSpec,
  PlannedAction,
  PlanReport,
  RejoinReport,
  RejoinSpec,
  WorkerCommand,
  WorkerMessage,
} from "./messages.ts";
import {
  busyRetryAfter,
  CheckerParticipant,
  errorCode,
  LightParticipant,
  type Participant,
  Recorder,
} from "./participants.ts";

const recorder = new Recorder();
const participants = new Map<number, Participant>();
const CONNECT_TIMEOUT_MS = 30_000;

function reply(message: WorkerMessage): void {
  process.send?.(message);
}

/**
 * Keep-alive connections for the join storm's HTTP joins. node:http rather than fetch: with fetch
 * the relay's storm was bounded by the generator (73-82 % of its core, arrivals up to 0.66 s
 * late); with node:http the same storm takes 59-60 %, arrivals under 30 ms late (2026-12-03).
 */
const joinAgent = new Agent({ keepAlive: true });

/**
 * POSTs `body` as JSON and parses the JSON answer. A request on a reused keep-alive connection that
 * the server closed as it was sent (its idle timeout) fails with ECONNRESET before the server read
 * it; it is sent again on a new connection, as browsers do (Node's docs, `request.reusedSocket`).
 */
async function postJson<T>(url: string, body: unknown): Promise<Result<T>> {
  const payload = Buffer.from(JSON.stringify(body));
  try {
    return await postOnce<T>(url, payload, joinAgent);
  } catch (error) {
    if (!(error instanceof StaleConnection)) throw error;
    // Not through the pool: its other idle connections went idle with this one (the storm before)
    // and may be closing at this very moment too (2026-12-03 09:53: "socket hang up" on a resend).
    return await postOnce<T>(url, payload, false);
  }
}

/** A keep-alive connection closed by the server as it was reused: nothing was sent on it. */
class StaleConnection extends Error {}

function postOnce<T>(url: string, payload: Buffer, agent: Agent | false): Promise<Result<T>> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": payload.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Result<T>);
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(req.reusedSocket && error.code === "ECONNRESET" ? new StaleConnection(error.message) : error),
    );
    req.end(payload);
  });
}

type Entrant = { idx: number; room: number; kind: "light" | "io"; node: number };

function createParticipant(spec: Entrant, url: string): Participant {
  return spec.kind === "io"
    ? new CheckerParticipant(spec.idx, spec.room, spec.node, recorder)
    : new LightParticipant(spec.idx, spec.room, spec.node, url, recorder);
}

/** The URL of the node a participant goes through. */
function urlOf(urls: string[], spec: Pick<Entrant, "idx" | "node">): string {
  const url = urls[spec.node];
  if (!url) throw new Error(`participant ${spec.idx}: no node ${spec.node} (${urls.length} running)`);
  return url;
}

/**
 * Counts an error under its code; a transport failure (no typed answer from the server) under its
 * code and message, e.g. `network: socket hang up`, so a report says what broke.
 */
function countError(errors: Record<string, number>, error: unknown): void {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message.slice(0, 80) : "";
  const key = (code === "network" || code === "timeout") && message ? `${code}: ${message}` : code;
  errors[key] = (errors[key] ?? 0) + 1;
}

/** Counts a busy answer of `step` and waits as it asks. */
async function followHint(busy: Record<string, number>, step: string, waitMs: number): Promise<void> {
  busy[step] = (busy[step] ?? 0) + 1;
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

/**
 * Runs `attempt` until it succeeds, trying again after the wait a busy answer asks for (counted
 * under `step`); any other failure is thrown.
 */
async function followingHints<T>(
  busy: Record<string, number>,
  step: string,
  attempt: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const wait = busyRetryAfter(error);
      if (wait === undefined) throw error;
      await followHint(busy, step, wait);
    }
  }
}

/**
 * Connects a new participant, and loads its snapshot, following the server's retry hints: a
 * connect_error or room:sync answered `unavailable` with retryAfterMs is tried again after it.
 */
async function enterFollowingHints(
  spec: Entrant,
  url: string,
  auth: Record<string, unknown>,
  busy: Record<string, number>,
  connected: () => void = () => {},
): Promise<{ participant: Participant; snapshotBytes: number }> {
  const participant = await followingHints(busy, "connect", async () => {
    const fresh = createParticipant(spec, url);
    try {
      await fresh.connect(url, auth);
      return fresh;
    } catch (error) {
      fresh.close();
      throw error;
    }
  });
  connected();
  try {
    return {
      participant,
      snapshotBytes: await followingHints(busy, "room:sync", () =>
        participant.syncSnapshot(CONNECT_TIMEOUT_MS),
      ),
    };
  } catch (error) {
    participant.close();
    throw error;
  }
}

/** Connects participants that already hold tokens, paced at `ratePerSecond`, each with a snapshot. */
async function connectAll(
  urls: string[],
  clients: ClientSpec[],
  ratePerSecond: number,
): Promise<ConnectReport> {
  const latency = new Histogram();
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  let ok = 0;
  let snapshotBytes = 0;
  const start = now() + 20;
  await Promise.all(
    clients.map(async (spec, index) => {
      const at = start + (index * 1000) / ratePerSecond;
      await sleepUntil(at);
      try {
        const auth = { token: spec.token, seminarId: spec.seminarId };
        const entered = await enterFollowingHints(spec, urlOf(urls, spec), auth, busy);
        snapshotBytes += entered.snapshotBytes;
        participants.set(spec.idx, entered.participant);
        latency.record(now() - at);
        ok += 1;
      } catch (error) {
        countError(errors, error);
      }
    }),
  );
  return {
    type: "connected",
    ok,
    failed: clients.length - ok,
    errors,
    busy,
    latency: latency.toJSON(),
    snapshotBytes,
  };
}

/** The join storm: HTTP join by code, socket connect, room:sync, each from its scheduled time. */
async function joinAll(urls: string[], joins: JoinSpec[]): Promise<JoinReport> {
  const total = new Histogram();
  const http = new Histogram();
  const connect = new Histogram();
  const sync = new Histogram();
  const lag = new Histogram();
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  let ok = 0;
  let lastDoneAt = 0;
  let snapshotBytes = 0;
  await Promise.all(
    joins.map(async (spec) => {
      await sleepUntil(spec.at);
      const started = now();
      lag.record(started - spec.at);
      try {
        const url = urlOf(urls, spec);
        let joined: { token: string; seminar: { id: string } } | undefined;
        while (!joined) {
          const body = await postJson<{ token: string; seminar: { id: string } }>(
            `${url}/api/seminars/join`,
            { code: spec.code, displayName: spec.displayName },
          );
          if (body.ok) joined = body.data;
          else {
            const error = Object.assign(new Error(body.error.code), { data: body.error });
            const wait = busyRetryAfter(error);
            if (wait === undefined) throw error;
            await followHint(busy, "join", wait);
          }
        }
        const joinedAt = now();
        http.record(joinedAt - spec.at);
        let connectedAt = joinedAt;
        const auth = { token: joined.token, seminarId: joined.seminar.id };
        const entered = await enterFollowingHints(spec, url, auth, busy, () => {
          connectedAt = now();
          connect.record(connectedAt - joinedAt);
        });
        snapshotBytes += entered.snapshotBytes;
        const doneAt = now();
        sync.record(doneAt - connectedAt);
        total.record(doneAt - spec.at);
        lastDoneAt = Math.max(lastDoneAt, doneAt);
        participants.set(spec.idx, entered.participant);
        ok += 1;
      } catch (error) {
        countError(errors, error);
      }
    }),
  );
  return {
    type: "joined",
    ok,
    failed: joins.length - ok,
    errors,
    busy,
    total: total.toJSON(),
    http: http.toJSON(),
    connect: connect.toJSON(),
    sync: sync.toJSON(),
    lag: lag.toJSON(),
    firstAt: Math.min(...joins.map((spec) => spec.at)),
    lastDoneAt,
    snapshotBytes,
  };
}

/**
 * Every participant of this worker but `keep` loses its connection at once (a network failure, a
 * restart), keeping what it holds of the room.
 */
function dropAll(keep: number[]): { type: "dropped"; dropped: number } {
  const staying = new Set(keep);
  let dropped = 0;
  for (const participant of participants.values()) {
    if (staying.has(participant.idx)) continue;
    participant.drop();
    dropped += 1;
  }
  return { type: "dropped", dropped };
}

/**
 * The reconnect storm: each dropped participant connects again with its token at its time and
 * asks room:sync for what it missed since the last event it holds, following retry hints as in
 * enterFollowingHints.
 */
async function rejoinAll(urls: string[], rejoins: RejoinSpec[]): Promise<RejoinReport> {
  const total = new Histogram();
  const lag = new Histogram();
  const errors: Record<string, number> = {};
  const busy: Record<string, number> = {};
  const modes: Record<string, number> = {};
  let ok = 0;
  let events = 0;
  let lastDoneAt = 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = now();
  await Promise.all(
    rejoins.map(async (spec) => {
      await sleepUntil(spec.at);
      lag.record(now() - spec.at);
      const participant = participants.get(spec.idx);
      if (!participant) {
        errors.unknown = (errors.unknown ?? 0) + 1;
        return;
      }
      try {
        const url = urlOf(urls, spec);
        const auth = { token: spec.token, seminarId: spec.seminarId };
        await followingHints(busy, "connect", () => participant.reconnect(url, auth));
        const outcome = await followingHints(busy, "room:sync", () =>
          participant.catchUp(CONNECT_TIMEOUT_MS),
        );
        modes[outcome.mode] = (modes[outcome.mode] ?? 0) + 1;
        events += outcome.events;
        const doneAt = now();
        total.record(doneAt - spec.at);
        lastDoneAt = Math.max(lastDoneAt, doneAt);
        ok += 1;
      } catch (error) {
        participant.close();
        participants.delete(spec.idx);
        countError(errors, error);
      }
    }),
  );
  return {
    type: "rejoined",
    ok,
    failed: rejoins.length - ok,
    errors,
    busy,
    total: total.toJSON(),
    lag: lag.toJSON(),
    modes,
    events,
    firstAt: Math.min(...rejoins.map((spec) => spec.at)),
    lastDoneAt,
    cpuMs: cpuMsSince(cpuBefore),
    wallMs: now() - wallBefore,
  };
}

/** This process's CPU time (user and system, ms) since `before`. */
function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/**
 * Sends every action at its time. One timer walks the sorted schedule; everything due is sent in
 * the same turn, so a burst goes out as fast as the process can write it.
 */
function runPlan(actions: PlannedAction[], ackTimeoutMs: number): Promise<PlanReport> {
  const schedule = [...actions].sort((a, b) => a.at - b.at);
  let next = 0;
  let pending = 0;
  let lastAckAt = 0;
  return new Promise<PlanReport>((resolve) => {
    const finishIfDone = () => {
      if (next >= schedule.length && pending === 0) resolve({ type: "planDone", lastAckAt, pending: 0 });
    };
    const fire = (action: PlannedAction, sentAt: number) => {
      const stats = recorder.ack(action.tag);
      stats.sent += 1;
      stats.lag.record(sentAt - action.at);
      const participant = participants.get(action.idx);
      if (!participant) {
        stats.errors.disconnected = (stats.errors.disconnected ?? 0) + 1;
        return;
      }
      pending += 1;
      void participant.send(action.event, action.payload, ackTimeoutMs).then((outcome) => {
        const at = now();
        pending -= 1;
        if (outcome.ok) {
          stats.ok += 1;
          stats.latency.record(at - action.at);
          recorder.roomAck(participant.room, at - action.at);
          lastAckAt = Math.max(lastAckAt, at);
        } else {
          const code = outcome.code ?? "unknown";
          stats.errors[code] = (stats.errors[code] ?? 0) + 1;
        }
        finishIfDone();
      });
    };
    const tick = () => {
      const t = now();
      while (next < schedule.length && schedule[next]!.at <= t + 0.5) fire(schedule[next++]!, t);
      if (next < schedule.length) setTimeout(tick, Math.max(0, schedule[next]!.at - now() - 0.5));
      else finishIfDone();
    };
    tick();
  });
}

async function closeAll(): Promise<void> {
  for (const participant of participants.values()) participant.close();
  participants.clear();
  await new Promise((resolve) => setTimeout(resolve, 200));
}

process.on("message", (message: WorkerCommand) => {
  const run = async (): Promise<WorkerMessage | undefined> => {
    switch (message.type) {
      case "connect":
        return connectAll(message.urls, message.clients, message.ratePerSecond);
      case "join":
        return joinAll(message.urls, message.joins);
      case "plan":
        return runPlan(message.actions, message.ackTimeoutMs);
      case "drop":
        return dropAll(message.keep);
      case "rejoin":
        return rejoinAll(message.urls, message.rejoins);
      case "collect":
        return recorder.drain(participants.size);
      case "closeAll":
        await closeAll();
        recorder.drain(0);
        recorder.checkers.clients = 0;
        return { type: "closed" };
      case "exit":
        await closeAll();
        process.exit(0);
    }
  };
  run()
    .then((answer) => {
      if (answer) reply(answer);
    })
    .catch((error: unknown) => reply({ type: "error", message: String(error) }));
});

process.on("disconnect", () => process.exit(0));
reply({ type: "ready" });
