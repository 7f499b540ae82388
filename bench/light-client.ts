/**
 * A lightweight Socket.IO client: the engine.io v4 and socket.io v5 wire protocols spoken directly
 * over `ws`, without socket.io-client's per-socket machinery (reconnection manager, event emitter
 * chains, packet buffering). It hands incoming events over as their name and raw bytes, so the
 * generator can count them, and decode and scan only those it reads (in a lecture hall most frames
 * are presence, which it only counts), without parsing JSON it does not need; ws's UTF-8 check of
 * every text frame is off for the same reason. Enough for the bench: the default namespace, text
 * frames, acks and heartbeats; nothing else.
 *
 * Wire format (text frames): engine.io `0` open, `2` ping, `3` pong, `4` message; a socket.io
 * packet follows a `4`: `0` connect (`40{auth}` / `40{"sid":…}`), `1` disconnect, `2` event
 * (`42["name",…]` or `42<ackId>["name",…]`), `3` ack (`43<ackId>[…]`), `4` connect error.
 */
import WebSocket from "ws";

/** Why a connection or a command failed: an error code of the protocol or of the transport. */
export class LightClientError extends Error {
  override name = "LightClientError";
  constructor(
    readonly code: string,
    message: string,
    /** The wait an `unavailable` refusal asks for before trying again (details.retryAfterMs). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Receives every server event as its name and the whole raw frame (`42["name",…]`), undecoded:
 * `data.toString()` is the frame's text.
 */
export type RawEventHandler = (name: string, data: Buffer) => void;

/** The longest event name the header scan looks for (bytes after `42[`). */
const NAME_SCAN_BYTES = 64;

/** One simulated participant's connection. */
export class LightClient {
  private socket: WebSocket | undefined;
  private nextAckId = 0;
  private readonly pendingAcks = new Map<
    number,
    { resolve: (raw: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  /** Bytes received over the connection (text frames). */
  bytesReceived = 0;
  /** Called when the server or the network ends the connection after it was established. */
  onClose: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly onEvent: RawEventHandler,
  ) {}

  /** Opens the WebSocket and connects to the default namespace with `auth`; rejects on connect_error. */
  connect(auth: Record<string, unknown>, timeoutMs = 20_000): Promise<void> {
    const endpoint = `${this.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
    const socket = new WebSocket(endpoint, { perMessageDeflate: false, skipUTF8Validation: true });
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      let connected = false;
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new LightClientError("timeout", "connect timed out"));
      }, timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      socket.on("message", (data: Buffer) => {
        this.bytesReceived += data.length;
        const engine = data[0];
        if (engine === 50 /* 2: ping */) {
          socket.send("3");
          return;
        }
        if (engine === 48 /* 0: open */) {
          socket.send(`40${JSON.stringify(auth)}`);
          return;
        }
        if (engine !== 52 /* 4: message */) return;
        const packet = data[1];
        if (packet === 50 /* 2: event */) {
          // The name is ASCII and near the start: only those bytes are decoded here.
          const start = data.indexOf(34 /* " */, 2);
          const end = data.indexOf(34, start + 1);
          if (start < 0 || end < 0 || end - start > NAME_SCAN_BYTES) return;
          this.onEvent(data.toString("latin1", start + 1, end), data);
          return;
        }
        const frame = data.toString();
        if (packet === 51 /* 3: ack */) {
          this.receiveAck(frame);
        } else if (packet === 48 /* 0: connect */) {
          connected = true;
          settle();
        } else if (packet === 52 /* 4: connect error */) {
          settle(connectError(frame.slice(2)));
          socket.close();
        } else if (packet === 49 /* 1: disconnect */) {
          socket.close();
        }
      });
      socket.on("error", (error) => {
        if (!connected) settle(new LightClientError("network", error.message));
      });
      socket.on("close", () => {
        this.failPending("disconnected");
        if (connected) this.onClose?.();
        else settle(new LightClientError("network", "closed before connecting"));
      });
    });
  }

  /**
   * Sends a command with an ack and resolves with the raw ack frame's arguments (`[{"ok":…}]`).
   * Rejects with code "timeout" or "disconnected".
   */
  emit(event: string, payload: unknown, timeoutMs: number): Promise<string> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new LightClientError("disconnected", "not connected"));
    }
    const id = this.nextAckId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(id);
        reject(new LightClientError("timeout", `${event}: no ack within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(id, { resolve, reject, timer });
      socket.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.onClose = undefined;
    this.socket?.close();
  }

  /** Whether the connection is open. */
  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  private receiveAck(frame: string): void {
    let index = 2;
    while (index < frame.length && frame.charCodeAt(index) >= 48 && frame.charCodeAt(index) <= 57) index++;
    const id = Number(frame.slice(2, index));
    const pending = this.pendingAcks.get(id);
    if (!pending) return;
    this.pendingAcks.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(frame.slice(index));
  }

  private failPending(code: string): void {
    for (const [id, pending] of this.pendingAcks) {
      clearTimeout(pending.timer);
      pending.reject(new LightClientError(code, "connection closed"));
      this.pendingAcks.delete(id);
    }
  }
}

function connectError(body: string): LightClientError {
  try {
    const parsed = JSON.parse(body) as {
      message?: string;
      data?: { code?: string; details?: { retryAfterMs?: unknown } };
    };
    const retryAfterMs = parsed.data?.details?.retryAfterMs;
    return new LightClientError(
      parsed.data?.code ?? "connect_error",
      parsed.message ?? body,
      typeof retryAfterMs === "number" ? retryAfterMs : undefined,
    );
  } catch {
    return new LightClientError("connect_error", body);
  }
}
