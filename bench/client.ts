/**
 * `npm run bench:client`: the web client measured in headless Chromium against the real server
 * (in this process) on a fresh PostgreSQL database:
 *
 * 1. the JavaScript the reading room loads, as the browser received it (compressed by the
 *    server) and gzip/brotli at maximum level for comparison;
 * 2. the time from navigation start to the reading room showing the seed essay with N
 *    annotations (default 1,000) highlighted, on a reload (token resumed), median of R runs,
 *    beside the same time for the essay without annotations (the baseline, same run);
 * 3. the delay from a socket delivery (the WebSocket message with the annotation:created event)
 *    to its highlight appearing in the DOM, for M annotations created one by one by another member.
 *
 *   npm run bench:client -- [--annotations 1000] [--runs 5] [--live 40]
 *
 * Prints a Markdown table and writes bench/results/client-<timestamp>.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { io, type Socket } from "socket.io-client";
import { ensureClientBuild } from "../scripts/client-build.ts";
import { createApplication } from "../src/app.ts";
import { buildConfig } from "../src/config.ts";
import { createPrismaClient } from "../src/db/client.ts";
import { createLogger } from "../src/logger.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../src/protocol/events.ts";
import type { Result } from "../src/protocol/result.ts";
import type { RoomSnapshot, SeminarView } from "../src/protocol/views.ts";
import { launchChromium } from "../tests/helpers/chromium.ts";
import { createBenchDatabase } from "./database.ts";
import { summarize } from "./histogram.ts";

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const ANNOTATIONS = flag("annotations", 1_000);
const RUNS = flag("runs", 5);
const LIVE = flag("live", 40);
const log = (line: string) => process.stderr.write(`${line}\n`);

async function call<T>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const result = (await response.json()) as Result<T>;
  if (!result.ok) throw new Error(`${method} ${path}: ${result.error.code} ${result.error.message}`);
  return result.data;
}

async function guestSocket(url: string, code: string, name: string): Promise<ClientSocket> {
  const joined = await call<{ token: string }>(url, "POST", "/api/seminars/join", {
    code,
    displayName: name,
  });
  const socket: ClientSocket = io(url, {
    auth: { token: joined.token },
    transports: ["websocket"],
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** Writes `count` annotations (one in five a reply) spread over the essay, by 25 writers in parallel. */
async function seedAnnotations(
  url: string,
  code: string,
  snapshot: RoomSnapshot,
  count: number,
): Promise<void> {
  const blocks = snapshot.essay.paragraphs.filter((block) => block.kind === "paragraph");
  const writers = await Promise.all(
    Array.from({ length: 25 }, (_, i) => guestSocket(url, code, `Writer ${i + 1}`)),
  );
  const roots: string[] = [];
  let next = 0;
  await Promise.all(
    writers.map(async (socket) => {
      for (let i = next++; i < count; i = next++) {
        const block = blocks[i % blocks.length]!;
        const chars = [...block.text];
        const start = (i * 7) % Math.max(1, chars.length - 12);
        const end = Math.min(chars.length, start + 4 + (i % 30));
        const reply = i % 5 === 4 && roots.length > 0;
        const result = reply
          ? await socket.emitWithAck("annotation:reply", {
              parentId: roots[i % roots.length]!,
              body: `Reply ${i}`,
            })
          : await socket.emitWithAck("annotation:create", {
              paragraphId: block.id,
              selector: { start, end, exact: chars.slice(start, end).join("") },
              body: `Comment ${i} on this passage.`,
            });
        if (!result.ok) {
          if (result.error.code === "rate_limited") {
            next--;
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
          throw new Error(`annotation ${i}: ${result.error.code} ${result.error.message}`);
        }
        if (!reply) roots.push(result.data.id);
        // Stay under the per-member rate (30 per second).
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    }),
  );
  for (const socket of writers) socket.close();
}

/** Runs in the page before its scripts: notes when each annotation:created arrives and when its highlight shows. */
const INSTRUMENT = `
(() => {
  const delivered = new Map();
  const shown = new Map();
  window.__bench = { delivered, shown };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (message) => {
        if (typeof message.data !== "string" || !message.data.includes("annotation:created")) return;
        const at = performance.now();
        try {
          const [, payload] = JSON.parse(message.data.slice(message.data.indexOf("[")));
          const events = Array.isArray(payload) ? payload : [payload];
          for (const event of events) if (event.type === "annotation:created") delivered.set(event.data.annotation.id, at);
        } catch {}
      });
    }
  };
  new MutationObserver(() => {
    const at = performance.now();
    for (const id of delivered.keys()) {
      if (shown.has(id)) continue;
      if (document.querySelector('mark[data-ids~="' + id + '"]')) shown.set(id, at);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ids"] });
})();
`;

async function main(): Promise<void> {
  log("building the client (if stale)…");
  await ensureClientBuild("stale");
  const database = await createBenchDatabase();
  const prisma = createPrismaClient(database.url);
  const config = buildConfig({
    JWT_SECRET: "bench-secret-bench-secret-bench-secret-0000",
    GUEST_TOKEN_TTL: String(24 * 3600),
    JOINS_PER_MINUTE_PER_ADDRESS: "100000",
    LOG_LEVEL: "warn",
  });
  const app = await createApplication({ config, prisma, logger: createLogger({ logLevel: "warn" }) });
  await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
  app.context.config.publicUrl = url;
  const browser = await launchChromium();
  try {
    const moderator = await call<{ token: string }>(url, "POST", "/api/auth/register", {
      email: "bench@example.test",
      password: "correct horse battery staple",
      displayName: "Bench Moderator",
    });
    const essay = readFileSync(new URL("../src/db/demo-essay.md", import.meta.url), "utf8");
    const seminar = await call<SeminarView>(
      url,
      "POST",
      "/api/seminars",
      { title: "Client bench", essay: { text: essay, format: "markdown" } },
      moderator.token,
    );
    await call(url, "POST", `/api/seminars/${seminar.id}/start`, {}, moderator.token);
    const snapshot = await call<RoomSnapshot>(
      url,
      "GET",
      `/api/seminars/${seminar.id}`,
      undefined,
      moderator.token,
    );
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript({ content: INSTRUMENT });
    const page = await context.newPage();
    await page.goto(`${url}/join/${seminar.joinCode}`);
    await page.getByLabel("Your name").fill("Reader");
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await page.locator(".connection[data-status='live']").waitFor({ timeout: 60_000 });

    // 1. What the room loads.
    const resources = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((entry) => entry as PerformanceResourceTiming)
        .filter((entry) => /\.(js|css)$/.test(new URL(entry.name).pathname))
        .map((entry) => ({
          path: new URL(entry.name).pathname,
          transferred: entry.encodedBodySize,
          raw: entry.decodedBodySize,
        })),
    );
    const files = resources.map((resource) => {
      const bytes = readFileSync(join("client/dist", resource.path));
      return {
        ...resource,
        gzip9: gzipSync(bytes, { level: 9 }).length,
        brotli11: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    });

    // 2. Render time on reload: first the bare essay (the baseline), then with the annotations.
    const annotated = snapshot.essay.paragraphs.filter((block) => block.kind === "paragraph").length;
    const reloadTimes = async (highlightedParagraphs: number) => {
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        await page.reload();
        await page.waitForFunction(
          (count) =>
            document.querySelector(".connection[data-status='live']") !== null &&
            document.querySelector("article.essay h1") !== null &&
            document.querySelectorAll(".comments-button.has-comments").length >= count,
          highlightedParagraphs,
          { polling: "raf", timeout: 60_000 },
        );
        times.push(await page.evaluate(() => performance.now()));
      }
      return times;
    };
    const bare = await reloadTimes(0);
    log(`seeding ${ANNOTATIONS} annotations on the seed essay (${snapshot.essay.paragraphs.length} blocks)…`);
    await seedAnnotations(url, seminar.joinCode!, snapshot, ANNOTATIONS);
    const renders = await reloadTimes(annotated);
    const marks = await page.locator("mark.hl").count();

    // 3. Socket delivery to highlight, for annotations written one by one by another member.
    const writer = await guestSocket(url, seminar.joinCode!, "Live writer");
    const block = snapshot.essay.paragraphs.find((item) => item.kind === "paragraph")!;
    const chars = [...block.text];
    for (let i = 0; i < LIVE; i++) {
      const start = (i * 3) % (chars.length - 5);
      const result = await writer.emitWithAck("annotation:create", {
        paragraphId: block.id,
        selector: { start, end: start + 5, exact: chars.slice(start, start + 5).join("") },
        body: `Live ${i}`,
      });
      if (!result.ok) throw new Error(`live ${i}: ${result.error.code}`);
      await page.waitForFunction(
        (id) => (window as unknown as { __bench: { shown: Map<string, number> } }).__bench.shown.has(id),
        result.data.id,
        { polling: 10, timeout: 10_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    writer.close();
    const delays = await page.evaluate(() => {
      const bench = (
        window as unknown as { __bench: { delivered: Map<string, number>; shown: Map<string, number> } }
      ).__bench;
      return [...bench.shown].map(([id, at]) => at - (bench.delivered.get(id) ?? at));
    });

    const render = summarize(renders);
    const baseline = summarize(bare);
    const delay = summarize(delays);
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    const date = new Date().toISOString().slice(0, 10);
    const js = files.filter((file) => file.path.endsWith(".js"));
    const sum = (list: typeof files, key: "transferred" | "raw" | "gzip9" | "brotli11") =>
      list.reduce((acc, file) => acc + file[key], 0);
    const table = [
      `Web client, ${date}, Chromium ${browser.version()}, ${ANNOTATIONS} annotations on the seed essay (${marks} highlight runs)`,
      "",
      "| measure | value |",
      "| --- | --- |",
      `| reading room JavaScript as received (server's brotli) | ${kb(sum(js, "transferred"))} (${kb(sum(js, "raw"))} uncompressed) |`,
      `| the same at gzip -9 / brotli 11 | ${kb(sum(js, "gzip9"))} / ${kb(sum(js, "brotli11"))} |`,
      `| CSS as received | ${kb(
        sum(
          files.filter((file) => file.path.endsWith(".css")),
          "transferred",
        ),
      )} |`,
      `| reload to room shown, no annotations: the baseline (median of ${RUNS}) | ${ms(baseline.p50)} (min ${ms(Math.min(...bare))}, max ${ms(baseline.max)}) |`,
      `| reload to room shown with ${ANNOTATIONS} annotations (median of ${RUNS}) | ${ms(render.p50)} (min ${ms(Math.min(...renders))}, max ${ms(render.max)}), ${(render.p50 / baseline.p50).toFixed(2)}× the baseline |`,
      `| socket delivery to highlight (n = ${delays.length}) | median ${ms(delay.p50)}, p90 ${ms(delay.p90)}, max ${ms(delay.max)} |`,
    ].join("\n");
    console.log(table);
    mkdirSync("bench/results", { recursive: true });
    const file = `bench/results/client-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
    writeFileSync(
      file,
      JSON.stringify({ date, annotations: ANNOTATIONS, files, baseline: bare, renders, delays }, null, 2),
    );
    log(`wrote ${file}`);
  } finally {
    await browser.close();
    await app.close();
    await prisma.$disconnect();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
