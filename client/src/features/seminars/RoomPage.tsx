/**
 * The reading room: the essay, the side panel (threads and questions), the connection state and
 * presence. Opens the connection for the stored session and closes it on leaving.
 */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { RoomSnapshot } from "../../../../src/protocol/views.ts";
import { RoomConnection } from "../../connection/room-connection.ts";
import {
  forgetSession,
  guestAccess,
  loadSession,
  resumeSession,
  type StoredSession,
} from "../../connection/session.ts";
import { navigate } from "../../router.ts";
import { HandIcon } from "../../ui/icons.tsx";
import { timeOf } from "../../ui/text.ts";
import { SelectionBar } from "../annotations/SelectionBar.tsx";
import { ThreadPanel } from "../annotations/ThreadPanel.tsx";
import { PhaseCountdown } from "../console/PhaseCountdown.tsx";
import { Essay } from "../essays/Essay.tsx";
import { PresenceSummary } from "../presence/PresenceSummary.tsx";
import { PromptList } from "../prompts/PromptList.tsx";
import { TallyAnnouncer } from "../prompts/TallyAnnouncer.tsx";
import { ConnectionIndicator } from "./ConnectionIndicator.tsx";
import {
  floorHolder,
  isMuted,
  type PanelTab,
  RoomContext,
  RoomUi,
  useRoom,
  useRoomState,
} from "./room-ui.ts";

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

/** A page still loading, with what it waits for. */
export function Loading(props: { text: string }) {
  return (
    <main class="loading" id="main">
      <p role="status">{props.text}</p>
    </main>
  );
}

function Room(props: { session: StoredSession }) {
  const context = useMemo(
    () => ({ connection: new RoomConnection(guestAccess(props.session)), ui: new RoomUi() }),
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

/** One tab of the side panel. */
export interface PanelTabSpec {
  id: PanelTab;
  label: string;
  /** A number shown beside the label (open questions, raised hands), with what it counts. */
  count?: { value: number; what: string };
  render: () => JSX.Element;
}

/** The participant's two tabs. */
function participantTabs(room: RoomSnapshot): PanelTabSpec[] {
  const openPrompts = room.prompts.filter((prompt) => prompt.state === "open").length;
  return [
    { id: "comments", label: "Comments", render: () => <ThreadPanel /> },
    {
      id: "questions",
      label: "Questions",
      count: { value: openPrompts, what: "open" },
      render: () => <PromptList />,
    },
  ];
}

function RoomLayout() {
  const room = useRoomState();
  return (
    <RoomFrame
      tabs={room ? participantTabs(room) : []}
      tools={
        <>
          <RaiseHand />
          <FollowToggle />
        </>
      }
      leave={(seminarId) => {
        forgetSession(seminarId);
        navigate({ page: "join", code: "" });
      }}
    />
  );
}

/**
 * The room's frame: top bar, banners, the essay and the side panel with its tabs (a sheet on a
 * phone). The participant's room and the moderator's console both use it, with their own tabs,
 * tools and controls.
 */
export function RoomFrame(props: {
  tabs: PanelTabSpec[];
  /** Extra buttons in the top bar. */
  tools?: ComponentChildren;
  /** A bar under the top bar (the console's room controls). */
  controls?: ComponentChildren;
  /** What "Leave" does; without it there is no Leave button. */
  leave?: (seminarId: string) => void;
  leaveLabel?: string;
  /** The side panel's accessible name. */
  panelLabel?: string;
}) {
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
  const tabs = props.tabs;
  const current = tabs.find((spec) => spec.id === ui.tab.value) ?? tabs[0]!;

  const showPanel = (next: PanelTab) => {
    ui.tab.value = next;
    ui.panelOpen.value = true;
  };
  const move = (event: KeyboardEvent, index: number) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    const step = event.key === "ArrowRight" ? 1 : -1;
    const next = tabs[(index + step + tabs.length) % tabs.length]!;
    showPanel(next.id);
    requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus());
  };

  return (
    <div class={`room${open ? " panel-open" : ""}${props.controls ? " with-controls" : ""}`}>
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
          {props.tools}
          {props.leave && (
            <button type="button" class="quiet" onClick={() => props.leave?.(room.seminar.id)}>
              {props.leaveLabel ?? "Leave"}
            </button>
          )}
        </div>
      </header>
      {props.controls}
      <RoomBanners />
      <div class="room-body">
        <main id="main" class="reading">
          <Essay />
        </main>
        <aside
          class="panel"
          aria-label={props.panelLabel ?? "Discussion and questions"}
          onKeyDown={(event) => {
            // On a phone the panel covers the essay: Escape goes back to it.
            if (event.key === "Escape" && open && window.matchMedia("(max-width: 959px)").matches)
              ui.closePanel();
          }}
        >
          <div class="panel-head">
            <div class="tabs" role="tablist" aria-label="Panel">
              {tabs.map((spec, index) => (
                <button
                  key={spec.id}
                  type="button"
                  role="tab"
                  id={`tab-${spec.id}`}
                  aria-selected={current.id === spec.id}
                  aria-controls={`tabpanel-${spec.id}`}
                  tabIndex={current.id === spec.id ? 0 : -1}
                  onClick={() => showPanel(spec.id)}
                  onKeyDown={(event) => move(event, index)}
                >
                  {spec.label}
                  {spec.count && spec.count.value > 0 && (
                    <span class="tab-count">
                      {spec.count.value}
                      <span class="sr-only"> {spec.count.what}</span>
                    </span>
                  )}
                </button>
              ))}
            </div>
            <button type="button" class="quiet panel-close" onClick={() => ui.closePanel()}>
              <span aria-hidden="true">←</span> Essay
            </button>
          </div>
          <div
            class="panel-body"
            role="tabpanel"
            id={`tabpanel-${current.id}`}
            aria-labelledby={`tab-${current.id}`}
          >
            {current.render()}
          </div>
        </aside>
      </div>
      <SelectionBar />
      <nav class="mobile-nav" aria-label="Room">
        {tabs.map((spec) => (
          <button key={spec.id} type="button" onClick={() => showPanel(spec.id)}>
            {spec.label}
            {spec.count && spec.count.value > 0 ? ` (${spec.count.value})` : ""}
          </button>
        ))}
      </nav>
      <TallyAnnouncer />
    </div>
  );
}

