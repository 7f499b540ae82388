import { describe, expect, it } from "vitest";
import type { RoomSnapshot } from "../../src/protocol/views.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";

// A room with more present than the server names to participants (PRESENCE_LISTED_MAX, 2 here
// instead of 100, so that four people make a large room): participants and observers get the
// moderators by name and everyone as counts; moderators get everyone.
const server = await startTestServer({ PRESENCE_LISTED_MAX: "2" });

const ids = (state: RoomSnapshot) => state.presence.map((entry) => entry.memberId).sort();
const counts = (state: RoomSnapshot) => ({
  present: state.presenceSummary.present,
  complete: state.presenceSummary.complete,
  reading: state.presenceSummary.reading,
});

describe("presence in a large room", () => {
  it("names the moderators and counts everyone for participants, live and in a fresh snapshot, and names everyone for moderators", async () => {
    const { seminar, moderator } = await buildSeminar(server);
    const host = await RoomClient.join(server.url, { token: moderator.token, seminarId: seminar.id });
    const guests = await Promise.all(
      ["Ada", "Bo", "Cy"].map((name) => buildGuest(server, seminar.joinCode!, name)),
    );
    const [ada, bo, cy] = await Promise.all(
      guests.map((guest) => RoomClient.join(server.url, { token: guest.token })),
    );
    const hostId = host.stream.state!.viewer.memberId;
    const everyone = [hostId, ...guests.map((guest) => guest.member.id)].sort();

    // Two participants read the second paragraph, the host the first.
    const [first, second] = host.stream.state!.essay.paragraphs.map((paragraph) => paragraph.id);
    expectOk(await bo!.send("presence:focus", { paragraphId: second! }));
    expectOk(await cy!.send("presence:focus", { paragraphId: second! }));
    expectOk(await host.send("presence:focus", { paragraphId: first! }));
    const reading = [
      { paragraphId: first!, count: 1 },
      { paragraphId: second!, count: 2 },
    ].sort((a, b) => (a.paragraphId < b.paragraphId ? -1 : 1));

    // The moderator: everyone by name, and the counts follow the list.
    await expect.poll(() => ids(host.stream.state!), { timeout: 5_000 }).toEqual(everyone);
    await expect
      .poll(() => counts(host.stream.state!), { timeout: 5_000 })
      .toEqual({ present: 4, complete: true, reading });

    // A participant: the moderator by name, the four as counts (presence:update, whole).
    await expect
      .poll(() => counts(ada!.stream.state!), { timeout: 5_000 })
      .toEqual({ present: 4, complete: false, reading });
    expect(ada!.stream.state!.presence).toEqual([
      { memberId: hostId, displayName: "Moderator", paragraphId: first! },
    ]);

    // A participant joining now gets the same in its snapshot.
    const late = await buildGuest(server, seminar.joinCode!, "Dee");
    const dee = await RoomClient.join(server.url, { token: late.token });
    expect(counts(dee.stream.state!)).toEqual({ present: 5, complete: false, reading });
    expect(ids(dee.stream.state!)).toEqual([hostId]);
    // ... and the others hear of the fifth.
    await expect.poll(() => ada!.stream.state!.presenceSummary.present, { timeout: 5_000 }).toBe(5);

    // Back to a small room: three leave, and participants get everyone by name again.
    for (const client of [bo!, cy!, dee]) client.close();
    await expect
      .poll(() => ids(ada!.stream.state!), { timeout: 5_000 })
      .toEqual([hostId, guests[0]!.member.id].sort());
    expect(counts(ada!.stream.state!)).toEqual({
      present: 2,
      complete: true,
      reading: [{ paragraphId: first!, count: 1 }],
    });
    for (const client of [host, ada!]) client.close();
  });
});
