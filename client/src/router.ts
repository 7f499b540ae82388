/**
 * The client's pages and the URL of each: `/` (join), `/join/<code>` (the join link),
 * `/room/<seminarId>`, and for moderators `/console/<seminarId>` (the live console) and
 * `/projector/<seminarId>` (the room's screen). The server answers each with index.html.
 */
import { signal } from "@preact/signals";

/** Where the app is. */
export type Route =
  /** Join by code; `notice` says why the guest is here again (an expired session, say). */
  | { page: "join"; code: string; notice?: string }
  | { page: "room"; seminarId: string }
  /** The moderator's live console of a seminar. */
  | { page: "console"; seminarId: string }
  /** The projector view of a seminar: the current tally and the spotlight, large. */
  | { page: "projector"; seminarId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The pages whose URL is `/<page>/<seminarId>`. */
const SEMINAR_PAGES = ["room", "console", "projector"] as const;

/** Reads a route from a path; anything unknown is the join page. */
export function parseRoute(pathname: string): Route {
  const join = /^\/join\/([^/]{1,32})\/?$/.exec(pathname);
  if (join) return { page: "join", code: decodeURIComponent(join[1]!) };
  const seminarPage = /^\/([a-z]+)\/([^/]+)\/?$/.exec(pathname);
  const page = SEMINAR_PAGES.find((name) => name === seminarPage?.[1]);
  if (page && UUID.test(seminarPage![2]!)) return { page, seminarId: seminarPage![2]! };
  return { page: "join", code: "" };
}

/** The path of a route. */
export function pathOf(route: Route): string {
  if (route.page === "room" || route.page === "console" || route.page === "projector")
    return `/${route.page}/${route.seminarId}`;
  return route.code ? `/join/${encodeURIComponent(route.code)}` : "/";
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
