import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildGuest, buildSeminar } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

describe("annotation:create retried at the same moment", () => {
  it("stores one annotation and one event for one clientId, and acks every attempt with it", async () => {
    const { seminar } = await buildSeminar(server);
    const client = await RoomClient.join(server.url, {
      token: (await buildGuest(server, seminar.joinCode!, "Retrier")).token,
    });
    const paragraphId = client.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph")!.id;
    const before = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } })).lastSeq;
    const clientId = randomUUID();
    const acks = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.send("annotation:create", { paragraphId, body: "once", clientId }),
      ),
    );
    const ids = new Set(acks.map((ack) => (ack.ok ? ack.data.id : ack.error.code)));
    expect(ids.size).toBe(1);
    expect(acks.every((ack) => ack.ok)).toBe(true);
    expect(await server.prisma.annotation.count({ where: { seminarId: seminar.id } })).toBe(1);
    const after = await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } });
    expect(after.lastSeq).toBe(before + 1);
    expect(
      await server.prisma.roomEvent.count({ where: { seminarId: seminar.id, seq: { gt: before } } }),
    ).toBe(1);
    client.close();
  });
});
