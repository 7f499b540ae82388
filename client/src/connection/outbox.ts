/**
 * Writes waiting to reach the server. Creates, replies and ballots carry an id the client chose
 * (`clientId`, `clientBallotId`), so sending one again after a lost ack is harmless: the server
 * answers with what it stored. The queue survives a reload (localStorage), so nothing done
 * offline is lost silently: each item is sent, or shown as refused with the server's reason.
 */
import { signal } from "@preact/signals";
import type { z } from "zod";
import type { CreateAnnotationInput, ReplyAnnotationInput } from "../../../src/protocol/annotations.ts";
import type { PromptVoteInput } from "../../../src/protocol/prompts.ts";
import type { ErrorBody } from "../../../src/protocol/result.ts";

/** A create with its idempotency key. */
export type CreatePayload = z.input<typeof CreateAnnotationInput> & { clientId: string };
/** A reply with its idempotency key. */
export type ReplyPayload = z.input<typeof ReplyAnnotationInput> & { clientId: string };
/** A ballot (it always has its clientBallotId). */
export type VotePayload = z.input<typeof PromptVoteInput>;

/** The commands that may wait for the connection. */
export type QueuedCommand =
  | { event: "annotation:create"; payload: CreatePayload }
  | { event: "annotation:reply"; payload: ReplyPayload }
  | { event: "prompt:vote"; payload: VotePayload };

/** One write in the queue. */
export interface OutboxItem {
  /** The command's own idempotency key (clientId or clientBallotId). */
  key: string;
  command: QueuedCommand;
  /** waiting: not sent yet or to be sent again; sending: awaiting its ack; refused: the server said no. */
  state: "waiting" | "sending" | "refused";
  error?: ErrorBody;
  queuedAt: string;
}

/** The idempotency key of a queued command. */
export function keyOf(command: QueuedCommand): string {
  return command.event === "prompt:vote" ? command.payload.clientBallotId : command.payload.clientId;
}

/** The queue of one member in one seminar. */
export class Outbox {
  /** Every item, oldest first (read it in components to re-render on change). */
  readonly items = signal<OutboxItem[]>([]);
  private readonly storageKey: string;

  constructor(seminarId: string, memberId: string) {
    this.storageKey = `stepstone.outbox.v1.${seminarId}.${memberId}`;
    this.items.value = this.restore();
  }

  /** Adds a command. A newer ballot for the same prompt replaces one still waiting. */
  add(command: QueuedCommand): OutboxItem {
    const item: OutboxItem = {
      key: keyOf(command),
      command,
      state: "waiting",
      queuedAt: new Date().toISOString(),
    };
    const kept = this.items.value.filter(
      (other) =>
        !(
          command.event === "prompt:vote" &&
          other.command.event === "prompt:vote" &&
          other.state !== "sending" &&
          other.command.payload.promptId === command.payload.promptId
        ),
    );
    this.set([...kept, item]);
    return item;
  }

  /** The oldest item waiting to be sent. */
  next(): OutboxItem | undefined {
    return this.items.value.find((item) => item.state === "waiting");
  }

  /** Changes one item's state. */
  mark(key: string, state: OutboxItem["state"], error?: ErrorBody): void {
    this.set(this.items.value.map((item) => (item.key === key ? { ...item, state, error } : item)));
  }

  /** Puts items whose ack was lost with the connection back in line (they are sent again, same key). */
  requeueSending(): void {
    if (!this.items.value.some((item) => item.state === "sending")) return;
    this.set(
      this.items.value.map((item) => (item.state === "sending" ? { ...item, state: "waiting" } : item)),
    );
  }

  /** Removes an item (stored by the server, or dismissed by the user after a refusal). */
  remove(key: string): void {
    this.set(this.items.value.filter((item) => item.key !== key));
  }

  private set(items: OutboxItem[]): void {
    this.items.value = items;
    try {
      if (items.length === 0) localStorage.removeItem(this.storageKey);
      else localStorage.setItem(this.storageKey, JSON.stringify(items));
    } catch {
      // Without storage the queue lives as long as the page.
    }
  }

  private restore(): OutboxItem[] {
    try {
      const raw = localStorage.getItem(this.storageKey);
      const items = raw ? (JSON.parse(raw) as OutboxItem[]) : [];
      // An item that was in flight when the page closed may or may not have arrived: send it
      // again; its key makes that safe.
      return Array.isArray(items)
        ? items.map((item) => (item.state === "sending" ? { ...item, state: "waiting" } : item))
        : [];
    } catch {
      return [];
    }
  }
}
