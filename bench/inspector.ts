/**
 * A small client of the V8 inspector (Chrome DevTools Protocol over a WebSocket) for the soak: it
 * forces a full garbage collection in the server, reads the server's memory figures right after,
 * and writes heap snapshots to files. The server runs with `--inspect=127.0.0.1:0` only under the
 * soak; nothing in the application knows about it.
 */

import { once } from "node:events";
import WebSocket from "ws";

/** The figures of process.memoryUsage() in the server (bytes). */
export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** The line Node prints on stderr when its inspector listens; the WebSocket URL is captured. */
export const INSPECTOR_LINE = /Debugger listening on (ws:\/\/\S+)/;

/** One inspector session with a Node process. */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiting?.reject(new Error(`inspector: ${message.error.message}`));
        else waiting?.resolve(message.result);
      }
    });
    socket.on("close", () => {
      for (const waiting of this.pending.values()) waiting.reject(new Error("inspector closed"));
      this.pending.clear();
    });
  }

  /** Opens a session on `url` (the ws:// address from INSPECTOR_LINE). */
  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 2 ** 20 });
    await once(socket, "open");
    return new Inspector(socket);
  }

  /** Sends one protocol command and resolves with its result. */
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** A full, compacting collection (V8 collects what is unreachable, weak references included). */
  async collectGarbage(): Promise<void> {
    await this.call("HeapProfiler.collectGarbage");
  }

  /**
   * Evaluates `expression` in the server's global scope (with the inspector's command-line API,
   * which gives it Node's `require`) and resolves with its value; rejects when it threw.
   */
  async evaluate(expression: string): Promise<unknown> {
    const answer = (await this.call("Runtime.evaluate", {
      expression,
      includeCommandLineAPI: true,
      returnByValue: true,
    })) as { result: { value?: unknown }; exceptionDetails?: { text: string } };
    if (answer.exceptionDetails) throw new Error(`inspector: ${expression}: ${answer.exceptionDetails.text}`);
    return answer.result.value;
  }

  /** process.memoryUsage() in the server, now. */
  async memoryUsage(): Promise<MemoryUsage> {
    return JSON.parse(String(await this.evaluate("JSON.stringify(process.memoryUsage())"))) as MemoryUsage;
  }

  /** Bytes in use in each space of the server's V8 heap (new, old, code, large objects…). */
  async heapSpaces(): Promise<Record<string, number>> {
    const spaces = JSON.parse(
      String(
        await this.evaluate(
          `JSON.stringify(require("node:v8").getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]))`,
        ),
      ),
    ) as [string, number][];
    return Object.fromEntries(spaces);
  }

  /**
   * Has the server write a heap snapshot to `path` itself (v8.writeHeapSnapshot, which collects
   * garbage first, so the file holds only what is reachable): several times faster than streaming
   * it through the protocol in chunks, so the server stops for less time.
   */
  async writeHeapSnapshot(path: string): Promise<void> {
    await this.evaluate(`require("node:v8").writeHeapSnapshot(${JSON.stringify(path)})`);
  }

  /** Ends the session (the server keeps running). */
  close(): void {
    this.socket.close();
  }
}
