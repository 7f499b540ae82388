import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { bar, escapeMarkdownInline } from "./transcript.markdown.ts";

/** A renderer as permissive as they come: raw HTML allowed, bare URLs linked. */
const renderer = new MarkdownIt({ html: true, linkify: true });

/** The text a reader sees: the rendered HTML with its paragraph and line-break tags removed, entities decoded. */
function seen(markdown: string): string {
  const html = renderer.render(markdown).trim();
  const inner = html
    .replace(/^<p>/, "")
    .replace(/<\/p>$/, "")
    .replace(/<br>\n/g, "\n");
  return inner
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

const HOSTILE = [
  "# heading",
  "## heading",
  "Setext\n===",
  "Setext\n---",
  "- item",
  "+ item",
  "* item",
  "1. item",
  "2) item",
  "> quote",
  "```js\ncode\n```",
  "~~~\ncode\n~~~",
  "    indented code",
  "\tindented code",
  "***",
  "___",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "<!-- comment -->",
  "&amp; &lt; &#65; &copy;",
  "[link](https://evil.example/x)",
  "[ref][1]\n\n[1]: https://evil.example",
  "![image](https://evil.example/i.png)",
  "<https://evil.example>",
  "https://evil.example/path?q=1",
  "http://evil.example",
  "//evil.example/x",
  "www.evil.example",
  "evil.example",
  "mail me: someone@evil.example",
  "mailto:someone@evil.example",
  "**bold** __bold__ *em* _em_ ~~strike~~ `code`",
  "| a | b |\n|---|---|\n| c | d |",
  "$x^2$ and $$y$$",
  "footnote[^1]\n\n[^1]: note",
  "trailing backslash \\",
  "hard break with spaces  \nnext",
  "<b>bold</b> &nbsp; <a href=x>a</a>",
  "javascript:alert(1)",
];

describe("escapeMarkdownInline", () => {
  it.each(HOSTILE)("renders %j as its own words, with no markup", (payload) => {
    const html = renderer.render(escapeMarkdownInline(payload));
    expect(html).not.toMatch(/<(?!\/?p>|br>)/);
    const lines = payload
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    expect(seen(escapeMarkdownInline(payload))).toBe(lines.join("\n"));
  });

  it("keeps every payload inert inside a list item and a table cell too", () => {
    for (const payload of HOSTILE) {
      const item = renderer.render(`- ${escapeMarkdownInline(payload).replace(/\n/g, "\n  ")}`);
      expect(item, payload).not.toMatch(/<(?!\/?(ul|li|p)>|br>)/);
      const cell = renderer.render(
        `| a |\n| --- |\n| ${escapeMarkdownInline(payload, { singleLine: true })} |`,
      );
      expect(cell, payload).not.toMatch(/<(?!\/?(table|thead|tbody|tr|th|td)>)/);
      expect(cell.match(/<td>/g), payload).toHaveLength(1);
    }
  });

  it("leaves CJK text and full-width punctuation untouched, and plain prose readable", () => {
    const cjk = "「開放模型」是國家隊嗎？我認為：不一定——要看資料。１２３！";
    expect(escapeMarkdownInline(cjk)).toBe(cjk);
    expect(seen(escapeMarkdownInline(cjk))).toBe(cjk);
    expect(escapeMarkdownInline("A plain sentence, with a comma. And a stop.")).toBe(
      "A plain sentence, with a comma. And a stop.",
    );
    expect(escapeMarkdownInline("日本語のテキスト、そして한국어 텍스트.")).toBe(
      "日本語のテキスト、そして한국어 텍스트.",
    );
  });

  it("joins lines with hard breaks, or spaces on one line", () => {
    expect(escapeMarkdownInline("one\n\n\ntwo")).toBe("one\\\ntwo");
    expect(escapeMarkdownInline("one\r\ntwo", { singleLine: true })).toBe("one two");
  });
});

describe("bar", () => {
  it("draws a share as filled and empty cells", () => {
    expect(bar(0.5, 10)).toBe("█████░░░░░");
    expect(bar(0, 4)).toBe("░░░░");
    expect(bar(1.5, 4)).toBe("████");
  });
});
