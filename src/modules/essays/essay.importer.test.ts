import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type BlockKind,
  detectEssayFormat,
  ESSAY_LIMITS,
  EssayImportError,
  endsSentence,
  guessLanguage,
  type ImportedEssay,
  type ImportOptions,
  importEssay,
  isCaption,
  isDateline,
  isSectionMarker,
  stripInlineMarkdown,
} from "./essay.importer.ts";
import { codePointLength, quoteContext, sliceCodePoints } from "./essay.text.ts";

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../tests/fixtures/essays/${name}`, import.meta.url), "utf8");

const kinds = (essay: ImportedEssay): BlockKind[] => essay.blocks.map((block) => block.kind);
const texts = (essay: ImportedEssay, kind: BlockKind): string[] =>
  essay.blocks.filter((block) => block.kind === kind).map((block) => block.text);
/**
 * The paragraphs of a small source, after a first line that is a sentence (so it is not a title) and
 * without a blank line (so the source keeps the layout it has on its own).
 */
const paragraphs = (source: string, options?: ImportOptions): string[] =>
  texts(importEssay(`Body follows.\n${source}`, options), "paragraph").slice(1);

function importError(run: () => unknown): EssayImportError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EssayImportError);
    return error as EssayImportError;
  }
  throw new Error("expected importEssay to throw");
}

// ---------------------------------------------------------------------------------------------

describe("fixture: Markdown essay (open-models.md)", () => {
  const essay = importEssay(fixture("open-models.md"));

  it("takes the top # heading as the title and the italic byline/date runs as metadata", () => {
    expect(essay.title).toBe("The Reading Room and the Open Model");
    expect(essay.byline).toBe("By Maren Okafor");
    expect(essay.dateline).toBe("February 6, 2025");
    expect(essay.format).toBe("markdown");
    expect(essay.language).toBe("en");
  });

  it("produces exactly these blocks in reading order", () => {
    expect(kinds(essay)).toEqual([
      "heading",
      "paragraph",
      "paragraph",
      "quote",
      "heading",
      "list_item",
      "list_item",
      "list_item",
      "caption",
      "caption",
      "paragraph",
      "section_marker",
      "heading",
      "paragraph",
      "list_item",
      "list_item",
      "heading",
      "paragraph",
      "paragraph",
    ]);
    expect(essay.blocks.filter((block) => block.kind === "heading").map((block) => block.level)).toEqual([
      2, 2, 2, 3,
    ]);
  });

  it("joins wrapped lines and strips inline Markdown (bold, code, links, __)", () => {
    expect(essay.blocks[1]).toStrictEqual({
      kind: "paragraph",
      text:
        "A reading seminar is a small machine for slow attention. Eight people, one text, and an hour " +
        "in which nobody is allowed to skim. We annotate, we argue, and we come back to the sentence " +
        "that made us stop.",
    });
    expect(essay.blocks[2]?.text).toBe(
      "When a lab releases an open-weights model, the seminar has a new kind of text to read: not only " +
        "the paper, but the config.json, the licence and the benchmarks.",
    );
    expect(essay.blocks[7]?.text).toBe("Which claims can a reader check with a laptop?");
  });

  it("joins consecutive > lines into one quote and list continuation lines into their item", () => {
    expect(texts(essay, "quote")).toEqual([
      "The point of reading together is not to agree. It is to notice what the others noticed.",
    ]);
    expect(essay.blocks[6]?.text).toBe('What does "open" mean when the data stays closed?');
    expect(texts(essay, "list_item").slice(3)).toEqual([
      "1. Fund the reading, not only the building.",
      "2. Publish evaluations in plain language.",
    ]);
  });

  it("turns the image alt text and the italic line under it into captions, and --- into a marker", () => {
    expect(texts(essay, "caption")).toEqual([
      "A long table covered in printed pages and sticky notes",
      "Figure 1: Our first seminar on DeepSeek-R1, with margins full of questions.",
    ]);
    expect(texts(essay, "section_marker")).toEqual(["---"]);
  });
});

describe("fixture: hard-wrapped English plain text (hard-wrapped.en.txt)", () => {
  const essay = importEssay(fixture("hard-wrapped.en.txt"));

  it("reads title, byline and dateline from the first lines", () => {
    expect(essay).toMatchObject({
      title: "Notes from a Seminar on Open Models",
      byline: "By Tomasz Reyes",
      dateline: "6 Feb 2025",
      language: "en",
      format: "text",
    });
  });

  it("rejoins every hard-wrapped paragraph, even where a wrapped line ends a sentence", () => {
    expect(kinds(essay)).toEqual([
      "paragraph",
      "paragraph",
      "section_marker",
      "paragraph",
      "caption",
      "paragraph",
      "section_marker",
      "paragraph",
      "paragraph",
    ]);
    expect(essay.blocks[1]?.text).toBe(
      "Mr. Alvarez, who teaches statistics, asked whether anyone had actually checked the arithmetic, " +
        "and for a long moment nobody had an answer. He walked us through the numbers on the whiteboard, " +
        "and the figure shrank and grew depending on which costs one was willing to count.",
    );
  });

  it("drops the hyphen of a split lowercase word and joins Latin lines with one space", () => {
    expect(essay.blocks[3]?.text).toBe(
      "A second thread concerned the word open. The weights were published, but the training data was " +
        "not, and several readers felt that the label promised more information than the release " +
        "delivered. Others pointed out that Claude 3.5 Sonnet and GPT-4o publish neither, so the " +
        "comparison cut both ways.",
    );
  });

  it("keeps markers and captions as printed", () => {
    expect(texts(essay, "section_marker")).toEqual(["* * *", "II"]);
    expect(texts(essay, "caption")).toEqual(["Figure 2: The whiteboard after the cost discussion."]);
  });
});

describe("fixture: Simplified Chinese (reading-seminar.zh-Hans.txt)", () => {
  const essay = importEssay(fixture("reading-seminar.zh-Hans.txt"));

  it("reads the metadata and guesses zh-Hans", () => {
    expect(essay).toMatchObject({
      title: "开源模型与读书会：我们为什么一起读",
      byline: "文／林晓舟",
      dateline: "2025年2月6日",
      language: "zh-Hans",
      format: "text",
    });
  });

  it("produces exactly these blocks", () => {
    expect(kinds(essay)).toEqual([
      "section_marker",
      "paragraph",
      "paragraph",
      "caption",
      "section_marker",
      "paragraph",
      "paragraph",
      "section_marker",
      "paragraph",
    ]);
    expect(texts(essay, "section_marker")).toEqual(["一、", "二、", "◆"]);
    expect(texts(essay, "caption")).toEqual(["图：读书会现场，桌上摊开的是打印出来的报告。"]);
  });

  it("joins CJK lines without a space, also after Latin/digits (Mate60 + 手机)", () => {
    expect(essay.blocks[1]?.text).toBe(
      "上个月，我们的读书会第一次把一篇技术报告当作“文本”来读。参加的十二个人里，只有两位写过代码，但每个人都在页边写满了问题。",
    );
    expect(essay.blocks[2]?.text).toBe(
      "有人问：一家只有两百人的公司，为什么能训练出与大厂相当的模型？也有人拿华为Mate60手机作比较，认为这是同一种“突围”叙事。",
    );
    expect(essay.blocks[6]?.text).toContain("其实也是一种期待和约束。我们约定下个月");
  });
});

describe("fixture: Japanese (yomu-kai.ja.txt)", () => {
  const essay = importEssay(fixture("yomu-kai.ja.txt"));

  it("reads the metadata (dateline with a weekday) and guesses ja", () => {
    expect(essay).toMatchObject({
      title: "オープンモデルを「読む」ということ",
      byline: "文：佐藤みのり",
      dateline: "2025年2月6日（木）",
      language: "ja",
      format: "text",
    });
  });

  it("treats each sentence-ending line as a paragraph and rejoins the mid-sentence breaks", () => {
    expect(kinds(essay)).toEqual([
      "paragraph",
      "paragraph",
      "paragraph",
      "paragraph",
      "caption",
      "paragraph",
      "section_marker",
      "paragraph",
      "paragraph",
      "paragraph",
    ]);
    expect(essay.blocks[1]?.text).toBe("最初に取り上げたのはGPT-4の技術報告で、参加者は十人だった。");
    expect(essay.blocks[3]?.text).toBe(
      "ところが2024年の終わりに、DeepSeek-V3の報告が公開されると、議論の中心は一気に「オープン」という言葉の意味へと移った。",
    );
    expect(essay.blocks[5]?.text).toBe(
      "重みを公開することと、学習データを公開することは同じではない。ある参加者はそう指摘し、別の参加者は「それでも検証できる範囲は広がった」と反論した。",
    );
    expect(texts(essay, "caption")).toEqual(["写真：会場の机に並んだ付箋だらけの報告書。"]);
    expect(texts(essay, "section_marker")).toEqual(["02"]);
  });

  it("keeps the half-width spaces around Latin words inside a Japanese line", () => {
    expect(essay.blocks[7]?.text).toBe(
      "国の政策として AI を語るとき、私たちはつい勝ち負けの物語に引き寄せられる。",
    );
  });
});

describe("fixture: Korean with characters outside the BMP (beyond-bmp.ko.txt)", () => {
  const essay = importEssay(fixture("beyond-bmp.ko.txt"));

  it("reads the metadata (emoji in the title, Korean date) and guesses ko", () => {
    expect(essay).toMatchObject({
      title: "열린 모델을 함께 읽는 밤 😀",
      byline: "글: 한지우",
      dateline: "2025. 2. 6.",
      language: "ko",
      format: "text",
    });
  });

  it("joins wrapped Hangul lines with a space", () => {
    expect(kinds(essay)).toEqual([
      "paragraph",
      "paragraph",
      "caption",
      "paragraph",
      "section_marker",
      "paragraph",
      "paragraph",
    ]);
    expect(essay.blocks[0]?.text).toBe(
      "지난달 우리 독서 모임은 처음으로 기술 보고서를 함께 읽었다. 참가자 여덟 명 중 코드를 써 본 사람은 두 명뿐이었지만, 모두가 여백에 질문을 적었다.",
    );
    expect(essay.blocks[3]?.text).toBe(
      '정책 이야기도 빠지지 않았다. 한 나라의 모델을 "국가대표"라고 부르는 순간, 연구는 경기처럼 보이기 시작한다 😀 하지만 우리는 경기를 보러 온 것이 아니다.',
    );
    expect(texts(essay, "caption")).toEqual(["▲ 모임에서 함께 읽은 보고서의 첫 페이지."]);
  });

  it("keeps 𠮷 intact so code-point anchors land on it", () => {
    const text = essay.blocks[1]?.text ?? "";
    expect(text).toBe(
      "어떤 참가자는 일본어 이름 𠮷野家의 첫 글자 𠮷이 화면에서 깨지는 것을 보여 주며, 문자 하나도 제대로 세지 못하는 도구로 주석을 다는 것은 위험하다고 말했다.",
    );
    const start = Array.from(text).indexOf("𠮷");
    expect(start).toBe(15);
    expect(sliceCodePoints(text, start, start + 3)).toBe("𠮷野家");
    expect(quoteContext(text, start, start + 1, 3)).toEqual({
      exact: "𠮷",
      prefix: "이름 ",
      suffix: "野家의",
    });
    expect(codePointLength(text)).toBe(Array.from(text).length);
  });
});

// ---------------------------------------------------------------------------------------------

const ACCEPTANCE_URL = new URL("../../../../shared/essays/ai-revelation.zh-Hant.txt", import.meta.url);
const ACCEPTANCE_PATH = fileURLToPath(ACCEPTANCE_URL);
const HAS_ACCEPTANCE = existsSync(ACCEPTANCE_PATH);
if (!HAS_ACCEPTANCE) {
  console.info(`[essay.importer.test] skipping the acceptance essay: ${ACCEPTANCE_PATH} is absent.`);
}

describe.skipIf(!HAS_ACCEPTANCE)("acceptance: ../shared/essays/ai-revelation.zh-Hant.txt", () => {
  let cached: { source: string; lines: string[]; essay: ImportedEssay } | undefined;
  const load = () => {
    if (!cached) {
      const source = readFileSync(ACCEPTANCE_PATH, "utf8");
      cached = { source, lines: source.split(/\r\n|\r|\n/), essay: importEssay(source) };
    }
    return cached;
  };

  it("is resolved next to the repository (…/shared/essays)", () => {
    const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
    expect(ACCEPTANCE_PATH).toBe(join(dirname(repoRoot), "shared", "essays", "ai-revelation.zh-Hant.txt"));
  });

  it("reads title, byline and dateline (the title keeps its ASCII : and ,)", () => {
    const { essay } = load();
    expect(essay.title).toBe("AI啟示錄:創新都是自己產生的,不是刻意安排的");
    expect(essay.byline).toBe("魚眼觀察");
    expect(essay.dateline).toBe("2025-02-06 18:31:59");
    expect(essay.format).toBe("text");
    expect(essay.language).toBe("zh-Hant");
    expect(essay.blocks.some((block) => block.text === essay.title || block.text === essay.byline)).toBe(
      false,
    );
  });

  it("has exactly 5 section markers, 4 ▲ captions and 66 paragraphs", () => {
    const { essay } = load();
    expect(texts(essay, "section_marker")).toEqual(["01", "02", "03", "04", "05"]);
    const captions = texts(essay, "caption");
    expect(captions).toHaveLength(4);
    for (const caption of captions) expect(caption.startsWith("▲")).toBe(true);
    expect(texts(essay, "paragraph")).toHaveLength(66);
    expect(essay.blocks).toHaveLength(75);
    expect(new Set(kinds(essay))).toEqual(new Set(["paragraph", "section_marker", "caption"]));
  });

  it.each([
    ["Mate60", " "],
    ["App", " "],
    ["Claude 3.5", " "],
    ["OpenAI", " "],
    ["DeepSeek", ""],
    ["2012 年的", ""],
    ["RAG", ""],
    ["約為", ""],
  ])("rejoins the sentence broken after %j", (fragment, separator) => {
    const { lines, essay } = load();
    const broken = lines.flatMap((line, index) => (line.trimEnd().endsWith(fragment) ? [index] : []));
    expect(broken).toHaveLength(1);
    const next = (lines[(broken[0] ?? 0) + 1] ?? "").trim();
    expect(next).not.toBe("");
    const joined = `${fragment}${separator}${next}`;
    const holders = essay.blocks.filter((block) => block.text.includes(joined));
    expect(holders).toHaveLength(1);
    expect(holders[0]?.kind).toBe("paragraph");
  });

  it("loses no text: every source line below the dateline is inside some block", () => {
    const { lines, essay } = load();
    for (const line of lines.slice(3)) {
      const text = line.trim();
      if (text === "") continue;
      expect(essay.blocks.some((block) => block.text.includes(text))).toBe(true);
    }
  });

  it("ends a paragraph at a line ending in 。 ？ …… —— and before an enumerated point after a colon", () => {
    const { lines, essay } = load();
    const body = new Set(texts(essay, "paragraph"));
    const standalone = lines
      .filter((line) => /(?:……|——|[:：])$/.test(line.trim()))
      .map((line) => line.trim());
    expect(standalone.length).toBeGreaterThanOrEqual(3);
    for (const line of standalone) expect(body.has(line)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe("joining lines", () => {
  it("joins Latin/digit ↔ Latin/digit with one space", () => {
    expect(paragraphs("We compared Claude 3.5\nSonnet with others.")).toEqual([
      "We compared Claude 3.5 Sonnet with others.",
    ]);
    expect(paragraphs("An open model,\nshared widely.")).toEqual(["An open model, shared widely."]);
  });

  it("joins anything involving CJK without a space", () => {
    expect(paragraphs("華為Mate60\n手機很受歡迎。")).toEqual(["華為Mate60手機很受歡迎。"]);
    expect(paragraphs("大家都在用DeepSeek\n的模型。")).toEqual(["大家都在用DeepSeek的模型。"]);
    expect(paragraphs("中文句子還沒有\n結束。")).toEqual(["中文句子還沒有結束。"]);
    expect(paragraphs("模型,\nDeepSeek很好。")).toEqual(["模型,DeepSeek很好。"]);
    expect(paragraphs("「開放」\nという言葉。")).toEqual(["「開放」という言葉。"]);
    expect(paragraphs("從 2012 年的\nalexnet 開始。")).toEqual(["從 2012 年的alexnet 開始。"]);
  });

  it("joins Hangul with a space", () => {
    expect(paragraphs("우리는 함께\n읽었다.")).toEqual(["우리는 함께 읽었다."]);
    expect(paragraphs("모델은\nDeepSeek이다.")).toEqual(["모델은 DeepSeek이다."]);
  });

  it("drops the hyphen only for a lowercase word continued in lowercase", () => {
    expect(paragraphs("more infor-\nmation here.")).toEqual(["more information here."]);
    expect(paragraphs("the GPT-\n4o model.")).toEqual(["the GPT-4o model."]);
    expect(paragraphs("a self-\nEvident claim.")).toEqual(["a self-Evident claim."]);
    expect(paragraphs("two - \nthree parts.")).toEqual(["two - three parts."]);
  });

  it("ends a paragraph at a sentence end when paragraphs are one line each", () => {
    expect(paragraphs("First sentence.\nSecond one!\n第三句。\n第四句？\n「引用。」\nEnd")).toEqual([
      "First sentence.",
      "Second one!",
      "第三句。",
      "第四句？",
      "「引用。」",
      "End",
    ]);
  });

  it("does not end a sentence at an initial or a known abbreviation", () => {
    expect(paragraphs("We met Mr.\nAlvarez today.\nWe read e.g.\nreports.\nBy J.\nMorales.")).toEqual([
      "We met Mr. Alvarez today.",
      "We read e.g. reports.",
      "By J. Morales.",
    ]);
  });

  it("treats a colon as not ending a sentence, but an enumerated point starts a paragraph", () => {
    expect(paragraphs("具體來說：\n下一行才結束。")).toEqual(["具體來說：下一行才結束。"]);
    expect(paragraphs("具體來說就包括:\n一,第一點。\n二、第二點。")).toEqual([
      "具體來說就包括:",
      "一,第一點。",
      "二、第二點。",
    ]);
  });

  it("ends a paragraph at an ellipsis or a CJK double dash", () => {
    expect(paragraphs("還有很多……\n下一段。\n但別忘了——\n結尾。")).toEqual([
      "還有很多……",
      "下一段。",
      "但別忘了——",
      "結尾。",
    ]);
  });

  it("always ends a paragraph at a blank line", () => {
    expect(paragraphs("no terminator here\n\nnext paragraph")).toEqual([
      "no terminator here",
      "next paragraph",
    ]);
  });

  it("lets markers and captions stand alone, ending the paragraph before them", () => {
    const essay = importEssay("Opening line.\nbroken\n02\nrest of it\n▲ a photo\nlast。");
    expect(essay.blocks).toStrictEqual([
      { kind: "paragraph", text: "Opening line." },
      { kind: "paragraph", text: "broken" },
      { kind: "section_marker", text: "02" },
      { kind: "paragraph", text: "rest of it" },
      { kind: "caption", text: "▲ a photo" },
      { kind: "paragraph", text: "last。" },
    ]);
  });
});

describe("section markers and captions", () => {
  it.each(["01", "02", "1.", "一、", "壹", "I.", "II", "§ 3", "* * *", "***", "---", "◆", "⁂", "（三）"])(
    "%j is a section marker",
    (line) => {
      expect(isSectionMarker(line)).toBe(true);
      const essay = importEssay(`A sentence.\n\n${line}\n\nAnother sentence.`, { format: "text" });
      expect(essay.blocks[1]).toStrictEqual({ kind: "section_marker", text: line });
    },
  );

  it.each(["2025", "Hello", "I think so", "10%", "一些", "Mix"])("%j is not a section marker", (line) => {
    expect(isSectionMarker(line)).toBe(false);
  });

  it.each([
    "▲ 圖為會議現場",
    "△ 示意圖",
    "圖：讀書會現場",
    "图：读书会现场",
    "図：会場の様子",
    "Figure 3: Costs by year",
    "Fig. 2. A chart",
    "Photo: Jane Doe",
    "(Image: a long table)",
    "（圖片來源：網路）",
  ])("%j is a caption, kept as printed", (line) => {
    expect(isCaption(line)).toBe(true);
    const essay = importEssay(`A sentence.\n${line}\nAnother sentence.`, { format: "text" });
    expect(essay.blocks[1]).toStrictEqual({ kind: "caption", text: line });
  });

  it.each(["Figures show a rise.", "Photography is hard.", "圖書館很大。"])("%j is not a caption", (line) => {
    expect(isCaption(line)).toBe(false);
  });

  it("treats --- as a section marker in text mode too", () => {
    expect(kinds(importEssay("A sentence.\n---\nAnother.", { format: "text" }))).toEqual([
      "paragraph",
      "section_marker",
      "paragraph",
    ]);
  });
});

describe("metadata", () => {
  it("accepts the byline after the date", () => {
    const essay = importEssay("A Title Line\n2025/2/6\nJane Doe\n\nBody text.");
    expect(essay).toMatchObject({ title: "A Title Line", dateline: "2025/2/6", byline: "Jane Doe" });
    expect(essay.blocks).toStrictEqual([{ kind: "paragraph", text: "Body text." }]);
  });

  it.each([
    "2025-02-06 18:31:59",
    "2025/2/6",
    "2025年2月6日",
    "February 6, 2025",
    "6 Feb 2025",
    "Thursday, February 6, 2025",
    "2025-02-06T18:31:59Z",
    "2025年2月6日 星期四",
  ])("%j is a dateline", (line) => {
    expect(isDateline(line)).toBe(true);
  });

  it.each(["2025", "In 2025 we met", "February 2025 was cold"])("%j is not a dateline", (line) => {
    expect(isDateline(line)).toBe(false);
  });

  it("only treats lines at the top as byline or dateline", () => {
    const essay = importEssay("Title\n\nFirst sentence.\n2025-02-06\nJane Doe\n\nMore.");
    expect(essay.byline).toBeNull();
    expect(essay.dateline).toBeNull();
    expect(texts(essay, "paragraph")).toEqual(["First sentence.", "2025-02-06 Jane Doe", "More."]);
  });

  it("does not take a sentence as the title; falls back to the first ~60 code points", () => {
    const first = "This essay starts with a full sentence that is long enough to be clipped somewhere.";
    const essay = importEssay(`${first}\n\nSecond paragraph.`);
    expect(essay.title).toBe(`${Array.from(first).slice(0, 60).join("")}…`);
    expect(codePointLength(essay.title)).toBe(61);
    expect(texts(essay, "paragraph")).toEqual([first, "Second paragraph."]);
  });

  it("falls back to the first heading when there is no title line", () => {
    const essay = importEssay("Opening sentence here.\n\n## The Heading\n\nBody.", { format: "markdown" });
    expect(essay.title).toBe("The Heading");
    expect(essay.blocks[1]).toStrictEqual({ kind: "heading", text: "The Heading", level: 2 });
  });

  it("takes a short question or exclamation as a title, but not a line ending in 。", () => {
    expect(importEssay("Who owns a breakthrough?\n\nBody.").title).toBe("Who owns a breakthrough?");
    expect(importEssay("誰擁有突破？\n正文。").title).toBe("誰擁有突破？");
    expect(importEssay("這是一句話。\n正文。").title).toBe("這是一句話。");
    expect(texts(importEssay("這是一句話。\n正文。"), "paragraph")).toEqual(["這是一句話。", "正文。"]);
  });

  it("lets options.title override the detected title (the title line still leaves the body)", () => {
    const essay = importEssay("Detected Title\nBy Someone\n\nBody.", { title: "  Chosen  title " });
    expect(essay.title).toBe("Chosen title");
    expect(essay.byline).toBe("By Someone");
    expect(essay.blocks).toStrictEqual([{ kind: "paragraph", text: "Body." }]);
    expect(importEssay("Detected Title\n\nBody.", { title: "   " }).title).toBe("Detected Title");
    expect(importEssay("Detected Title\n\nBody.", { title: "Re\u0301sume\u0301" }).title).toBe(
      "R\u00e9sum\u00e9",
    );
  });

  it("uses a Markdown # heading as the title only at the top", () => {
    const top = importEssay("# Top Title\n\nBody text.");
    expect(top.title).toBe("Top Title");
    expect(top.blocks).toStrictEqual([{ kind: "paragraph", text: "Body text." }]);
    const later = importEssay("Plain Title\n\n# A Heading\n\nBody text.", { format: "markdown" });
    expect(later.title).toBe("Plain Title");
    expect(later.blocks[0]).toStrictEqual({ kind: "heading", text: "A Heading", level: 1 });
  });

  it("reads YAML front matter in Markdown", () => {
    const essay = importEssay(
      '---\ntitle: "Front Title"\nauthor: Ada\ndate: 2025-02-06\n---\n\nBody **text**.',
      {
        format: "markdown",
      },
    );
    expect(essay).toMatchObject({ title: "Front Title", byline: "Ada", dateline: "2025-02-06" });
    expect(essay.blocks).toStrictEqual([{ kind: "paragraph", text: "Body text." }]);
  });
});

describe("Markdown", () => {
  const md = (source: string) =>
    importEssay(`Intro sentence.\n\n${source}`, { format: "markdown" }).blocks.slice(1);

  it("reads heading levels 1-6 and strips closing hashes and inline markup", () => {
    expect(md("# One\n## Two ##\n### **Three**\n#### Four\n##### Five\n###### Six\nText.")).toStrictEqual([
      { kind: "heading", text: "One", level: 1 },
      { kind: "heading", text: "Two", level: 2 },
      { kind: "heading", text: "Three", level: 3 },
      { kind: "heading", text: "Four", level: 4 },
      { kind: "heading", text: "Five", level: 5 },
      { kind: "heading", text: "Six", level: 6 },
      { kind: "paragraph", text: "Text." },
    ]);
  });

  it("reads setext headings", () => {
    expect(md("Big\n===\n\nSmall\n---\n\nText.")).toStrictEqual([
      { kind: "heading", text: "Big", level: 1 },
      { kind: "heading", text: "Small", level: 2 },
      { kind: "paragraph", text: "Text." },
    ]);
  });

  it("joins consecutive quote lines; a bare > splits the quote", () => {
    expect(md("> one\n> two\n>\n> three\n\nafter.")).toStrictEqual([
      { kind: "quote", text: "one two" },
      { kind: "quote", text: "three" },
      { kind: "paragraph", text: "after." },
    ]);
    expect(md("> 引用的\n> 中文。")).toStrictEqual([{ kind: "quote", text: "引用的中文。" }]);
  });

  it("reads -, * and 1. list items and joins their continuation lines", () => {
    expect(md("- first\n  item\n* second\n+ third\n1. one\n2) two\n\nText.")).toStrictEqual([
      { kind: "list_item", text: "first item" },
      { kind: "list_item", text: "second" },
      { kind: "list_item", text: "third" },
      { kind: "list_item", text: "1. one" },
      { kind: "list_item", text: "2) two" },
      { kind: "paragraph", text: "Text." },
    ]);
  });

  it("turns images into captions (skipping empty alt) and an italic line after an image into a caption", () => {
    expect(md("![](a.png)\n_Photo by the group_\n\n![Alt text](b.png)\n\n*Italic paragraph.*")).toStrictEqual(
      [
        { kind: "caption", text: "Photo by the group" },
        { kind: "caption", text: "Alt text" },
        { kind: "caption", text: "Italic paragraph." },
      ],
    );
    expect(md("*Just emphasis.*")).toStrictEqual([{ kind: "paragraph", text: "Just emphasis." }]);
  });

  it("turns horizontal rules into section markers", () => {
    expect(md("***\n\n___\n\n* * *\n\nText.")).toStrictEqual([
      { kind: "section_marker", text: "***" },
      { kind: "section_marker", text: "___" },
      { kind: "section_marker", text: "* * *" },
      { kind: "paragraph", text: "Text." },
    ]);
  });

  it("strips **, __, backticks, links and escapes so the reader's text remains", () => {
    expect(stripInlineMarkdown("**bold** and __strong__ and `code` and [a link](https://x.y/z)")).toBe(
      "bold and strong and code and a link",
    );
    expect(
      stripInlineMarkdown("*em* _em_ ~~gone~~ ![pic](p.png) <https://a.b> \\*not em\\* snake_case_name"),
    ).toBe("em em gone pic https://a.b *not em* snake_case_name");
    expect(stripInlineMarkdown("`**literal**` &amp; 5 * 3 * 2")).toBe("**literal** & 5 * 3 * 2");
  });

  it("keeps a fenced code block as one paragraph with its line breaks", () => {
    expect(md("```\nline one\nline two\n```\n\nText.")).toStrictEqual([
      { kind: "paragraph", text: "line one\nline two" },
      { kind: "paragraph", text: "Text." },
    ]);
  });

  it("detects Markdown automatically and leaves plain text alone", () => {
    expect(detectEssayFormat("# Title\n\nText.")).toBe("markdown");
    expect(detectEssayFormat("Text with ![img](a.png).")).toBe("markdown");
    expect(detectEssayFormat("> quoted\n> more")).toBe("markdown");
    expect(detectEssayFormat("- a\n- b")).toBe("markdown");
    expect(detectEssayFormat("Plain text.\n\n#hashtag is not a heading.\n* * *\nMore.")).toBe("text");
    expect(importEssay("# Heading\n\nText.", { format: "text" }).title).toBe("# Heading");
  });
});

describe("normalisation", () => {
  it("composes decomposed characters (NFC) in title and blocks", () => {
    const essay = importEssay("Cafe\u0301 Title\n\nUn re\u0301sume\u0301 de lecture.");
    expect(essay.title).toBe("Caf\u00e9 Title");
    expect(essay.blocks[0]?.text).toBe("Un r\u00e9sum\u00e9 de lecture.");
    expect(essay.blocks[0]?.text.length).toBe(21);
  });

  it("strips the BOM, handles CRLF/CR and tidies whitespace", () => {
    const essay = importEssay(
      "\uFEFFTitle\r\n\r\nA   line\twith\t\tgaps\rcontinued here.\r\n\r\n\u3000\u3000全形縮排的段落。\u3000",
    );
    expect(essay.title).toBe("Title");
    expect(texts(essay, "paragraph")).toEqual(["A line with gaps continued here.", "全形縮排的段落。"]);
  });
});

describe("guessLanguage", () => {
  it.each([
    ["這個國家的學者們說,這是一個關於創新的時代。", "zh-Hant"],
    ["这个国家的学者们说，这是一个关于创新的时代。", "zh-Hans"],
    ["私たちは技術文書を読む会を開いている。", "ja"],
    ["우리는 함께 기술 보고서를 읽었다.", "ko"],
    ["We read a technical report together.", "en"],
    ["12345 !?", null],
    ["中文", null],
  ])("%j → %s", (text, language) => {
    expect(guessLanguage(text)).toBe(language);
  });

  it("lets CJK win over the Latin names inside a Chinese text", () => {
    expect(guessLanguage("DeepSeek與OpenAI的模型對比,Claude 3.5 Sonnet也在其中。")).toBe("zh-Hant");
  });
});

describe("errors", () => {
  it("refuses empty text and whitespace-only text", () => {
    for (const source of ["", "   \n\t\n\u3000\n", "\uFEFF"]) {
      const error = importError(() => importEssay(source));
      expect(error.code).toBe("validation_failed");
      expect(error.details).toEqual({ reason: "empty" });
    }
  });

  it("refuses sources over the size limit, counted in code points", () => {
    const tooLong = "a".repeat(ESSAY_LIMITS.maxSourceChars + 1);
    expect(importError(() => importEssay(tooLong)).details).toEqual({
      reason: "source_too_long",
      limit: 200_000,
      length: 200_001,
    });
    // 150,000 emoji are 300,000 UTF-16 units but only 150,000 code points: within the source limit,
    // over the block limit.
    const emoji = "😀".repeat(150_000);
    expect(importError(() => importEssay(emoji)).details).toMatchObject({
      reason: "block_too_long",
      index: 0,
    });
  });

  it("refuses a block over 10,000 code points and more than 2,000 blocks", () => {
    const block = `Title\n\n${"x".repeat(ESSAY_LIMITS.maxBlockChars + 1)}`;
    expect(importError(() => importEssay(block)).details).toEqual({
      reason: "block_too_long",
      limit: 10_000,
      index: 0,
      length: 10_001,
    });
    const ok = `Title\n\n${"x".repeat(ESSAY_LIMITS.maxBlockChars)}`;
    expect(importEssay(ok).blocks).toHaveLength(1);
    const many = "One sentence.\n".repeat(ESSAY_LIMITS.maxBlocks + 1);
    expect(importError(() => importEssay(many)).details).toEqual({
      reason: "too_many_blocks",
      limit: 2_000,
      blocks: 2_001,
    });
  });

  it("refuses an essay without body text", () => {
    for (const source of ["Just a title", "Title\n\n01\n\n▲ a caption", "# Title\n\n## Heading\n\n---"]) {
      expect(importError(() => importEssay(source)).details).toEqual({ reason: "no_body" });
    }
  });

  it("refuses an unknown format option", () => {
    const options = { format: "html" } as unknown as ImportOptions;
    expect(importError(() => importEssay("Text.", options)).details).toEqual({
      reason: "invalid_option",
      format: "html",
    });
  });

  it("is an Error with a stable name, code and message", () => {
    const error = importError(() => importEssay(""));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("EssayImportError");
    expect(error.message).toBe("The essay is empty.");
  });
});

describe("endsSentence", () => {
  it.each([
    ["end.", true],
    ["「好。」", true],
    ["why?", true],
    ["好！", true],
    ["and so……", true],
    ['the end."', true],
    ["Mr.", false],
    ["e.g.", false],
    ["U.S.", false],
    ["他說:", false],
    ["具體來說：", false],
    ["Claude 3.5", false],
  ])("%j → %s", (line, expected) => {
    expect(endsSentence(line)).toBe(expected);
  });
});

describe("robustness", () => {
  it("stays linear on adversarial Markdown (unclosed emphasis, links, tags and code spans)", () => {
    const started = performance.now();
    for (const unit of ["**a ", "__a ", "~~a ", "[a](b ", "![a](b ", "<br ", "``a ", "[a "]) {
      const source = `Title\n\n${unit.repeat(Math.floor(190_000 / unit.length))}`;
      expect(importError(() => importEssay(source, { format: "markdown" })).details).toMatchObject({
        reason: "block_too_long",
      });
    }
    // Each case took tens of seconds with naive lazy regular expressions.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
