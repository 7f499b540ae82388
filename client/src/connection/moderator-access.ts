/**
 * How the console and the projector connect: with the signed-in moderator's account token, naming
 * the seminar in the handshake (the server finds the account's membership there). A token
 * auth:refresh gives is the account's new token.
 */
import { type AccountSession, currentAccount, saveAccount } from "./account.ts";
import type { RoomAccess } from "./room-connection.ts";

/** The room access of a signed-in moderator for one seminar. */
export function moderatorAccess(account: AccountSession, seminarId: string): RoomAccess {
  return {
    seminarId,
    token: account.token,
    expiresAt: account.expiresAt,
    ownerId: account.accountId,
    handshakeSeminarId: seminarId,
    saveToken: (token, expiresAt) => {
      const stored = currentAccount() ?? account;
      if (stored.accountId === account.accountId) saveAccount({ ...stored, token, expiresAt });
    },
    // Another tab may have signed in again (or refreshed) meanwhile.
    resume: async () => {
      const stored = currentAccount();
      return stored && stored.accountId === account.accountId ? stored : undefined;
    },
    expired: { message: "Your sign-in expired. Sign in again to continue.", rejoin: false },
  };
}
