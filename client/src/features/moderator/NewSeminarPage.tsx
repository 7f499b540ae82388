import { ModeratorShell } from "./ModeratorShell.tsx";

/** Filled in by the next commit. */
export function NewSeminarPage(_props: { seminarId?: string }) {
  return <ModeratorShell title="Prepare a seminar">Not yet.</ModeratorShell>;
}
