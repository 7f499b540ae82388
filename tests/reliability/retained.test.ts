import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RetainedEntries } from "../../src/realtime/server.ts";
import { buildGuest, buildSeminar, expectOk, YES_NO } from "../helpers/factories.ts";
import { type ClientSocket, connect, eventually, send, startTestServer } from "../helpers/server.ts";

const METRICS_TOKEN = "retained-test-metrics-token-0123456789";
const server = await startTestServer({ METRICS_TOKEN });

const NOTHING: RetainedEntries = {
  expiryTimers: 0,
  commands: 0,
  presenceSockets: 0,
  presenceRooms: 0,
  presencePending: 0,
  notifierBatches: 0,
  notifierCloses: 0,
  writeQueues: 0,
};

/** The server-side socket of a connected client. */
function serverSocketOf(client: ClientSocket) {
  const socket = server.app.realtime.io.of("/").sockets.get(client.id!);
  if (!socket) throw new Error("no server-side socket for this client");
  return socket;
}

describe("what the realtime layer holds for sockets and rooms", () => {
  it("falls back to nothing once every socket has left, and /metrics shows it", async () => {
    const { seminar, moderator } = await buildSeminar(server, { prompts: [YES_NO] });
    const host = await connect(server.url, { token: moderator.token, seminarId: seminar.id });
    const snapshot = expectOk(await send(host, "room:sync", {}));
    if (!("snapshot" in snapshot)) throw new Error("expected a snapshot");
    const prompt = snapshot.snapshot.prompts[0]!;
    expectOk(await send(host, "prompt:open", { promptId: prompt.id }));
    const paragraph = snapshot.snapshot.essay.paragraphs.find((p) => p.kind === "paragraph")!;

    // Guests do what the soak's clients do: join, read, focus, write, vote, refresh, reconnect.
    const guests: ClientSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const guest = await buildGuest(server, seminar.joinCode!, `Guest ${i}`);
      const socket = await connect(server.url, { token: guest.token });
      guests.push(socket, await connect(server.url, { token: guest.token }));
      expectOk(await send(socket, "room:sync", {}));
      expectOk(await send(socket, "presence:focus", { paragraphId: paragraph.id }));
      const written = expectOk(
        await send(socket, "annotation:create", {
          paragraphId: paragraph.id,
          body: `note ${i}`,
          clientId: randomUUID(),
        }),
      );
      expectOk(
        await send(socket, "prompt:vote", {
          promptId: prompt.id,
          optionIds: [prompt.options[i % 2]!.id],
          clientBallotId: randomUUID(),
        }),
      );
      expectOk(await send(socket, "annotation:delete", { annotationId: written.id }));
      expectOk(await send(socket, "auth:refresh", {}));
    }
    const during = server.app.realtime.retained();
    expect(during.expiryTimers).toBe(guests.length + 1);
    expect(during.presenceSockets).toBe(guests.length + 1);
    expect(during.presenceRooms).toBe(1);

    for (const socket of [host, ...guests]) socket.disconnect();
    await expect.poll(() => server.app.realtime.retained()).toEqual(NOTHING);

    const metrics = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    }).then((response) => response.text());
    for (const holder of Object.keys(NOTHING)) {
      expect(metrics).toContain(`stepstone_realtime_retained_entries{holder="${holder}"} 0`);
    }
  });

  it("arms no expiry timers for a socket whose token refresh is answered after it left", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Leaving");
    const client = await connect(server.url, { token: guest.token });
    const socket = serverSocketOf(client);
    expect(server.app.realtime.retained().expiryTimers).toBeGreaterThanOrEqual(1);
    client.disconnect();
    await eventually(() => !socket.connected, 10_000, "the server to see the socket leave");
    await expect.poll(() => server.app.realtime.retained().expiryTimers).toBe(0);

    // What auth:refresh does once its database read returns: by then the socket may be gone.
    server.app.realtime.renewToken(socket, Date.now() + 3_600_000);
    expect(server.app.realtime.retained().expiryTimers).toBe(0);
  });
});
