import { describe, expect, it } from "vitest";
import { buildGuest, buildSeminar, expectOk } from "../../../tests/helpers/factories.ts";
import { RoomClient, startTestServer } from "../../../tests/helpers/server.ts";
import type { AnnotationPage } from "../../protocol/annotations.ts";
import type { AnnotationView, RoomSnapshot } from "../../protocol/views.ts";

const server = await startTestServer();

const path = (seminarId: string, query = "") => `/api/seminars/${seminarId}/annotations${query}`;

/** The seminar of these tests: Ada and Bob annotate two paragraphs; an observer reads along. */
async function buildAnnotatedSeminar() {
  const { seminar, moderator } = await buildSeminar(server);
  const adaGuest = await buildGuest(server, seminar.joinCode!, "Ada");
  const bobGuest = await buildGuest(server, seminar.joinCode!, "Bob");
  const observer = await buildGuest(server, seminar.joinCode!, "Olive", true);
  const ada = await RoomClient.join(server.url, { token: adaGuest.token });
  const bob = await RoomClient.join(server.url, { token: bobGuest.token });
  const [first, second] = ada.stream.state!.essay.paragraphs.filter((p) => p.kind === "paragraph");
  if (!first || !second) throw new Error("the essay needs two paragraphs");

  const create = async (client: RoomClient, paragraphId: string, body: string, tags: string[] = []) =>
    expectOk(await client.send("annotation:create", { paragraphId, body, tags }));
  const created = [
    await create(ada, first.id, "One", ["Ethics"]),
    await create(bob, first.id, "Two", ["method"]),
    await create(ada, second.id, "Three", ["ethics", "method"]),
    await create(bob, second.id, "Four"),
    await create(ada, first.id, "Five"),
    await create(bob, first.id, "Six", ["ethics"]),
  ];
  const reply = expectOk(
    await bob.send("annotation:reply", {
      parentId: created[0]!.id,
      body: "Seven",
      tags: ["ethics"],
    }),
  );
  ada.close();
  bob.close();
  return { seminar, moderator, adaGuest, bobGuest, observer, first, second, all: [...created, reply] };
}

async function readAll(seminarId: string, token: string, query: string) {
  const items: AnnotationView[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = query ? "&" : "";
    const suffix: string = cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : "";
    const page: AnnotationPage = expectOk(
      await server.http<AnnotationPage>("GET", path(seminarId, `?${query}${suffix}`), undefined, token),
    );
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages };
}

