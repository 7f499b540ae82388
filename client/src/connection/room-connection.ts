/**
 * One guest's live connection to a seminar room: a typed Socket.IO client, the room stream
 * (`RoomStream` from the protocol: events applied once, in seq order, gaps filled with
 * room:sync), the outbox of writes made offline, and signals the UI reads.
 *
 * The room log is the delivery guarantee: after every (re)connect the client asks
 * `room:sync { since: <last seq> }` and applies exactly what it missed, keeping what it showed
 * in the meantime.
 */
import { signal } from "@preact/signals";
import { io, type Socket } from "socket.io-client";
import type { CommandName, CommandPayload, CommandResult } from "../../../src/protocol/commands.ts";
import type { ClientToServerEvents, PresenceDelta, PresenceUpdate } from "../../../src/protocol/events.ts";
import { type ErrorBody, type ErrorCode, type Result, retryAfterMs } from "../../../src/protocol/result.ts";
import { applyTally, RoomStream } from "../../../src/protocol/room-state.ts";
import type {
  AnnotationView,
  BallotView,
  RoomSnapshot,
  RoomStreamEvent,
  SyncView,
  TallyView,
} from "../../../src/protocol/views.ts";
import { afterClose, type ClientServerEvents, type ClosingInfo, describeClose } from "./closing.ts";
import { FocusReports } from "./focus-reports.ts";
import { nextMuteEnd } from "./mutes.ts";
import { Outbox, type OutboxItem, type QueuedCommand } from "./outbox.ts";

/**
 * Who connects and how they keep a usable token: a guest's stored session (session.ts) or a
 * moderator's account (moderator-access.ts).
 */
export interface RoomAccess {
  seminarId: string;
  token: string;
  /** ISO time the token expires. */
  expiresAt: string;
  /** Whose outbox this is (the guest's member id, the moderator's account id). */
  ownerId: string;
  /** Sent in the handshake: an account token names the seminar it opens. */
  handshakeSeminarId?: string;
  /** Keeps a token auth:refresh gave. */
  saveToken(token: string, expiresAt: string): void;
  /** A usable token for the same person after the old one expired, or undefined. */
  resume(): Promise<{ token: string; expiresAt: string } | undefined>;
  /** What to say when no token can be had, and whether joining again is the way back. */
  expired: EndedInfo;
}

type ClientSocket = Socket<ClientServerEvents, ClientToServerEvents>;

/** What the connection indicator shows. */
export type ConnectionStatus =
  /** First connection, nothing to show yet. */
  | "connecting"
  /** Connected and caught up with the room's log. */
  | "live"
  /** Connected, catching up after a reconnect. */
  | "syncing"
  /** Lost: what is shown stays, writes wait in the outbox, the client keeps trying. */
  | "offline"
  /** Over for good (removed, session expired, seminar gone): see `ended`. */
  | "ended";

/** Why the connection ended for good. */
export interface EndedInfo {
  message: string;
  /** Whether joining again (a new name) is the way back. */
  rejoin: boolean;
}

/** Commands answered at once and never queued: toggles and edits are not idempotent. */
export type ImmediateCommand =
  | { event: "annotation:react"; payload: Parameters<ClientToServerEvents["annotation:react"]>[0] }
  | { event: "annotation:edit"; payload: Parameters<ClientToServerEvents["annotation:edit"]>[0] }
  | { event: "annotation:delete"; payload: Parameters<ClientToServerEvents["annotation:delete"]>[0] };

/** Sends one command of the registry and resolves with its ack. */
type CommandEmitter = <E extends CommandName>(
  event: E,
  payload: CommandPayload<E>,
) => Promise<Result<CommandResult<E>>>;

/** How long an ack may take before the command is treated as lost (and sent again if queued). */
const ACK_TIMEOUT_MS = 10_000;
/** Error codes after which a queued write is tried again rather than refused. */
const RETRYABLE: readonly ErrorCode[] = ["rate_limited", "unavailable", "internal"];
const OFFLINE: ErrorBody = {
  code: "unavailable",
  message: "You are offline. This cannot wait for the connection: try again when you are back.",
};

/** Options for tests and benchmarks; the app uses the defaults. */
export interface RoomConnectionOptions {
  /** Socket.IO URL (default: this page's origin). */
  url?: string;
}

