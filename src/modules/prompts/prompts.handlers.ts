import type { AppContext } from "../../context.ts";
import type { CommandHandlers } from "../../realtime/commands.ts";
import type { Realtime } from "../../realtime/server.ts";
import type { Actor } from "../seminars/seminars.policy.ts";
import type { BallotQueue } from "./ballot-queue.ts";
import {
  castVote,
  changePromptState,
  createBallotQueue,
  createPrompt,
  deletePrompt,
  type PromptDeps,
  type PromptStep,
  updatePrompt,
} from "./prompts.service.ts";
import { talliesFor } from "./tallies.ts";

const ballotQueues = new WeakMap<Realtime, BallotQueue>();

/**
 * The services' dependencies for this application: one tally coalescer and one ballot queue per
 * Realtime, so every caller groups its ballots with the others of the node.
 */
export function promptDeps(context: AppContext, realtime: Realtime): PromptDeps {
  const tallies = talliesFor(context, realtime);
  let ballots = ballotQueues.get(realtime);
  if (!ballots) {
    ballots = createBallotQueue(
      { prisma: context.prisma, tallies },
      {
        logger: context.logger,
        observe: (size) => context.metrics.ballotGroups.observe(size),
        lanes: context.config.ballotLanes,
        // A burst's final tally goes out as soon as its last ballot is written.
        settled: (seminarId, promptId) => tallies.settled(seminarId, promptId),
      },
    );
    ballotQueues.set(realtime, ballots);
  }
  return { prisma: context.prisma, rooms: realtime.rooms, tallies, ballots };
}

/**
 * prompt:create, prompt:update, prompt:open, prompt:close, prompt:reopen, prompt:reveal (acks
 * PromptView), prompt:delete (acks the id) and prompt:vote (acks BallotView). See CommandResults
 * for the error codes.
 */
export function promptCommands(
  context: AppContext,
  realtime: Realtime,
): CommandHandlers<
  | "prompt:create"
  | "prompt:update"
  | "prompt:delete"
  | "prompt:open"
  | "prompt:close"
  | "prompt:reopen"
  | "prompt:reveal"
  | "prompt:vote"
> {
  const deps = promptDeps(context, realtime);
  const step =
    (name: PromptStep) =>
    (input: { promptId: string }, { actor }: { actor: Actor }) =>
      changePromptState(deps, actor, input.promptId, name);
  return {
    "prompt:create": (input, { actor }) => createPrompt(deps, actor, input),
    "prompt:update": (input, { actor }) => updatePrompt(deps, actor, input.promptId, input.prompt),
    "prompt:delete": (input, { actor }) => deletePrompt(deps, actor, input.promptId),
    "prompt:open": step("open"),
    "prompt:close": step("close"),
    "prompt:reopen": step("reopen"),
    "prompt:reveal": step("reveal"),
    "prompt:vote": (input, { actor }) => castVote(deps, actor, input),
  };
}
