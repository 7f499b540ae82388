import { describe, expect, it } from "vitest";
import type { MemberRole } from "../../protocol/views.ts";
import { canReadTranscript, canSeeTallySnapshot, type PromptTimes } from "./transcripts.policy.ts";

const actor = (role: MemberRole) => ({ memberId: "m", seminarId: "s", role });
const viewer = (moderator: boolean) => ({ memberId: "m", moderator, anonymized: false });

describe("canReadTranscript", () => {
  it("lets moderators always, others once started and only when the host allows it", () => {
    for (const state of ["draft", "live", "ended"] as const) {
      for (const transcriptAccess of [false, true]) {
        const room = { state, transcriptAccess };
        expect(canReadTranscript(actor("host"), room)).toBe(true);
        expect(canReadTranscript(actor("co_moderator"), room)).toBe(true);
        for (const role of ["participant", "observer"] as const) {
          expect(canReadTranscript(actor(role), room)).toBe(transcriptAccess && state !== "draft");
        }
      }
    }
  });
});

describe("canSeeTallySnapshot", () => {
  const t = (minute: number) => new Date(Date.UTC(2026, 11, 1, 20, minute));
  const prompt = (overrides: Partial<PromptTimes>): PromptTimes => ({
    state: "closed",
    resultsVisibility: "live",
    revealedAt: null,
    anonymous: true,
    closedAt: t(30),
    ...overrides,
  });

  it("shows moderators every stored tally", () => {
    expect(canSeeTallySnapshot(viewer(true), prompt({ resultsVisibility: "moderators" }), t(10))).toBe(true);
  });

  it("shows others only the tallies they could watch live", () => {
    const them = viewer(false);
    expect(canSeeTallySnapshot(them, prompt({}), t(10))).toBe(true);
    expect(canSeeTallySnapshot(them, prompt({ resultsVisibility: "moderators" }), t(40))).toBe(false);
    const afterClose = prompt({ resultsVisibility: "after_close" });
    expect(canSeeTallySnapshot(them, afterClose, t(10))).toBe(false);
    expect(canSeeTallySnapshot(them, afterClose, t(30))).toBe(true);
    const revealed = prompt({ resultsVisibility: "moderators", revealedAt: t(20) });
    expect(canSeeTallySnapshot(them, revealed, t(10))).toBe(false);
    expect(canSeeTallySnapshot(them, revealed, t(25))).toBe(true);
    expect(
      canSeeTallySnapshot(
        them,
        prompt({ resultsVisibility: "after_close", state: "open", closedAt: null }),
        t(10),
      ),
    ).toBe(false);
  });
});
