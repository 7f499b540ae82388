import { ConsolePage } from "./features/console/ConsolePage.tsx";
import { ProjectorPage } from "./features/projector/ProjectorPage.tsx";
import { JoinPage } from "./features/seminars/JoinPage.tsx";
import { RoomPage } from "./features/seminars/RoomPage.tsx";
import { currentRoute } from "./router.ts";

/** The app: one page per route. */
export function App() {
  const route = currentRoute.value;
  switch (route.page) {
    case "room":
      return <RoomPage key={route.seminarId} seminarId={route.seminarId} />;
    case "console":
      return <ConsolePage key={route.seminarId} seminarId={route.seminarId} />;
    case "projector":
      return <ProjectorPage key={route.seminarId} seminarId={route.seminarId} />;
    case "join":
      return <JoinPage code={route.code} notice={route.notice} />;
  }
}