/** A live room for one guest session or moderator account. Call `start()`, then `close()` when leaving. */
export class RoomConnection {
  readonly stream = new RoomStream();
  /** Increases whenever the room state changes; read it to re-render. */
  readonly revision = signal(0);
  readonly status = signal<ConnectionStatus>("connecting");
  readonly ended = signal<EndedInfo | null>(null);
  /** The last `connection:closing` notice, shown while reconnecting. */
  readonly notice = signal<string | null>(null);
  readonly outbox: Outbox;
  private readonly socket: ClientSocket;
  private closing: ClosingInfo | undefined;
  /** Counts connections, so a flush loop of an earlier connection stops. */
  private epoch = 0;
  private flushEpoch = -1;
  private syncing = false;
  private syncAgain = false;
  /** The paragraph being read, as last reported (sent again after each reconnect). */
  private focus: string | null = null;
  /** Where the presence this client holds counts this reader (see FocusReports). */
  private readonly focusReports = new FocusReports();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private muteTimer: ReturnType<typeof setTimeout> | undefined;
  /** The mute end muteTimer waits for. */
  private muteEnd: number | undefined;

  constructor(
    private access: RoomAccess,
    options: RoomConnectionOptions = {},
  ) {
    this.outbox = new Outbox(access.seminarId, access.ownerId);
    const url = options.url ?? window.location.origin;
    this.socket = io(url, {
      auth: this.handshake(access.token),
      autoConnect: false,
      // WebSocket first (one round trip less on a phone); long-polling if a proxy blocks it.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.listen();
  }

  /** The room as last synchronised (undefined before the first snapshot). */
  get room(): RoomSnapshot | undefined {
    return this.stream.state;
  }

  private handshake(token: string): { token: string; seminarId?: string } {
    return this.access.handshakeSeminarId ? { token, seminarId: this.access.handshakeSeminarId } : { token };
  }

  /** Opens the connection. */
  start(): void {
    window.addEventListener("offline", this.wentOffline);
    window.addEventListener("online", this.cameOnline);
    this.socket.connect();
  }

  /** Closes the connection for good (leaving the room). */
  close(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.muteTimer);
    window.removeEventListener("offline", this.wentOffline);
    window.removeEventListener("online", this.cameOnline);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  /**
   * The device lost its network: drop the socket now instead of waiting for the heartbeat to
   * time out (tens of seconds), so the reader sees at once that writes will wait.
   */
  private readonly wentOffline = () => {
    if (this.status.value === "ended") return;
    this.socket.io.engine?.close();
  };

  /** The network is back: reconnect now rather than at the next back-off step. */
  private readonly cameOnline = () => {
    if (this.status.value === "ended" || this.socket.connected) return;
    this.socket.disconnect().connect();
  };

  /** Queues a create, reply or ballot; it is sent now if connected, else on reconnect. */
  enqueue(command: QueuedCommand): OutboxItem {
    const item = this.outbox.add(command);
    void this.flush();
    return item;
  }

  /** Sends a command that cannot wait; refused with `unavailable` while offline. */
  async sendNow(command: ImmediateCommand): Promise<Result<unknown>> {
    if (this.status.value !== "live" && this.status.value !== "syncing") return { ok: false, error: OFFLINE };
    try {
      const sender = this.socket.timeout(ACK_TIMEOUT_MS);
      switch (command.event) {
        case "annotation:react":
          return await sender.emitWithAck("annotation:react", command.payload);
        case "annotation:edit": {
          const result = await sender.emitWithAck("annotation:edit", command.payload);
          if (result.ok) this.learnAnnotation(result.data);
          return result;
        }
        case "annotation:delete": {
          const result = await sender.emitWithAck("annotation:delete", command.payload);
          if (result.ok) this.learnAnnotation(result.data);
          return result;
        }
      }
    } catch {
      return { ok: false, error: { code: "unavailable", message: "No answer from the server. Try again." } };
    }
  }

  /**
   * Sends any command of the protocol and answers its ack: the moderator's console uses it for
   * every moderation command. Refused with `unavailable` while offline or when no ack comes.
   */
  async command<E extends CommandName>(
    event: E,
    payload: CommandPayload<E>,
  ): Promise<Result<CommandResult<E>>> {
    if (this.status.value !== "live" && this.status.value !== "syncing") return { ok: false, error: OFFLINE };
    // ClientToServerEvents is derived from the same registry (CommandPayload/CommandResult per
    // name); TypeScript cannot resolve Socket.IO's ack decoration for a generic name, so the
    // emitter is viewed through the registry's own types.
    const sender = this.socket.timeout(ACK_TIMEOUT_MS);
    const emitWithAck = sender.emitWithAck.bind(sender) as CommandEmitter;
    try {
      return await emitWithAck(event, payload);
    } catch {
      return { ok: false, error: { code: "unavailable", message: "No answer from the server. Try again." } };
    }
  }

  /**
   * The paragraph where the presence this client holds counts this reader (null: none). In a
   * large room the counts include the reader there without naming them (see Essay's
   * readersByParagraph); right after a move they still count the reader where they were.
   */
  get countedFocus(): string | null {
    return this.focusReports.countedAt;
  }

  /** Reports the paragraph being read (sent when it changes, and again after a reconnect). */
  reportFocus(paragraphId: string | null): void {
    if (this.focus === paragraphId) return;
    this.focus = paragraphId;
    if (this.status.value === "live") this.sendFocus(paragraphId);
  }

  private sendFocus(paragraphId: string | null): void {
    const report = this.focusReports.send();
    this.socket.emit("presence:focus", { paragraphId }, (result) => {
      if (result.ok) this.focusReports.acknowledge(report, paragraphId);
    });
  }

  private listen(): void {
    const socket = this.socket;
    socket.on("connect", () => {
      this.epoch++;
      this.focusReports.reconnected();
      this.outbox.requeueSending();
      this.status.value = this.stream.state ? "syncing" : "connecting";
      void this.sync();
    });
    socket.on("disconnect", (reason) => this.onDisconnect(reason));
    socket.on("connect_error", (error) => this.onConnectError(error));
    socket.on("room:event", (event) => this.receive([event]));
    socket.on("room:events", (events) => this.receive(events));
    socket.on("presence:delta", (delta: PresenceDelta) => {
      this.stream.receivePresence(delta);
      if (this.stream.state) this.changed();
    });
    socket.on("presence:update", (update: PresenceUpdate) => {
      this.focusReports.presenceArrived();
      this.stream.receivePresenceUpdate(update);
      if (this.stream.state) this.changed();
    });
    socket.on("tally:update", (tally: TallyView) => {
      if (this.stream.state && applyTally(this.stream.state, tally)) this.changed();
    });
    socket.on("auth:expiring", () => void this.refreshToken());
    socket.on("connection:closing", (info) => {
      this.closing = info;
      this.notice.value = info.message || describeClose(info.reason);
    });
  }

  private receive(events: RoomStreamEvent[]): void {
    let gap = false;
    for (const event of events) gap = this.stream.receive(event) || gap;
    this.changed();
    if (gap) void this.sync();
  }

  /** Catches up (or loads the snapshot); runs one at a time, again if asked meanwhile. */
  private async sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        const since = this.stream.state ? { since: this.stream.seq } : {};
        let result: Result<SyncView>;
        this.stream.syncing();
        try {
          result = await this.socket.timeout(ACK_TIMEOUT_MS * 2).emitWithAck("room:sync", since);
        } catch {
          // No answer: the connection is probably gone; the next connect syncs again.
          this.stream.syncAbandoned();
          return;
        }
        if (!result.ok) {
          this.stream.syncAbandoned();
          // Busy (the node admits others first) or too many snapshots: ask again when told to.
          if (result.error.code !== "rate_limited" && result.error.code !== "unavailable") return;
          this.syncAgain = true;
          await new Promise((resolve) => setTimeout(resolve, retryAfterMs(result.error) ?? 1_000));
          continue;
        }
        this.focusReports.presenceArrived();
        this.stream.sync(result.data);
        this.changed();
      } while (this.syncAgain && this.socket.connected);
      if (this.socket.connected) {
        this.status.value = "live";
        this.notice.value = null;
        if (this.focus) this.sendFocus(this.focus);
        void this.flush();
      }
    } finally {
      this.syncing = false;
    }
  }

  /** Sends queued writes in order while this connection lasts. */
  private async flush(): Promise<void> {
    const epoch = this.epoch;
    if (this.flushEpoch === epoch || this.status.value !== "live") return;
    this.flushEpoch = epoch;
    try {
      for (;;) {
        if (this.epoch !== epoch || this.status.value !== "live") return;
        const item = this.outbox.next();
        if (!item) return;
        this.outbox.mark(item.key, "sending");
        let result: Result<unknown>;
        try {
          result = await this.sendQueued(item.command);
        } catch {
          // The ack was lost (timeout): send it again, same key, now or on the next connection.
          this.outbox.mark(item.key, "waiting");
          continue;
        }
        if (result.ok) {
          this.outbox.remove(item.key);
        } else if (RETRYABLE.includes(result.error.code)) {
          this.outbox.mark(item.key, "waiting");
          const wait = retryAfterMs(result.error) ?? 2_000;
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => void this.flush(), wait);
          return;
        } else {
          this.outbox.mark(item.key, "refused", result.error);
        }
      }
    } finally {
      if (this.flushEpoch === epoch) this.flushEpoch = -1;
    }
  }

  private async sendQueued(command: QueuedCommand): Promise<Result<unknown>> {
    const sender = this.socket.timeout(ACK_TIMEOUT_MS);
    switch (command.event) {
      case "annotation:create": {
        const result = await sender.emitWithAck("annotation:create", command.payload);
        if (result.ok) this.learnAnnotation(result.data);
        return result;
      }
      case "annotation:reply": {
        const result = await sender.emitWithAck("annotation:reply", command.payload);
        if (result.ok) this.learnAnnotation(result.data);
        return result;
      }
      case "prompt:vote": {
        const result = await sender.emitWithAck("prompt:vote", command.payload);
        if (result.ok) this.learnBallot(result.data);
        return result;
      }
    }
  }

  /**
   * Shows an acknowledged annotation at once; its room event (same id, same content for the
   * room) may arrive a moment later and replaces it.
   */
  private learnAnnotation(annotation: AnnotationView): void {
    const state = this.stream.state;
    if (!state) return;
    const index = state.annotations.findIndex((item) => item.id === annotation.id);
    if (index >= 0) {
      if (state.annotations[index]!.version > annotation.version) return;
      state.annotations[index] = annotation;
    } else {
      state.annotations.push(annotation);
    }
    this.changed();
  }

  private learnBallot(ballot: BallotView): void {
    const state = this.stream.state;
    if (!state) return;
    const index = state.myBallots.findIndex((item) => item.promptId === ballot.promptId);
    if (index >= 0) {
      if (state.myBallots[index]!.revision > ballot.revision) return;
      state.myBallots[index] = ballot;
    } else {
      state.myBallots.push(ballot);
    }
    this.changed();
  }

  private async refreshToken(): Promise<void> {
    try {
      const result = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("auth:refresh", {});
      if (!result.ok) return;
      this.access = { ...this.access, token: result.data.token, expiresAt: result.data.expiresAt };
      this.access.saveToken(result.data.token, result.data.expiresAt);
      this.socket.auth = this.handshake(result.data.token);
    } catch {
      // No answer: the server disconnects at expiry and the reconnect decides.
    }
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    if (this.status.value === "ended") return;
    this.status.value = "offline";
    if (reason !== "io server disconnect") return; // Socket.IO reconnects by itself.
    // The server closed this socket on purpose; it may have said why.
    const usable = Date.parse(this.access.expiresAt) - 15_000 > Date.now();
    const why = this.closing?.reason ?? (usable ? undefined : "token_expired");
    this.closing = undefined;
    switch (afterClose(why)) {
      case "reconnect":
        this.retryTimer = setTimeout(() => this.socket.connect(), 300 + Math.random() * 700);
        return;
      case "resume":
        void this.resume();
        return;
      case "stop":
        this.end({
          message: this.notice.value ?? describeClose(why),
          rejoin: why !== "session_ended" && !this.access.handshakeSeminarId,
        });
        return;
    }
  }

  private onConnectError(error: Error): void {
    // While Socket.IO still retries by itself (server unreachable), just show that we are offline.
    if (this.socket.active) {
      if (this.stream.state) this.status.value = "offline";
      return;
    }
    const body = (error as Error & { data?: ErrorBody }).data;
    switch (body?.code) {
      case "unauthenticated":
        void this.resume();
        return;
      case "forbidden":
        this.end({ message: "You can no longer take part in this seminar.", rejoin: false });
        return;
      case "not_found":
        this.end({ message: "This seminar no longer exists.", rejoin: false });
        return;
      default: {
        if (this.stream.state) this.status.value = "offline";
        const wait = (body && retryAfterMs(body)) ?? 2_000;
        this.retryTimer = setTimeout(() => this.socket.connect(), wait);
      }
    }
  }

  /** Gets a usable token for the same person (RoomAccess.resume), or ends with what to do next. */
  private async resume(): Promise<void> {
    const resumed = await this.access.resume();
    if (resumed && resumed.token !== this.access.token) {
      this.access = { ...this.access, ...resumed };
      this.socket.auth = this.handshake(resumed.token);
      this.socket.connect();
      return;
    }
    this.end(this.access.expired);
  }

  private end(info: EndedInfo): void {
    clearTimeout(this.retryTimer);
    this.status.value = "ended";
    this.ended.value = info;
    this.socket.disconnect();
  }

  private changed(): void {
    this.revision.value++;
    this.scheduleMuteEnd();
  }

  /**
   * A timed mute ends without an event: re-render when the next one runs out (the banner, the
   * composer and the roster read mutes against the clock).
   */
  private scheduleMuteEnd(): void {
    const room = this.stream.state;
    const end = room ? nextMuteEnd(room) : undefined;
    if (end === this.muteEnd) return;
    clearTimeout(this.muteTimer);
    this.muteEnd = end;
    if (end === undefined) return;
    // setTimeout takes at most 2^31-1 ms (about 24 days); a longer mute is looked at again then.
    const wait = Math.min(end - Date.now() + 50, 2 ** 31 - 1);
    this.muteTimer = setTimeout(() => {
      this.muteEnd = undefined;
      this.changed();
    }, wait);
  }
}
