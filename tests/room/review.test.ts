import { describe, expect, it } from "vitest";
import type { Result } from "../../src/protocol/result.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, send, startTestServer } from "../helpers/server.ts";

const server = await startTestServer();

function expectError(result: Result<unknown>, code: string) {
  expect(result, JSON.stringify(result)).toMatchObject({ ok: false, error: { code } });
}

const firstParagraph = (client: RoomClient) => {
  const paragraph = client.stream.state!.essay.paragraphs.find((p) => p.kind === "paragraph");
  if (!paragraph) throw new Error("the essay needs a paragraph");
  return paragraph;
};

describe("a deleted annotation's text", () => {
  it("is not handed out again by room:sync catch-up, to anyone", async () => {
    const { seminar } = await buildSeminar(server);
    const adaGuest = await buildGuest(server, seminar.joinCode!, "Ada");
    const ada = await RoomClient.join(server.url, { token: adaGuest.token });
    const paragraph = firstParagraph(ada);
    const secret = "Something I wrote by mistake and withdrew.";
    const created = expectOk(
      await ada.send("annotation:create", {
        paragraphId: paragraph.id,
        body: "First draft",
        tags: ["oops"],
      }),
    );
    expectOk(
      await ada.send("annotation:edit", { annotationId: created.id, body: secret, tags: ["private"] }),
    );
    expectOk(await ada.send("annotation:delete", { annotationId: created.id }));

    // Bob joins after the deletion and asks for the room's whole history.
    const bobGuest = await buildGuest(server, seminar.joinCode!, "Bob");
    const bob = await RoomClient.join(server.url, { token: bobGuest.token });
    const sync = await send(bob.socket, "room:sync", { since: 0 });
    const view = expectOk(sync);
    expect(view.mode).toBe("events");
    const text = JSON.stringify(view);
    expect(text).not.toContain(secret);
    expect(text).not.toContain("First draft");
    expect(text).not.toContain("private");
    // What the database keeps in the log holds no copy either.
    const stored = await server.prisma.roomEvent.findMany({ where: { seminarId: seminar.id } });
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain("First draft");
    // The tombstone is still in the stream, and the catch-up ends in the same state as a snapshot.
    const events = view.mode === "events" ? view.events : [];
    expect(events.find((event) => event.type === "annotation:deleted")).toMatchObject({
      type: "annotation:deleted",
      data: { annotation: { id: created.id, deleted: true, body: "" } },
    });
    ada.close();
    bob.close();
  });
});

describe("replying in a thread whose root a moderator hid", () => {
  it("is refused for participants also when they answer a reply in it", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const adaGuest = await buildGuest(server, seminar.joinCode!, "Ada");
    const bobGuest = await buildGuest(server, seminar.joinCode!, "Bob");
    const ada = await RoomClient.join(server.url, { token: adaGuest.token });
    const bob = await RoomClient.join(server.url, { token: bobGuest.token });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const paragraph = firstParagraph(ada);
    const root = expectOk(await ada.send("annotation:create", { paragraphId: paragraph.id, body: "Root" }));
    const reply = expectOk(await bob.send("annotation:reply", { parentId: root.id, body: "A reply" }));
    const hostMember = await server.prisma.membership.findFirstOrThrow({
      where: { seminarId: seminar.id, role: "host" },
    });
    await server.prisma.annotation.update({
      where: { id: root.id },
      data: { hiddenAt: new Date(), hiddenById: hostMember.id },
    });

    // Answering the root directly is refused ...
    expectError(await bob.send("annotation:reply", { parentId: root.id, body: "Direct" }), "conflict");
    // ... and so is answering a reply, which would attach to the same hidden root.
    const before = await server.prisma.annotation.count({ where: { seminarId: seminar.id } });
    expectError(await bob.send("annotation:reply", { parentId: reply.id, body: "Sideways" }), "conflict");
    expect(await server.prisma.annotation.count({ where: { seminarId: seminar.id } })).toBe(before);
    // Moderators still may.
    expectOk(await host.send("annotation:reply", { parentId: reply.id, body: "Moderator note" }));
    for (const client of [ada, bob, host]) client.close();
  });
});

describe("GET annotations with a forged cursor", () => {
  it("answers validation_failed, not internal, for a date PostgreSQL cannot hold", async () => {
    const { seminar } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Ada");
    for (const at of [
      "-271821-04-20T00:00:00.000Z",
      "+275760-09-13T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "0",
    ]) {
      const cursor = Buffer.from(`${at}|00000000-0000-4000-8000-000000000000`, "utf8").toString("base64url");
      const response = await server.http(
        "GET",
        `/api/seminars/${seminar.id}/annotations?cursor=${cursor}`,
        undefined,
        guest.token,
      );
      expect(response.status, `${at}: ${JSON.stringify(response.body)}`).toBe(400);
      expectError(response.body, "validation_failed");
    }
  });
});

describe("a NUL character in a string PostgreSQL stores", () => {
  it("is refused as validation_failed, not answered internal", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const guest = await buildGuest(server, seminar.joinCode!, "Ada");
    const ada = await RoomClient.join(server.url, { token: guest.token });
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const paragraph = firstParagraph(ada);
    const eventsBefore = await server.prisma.roomEvent.count({ where: { seminarId: seminar.id } });

    // Anyone: the login form.
    const login = await server.http("POST", "/api/auth/login", {
      email: "a\u0000@example.test",
      password: "whatever-password",
    });
    expect(login.status, JSON.stringify(login.body)).toBe(400);
    // A participant: the idempotency key of an annotation.
    expectError(
      await ada.send("annotation:create", { paragraphId: paragraph.id, body: "Hi", clientId: "x\u0000" }),
      "validation_failed",
    );
    // A moderator: a prompt's question and options.
    expectError(
      await host.send("prompt:create", { kind: "single_choice", question: "Q\u0000", options: ["a", "b"] }),
      "validation_failed",
    );
    expectError(
      await host.send("prompt:create", { kind: "single_choice", question: "Q", options: ["a\u0000", "b"] }),
      "validation_failed",
    );
    // A moderator: a seminar's title and essay.
    for (const body of [
      { title: "T\u0000", essay: { text: "Hello there." } },
      { title: "T", essay: { text: "Hello\u0000 there." } },
      { title: "T", essay: { text: "Hello there.", title: "E\u0000" } },
    ]) {
      const created = await server.http("POST", "/api/seminars", body, moderator.token);
      expect(created.status, JSON.stringify(created.body)).toBe(400);
    }
    expect(await server.prisma.roomEvent.count({ where: { seminarId: seminar.id } })).toBe(eventsBefore);
    ada.close();
    host.close();
  });
});