/**
 * A participant's hand in the speaking queue: raise it, see one's place, lower it. The
 * moderator calls hands from the console.
 */
function RaiseHand() {
  const { connection } = useRoom();
  const room = useRoomState();
  const [problem, setProblem] = useState<string | null>(null);
  if (room?.seminar.state !== "live" || room.viewer.role !== "participant") return null;
  const place = room.queue.findIndex((hand) => hand.memberId === room.viewer.memberId);
  const raised = place >= 0;
  if (!raised && isMuted(room)) return null;
  const toggle = async () => {
    const result = raised
      ? await connection.command("queue:lower", {})
      : await connection.command("queue:raise", {});
    setProblem(result.ok ? null : result.error.message);
  };
  return (
    <>
      <button type="button" class="quiet hand-button" aria-pressed={raised} onClick={() => void toggle()}>
        <HandIcon />
        <span class="hand-text">{raised ? `Hand raised (${place + 1} in line) · Lower` : "Raise hand"}</span>
      </button>
      {problem && (
        <span class="topbar-error" role="alert">
          {problem}
        </span>
      )}
    </>
  );
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
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const status = connection.status.value;
  const notice = connection.notice.value;
  const ended = connection.ended.value;
  const waiting = connection.outbox.items.value.filter((item) => item.state !== "refused").length;
  const me = room.members.find((member) => member.id === room.viewer.memberId);
  // Moderators are never muted; for everyone else: undefined (not muted), null (until unmuted) or the end.
  const mutedUntil = me && isMuted(room) ? me.mutedUntil : undefined;
  return (
    <div class="banners">
      {ended && <EndedNotice />}
      {!ended && status === "offline" && (
        <p class="banner warn" role="status">
          {notice ?? "You are offline."} What you write now is kept
          {waiting > 0 ? ` (${waiting} waiting)` : ""} and sent when the connection is back.
        </p>
      )}
      <FloorNotice />
      {mutedUntil !== undefined && room.seminar.state === "live" && (
        <p class="banner warn muted-banner" role="status">
          A moderator muted you{mutedUntil ? ` until ${timeOf(mutedUntil)}` : ""}. You can read and vote, but
          not comment or raise your hand.
        </p>
      )}
      {room.phase && room.seminar.state === "live" && !ui.console && (
        <div class="banner phase-banner">
          <PhaseCountdown phase={room.phase} />
        </div>
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

/**
 * "You have the floor" for the participant the moderator called from the queue, until the floor
 * passes (the next call, a cleared queue, their hand raised or lowered again) or they dismiss it.
 * The live region is always there, so its new text is announced (assertively: they are asked to
 * speak now).
 */
function FloorNotice() {
  const { connection, ui } = useRoom();
  const room = useRoomState()!;
  const floor = room.seminar.state === "live" ? floorHolder(connection.stream.applied) : null;
  const mine =
    floor !== null && floor.memberId === room.viewer.memberId && ui.floorDismissed.value !== floor.seq;
  return (
    <div class={mine ? "banner ok floor-banner" : "floor-banner-empty"}>
      <p class="floor-live" aria-live="assertive" aria-atomic="true">
        {mine && (
          <>
            <strong>You have the floor.</strong> The moderator called on you: go ahead.
          </>
        )}
      </p>
      {mine && (
        <button type="button" class="quiet" onClick={() => (ui.floorDismissed.value = floor.seq)}>
          Dismiss
        </button>
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
