/**
 * How participants get in, as the moderator's pages show it: the join code and the join link
 * (both only while the seminar has them), and a QR code of the link. The seminar list and a
 * seminar's page share them.
 */
import type { SeminarView } from "../../../../src/protocol/views.ts";
import { QrCode } from "../../ui/QrCode.tsx";

export function JoinDetails(props: { seminar: Pick<SeminarView, "joinCode" | "joinUrl"> }) {
  const { joinCode, joinUrl } = props.seminar;
  return (
    <>
      {joinCode && (
        <p class="join-code">
          Join code <strong class="code">{joinCode}</strong>
        </p>
      )}
      {joinUrl && (
        <p class="join-link">
          Join link{" "}
          <a href={joinUrl} class="join-url">
            {joinUrl}
          </a>
        </p>
      )}
    </>
  );
}

/** A QR code of the join link for the room's screen, while the seminar can still be joined. */
export function JoinQrCode(props: { seminar: Pick<SeminarView, "joinUrl" | "state"> }) {
  const { joinUrl, state } = props.seminar;
  if (!joinUrl || state === "ended") return null;
  return <QrCode value={joinUrl} label={`QR code of the join link ${joinUrl}`} />;
}
