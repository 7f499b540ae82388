/**
 * The room as a signed-in moderator opens it (the console and the projector): a connection with
 * the account's token naming the seminar, started while the page shows and closed when it goes,
 * and the sign-in page instead when no one is signed in.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useMemo } from "preact/hooks";
import { currentAccount } from "../../connection/account.ts";
import { moderatorAccess } from "../../connection/moderator-access.ts";
import { RoomConnection } from "../../connection/room-connection.ts";
import { SignInPage } from "../moderator/SignInPage.tsx";
import { RoomContext, type RoomContextValue, RoomUi } from "../seminars/room-ui.ts";

/**
 * The room context of the signed-in moderator for one seminar, or null without a session. A new
 * connection is made when the seminar or the account changes; it runs while the component is
 * mounted. `console` gives the console's view state (moderation controls, hidden comments shown).
 */
export function useModeratorRoom(
  seminarId: string,
  options: { console?: boolean } = {},
): RoomContextValue | null {
  const account = currentAccount();
  const asConsole = options.console ?? false;
  const context = useMemo(
    () =>
      account
        ? {
            connection: new RoomConnection(moderatorAccess(account, seminarId)),
            ui: new RoomUi({ console: asConsole }),
          }
        : null,
    [seminarId, account?.accountId, asConsole],
  );
  useEffect(() => {
    if (!context) return;
    context.connection.start();
    return () => context.connection.close();
  }, [context]);
  return context;
}

/**
 * Provides the moderator's room to `children`; without a session (the app asks to sign in first,
 * so this is a sign-in that expired since) it shows the sign-in page with `signInNotice`.
 */
export function ModeratorRoom(props: {
  seminarId: string;
  console?: boolean;
  signInNotice: string;
  children: ComponentChildren;
}) {
  const context = useModeratorRoom(props.seminarId, { console: props.console });
  if (!context) return <SignInPage signup={false} notice={props.signInNotice} />;
  return <RoomContext.Provider value={context}>{props.children}</RoomContext.Provider>;
}
