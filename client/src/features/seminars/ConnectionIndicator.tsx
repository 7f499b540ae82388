/** The connection state, always visible in the top bar, with the number of writes waiting. */
import type { ConnectionStatus } from "../../connection/room-connection.ts";
import { useRoom } from "./room-ui.ts";

/** Each state in a word, and what follows it where there is room (hidden on narrow screens). */
const LABELS: Record<ConnectionStatus, [string, string]> = {
  connecting: ["Connecting…", ""],
  live: ["Live", ""],
  syncing: ["Catching up…", ""],
  offline: ["Offline", ", reconnecting…"],
  ended: ["Disconnected", ""],
};

/** A dot and a word; announced politely when it changes. */
export function ConnectionIndicator() {
  const { connection } = useRoom();
  const status = connection.status.value;
  const waiting = connection.outbox.items.value.filter((item) => item.state !== "refused").length;
  return (
    <p class={`connection connection-${status}`} role="status" data-status={status}>
      <span class="dot" aria-hidden="true" />
      <span>
        {LABELS[status][0]}
        <span class="connection-more">
          {LABELS[status][1]}
          {waiting > 0 && status !== "live" ? ` · ${waiting} waiting` : ""}
        </span>
      </span>
    </p>
  );
}