describe("GET /api/seminars/:seminarId/annotations", () => {
  it("lists a seminar's annotations oldest first and filters by paragraph, author and tag", async () => {
    const { seminar, adaGuest, bobGuest, first, all } = await buildAnnotatedSeminar();
    const everything = expectOk(
      await server.http<AnnotationPage>("GET", path(seminar.id), undefined, adaGuest.token),
    );
    expect(everything.items.map((a) => a.body)).toEqual([
      "One",
      "Two",
      "Three",
      "Four",
      "Five",
      "Six",
      "Seven",
    ]);
    expect(everything.items).toEqual(all);
    expect(everything.nextCursor).toBeNull();

    const onFirst = expectOk(
      await server.http<AnnotationPage>(
        "GET",
        path(seminar.id, `?paragraphId=${first.id}`),
        undefined,
        bobGuest.token,
      ),
    );
    expect(onFirst.items.map((a) => a.body)).toEqual(["One", "Two", "Five", "Six", "Seven"]);

    const byAda = expectOk(
      await server.http<AnnotationPage>(
        "GET",
        path(seminar.id, `?authorId=${adaGuest.member.id}`),
        undefined,
        bobGuest.token,
      ),
    );
    expect(byAda.items.map((a) => a.body)).toEqual(["One", "Three", "Five"]);

    const tagged = expectOk(
      await server.http<AnnotationPage>("GET", path(seminar.id, "?tag=ETHICS"), undefined, bobGuest.token),
    );
    expect(tagged.items.map((a) => a.body)).toEqual(["One", "Three", "Six", "Seven"]);

    const combined = expectOk(
      await server.http<AnnotationPage>(
        "GET",
        path(seminar.id, `?paragraphId=${first.id}&authorId=${bobGuest.member.id}&tag=ethics`),
        undefined,
        adaGuest.token,
      ),
    );
    expect(combined.items.map((a) => a.body)).toEqual(["Six", "Seven"]);
  });

  it("paginates every item exactly once, also across annotations stored in the same millisecond", async () => {
    const { seminar, moderator, all } = await buildAnnotatedSeminar();
    // Force ties on createdAt: the id must order them, and the cursor must not skip or repeat any.
    const tied = new Date("2030-01-01T00:00:00.000Z");
    await server.prisma.annotation.updateMany({
      where: { id: { in: all.slice(1, 5).map((a) => a.id) } },
      data: { createdAt: tied },
    });
    const reference = await server.prisma.annotation.findMany({
      where: { seminarId: seminar.id },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    for (const limit of [1, 2, 3, 7]) {
      const { items, pages } = await readAll(seminar.id, moderator.token, `limit=${limit}`);
      expect(items.map((a) => a.id)).toEqual(reference.map((a) => a.id));
      expect(pages).toBe(Math.max(1, Math.ceil(all.length / limit)));
    }
    const tagged = await readAll(seminar.id, moderator.token, "tag=ethics&limit=1");
    expect(tagged.items.map((a) => a.body).sort()).toEqual(["One", "Seven", "Six", "Three"]);
  });

  it("shows hidden annotations only to moderators and their author, in REST and snapshots alike", async () => {
    const { seminar, moderator, adaGuest, bobGuest, observer, all } = await buildAnnotatedSeminar();
    const target = all[0]!;
    const host = await server.prisma.membership.findFirstOrThrow({
      where: { seminarId: seminar.id, role: "host" },
    });
    await server.prisma.annotation.update({
      where: { id: target.id },
      data: { hiddenAt: new Date(), hiddenById: host.id },
    });

    const seenBy = async (token: string) => {
      const page = expectOk(await server.http<AnnotationPage>("GET", path(seminar.id), undefined, token));
      return page.items.find((a) => a.id === target.id);
    };
    expect(await seenBy(bobGuest.token)).toBeUndefined();
    expect(await seenBy(observer.token)).toBeUndefined();
    expect(await seenBy(adaGuest.token)).toMatchObject({ body: "One", tags: ["ethics"], hidden: true });
    expect(await seenBy(moderator.token)).toMatchObject({ body: "One", tags: ["ethics"], hidden: true });

    // A tag filter does not reveal what a hidden annotation is tagged with.
    const tagged = expectOk(
      await server.http<AnnotationPage>("GET", path(seminar.id, "?tag=ethics"), undefined, bobGuest.token),
    );
    expect(tagged.items.map((a) => a.id)).not.toContain(target.id);

    const snapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, bobGuest.token),
    );
    expect(snapshot.annotations.find((a) => a.id === target.id)).toBeUndefined();
    const adaSnapshot = expectOk(
      await server.http<RoomSnapshot>("GET", `/api/seminars/${seminar.id}`, undefined, adaGuest.token),
    );
    expect(adaSnapshot.annotations.find((a) => a.id === target.id)).toEqual(await seenBy(adaGuest.token));
  });

  it("answers only members of the seminar", async () => {
    const { seminar, observer } = await buildAnnotatedSeminar();
    const other = await buildSeminar(server);
    const stranger = await buildGuest(server, other.seminar.joinCode!, "Stranger");

    expect((await server.http("GET", path(seminar.id), undefined, observer.token)).status).toBe(200);
    const foreignGuest = await server.http("GET", path(seminar.id), undefined, stranger.token);
    expect(foreignGuest.status).toBe(404);
    expect(foreignGuest.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    const foreignModerator = await server.http("GET", path(seminar.id), undefined, other.moderator.token);
    expect(foreignModerator.body).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await server.http("GET", path(seminar.id))).body).toMatchObject({
      ok: false,
      error: { code: "unauthenticated" },
    });
  });

  it("rejects malformed queries with validation_failed", async () => {
    const { seminar, observer } = await buildAnnotatedSeminar();
    for (const query of [
      "?limit=0",
      "?limit=201",
      "?limit=ten",
      "?cursor=nonsense",
      "?paragraphId=nope",
      "?tag=two%20words",
      "?tag=a&tag=b",
    ]) {
      const response = await server.http("GET", path(seminar.id, query), undefined, observer.token);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    }
    expect((await server.http("GET", path("not-a-uuid"), undefined, observer.token)).status).toBe(400);
  });
});
