import type { Socket } from "socket.io-client";
import type { CommandName, CommandPayload } from "../../src/protocol/commands.ts";
import type { Result } from "../../src/protocol/result.ts";
import type { RoomStreamEvent } from "../../src/protocol/views.ts";
import { type ClientSocket, RoomClient } from "./server.ts";

// A client of a deployment of several nodes, as a browser behind a load balancer would be one: it
// knows every node's URL, and when its connection drops it connects to the next one in turn,
// catches up with room:sync since its last seq, and retries what was not acknowledged with the
// same ids. Errors a real client recovers from (a dropped connection, `unavailable`,
// `rate_limited`) are retried; anything else is recorded as an unrecoverable error.

/** A write that is retried under the same id until acknowledged. */
export type Write =
  | { kind: "annotation"; payload: CommandPayload<"annotation:create"> & { clientId: string } }
  | { kind: "ballot"; payload: CommandPayload<"prompt:vote"> };

/** What happened to one write: the id it was acknowledged with, after how many attempts. */
export interface Acked {
  id: string;
  attempts: number;
}

const RETRYABLE = new Set(["unavailable", "rate_limited"]);

/** Sends a command; "lost" when the connection drops (or the ack times out) before the answer. */
export function sendOrLose<E extends CommandName>(
  socket: ClientSocket,
  event: E,
  payload: CommandPayload<E>,
) {
  return new Promise<Result<unknown> | "lost">((resolve) => {
    if (!socket.connected) return resolve("lost");
    const lost = () => resolve("lost");
    socket.once("disconnect", lost);
    // Typed by the signature; emitted untyped because the event map cannot be indexed by a generic E.
    void (socket as unknown as Socket)
      .timeout(15_000)
      .emitWithAck(event, payload)
      .then(
        (result) => resolve(result as Result<unknown>),
        () => resolve("lost"),
      )
      .finally(() => socket.off("disconnect", lost));
  });
}

/** One participant of a multi-node test, following the nodes as they come and go. */
export class FailoverClient {
  /** Every connection this client had, oldest first. */
  readonly connections: RoomClient[] = [];
  /** Node index of each connection (into `urls`). */
  readonly nodes: number[] = [];
  /** Answers it could not recover from (must stay empty). */
  readonly errors: string[] = [];
  /** Why each of its connections ended (Socket.IO's reasons). */
  readonly disconnects: string[] = [];
  /** connection:closing reasons it was told. */
  readonly closings: string[] = [];
  private node: number;
  private reconnecting: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly urls: () => string[],
    private readonly token: string,
    first: number,
  ) {
    this.node = first;
  }

  /** Connects to node `first` of `urls()` (read again at every reconnect, so nodes can be replaced). */
  static async join(urls: () => string[], token: string, first: number): Promise<FailoverClient> {
    const client = new FailoverClient(urls, token, first);
    await client.attach(await RoomClient.join(urls()[first]!, { token }));
    return client;
  }

  /** The connection in use. */
  get current(): RoomClient {
    return this.connections.at(-1)!;
  }

  /** Every event applied, over all its connections, in order. */
  get applied(): RoomStreamEvent[] {
    return this.connections.flatMap((connection) => connection.stream.applied);
  }

  /** Sends a write until it is acknowledged (reconnecting and retrying as needed). */
  async write(write: Write): Promise<Acked | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (this.reconnecting) await this.reconnecting;
      const answer =
        write.kind === "annotation"
          ? await sendOrLose(this.current.socket, "annotation:create", write.payload)
          : await sendOrLose(this.current.socket, "prompt:vote", write.payload);
      if (answer === "lost") {
        await this.reconnect();
        continue;
      }
      if (answer.ok) {
        const data = answer.data as { id?: string; clientBallotId?: string };
        return { id: data.id ?? data.clientBallotId ?? "", attempts: attempt };
      }
      if (!RETRYABLE.has(answer.error.code)) {
        this.errors.push(`${write.kind}: ${answer.error.code} ${answer.error.message}`);
        return undefined;
      }
      const details = answer.error.details as { retryAfterMs?: number } | undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(details?.retryAfterMs ?? 200, 2_000)));
    }
  }

  /** Waits for a reconnection in progress, if any. */
  async settled(): Promise<void> {
    while (this.reconnecting) await this.reconnecting;
  }

  /** Closes for good (no reconnection). */
  close(): void {
    this.stopped = true;
    this.current.close();
  }

  private async attach(connection: RoomClient): Promise<void> {
    this.connections.push(connection);
    this.nodes.push(this.node);
    connection.socket.on("connection:closing", (info) => this.closings.push(info.reason));
    connection.socket.once("disconnect", (reason) => {
      this.disconnects.push(reason);
      if (!this.stopped) void this.reconnect();
    });
  }

  /** Connects to the next node that takes it, catching up from the last applied seq. */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      const previous = this.current;
      previous.close();
      for (let attempt = 0; ; attempt++) {
        this.node = (this.node + 1) % this.urls().length;
        try {
          const next = await RoomClient.join(this.urls()[this.node]!, { token: this.token }, previous.stream);
          await this.attach(next);
          return;
        } catch (error) {
          // A node that is down or draining refuses; try the next after a short pause.
          if (attempt > 200) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }
}
