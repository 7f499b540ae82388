import type { Prisma } from "../../db/client.ts";
import type { RoomTx } from "../../realtime/room-writer.ts";

/** The fields a phase is read with (moderation.presenter's PhaseRecord). */
export const phaseSelect = {
  id: true,
  kind: true,
  title: true,
  startedAt: true,
  deadlineAt: true,
  endedAt: true,
} as const satisfies Prisma.PhaseSelect;

/**
 * Ends the room's current phase now if it is still running, announced with room:phase_ended (actor:
 * the system) like a deadline that passed; so an ended session shows no running phase and no
 * countdown. A phase timer armed for it finds it ended and does nothing. Returns whether one ended.
 */
export async function endRunningPhase(
  { tx, append, known }: RoomTx,
  seminarId: string,
  phaseId: string | null,
): Promise<boolean> {
  if (phaseId === null) return false;
  const ended = await tx.phase.updateManyAndReturn({
    where: { id: phaseId, seminarId, endedAt: null },
    data: { endedAt: new Date() },
    select: phaseSelect,
  });
  const phase = ended[0];
  if (!phase) return false;
  known.phase(phase);
  await append("room:phase_ended", null, { phaseId: phase.id });
  return true;
}
