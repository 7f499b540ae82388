/** The frame of every moderator page: a top bar with the way back to the seminars, the account and sign-out. */
import "./moderator.css";
import type { ComponentChildren } from "preact";
import { currentAccount, signOut } from "../../connection/account.ts";
import { follow, navigate } from "../../router.ts";

export function ModeratorShell(props: { title: string; wide?: boolean; children: ComponentChildren }) {
  const account = currentAccount();
  const leave = () => {
    signOut();
    navigate({ page: "signin", signup: false, notice: "You are signed out." });
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar moderator-bar">
        <a class="brand" href="/seminars" onClick={follow({ page: "seminars" })}>
          Stepstone
        </a>
        <nav class="moderator-nav" aria-label="Moderator">
          <a href="/seminars" onClick={follow({ page: "seminars" })}>
            Your seminars
          </a>
          <a href="/seminars/new" onClick={follow({ page: "new" })}>
            New seminar
          </a>
        </nav>
        <div class="topbar-tools">
          {account && <span class="account-name">{account.displayName}</span>}
          <button type="button" class="quiet" onClick={leave}>
            Sign out
          </button>
        </div>
      </header>
      <main
        id="main"
        class={props.wide ? "moderator-page wide" : "moderator-page"}
        aria-labelledby="page-title"
      >
        <h1 id="page-title">{props.title}</h1>
        {props.children}
      </main>
    </>
  );
}
