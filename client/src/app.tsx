import { accountRevision, currentAccount } from "./connection/account.ts";
import { ConsolePage } from "./features/console/ConsolePage.tsx";
import { NewSeminarPage } from "./features/moderator/NewSeminarPage.tsx";
import { SeminarPage } from "./features/moderator/SeminarPage.tsx";
import { SeminarsPage } from "./features/moderator/SeminarsPage.tsx";
import { SignInPage } from "./features/moderator/SignInPage.tsx";
import { ProjectorPage } from "./features/projector/ProjectorPage.tsx";
import { JoinPage } from "./features/seminars/JoinPage.tsx";
import { RoomPage } from "./features/seminars/RoomPage.tsx";
import { currentRoute } from "./router.ts";

/** The app: one page per route; moderator pages send a visitor without a session to sign in. */
export function App() {
  const route = currentRoute.value;
  // Read so that signing in or out re-renders the page that depends on it.
  void accountRevision.value;
  switch (route.page) {
    case "room":
      return <RoomPage key={route.seminarId} seminarId={route.seminarId} />;
    case "join":
      return <JoinPage code={route.code} notice={route.notice} />;
    case "signin":
      return <SignInPage signup={route.signup} notice={route.notice} />;
  }
  if (!currentAccount()) return <SignInPage signup={false} notice="Sign in to see your seminars." />;
  switch (route.page) {
    case "seminars":
      return <SeminarsPage />;
    case "new":
      return <NewSeminarPage />;
    case "seminar":
      return <SeminarPage key={route.seminarId} seminarId={route.seminarId} />;
    case "console":
      return <ConsolePage key={route.seminarId} seminarId={route.seminarId} />;
    case "projector":
      return <ProjectorPage key={route.seminarId} seminarId={route.seminarId} />;
  }
}
