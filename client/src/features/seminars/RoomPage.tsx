/**
 * The reading room: the essay, the side panel (threads and questions), the connection state and
 * presence. Opens the connection for the stored session and closes it on leaving.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { RoomConnection } from "../../connection/room-connection.ts";
import { forgetSession, loadSession, resumeSession, type StoredSession } from "../../connection/session.ts";
import { navigate } from "../../router.ts";
import { SelectionBar } from "../annotations/SelectionBar.tsx";
import { ThreadPanel } from "../annotations/ThreadPanel.tsx";
import { Essay } from "../essays/Essay.tsx";
import { PresenceSummary } from "../presence/PresenceSummary.tsx";
import { PromptList } from "../prompts/PromptList.tsx";
import { TallyAnnouncer } from "../prompts/TallyAnnouncer.tsx";
import { ConnectionIndicator } from "./ConnectionIndicator.tsx";
import { RoomContext, RoomUi, useRoom, useRoomState } from "./room-ui.ts";

/** Loads the stored session for `seminarId` and shows the room, or sends the guest to join. */
export function RoomPage(props: { seminarId: string }) {
  const [session, setSession] = useState<StoredSession | null | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    void resumeSession(props.seminarId).then((found) => {
      if (cancelled) return;
      if (found) setSession(found);
      else {
        const stale = loadSession(props.seminarId);
        navigate(
          {
            page: "join",
            code: stale?.joinCode ?? "",
            notice: stale ? "Your session expired. Join again to continue." : undefined,
          },
          { replace: true },
        );
      }
    });
    return () => {
      cancelled = true;
    };
  }, [props.seminarId]);

  if (!session) return <Loading text="Opening the room…" />;
  return <Room session={session} />;
}

function Loading(props: { text: string }) {
  return (
    <main class="loading" id="main">
      <p role="status">{props.text}</p>
    </main>
  );
}

function Room(props: { session: StoredSession }) {
  const context = useMemo(
    () => ({ connection: new RoomConnection(props.session), ui: new RoomUi() }),
    [props.session],
  );
  useEffect(() => {
    context.connection.start();
    return () => context.connection.close();
  }, [context]);

  return (
    <RoomContext.Provider value={context}>
      <RoomLayout />
    </RoomContext.Provider>
  );
}

function RoomLayout() {
  const { connection, ui } = useRoom();
  const room = useRoomState();
  const ended = connection.ended.value;

  useEffect(() => {
    if (room) document.title = `${room.seminar.title} · Stepstone`;
  }, [room?.seminar.title]);

  if (!room) {
    if (ended) return <EndedNotice />;
    return <Loading text="Connecting to the room…" />;
  }
  const open = ui.panelOpen.value;
  const tab = ui.tab.value;
  const openPrompts = room.prompts.filter((prompt) => prompt.state === "open").length;

  const showPanel = (next: "comments" | "questions") => {
    ui.tab.value = next;
    ui.panelOpen.value = true;
  };

  return (
    <div class={`room${open ? " panel-open" : ""}`}>
      <a class="skip-link" href="#essay">
        Skip to the essay
      </a>
      <header class="topbar">
        <div class="topbar-title">
          <span class="brand" aria-hidden="true">
            Stepstone
          </span>
          <span class="seminar-title">{room.seminar.title}</span>
        </div>
        <div class="topbar-tools">
          <ConnectionIndicator />
          <PresenceSummary />
          <FollowToggle />
          <button
            type="button"
            class="quiet"
            onClick={() => {
              forgetSession(room.seminar.id);
              navigate({ page: "join", code: "" });
            }}
          >
            Leave
          </button>
        </div>
      </header>
      <RoomBanners />
      <div class="room-body">
        <main id="main" class="reading">
          <Essay />
        </main>
        <aside
          class="panel"
          aria-label="Discussion and questions"
          onKeyDown={(event) => {
            // On a phone the panel covers the essay: Escape goes back to it.
            if (event.key === "Escape" && open && window.matchMedia("(max-width: 959px)").matches)
              ui.closePanel();
          }}
        >
          <div class="panel-head">
            <div class="tabs" role="tablist" aria-label="Panel">
              <button
                type="button"
                role="tab"
                id="tab-comments"
                aria-selected={tab === "comments"}
                aria-controls="tabpanel-comments"
                tabIndex={tab === "comments" ? 0 : -1}
                onClick={() => showPanel("comments")}
                onKeyDown={(event) => tabKeys(event, () => showPanel("questions"), "tab-questions")}
              >
                Comments
              </button>
              <button
                type="button"
                role="tab"
                id="tab-questions"
                aria-selected={tab === "questions"}
                aria-controls="tabpanel-questions"
                tabIndex={tab === "questions" ? 0 : -1}
                onClick={() => showPanel("questions")}
                onKeyDown={(event) => tabKeys(event, () => showPanel("comments"), "tab-comments")}
              >
                Questions
                {openPrompts > 0 && (
                  <span class="tab-count">
                    {openPrompts}
                    <span class="sr-only"> open</span>
                  </span>
                )}
              </button>
            </div>
            <button type="button" class="quiet panel-close" onClick={() => ui.closePanel()}>
              <span aria-hidden="true">←</span> Essay
            </button>
          </div>
          <div
            class="panel-body"
            role="tabpanel"
            id={tab === "comments" ? "tabpanel-comments" : "tabpanel-questions"}
            aria-labelledby={tab === "comments" ? "tab-comments" : "tab-questions"}
          >
            {tab === "comments" ? <ThreadPanel /> : <PromptList />}
          </div>
        </aside>
      </div>
      <SelectionBar />
      <nav class="mobile-nav" aria-label="Room">
        <button type="button" onClick={() => showPanel("comments")}>
          Comments
        </button>
        <button type="button" onClick={() => showPanel("questions")}>
          Questions{openPrompts > 0 ? ` (${openPrompts})` : ""}
        </button>
      </nav>
      <TallyAnnouncer />
    </div>
  );
}

