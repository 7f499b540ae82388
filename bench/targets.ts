/**
 * The two servers a scenario runs against, behind one interface: the application (rooms created
 * through its HTTP API, participants' memberships written with Prisma and their tokens signed with
 * the server's key, to spare thousands of HTTP joins outside the join storm) and the bare relay
 * (rooms and tokens made up: it trusts them).
 */
import { randomUUID } from "node:crypto";
import { io as connectSocketIo, type Socket } from "socket.io-client";
import type { Config } from "../src/config.ts";
import { createPrismaClient, type PrismaClient } from "../src/db/client.ts";
import { TokenService } from "../src/modules/accounts/tokens.ts";
import { JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH } from "../src/protocol/limits.ts";
import type { Result } from "../src/protocol/result.ts";
import type { AnnotationView, PromptView, RoomSnapshot, SeminarView } from "../src/protocol/views.ts";
import { BENCH_ESSAY, commentText, essayBlocks } from "./essay.ts";
import type { TargetName } from "./messages.ts";
import { relayToken } from "./relay.ts";

/** A live room ready for a scenario. */
export interface BenchRoom {
  index: number;
  seminarId: string;
  code: string;
  /** Paragraphs that take annotations, with their text (for valid selectors). */
  paragraphs: { id: string; text: string }[];
  /** The participants, with tokens. */
  members: { memberId: string; token: string }[];
  /** The room's single-choice prompt (open once `openPrompt` ran), if asked for. */
  prompt: { id: string; optionIds: string[] } | undefined;
  /** Annotations created before the measurement, to reply to. */
  parentIds: string[];
}

/** What a scenario asks of a room. */
export interface RoomOptions {
  participants: number;
  prompt: boolean;
  seedAnnotations: number;
}

/** A server under test. */
export interface Target {
  readonly name: TargetName;
  readonly url: string;
  /** Creates a live room with `participants` members holding tokens. */
  createRoom(index: number, options: RoomOptions): Promise<BenchRoom>;
  /** Opens the room's prompt (a moderator's prompt:open). */
  openPrompt(room: BenchRoom): Promise<void>;
  /** The ballots stored for the room's prompt (the database's word), where there is a database. */
  storedBallots(room: BenchRoom): Promise<{ ballots: number; counts: Record<string, number> } | undefined>;
  close(): Promise<void>;
}

/** The seminar's single-choice prompt, as created with the seminar. */
export const BENCH_PROMPT = {
  kind: "single_choice",
  question: "Should a model be a national team?",
  options: ["Yes", "No"],
} as const;

/** An error answer of the API, with its code. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const result = (await response.json()) as Result<T>;
  if (!result.ok) throw new ApiError(result.error.code, `${method} ${path}: ${result.error.message}`);
  return result.data;
}

async function connectOnce(url: string, auth: Record<string, string>): Promise<Socket> {
  const socket = connectSocketIo(url, {
    auth,
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}

async function command<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const result = (await socket.timeout(15_000).emitWithAck(event, payload)) as Result<T>;
  if (!result.ok) throw new ApiError(result.error.code, `${event}: ${result.error.message}`);
  return result.data;
}

/** A selector over `length` code points of `text` starting near `seed` (a fraction 0..1). */
export function selectorFor(
  text: string,
  seed: number,
  length = 24,
): { start: number; end: number; exact: string; prefix: string; suffix: string } {
  const chars = [...text];
  const span = Math.min(length, chars.length);
  const start = Math.floor(seed * (chars.length - span));
  const end = start + span;
  return {
    start,
    end,
    exact: chars.slice(start, end).join(""),
    prefix: chars.slice(Math.max(0, start - 16), start).join(""),
    suffix: chars.slice(end, end + 16).join(""),
  };
}

/** The application, with the bench's own Prisma client and the server's token key. */
export class AppTarget implements Target {
  readonly name = "app" as const;
  private readonly prisma: PrismaClient;
  private readonly tokens: TokenService;
  private moderator: Promise<string> | undefined;

  constructor(
    readonly url: string,
    databaseUrl: string,
    jwt: Config["jwt"],
  ) {
    this.prisma = createPrismaClient(databaseUrl, { maxConnections: 4 });
    this.tokens = new TokenService(jwt);
  }

  private moderatorToken(): Promise<string> {
    this.moderator ??= api<{ token: string }>(this.url, "POST", "/api/auth/register", {
      email: `bench-${randomUUID()}@example.test`,
      password: "bench password, not a secret",
      displayName: "Bench moderator",
    }).then((data) => data.token);
    return this.moderator;
  }

