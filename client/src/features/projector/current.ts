/** What the projector shows: which question, and whether its counts may be shown to the room. Pure. */
import type { PromptView, RoomSnapshot } from "../../../../src/protocol/views.ts";

/**
 * The question the room is on: the open one opened last, else the one closed last. Drafts never
 * reach the screen.
 */
export function currentPrompt(room: RoomSnapshot): PromptView | undefined {
  const latest = (list: PromptView[], at: (prompt: PromptView) => string | null) =>
    list.reduce<PromptView | undefined>(
      (best, prompt) => (!best || (at(prompt) ?? "") > (at(best) ?? "") ? prompt : best),
      undefined,
    );
  const open = room.prompts.filter((prompt) => prompt.state === "open");
  if (open.length > 0) return latest(open, (prompt) => prompt.openedAt);
  return latest(
    room.prompts.filter((prompt) => prompt.state === "closed"),
    (prompt) => prompt.closedAt,
  );
}

/** Whether the room may see a prompt's counts (the screen is public): as participants would. */
export function resultsForRoom(prompt: PromptView): boolean {
  return (
    prompt.revealed ||
    prompt.resultsVisibility === "live" ||
    (prompt.resultsVisibility === "after_close" && prompt.state === "closed")
  );
}