/** Left and right arrows move between the two tabs (the ARIA tabs pattern). */
function tabKeys(event: KeyboardEvent, show: () => void, otherId: string): void {
  if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
  event.preventDefault();
  show();
  requestAnimationFrame(() => document.getElementById(otherId)?.focus());
}

function FollowToggle() {
  const { ui } = useRoom();
  const spotlight = useRoomState()?.seminar.spotlightParagraphId ?? null;
  const following = ui.following.value;
  if (!spotlight) return null;
  return (
    <button
      type="button"
      class="quiet follow"
      aria-pressed={following}
      onClick={() => {
        ui.following.value = !following;
        if (!following) document.getElementById(`p-${spotlight}`)?.scrollIntoView({ block: "center" });
      }}
    >
      {following ? "Following the moderator" : "Follow the moderator"}
    </button>
  );
}

function RoomBanners() {
  const { connection } = useRoom();
  const room = useRoomState()!;
  const status = connection.status.value;
  const notice = connection.notice.value;
  const ended = connection.ended.value;
  const waiting = connection.outbox.items.value.filter((item) => item.state !== "refused").length;
  return (
    <div class="banners">
      {ended && <EndedNotice />}
      {!ended && status === "offline" && (
        <p class="banner warn" role="status">
          {notice ?? "You are offline."} What you write now is kept
          {waiting > 0 ? ` (${waiting} waiting)` : ""} and sent when the connection is back.
        </p>
      )}
      {room.seminar.state === "draft" && (
        <p class="banner info">
          The session has not started yet. You can read; comments and votes open when the moderator starts.
        </p>
      )}
      {room.seminar.state === "ended" && !ended && (
        <p class="banner info">This session has ended. The room is read-only.</p>
      )}
    </div>
  );
}

function EndedNotice() {
  const { connection } = useRoom();
  const ended = connection.ended.value!;
  const room = connection.room;
  const session = room ? loadSession(room.seminar.id) : undefined;
  return (
    <div class="banner error" role="alert">
      <p>{ended.message}</p>
      {ended.rejoin && (
        <button
          type="button"
          class="primary"
          onClick={() => {
            if (room) forgetSession(room.seminar.id);
            navigate({ page: "join", code: session?.joinCode ?? "" });
          }}
        >
          Join again
        </button>
      )}
    </div>
  );
}
