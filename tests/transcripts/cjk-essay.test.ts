/**
 * The essay the product was first built for (Traditional Chinese, in ../shared when this machine
 * has it): its transcript reads naturally in Markdown, its selectors quote it exactly, and the
 * download keeps its title in the file name.
 */
import { existsSync, readFileSync } from "node:fs";
import { parse as parseDisposition } from "content-disposition";
import MarkdownIt from "markdown-it";
import { describe, expect, it, vi } from "vitest";
import { codePointLength, sliceCodePoints } from "../../src/modules/essays/essay.text.ts";
import type { TranscriptDocument } from "../../src/protocol/transcripts.ts";
import { buildGuest, buildSeminar, expectOk } from "../helpers/factories.ts";
import { RoomClient, startTestServer } from "../helpers/server.ts";
import { download, transcriptValidator } from "../helpers/transcripts.ts";

// The first download starts the export thread (it loads the server's modules and opens its own
// connections: seconds from the TypeScript sources on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });

const ESSAY = new URL("../../../shared/essays/ai-revelation.zh-Hant.txt", import.meta.url);
const available = existsSync(ESSAY);
if (!available)
  console.warn(`SKIPPED: ${ESSAY.pathname} is not on this machine (the shared essays are missing).`);

describe.skipIf(!available)("the transcript of the zh-Hant essay (needs ../shared/essays)", async () => {
  const server = await startTestServer({ TRANSCRIPTS_PER_MINUTE: "1000" });

  it("reads naturally in Markdown, quotes exactly in JSON-LD and keeps the title in the file name", async () => {
    const text = readFileSync(ESSAY, "utf8");
    const title = text.split("\n")[0]!.trim();
    const { seminar, moderator } = await buildSeminar(server, { title, essay: text });
    const guest = await buildGuest(server, seminar.joinCode!, "讀者甲");
    const reader = await RoomClient.join(server.url, { token: guest.token });
    const paragraphs = reader.stream.state!.essay.paragraphs.filter((p) => p.kind === "paragraph");
    const long = paragraphs.find((p) => p.text.includes("Mate60"))!;
    const start = [...long.text].indexOf("M");
    expectOk(
      await reader.send("annotation:create", {
        paragraphId: long.id,
        selector: { start, end: start + 6, exact: sliceCodePoints(long.text, start, start + 6) },
        body: "這裡的「Mate60」指的是華為的手機，作者用它來比喻突破。",
        tags: ["例子"],
      }),
    );
    reader.close();

    const json = await download(server, seminar.id, moderator.token, "format=json");
    const document = JSON.parse(json.text) as TranscriptDocument;
    expect(transcriptValidator()(document)).toBe(true);
    expect(document.essay.title).toBe(title);
    expect(document.essay.byline).toBe("魚眼觀察");

    const md = await download(server, seminar.id, moderator.token, "format=md");
    const html = new MarkdownIt({ html: true, linkify: true }).render(md.text);
    expect(html).toContain("魚眼觀察");
    expect(html).toContain("2025-02-06 18:31:59");
    // Every body paragraph appears whole, as one paragraph (the line breaks mid-sentence are rejoined).
    for (const paragraph of paragraphs)
      expect(html).toContain(`<p>${paragraph.text.replace(/&/g, "&amp;")}</p>`);
    expect(html).toContain("這裡的「Mate60」指的是華為的手機，作者用它來比喻突破。");
    expect(html).not.toMatch(/<(a|img|script|code|h1 )/);

    const jsonld = JSON.parse((await download(server, seminar.id, moderator.token, "format=jsonld")).text);
    const [item] = jsonld.first.items;
    const [quote, position] = item.target.selector;
    expect(sliceCodePoints(long.text, position.start, position.end)).toBe(quote.exact);
    expect(position.end).toBeLessThanOrEqual(codePointLength(long.text));
    expect(item.body.find((body: { purpose: string }) => body.purpose === "tagging").value).toBe("例子");

    const name = parseDisposition(md.headers.get("content-disposition")!).parameters.filename;
    expect(name).toBe(`${title.replace(/:/g, " ").replace(/\s+/g, "-")}-transcript.md`.replace(/-+/g, "-"));
  });
});
