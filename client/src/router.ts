/**
 * The client's pages and the URL of each. Participants: `/` (join), `/join/<code>` (the join link),
 * `/room/<seminarId>`. Moderators: `/signin`, `/signup`, `/seminars` (their seminars),
 * `/seminars/new` (create), `/seminars/<id>` (prepare a draft, transcripts), `/console/<id>` (the
 * live console), `/projector/<id>` (the room's screen). The server answers
 * each of them with index.html (`CLIENT_PAGES` in src/http/client.ts).
 */
import { signal } from "@preact/signals";

/** Where the app is: one member per page (add a page here, in parseRoute and in pathOf). */
export type Route =
  /** Join by code; `notice` says why the guest is here again (an expired session, say). */
  | { page: "join"; code: string; notice?: string }
  | { page: "room"; seminarId: string }
  /** Moderator sign-in (`signup: true`: create an account); `notice` says why (signed out, expired). */
  | { page: "signin"; signup: boolean; notice?: string }
  /** The signed-in moderator's seminars. */
  | { page: "seminars" }
  /** Create a seminar from a text. */
  | { page: "new" }
  /** One of the moderator's seminars: prepare the draft, start it, transcripts. */
  | { page: "seminar"; seminarId: string }
  /** The moderator's live console of a seminar. */
  | { page: "console"; seminarId: string }
  /** The projector view of a seminar: the current tally and the spotlight, large. */
  | { page: "projector"; seminarId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a route from a path; anything unknown is the join page. */
export function parseRoute(pathname: string): Route {
  const join = /^\/join\/([^/]{1,32})\/?$/.exec(pathname);
  if (join) return { page: "join", code: decodeURIComponent(join[1]!) };
  const room = /^\/room\/([^/]+)\/?$/.exec(pathname);
  if (room && UUID.test(room[1]!)) return { page: "room", seminarId: room[1]! };
  if (/^\/signin\/?$/.test(pathname)) return { page: "signin", signup: false };
  if (/^\/signup\/?$/.test(pathname)) return { page: "signin", signup: true };
  if (/^\/seminars\/?$/.test(pathname)) return { page: "seminars" };
  if (/^\/seminars\/new\/?$/.test(pathname)) return { page: "new" };
  const seminar = /^\/seminars\/([^/]+)\/?$/.exec(pathname);
  if (seminar && UUID.test(seminar[1]!)) return { page: "seminar", seminarId: seminar[1]! };
  const live = /^\/(console|projector)\/([^/]+)\/?$/.exec(pathname);
  if (live && UUID.test(live[2]!))
    return { page: live[1] === "console" ? "console" : "projector", seminarId: live[2]! };
  return { page: "join", code: "" };
}

/** The path of a route. */
export function pathOf(route: Route): string {
  switch (route.page) {
    case "room":
      return `/room/${route.seminarId}`;
    case "signin":
      return route.signup ? "/signup" : "/signin";
    case "seminars":
      return "/seminars";
    case "new":
      return "/seminars/new";
    case "seminar":
      return `/seminars/${route.seminarId}`;
    case "console":
    case "projector":
      return `/${route.page}/${route.seminarId}`;
    case "join":
      return route.code ? `/join/${encodeURIComponent(route.code)}` : "/";
  }
}

/** The current route; changes on navigate() and on the browser's back and forward buttons. */
export const currentRoute = signal<Route>(parseRoute(window.location.pathname));

window.addEventListener("popstate", () => {
  currentRoute.value = parseRoute(window.location.pathname);
});

/** Goes to a route (a new history entry unless `replace`). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = pathOf(route);
  if (path !== window.location.pathname) {
    if (options.replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
  }
  currentRoute.value = route;
}

/** An in-app link's click handler: navigates without a page load (a modified click opens normally). */
export function follow(route: Route) {
  return (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(route);
  };
}
