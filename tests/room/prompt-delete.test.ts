/**
 * prompt:delete over real sockets and PostgreSQL: a moderator deletes a draft question; the room
 * hears `prompt:deleted` and drops it; an opened one is refused and stays; a reader who catches up
 * later, and the transcripts, get the deleted prompt's earlier events as `prompt:deleted` instead
 * of failing to present a prompt that no longer exists.
 */
import { describe, expect, it } from "vitest";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";
import { download, transcriptValidator } from "../helpers/transcripts.ts";

const server = await startTestServer();

const QUESTION = (question: string) => ({ kind: "single_choice" as const, question, options: ["Yes", "No"] });

describe("deleting a draft prompt", () => {
  it("deletes a draft for the whole room, refuses an opened one, and keeps catch-up and transcripts whole", async () => {
    const { seminar, moderator } = await buildSeminar(server, { prompts: [QUESTION("Kept?")] });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const guest = await buildGuest(server, seminar.joinCode!, "Reader");
    const reader = await RoomClient.join(server.url, { token: guest.token });
    // A second reader who holds the room as of now and catches up only after the deletion.
    const late = await RoomClient.join(server.url, { token: guest.token });
    const seqBefore = late.stream.seq;
    late.close();
    try {
      const kept = host.stream.state!.prompts[0]!;
      expectOk(await host.send("prompt:open", { promptId: kept.id }));
      const draft = expectOk(await host.send("prompt:create", QUESTION("Gone?")));

      // An opened prompt is part of the record: refused, nothing changes.
      const refused = await host.send("prompt:delete", { promptId: kept.id });
      expect(refused).toMatchObject({ ok: false, error: { code: "conflict" } });
      // A participant may not delete anything.
      const forbidden = await reader.send("prompt:delete", { promptId: draft.id });
      expect(forbidden).toMatchObject({ ok: false, error: { code: "forbidden" } });
      expect(await server.prisma.prompt.count({ where: { seminarId: seminar.id } })).toBe(2);

      const seqAtDelete = (await server.prisma.seminar.findUniqueOrThrow({ where: { id: seminar.id } }))
        .lastSeq;
      expect(expectOk(await host.send("prompt:delete", { promptId: draft.id }))).toEqual({
        promptId: draft.id,
      });
      expect(await server.prisma.prompt.findUnique({ where: { id: draft.id } })).toBeNull();
      expect(await server.prisma.promptOption.count({ where: { promptId: draft.id } })).toBe(0);

      // Everyone in the room hears it and drops the prompt.
      for (const client of [host, reader]) {
        await client.waitForSeq(seqAtDelete + 1);
        const last = client.received.at(-1)!;
        expect(last).toMatchObject({ type: "prompt:deleted", data: { promptId: draft.id } });
        expect(client.stream.state!.prompts.map((prompt) => prompt.id)).toEqual([kept.id]);
      }

      // Catching up from before: the draft's creation comes as prompt:deleted, in its place.
      const caughtUp = await RoomClient.join(server.url, { token: guest.token }, late.stream);
      try {
        const events = caughtUp.stream.applied.filter((event) => event.seq > seqBefore);
        expect(events.map((event) => event.type)).toEqual([
          "prompt:opened",
          "prompt:deleted",
          "prompt:deleted",
        ]);
        expect(events.filter((event) => event.type === "prompt:deleted").map((event) => event.data)).toEqual([
          { promptId: draft.id },
          { promptId: draft.id },
        ]);
        expect(caughtUp.stream.state!.prompts.map((prompt) => prompt.id)).toEqual([kept.id]);
      } finally {
        caughtUp.close();
      }

      // Transcripts present it the same way and still match their schema.
      const json = await download(server, seminar.id, moderator.token, "format=json");
      expect(json.status).toBe(200);
      const document = JSON.parse(json.text) as TranscriptDocument;
      const validate = transcriptValidator();
      expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
      expect(document.prompts.map((prompt) => prompt.id)).toEqual([kept.id]);
      const markdown = await download(server, seminar.id, moderator.token, "format=md");
      expect(markdown.status).toBe(200);
      expect(markdown.text).toContain("deleted a draft prompt");
    } finally {
      host.close();
      reader.close();
    }
  });
});
