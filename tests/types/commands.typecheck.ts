/**
 * Type-level tests of the command contract, checked by `tsc` (npm run typecheck, in CI): each
 * `@ts-expect-error` below must meet a compile error, or tsc fails with "unused directive". So a
 * handler whose name, payload or ack disagrees with src/protocol/ cannot compile, nor can a client
 * call that disagrees with it. Not a vitest file: nothing here runs.
 */
import type { CommandHandlers } from "../../src/realtime/commands.ts";
import type { ClientSocket } from "../helpers/server.ts";

const refresh = async () => ({ token: "t", expiresAt: "2026-12-01T00:00:00.000Z" });

/** The ack data must be what the protocol says (annotation:react acks { active: boolean }). */
export const wrongAck: CommandHandlers<"annotation:react"> = {
  // @ts-expect-error the ack of annotation:react is { active: boolean }, not a string
  "annotation:react": async () => ({ active: "yes" }),
};

/** The handler's input is the protocol's parsed payload; another payload type does not fit. */
export const wrongPayload: CommandHandlers<"auth:refresh"> = {
  // @ts-expect-error auth:refresh takes an empty payload, not a paragraph id
  "auth:refresh": async (input: { paragraphId: string }) => ({ token: input.paragraphId, expiresAt: "" }),
};

/** A command the protocol does not declare cannot be handled. */
export const unknownCommand: CommandHandlers<"auth:refresh"> = {
  "auth:refresh": refresh,
  // @ts-expect-error room:destroy is not a command of the protocol
  "room:destroy": refresh,
};

/** The server's table must handle every command of the protocol. */
// @ts-expect-error a table with only auth:refresh lacks every other command
export const incomplete: CommandHandlers = { "auth:refresh": refresh };

/** Clients are held to the same contract. */
export function clientCalls(socket: ClientSocket): void {
  // @ts-expect-error annotation:create needs a paragraphId string and a body
  socket.emit("annotation:create", { paragraphId: 42 }, () => undefined);
  socket.emit("annotation:react", { annotationId: "a", kind: "agree" }, (result) => {
    if (!result.ok) return;
    const active: boolean = result.data.active;
    // @ts-expect-error the ack of annotation:react carries no annotation body
    const body: string = result.data.body;
    void [active, body];
  });
  // @ts-expect-error the reaction kind is one of a fixed set
  socket.emit("annotation:react", { annotationId: "a", kind: "angry" }, () => undefined);
  // @ts-expect-error no such command
  socket.emit("room:destroy", {}, () => undefined);
}
