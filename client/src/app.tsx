import { JoinPage } from "./features/seminars/JoinPage.tsx";
import { RoomPage } from "./features/seminars/RoomPage.tsx";
import { currentRoute } from "./router.ts";

/** The app: one page per route. */
export function App() {
  const route = currentRoute.value;
  if (route.page === "room") return <RoomPage key={route.seminarId} seminarId={route.seminarId} />;
  return <JoinPage code={route.code} notice={route.notice} />;
}