  async createRoom(index: number, options: RoomOptions): Promise<BenchRoom> {
    const token = await this.moderatorToken();
    const seminar = await api<SeminarView>(
      this.url,
      "POST",
      "/api/seminars",
      {
        title: `Bench room ${index + 1}`,
        essay: { text: BENCH_ESSAY, format: "markdown" },
        prompts: options.prompt ? [BENCH_PROMPT] : [],
      },
      token,
    );
    await api(this.url, "POST", `/api/seminars/${seminar.id}/start`, {}, token);
    const snapshot = await api<RoomSnapshot>(
      this.url,
      "GET",
      `/api/seminars/${seminar.id}`,
      undefined,
      token,
    );
    const prompt: PromptView | undefined = snapshot.prompts[0];
    if (options.prompt && !prompt) {
      throw new ApiError(
        "not_implemented",
        "the seminar's snapshot has no prompts (prompts not implemented?)",
      );
    }

    const members: BenchRoom["members"] = [];
    if (options.participants > 0) {
      await this.prisma.membership.createMany({
        data: Array.from({ length: options.participants }, (_, n) => ({
          seminarId: seminar.id,
          role: "participant" as const,
          displayName: `Reader ${n + 1}`,
        })),
      });
      const rows = await this.prisma.membership.findMany({
        where: { seminarId: seminar.id, role: "participant" },
        select: { id: true, rightsVersion: true },
        orderBy: { displayName: "asc" },
      });
      for (const row of rows) {
        const issued = this.tokens.issue({
          kind: "guest",
          sub: row.id,
          sem: seminar.id,
          rv: row.rightsVersion,
        });
        members.push({ memberId: row.id, token: issued.token });
      }
    }

    const paragraphs = snapshot.essay.paragraphs
      .filter((paragraph) => paragraph.kind === "paragraph")
      .map((paragraph) => ({ id: paragraph.id, text: paragraph.text }));
    const parentIds: string[] = [];
    if (options.seedAnnotations > 0 && members[0]) {
      const socket = await connectOnce(this.url, { token: members[0].token, seminarId: seminar.id });
      try {
        for (let n = 0; n < options.seedAnnotations; n++) {
          const paragraph = paragraphs[n % paragraphs.length]!;
          const annotation = await command<AnnotationView>(socket, "annotation:create", {
            paragraphId: paragraph.id,
            selector: selectorFor(paragraph.text, n / options.seedAnnotations),
            body: commentText(120),
            tags: ["seed"],
          });
          parentIds.push(annotation.id);
        }
      } finally {
        socket.close();
      }
    }
    return {
      index,
      seminarId: seminar.id,
      code: seminar.joinCode!,
      paragraphs,
      members,
      prompt: prompt ? { id: prompt.id, optionIds: prompt.options.map((option) => option.id) } : undefined,
      parentIds,
    };
  }

  async openPrompt(room: BenchRoom): Promise<void> {
    if (!room.prompt) throw new Error("the room has no prompt");
    const socket = await connectOnce(this.url, {
      token: await this.moderatorToken(),
      seminarId: room.seminarId,
    });
    try {
      await command(socket, "prompt:open", { promptId: room.prompt.id });
    } finally {
      socket.close();
    }
  }

  async storedBallots(
    room: BenchRoom,
  ): Promise<{ ballots: number; counts: Record<string, number> } | undefined> {
    if (!room.prompt) return undefined;
    const promptId = room.prompt.id;
    const ballots = await this.prisma.ballot.count({ where: { promptId } });
    const choices = await this.prisma.ballotChoice.groupBy({
      by: ["optionId"],
      where: { ballot: { promptId } },
      _count: { _all: true },
    });
    return {
      ballots,
      counts: Object.fromEntries(choices.map((choice) => [choice.optionId, choice._count._all])),
    };
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
  }
}

/** The bare relay: rooms, members and prompts are made-up ids it takes on trust. */
export class RelayTarget implements Target {
  readonly name = "relay" as const;

  constructor(readonly url: string) {}

  async createRoom(index: number, options: RoomOptions): Promise<BenchRoom> {
    const seminarId = randomUUID();
    const code = Array.from(
      { length: JOIN_CODE_LENGTH },
      () => JOIN_CODE_ALPHABET[Math.floor(Math.random() * JOIN_CODE_ALPHABET.length)],
    ).join("");
    return {
      index,
      seminarId,
      code,
      paragraphs: essayBlocks()
        .filter((block) => block.kind === "paragraph")
        .map((block) => ({ id: randomUUID(), text: block.text })),
      members: Array.from({ length: options.participants }, () => {
        const memberId = randomUUID();
        return { memberId, token: relayToken(seminarId, memberId) };
      }),
      prompt: options.prompt ? { id: randomUUID(), optionIds: [randomUUID(), randomUUID()] } : undefined,
      parentIds: Array.from({ length: options.seedAnnotations }, () => randomUUID()),
    };
  }

  async openPrompt(): Promise<void> {}

  async storedBallots(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {}
}
