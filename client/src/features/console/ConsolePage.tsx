/**
 * The moderator's live console: the room as participants see it (the same essay, threads and
 * questions components) plus the moderation controls: on every annotation, on every paragraph
 * (spotlight), the room controls bar, and the People, Queue and Log tabs. Connects with the
 * signed-in account's token (docs/protocol.md: an account token names its seminar).
 */
import type { RoomSnapshot } from "../../../../src/protocol/views.ts";
import { ThreadPanel } from "../annotations/ThreadPanel.tsx";
import { Loading, type PanelTabSpec, RoomFrame } from "../seminars/RoomPage.tsx";
import { isModeratorRole, useRoom, useRoomState } from "../seminars/room-ui.ts";
import { ConsoleControls } from "./ConsoleControls.tsx";
import { ConsolePrompts } from "./ConsolePrompts.tsx";
import { ModerationLog } from "./ModerationLog.tsx";
import { ModeratorRoom } from "./moderator-room.tsx";
import { QueuePanel } from "./QueuePanel.tsx";
import { RefusalAlert } from "./RefusalAlert.tsx";
import { Roster } from "./Roster.tsx";

/** `/console/<seminarId>` for the signed-in moderator. */
export function ConsolePage(props: { seminarId: string }) {
  return (
    <ModeratorRoom seminarId={props.seminarId} console signInNotice="Sign in to open the console.">
      <Console />
    </ModeratorRoom>
  );
}

function consoleTabs(room: RoomSnapshot): PanelTabSpec[] {
  const openPrompts = room.prompts.filter((prompt) => prompt.state === "open").length;
  return [
    { id: "comments", label: "Comments", render: () => <ThreadPanel /> },
    {
      id: "questions",
      label: "Questions",
      count: { value: openPrompts, what: "open" },
      render: () => <ConsolePrompts />,
    },
    { id: "people", label: "People", render: () => <Roster /> },
    {
      id: "queue",
      label: "Queue",
      count: { value: room.queue.length, what: "hands raised" },
      render: () => <QueuePanel />,
    },
    { id: "log", label: "Log", render: () => <ModerationLog /> },
  ];
}

function Console() {
  const { connection } = useRoom();
  const room = useRoomState();
  if (room && !isModeratorRole(room.viewer.role)) {
    return (
      <main class="loading" id="main">
        <h1 class="sr-only">Not a moderator</h1>
        <p role="alert">You do not moderate this seminar, so its console is not yours to open.</p>
      </main>
    );
  }
  if (!room && !connection.ended.value) return <Loading text="Opening the console…" />;
  return (
    <>
      <RoomFrame
        tabs={room ? consoleTabs(room) : []}
        controls={room ? <ConsoleControls /> : undefined}
        panelLabel="Moderation"
      />
      <RefusalAlert />
    </>
  );
}
