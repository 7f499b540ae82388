import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildGuest, buildModerator, buildSeminar, expectOk } from "../../../tests/helpers/factories.ts";
import { eventually, RoomClient, startTestServer } from "../../../tests/helpers/server.ts";

const server = await startTestServer();
const sharedEssay = new URL("../../../../shared/essays/ai-revelation.zh-Hant.txt", import.meta.url);

interface Preview {
  title: string;
  byline: string | null;
  dateline: string | null;
  blocks: { position: number; kind: string; text: string }[];
  counts: Record<string, number>;
}

describe("POST /api/essays/preview", () => {
  it("returns the importer's structure and stores nothing", async () => {
    const moderator = await buildModerator(server);
    const before = await server.prisma.essay.count();
    const preview = expectOk(
      await server.http<Preview>(
        "POST",
        "/api/essays/preview",
        {
          text: "# Title\n\nFirst paragraph that\ncontinues here.\n\n## Part\n\nSecond.",
          format: "markdown",
        },
        moderator.token,
      ),
    );
    expect(preview.title).toBe("Title");
    expect(preview.blocks.map((block) => [block.kind, block.text])).toEqual([
      ["paragraph", "First paragraph that continues here."],
      ["heading", "Part"],
      ["paragraph", "Second."],
    ]);
    expect(await server.prisma.essay.count()).toBe(before);
  });

  it("refuses guests, missing tokens and empty or oversized texts with typed errors", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Reader");
    const moderator = await buildModerator(server);
    expect((await server.http("POST", "/api/essays/preview", { text: "x" })).body).toMatchObject({
      ok: false,
      error: { code: "unauthenticated" },
    });
    expect(
      (await server.http("POST", "/api/essays/preview", { text: "Hello." }, guest.token)).body,
    ).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(
      (await server.http("POST", "/api/essays/preview", { text: "   \n  " }, moderator.token)).body,
    ).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    expect(
      (await server.http("POST", "/api/essays/preview", { text: "a".repeat(200_001) }, moderator.token)).body,
    ).toMatchObject({ ok: false, error: { code: "validation_failed" } });
  });
});

describe.skipIf(!existsSync(sharedEssay))("a seminar from the shared essay", () => {
  it("stores the structure the preview shows and serves it in the snapshot", async () => {
    const moderator = await buildModerator(server);
    const text = readFileSync(sharedEssay, "utf8");
    const preview = expectOk(
      await server.http<Preview>("POST", "/api/essays/preview", { text }, moderator.token),
    );
    expect(preview.counts).toMatchObject({ paragraphs: 66, sectionMarkers: 5, captions: 4 });
    const { seminar } = await buildSeminar(server, { moderator, essay: text });
    const stored = await server.prisma.essay.findUniqueOrThrow({
      where: { seminarId: seminar.id },
      include: { paragraphs: { orderBy: { position: "asc" } } },
    });
    expect(stored.title).toBe("AI啟示錄:創新都是自己產生的,不是刻意安排的");
    expect(stored.byline).toBe("魚眼觀察");
    expect(stored.dateline).toBe("2025-02-06 18:31:59");
    expect(stored.frozenAt).not.toBeNull();
    expect(stored.paragraphs.map((p) => [p.kind, p.text])).toEqual(
      preview.blocks.map((b) => [b.kind, b.text]),
    );
    const guest = await buildGuest(server, seminar.joinCode!, "讀者");
    const client = await RoomClient.join(server.url, { token: guest.token });
    expect(client.stream.state!.essay.paragraphs).toHaveLength(preview.blocks.length);
    client.close();
  });
});

if (!existsSync(sharedEssay))
  console.warn(`shared essay not found at ${sharedEssay.pathname}: its seminar test is skipped`);

describe("PUT /api/seminars/:id/essay", () => {
  it("replaces a draft's essay for the moderators in the room, and is refused once the session started", async () => {
    const { seminar, moderator } = await buildSeminar(server, { start: false });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const replaced = expectOk(
      await server.http<{ title: string; paragraphs: { text: string }[] }>(
        "PUT",
        `/api/seminars/${seminar.id}/essay`,
        { text: "# New title\n\nOnly one paragraph now.", format: "markdown" },
        moderator.token,
      ),
    );
    expect(replaced.title).toBe("New title");
    expect(replaced.paragraphs.map((p) => p.text)).toEqual(["Only one paragraph now."]);
    await eventually(() => host.stream.state!.essay.title === "New title", 5_000, "essay:replaced");
    expect(host.stream.state!.essay.paragraphs).toHaveLength(1);

    const guest = await buildGuest(server, seminar.joinCode!, "Sneaky");
    expect(
      (await server.http("PUT", `/api/seminars/${seminar.id}/essay`, { text: "Mine now." }, guest.token))
        .body,
    ).toMatchObject({ ok: false, error: { code: "forbidden" } });

    expectOk(await server.http("POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token));
    const frozen = await server.http(
      "PUT",
      `/api/seminars/${seminar.id}/essay`,
      { text: "Too late." },
      moderator.token,
    );
    expect(frozen.body).toMatchObject({ ok: false, error: { code: "conflict" } });
    const stored = await server.prisma.paragraph.findMany({ where: { essay: { seminarId: seminar.id } } });
    expect(stored.map((p) => p.text)).toEqual(["Only one paragraph now."]);
    host.close();
  });
});
