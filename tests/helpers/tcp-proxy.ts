import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from "node:net";

/** How the proxy fails: `refuse` resets every connection at once; `hang` stops forwarding bytes. */
export type OutageMode = "refuse" | "hang";

/** A TCP proxy between the application and PostgreSQL that a test can cut and restore. */
export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string;
  /**
   * Starts an outage. `refuse`: open connections are reset (the database "restarts") and new ones
   * are reset as soon as they arrive. `hang`: open connections stop forwarding and new ones are
   * accepted but never answered (a network partition: the pool times out).
   */
  cut(mode?: OutageMode): void;
  /** Ends the outage: new connections go through again; hung ones are dropped (their peer is gone). */
  restore(): void;
  /** Connections currently forwarded (open on both sides). */
  openConnections(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free port of 127.0.0.1 that forwards to `target`. Written for the
 * database-outage tests: cutting it is what a lost database looks like to the `pg` driver, without
 * touching the PostgreSQL server the other test files share.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: OutageMode | "up" = "up";
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();

  const drop = (pair: { client: Socket; upstream: Socket | undefined }) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
  };

  const server = createServer((client) => {
    client.on("error", () => {});
    if (mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    pairs.add(pair);
    client.once("close", () => drop(pair));
    if (mode === "hang") {
      // Accepted and then silent: the driver waits for the server's first bytes until it times out.
      client.pause();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on("error", () => drop(pair));
    upstream.once("close", () => drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    cut(next = "refuse") {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === "refuse") drop(pair);
        else {
          pair.client.unpipe();
          pair.upstream?.unpipe();
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
    },
    restore() {
      mode = "up";
      // What was held during a hang is useless now: its peer has given up or timed out.
      for (const pair of [...pairs]) if (pair.client.isPaused()) drop(pair);
    },
    openConnections() {
      return [...pairs].filter((pair) => pair.upstream !== undefined && !pair.client.isPaused()).length;
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
