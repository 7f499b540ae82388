import type { CommandHandlers } from "../../realtime/commands.ts";
import type { Realtime } from "../../realtime/server.ts";
import { presentMember } from "../seminars/seminars.presenter.ts";
import { presentPhase } from "./moderation.presenter.ts";
import {
  banMember,
  callHand,
  changeMemberRole,
  clearQueue,
  kickMember,
  lowerHand,
  type ModerationDeps,
  muteMember,
  raiseHand,
  setRoomLock,
  setSlowMode,
  setSpotlight,
  startPhase,
  unbanMember,
  unmuteMember,
} from "./moderation.service.ts";
import type { PhaseTimers } from "./phase-timers.ts";

/** The moderation services' dependencies for this application. */
export function moderationDeps(realtime: Realtime, timers: PhaseTimers): ModerationDeps {
  return {
    rooms: realtime.rooms,
    closeMember: (memberId, reason) => realtime.notifier.closeMember(memberId, reason),
    armPhaseDeadline: (seminarId, phaseId, deadline) => timers.arm(seminarId, phaseId, deadline),
  };
}

/**
 * member:mute, member:unmute, member:kick, member:ban, member:unban, member:role (ack the member
 * as now), room:lock, room:unlock, room:slow_mode, room:spotlight, room:phase (ack the setting),
 * queue:raise, queue:lower, queue:call, queue:clear (ack the queue). See CommandResults for the
 * error codes and docs/moderation.md for the rights.
 */
export function moderationCommands(
  realtime: Realtime,
  timers: PhaseTimers,
): CommandHandlers<
  | "member:mute"
  | "member:unmute"
  | "member:kick"
  | "member:ban"
  | "member:unban"
  | "member:role"
  | "room:lock"
  | "room:unlock"
  | "room:slow_mode"
  | "room:spotlight"
  | "room:phase"
  | "queue:raise"
  | "queue:lower"
  | "queue:call"
  | "queue:clear"
> {
  const deps = moderationDeps(realtime, timers);
  return {
    "member:mute": async (input, { actor }) => presentMember(await muteMember(deps, actor, input)),
    "member:unmute": async (input, { actor }) => presentMember(await unmuteMember(deps, actor, input)),
    "member:kick": async (input, { actor }) => presentMember(await kickMember(deps, actor, input)),
    "member:ban": async (input, { actor }) => presentMember(await banMember(deps, actor, input)),
    "member:unban": async (input, { actor }) => presentMember(await unbanMember(deps, actor, input)),
    "member:role": async (input, { actor }) => presentMember(await changeMemberRole(deps, actor, input)),
    "room:lock": (input, { actor }) => setRoomLock(deps, actor, true, input),
    "room:unlock": (input, { actor }) => setRoomLock(deps, actor, false, input),
    "room:slow_mode": (input, { actor }) => setSlowMode(deps, actor, input),
    "room:spotlight": (input, { actor }) => setSpotlight(deps, actor, input),
    "room:phase": async (input, { actor }) => {
      const { phase } = await startPhase(deps, actor, input);
      return { phase: phase ? presentPhase(phase) : null };
    },
    "queue:raise": (_input, { actor }) => raiseHand(deps, actor),
    "queue:lower": (input, { actor }) => lowerHand(deps, actor, input),
    "queue:call": (input, { actor }) => callHand(deps, actor, input),
    "queue:clear": (input, { actor }) => clearQueue(deps, actor, input),
  };
}
