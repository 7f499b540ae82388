import { accountRevision, currentAccount } from "./connection/account.ts";
import { JoinPage } from "./features/seminars/JoinPage.tsx";
import { RoomPage } from "./features/seminars/RoomPage.tsx";
import { currentRoute } from "./router.ts";
import { lazyPage } from "./ui/lazy-page.tsx";

// The moderator's pages come in their own chunk: participants never load them.
const SignInPage = lazyPage(() => import("./features/moderator/SignInPage.tsx").then((m) => m.SignInPage));
const SeminarsPage = lazyPage(() =>
  import("./features/moderator/SeminarsPage.tsx").then((m) => m.SeminarsPage),
);
const NewSeminarPage = lazyPage(() =>
  import("./features/moderator/NewSeminarPage.tsx").then((m) => m.NewSeminarPage),
);
const SeminarPage = lazyPage(() => import("./features/moderator/SeminarPage.tsx").then((m) => m.SeminarPage));
const ConsolePage = lazyPage(() => import("./features/console/ConsolePage.tsx").then((m) => m.ConsolePage));
const ProjectorPage = lazyPage(() =>
  import("./features/projector/ProjectorPage.tsx").then((m) => m.ProjectorPage),
);

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
