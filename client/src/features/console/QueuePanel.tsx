/**
 * The Queue tab: raised hands in the order the room accepted them, who was called last, and the
 * moderator's calls: the next hand, a chosen one, lower one, or clear the queue.
 */
import { timeOf } from "../../ui/text.ts";
import { nameOf } from "../annotations/AnnotationCard.tsx";
import { useRoomState } from "../seminars/room-ui.ts";
import { useCommand } from "./commands.ts";

/** The Queue tab. */
export function QueuePanel() {
  const room = useRoomState()!;
  const run = useCommand();
  const live = room.seminar.state === "live";
  const lastCall = [...(room.moderationLog ?? [])].reverse().find((entry) => entry.action === "queue:call");
  const first = room.queue[0];

  return (
    <section class="queue" aria-labelledby="queue-title">
      <h2 id="queue-title">Speaking queue</h2>
      {lastCall?.targetMemberId && (
        <p class="floor" role="status">
          Last called: <strong>{nameOf(room.members, lastCall.targetMemberId)}</strong> at{" "}
          {timeOf(lastCall.at)}
        </p>
      )}
      <div class="queue-actions">
        <button
          type="button"
          class="primary"
          disabled={!live || !first}
          onClick={() => first && void run(`Call ${nameOf(room.members, first.memberId)}`, "queue:call", {})}
        >
          Call next
        </button>
        <button
          type="button"
          class="quiet"
          disabled={!live || room.queue.length === 0}
          onClick={() => void run("Clear the queue", "queue:clear", {})}
        >
          Clear queue
        </button>
      </div>
      {room.queue.length === 0 ? (
        <p class="hint">No hands raised.</p>
      ) : (
        <ol class="hand-list">
          {room.queue.map((hand) => {
            const name = nameOf(room.members, hand.memberId);
            return (
              <li key={hand.memberId} class="hand">
                <span class="member-name">{name}</span>
                <time dateTime={hand.raisedAt}>{timeOf(hand.raisedAt)}</time>
                <button
                  type="button"
                  disabled={!live}
                  aria-label={`Call ${name}`}
                  onClick={() => void run(`Call ${name}`, "queue:call", { memberId: hand.memberId })}
                >
                  Call
                </button>
                <button
                  type="button"
                  class="quiet"
                  disabled={!live}
                  aria-label={`Lower ${name}'s hand`}
                  onClick={() => void run(`Lower ${name}'s hand`, "queue:lower", { memberId: hand.memberId })}
                >
                  Lower
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
