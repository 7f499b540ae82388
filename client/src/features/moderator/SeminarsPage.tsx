/**
 * `/seminars`: the signed-in moderator's seminars, drafts, live and ended, each with its join
 * code, its join link and a QR code of the link (for the room's screen), and the ways in: prepare
 * (the seminar page), the live console and the projector view.
 */
import { useEffect, useState } from "preact/hooks";
import type { ErrorBody } from "../../../../src/protocol/result.ts";
import type { SeminarState, SeminarView } from "../../../../src/protocol/views.ts";
import { listSeminars } from "../../connection/moderator-api.ts";
import { follow } from "../../router.ts";
import { describeError } from "../../ui/form-errors.ts";
import { JoinDetails, JoinQrCode } from "./JoinDetails.tsx";
import { ModeratorShell } from "./ModeratorShell.tsx";

/** How each state is named on the page. */
export const STATE_NAMES: Record<SeminarState, string> = { draft: "Draft", live: "Live", ended: "Ended" };

export function SeminarsPage() {
  const [seminars, setSeminars] = useState<SeminarView[] | undefined>();
  const [error, setError] = useState<ErrorBody | undefined>();

  useEffect(() => {
    document.title = "Your seminars · Stepstone";
    let current = true;
    void listSeminars().then((result) => {
      if (!current) return;
      if (result.ok) setSeminars(result.data);
      else setError(result.error);
    });
    return () => {
      current = false;
    };
  }, []);

  return (
    <ModeratorShell title="Your seminars">
      <p>
        <a class="button primary" href="/seminars/new" onClick={follow({ page: "new" })}>
          New seminar
        </a>
      </p>
      {error && (
        <p class="form-error" role="alert">
          {describeError(error)}
        </p>
      )}
      {!seminars && !error && (
        <p class="loading" role="status">
          Loading your seminars…
        </p>
      )}
      {seminars?.length === 0 && <p>No seminars yet. Create one from an essay.</p>}
      {seminars && seminars.length > 0 && (
        <ul class="seminar-list">
          {seminars.map((seminar) => (
            <SeminarCard key={seminar.id} seminar={seminar} />
          ))}
        </ul>
      )}
    </ModeratorShell>
  );
}

function SeminarCard(props: { seminar: SeminarView }) {
  const { seminar } = props;
  const titleId = `seminar-${seminar.id}-title`;
  return (
    <li class={`seminar-card state-${seminar.state}`} aria-labelledby={titleId}>
      <div class="seminar-card-main">
        <h2 id={titleId}>
          <a href={`/seminars/${seminar.id}`} onClick={follow({ page: "seminar", seminarId: seminar.id })}>
            {seminar.title}
          </a>
        </h2>
        <p class="seminar-meta">
          <span class={`badge state-${seminar.state}`}>{STATE_NAMES[seminar.state]}</span>{" "}
          {seminar.state === "live" && seminar.startedAt && (
            <span>since {new Date(seminar.startedAt).toLocaleString()}</span>
          )}
          {seminar.state === "ended" && seminar.endedAt && (
            <span>ended {new Date(seminar.endedAt).toLocaleString()}</span>
          )}
        </p>
        <JoinDetails seminar={seminar} />
        <p class="seminar-actions">
          <a
            class="button"
            href={`/seminars/${seminar.id}`}
            onClick={follow({ page: "seminar", seminarId: seminar.id })}
          >
            {seminar.state === "draft" ? "Prepare" : "Details and transcripts"}
            <span class="sr-only"> of {seminar.title}</span>
          </a>
          {seminar.state !== "ended" && (
            <>
              <a class="button primary" href={`/console/${seminar.id}`}>
                Open console<span class="sr-only"> of {seminar.title}</span>
              </a>
              <a class="button" href={`/projector/${seminar.id}`}>
                Projector<span class="sr-only"> of {seminar.title}</span>
              </a>
            </>
          )}
        </p>
      </div>
      <JoinQrCode seminar={seminar} />
    </li>
  );
}
