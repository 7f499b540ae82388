/**
 * The essay importer: turns plain text or Markdown into a structured essay (title, byline, dateline,
 * language guess and blocks in reading order). Pure: no I/O, no clock, no randomness.
 *
 * Paragraph layout. Sources come in two layouts and the importer detects which one it has:
 * - "wrapped": paragraphs are separated by blank lines and hard-wrapped inside, so within a run of
 *   non-blank lines every line break is a soft break (the lines are joined);
 * - "lines": one paragraph per line (blank lines optional), occasionally broken mid-sentence; a line
 *   that ends a sentence ends its paragraph, a line that does not is joined with the next.
 * The layout is "wrapped" when blank lines separate body text and most line breaks inside runs of
 * text fall mid-sentence; otherwise it is "lines".
 */
import {
  codePointLength,
  type NormalizedLine,
  normalizeLines,
  sliceCodePoints,
  tidyLine,
} from "./essay.text.ts";

/** What a block of an essay is. */
export type BlockKind = "heading" | "section_marker" | "caption" | "paragraph" | "quote" | "list_item";

/** One block of an imported essay, as a reader sees it (NFC, Markdown syntax removed). */
export interface ImportedBlock {
  kind: BlockKind;
  text: string;
  /** Heading level 1-6; only present on headings. */
  level?: number;
}

/** The languages the importer can guess (BCP 47 tags). */
export type EssayLanguage = "zh-Hant" | "zh-Hans" | "ja" | "ko" | "en";

/** The source format of an essay. */
export type EssayFormat = "text" | "markdown";

/** The result of `importEssay`. */
export interface ImportedEssay {
  title: string;
  byline: string | null;
  dateline: string | null;
  /** A guess from the script of the text; null when it cannot tell. */
  language: EssayLanguage | null;
  format: EssayFormat;
  /** In reading order; title, byline and dateline are not included. */
  blocks: ImportedBlock[];
}

/** Options of `importEssay`. */
export interface ImportOptions {
  /** Source format; "auto" (the default) detects Markdown from its syntax. */
  format?: EssayFormat | "auto";
  /** Overrides the detected title (ignored when blank). */
  title?: string;
}

/** Size limits of an import, in code points (characters) and blocks. */
export const ESSAY_LIMITS = Object.freeze({
  maxSourceChars: 200_000,
  maxBlocks: 2_000,
  maxBlockChars: 10_000,
} as const);

/** Why an import was refused (the `reason` in `EssayImportError.details`). */
export type EssayImportFailure =
  | "not_text"
  | "invalid_option"
  | "empty"
  | "source_too_long"
  | "too_many_blocks"
  | "block_too_long"
  | "no_body";

/** Thrown by `importEssay` for input it cannot import; `details.reason` says why. */
export class EssayImportError extends Error {
  override name = "EssayImportError";
  readonly code = "validation_failed" as const;
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Character classes

const HAN = /\p{Script=Han}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}\u30FC]/u;
const HANGUL = /\p{Script=Hangul}/u;
/** CJK punctuation, full-width forms (incl. 「」『』，。：) and CJK compatibility/vertical forms. */
const CJK_PUNCTUATION = /[\u3000-\u303F\u30FB\uFE10-\uFE1F\uFE30-\uFE4F\uFF00-\uFFEF]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

type JoinClass = "hangul" | "cjk" | "word" | "neutral";

function joinClass(ch: string): JoinClass {
  if (HANGUL.test(ch)) return "hangul";
  if (HAN.test(ch) || KANA.test(ch) || CJK_PUNCTUATION.test(ch)) return "cjk";
  if (LETTER_OR_DIGIT.test(ch)) return "word";
  return "neutral";
}

/** The class of the nearest non-neutral character at one end of `s` (looking at most 32 code points in). */
function edgeClass(s: string, fromEnd: boolean): JoinClass {
  const chars = Array.from(fromEnd ? s.slice(-32) : s.slice(0, 32));
  if (fromEnd) chars.reverse();
  for (const ch of chars) {
    const cls = joinClass(ch);
    if (cls !== "neutral") return cls;
  }
  return "neutral";
}

function lastChar(s: string): string {
  const tail = Array.from(s.slice(-2));
  return tail[tail.length - 1] ?? "";
}

function firstChar(s: string): string {
  return Array.from(s.slice(0, 2))[0] ?? "";
}

/**
 * What goes between two lines that are joined into one paragraph: nothing when the join involves
 * CJK (Han, kana, CJK punctuation), one space for Latin/digit on both sides and for Hangul (Korean
 * separates words with spaces). Punctuation and symbols at the join are looked through, so `的,` +
 * `DeepSeek` joins without a space while `word,` + `next` gets one.
 */
function joinSeparator(left: string, right: string): string {
  const l = lastChar(left);
  const r = firstChar(right);
  if (CJK_PUNCTUATION.test(l) || CJK_PUNCTUATION.test(r)) return "";
  if (l === "\u2014" || r === "\u2014") return "";
  const a = edgeClass(left, true);
  const b = edgeClass(right, false);
  if (a === "hangul" || b === "hangul") return " ";
  if (a === "cjk" || b === "cjk") return "";
  return " ";
}

const HYPHENATED_END = /(?:^|[^\p{L}\p{N}\-\u00AD])\p{Ll}+-$/u;
const LOWERCASE_START = /^\p{Ll}/u;

/**
 * Joins lines into one paragraph with the joining rules (see `joinSeparator`). A line ending in a
 * hyphen after a lowercase word, followed by a lowercase line, is a hyphenated word (`infor-` +
 * `mation`): the hyphen goes. Any other hyphen after a letter or digit stays, without a space.
 */
function joinLines(lines: readonly string[]): string {
  let out = "";
  let previous = "";
  for (const line of lines) {
    if (line === "") continue;
    if (out === "") {
      out = line;
    } else if (HYPHENATED_END.test(previous.slice(-64)) && LOWERCASE_START.test(line)) {
      out = out.slice(0, -1) + line;
    } else if (/[\p{L}\p{N}]-$/u.test(previous)) {
      // A compound or range split at its hyphen (`GPT-` + `4o`, `self-` + `Evident`): keep the hyphen.
      out += line;
    } else {
      out += joinSeparator(previous, line) + line;
    }
    previous = line;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sentence ends

const CLOSERS = /[」』”’"')）\]】》〉〕｣»›]+$/u;
const TERMINATORS = new Set(["。", "．", "！", "？", "!", "?", "…", "⋯", "｡", "‼", "⁇", "⁈", "⁉"]);
const ABBREVIATIONS = new Set([
  "mr.",
  "mrs.",
  "ms.",
  "dr.",
  "prof.",
  "sr.",
  "jr.",
  "st.",
  "mt.",
  "vs.",
  "e.g.",
  "i.e.",
  "cf.",
  "al.",
  "no.",
  "nos.",
  "vol.",
  "pp.",
  "p.",
  "fig.",
  "figs.",
  "approx.",
  "ca.",
  "gen.",
  "col.",
  "lt.",
  "sgt.",
  "rev.",
  "hon.",
  "ed.",
  "eds.",
]);

/** Whether the `.` that ends `text` belongs to an initial (`J.`, `U.S.`) or a known abbreviation. */
function isAbbreviationEnd(text: string): boolean {
  const token = (text.split(/\s/).pop() ?? "").replace(/^[(["'“‘「『（]+/u, "");
  if (/(?:^|[^\p{L}])\p{Lu}\.$/u.test(token)) return true;
  return ABBREVIATIONS.has(token.toLowerCase());
}

/**
 * Whether a line ends a sentence: `。．！？!?`, an ellipsis, or `.` (but not after an initial or a
 * known abbreviation such as `Mr.` or `e.g.`), optionally followed by closing quotes or brackets.
 * A colon does not end a sentence.
 */
export function endsSentence(line: string): boolean {
  // Only the end of the line matters (and looking at the tail keeps long lines linear).
  const text = line.slice(-64).replace(CLOSERS, "");
  const last = lastChar(text);
  if (TERMINATORS.has(last)) return true;
  if (last === ".") return !isAbbreviationEnd(text);
  return false;
}

/** A CJK line ending in a double dash (`——`) is a deliberate break, like an ellipsis. */
function endsWithPauseDash(line: string): boolean {
  return /(?:——|――|──)$/u.test(line.slice(-64).replace(CLOSERS, ""));
}

/** A line that opens an enumerated point: `一,`, `二、`, `第三，`, `（四）`, `5、`, `①` … followed by text. */
const ENUMERATION_START =
  /^(?:[一二三四五六七八九十]{1,3}[、,，．.]|第[一二三四五六七八九十百0-9]{1,3}[、,，]|[(（][一二三四五六七八九十0-9]{1,3}[)）]|[0-9]{1,2}[、．)]|[0-9]{1,2}\.(?=\s|[^0-9])|[\u2460-\u2473])\s*\S/u;

// ---------------------------------------------------------------------------------------------
// Line classification shared by both formats

const SECTION_MARKER_PATTERNS: readonly RegExp[] = [
  /^[0-9０-９]{1,3}[.)、．]?$/u,
  /^[一二三四五六七八九十〇零百]{1,4}[、.．]?$/u,
  /^[壹贰貳叁參肆伍陆陸柒捌玖拾]{1,3}[、.．]?$/u,
  /^[(（][一二三四五六七八九十0-9]{1,3}[)）]$/u,
  /^第[一二三四五六七八九十百零〇0-9０-９]{1,4}(?:章|节|節|部分|部|回|篇|卷|幕)$/u,
  /^(?=[IVXLC])C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})[.)]?$/u,
  /^[\u2160-\u217F][.)]?$/u,
  /^§\s?(?:[0-9]{1,3}|[IVXLC]{1,6})?\.?$/u,
  // Ornaments: one or more of a dingbat, or three or more ASCII rule characters.
  /^([◆◇◈■□●○◎★☆※⁂❖✦✧✱＊＃＝～•·])(?:\s*\1)*$/u,
  /^([*\-_=~#])(?:\s*\1){2,}$/u,
  /^([—─━])\1+$/u,
];

/** Whether a (tidied) line is only a section marker: `01`, `1.`, `一、`, `壹`, `II`, `§ 3`, `* * *`, `◆`… */
export function isSectionMarker(line: string): boolean {
  return SECTION_MARKER_PATTERNS.some((pattern) => pattern.test(line));
}

const CAPTION_PATTERNS: readonly RegExp[] = [
  /^[▲△]/u,
  /^[圖图図](?:片|表)?\s*[0-9０-９一二三四五六七八九十]*\s*[：:]/u,
  /^(?:圖片|图片|圖|图)(?:來源|来源|說明|说明|提供)\s*[：:]/u,
  /^(?:写真|画像)\s*[0-9０-９]*\s*[：:]/u,
  /^사진\s*[:：=]/u,
  /^(?:Figure|FIGURE|Fig\.?|FIG\.?)\s*(?:[0-9]+[A-Za-z]?)?\s*[:.：–—-]\s*\S/u,
  /^(?:Photo|Photograph|Image|Illustration|Picture|Pictured)s?(?:\s*[0-9]+)?\s*[:：]\s*\S/iu,
  /^[(（](?:Image|Photo|Photograph|Picture|Illustration|Figure|Fig\.|圖片|图片|圖|图|図|写真|사진)[^)）]*[)）]$/iu,
];

/** Whether a (tidied) line is a caption: `▲…`, `圖：…`, `Figure 2: …`, `Photo: …`, `(Image: …)`… */
export function isCaption(line: string): boolean {
  return CAPTION_PATTERNS.some((pattern) => pattern.test(line));
}

/** Plain-text bullets: `• item`, `- item`, `* item`, `・item`… */
const TEXT_BULLET = /^(?:[•●▪◦‣・](?:\s*)|[-*+]\s+)(?=\S)/u;

// ---------------------------------------------------------------------------------------------
// Datelines and bylines

const D = "[0-9０-９]";
const MONTH =
  "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?";
const ORDINAL = "(?:st|nd|rd|th)?";
const DATE_ALTERNATIVES = [
  `${D}{4}[-/.／．]${D}{1,2}[-/.／．]${D}{1,2}`,
  `${D}{4}\\.\\s*${D}{1,2}\\.\\s*${D}{1,2}\\.?`,
  `${D}{1,2}/${D}{1,2}/${D}{4}`,
  `${D}{4}\\s*年\\s*${D}{1,2}\\s*月\\s*${D}{1,2}\\s*[日号號]`,
  "[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}[日号號]",
  `${D}{4}\\s*년\\s*${D}{1,2}\\s*월\\s*${D}{1,2}\\s*일`,
  `${MONTH}\\s+${D}{1,2}${ORDINAL},?\\s+${D}{4}`,
  `${D}{1,2}${ORDINAL}\\s+(?:of\\s+)?${MONTH},?\\s+${D}{4}`,
].join("|");
const DATE_LABEL =
  "(?:(?:Published|Posted|Updated|Dated?)(?:\\s+on)?\\s*[:：]?\\s*|(?:發布|发布|發表|发表|更新|出版|刊登)?(?:時間|时间|日期)\\s*[:：]?\\s*|(?:公開日|投稿日|更新日|게시일|작성일)\\s*[:：]?\\s*)?";
const WEEKDAY_BEFORE = "(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\\.?,?\\s+)?";
const WEEKDAY_AFTER =
  "(?:\\s*[（(]?(?:星期|週|周|禮拜|礼拜)[一二三四五六日天][）)]?|\\s*[（(][月火水木金土日](?:曜日?)?[）)]|\\s*[月火水木金土日]曜日|\\s*[（(]?[월화수목금토일]요일[）)]?|\\s*\\([월화수목금토일]\\))?";
const TIME = `(?:,?\\s*(?:T|at\\s+|(?:上午|下午|晚上|早上|午前|午後|오전|오후)\\s*)?${D}{1,2}[:：]${D}{2}(?:[:：]${D}{2}(?:\\.[0-9]+)?)?(?:\\s*[AaPp]\\.?[Mm]\\.?)?|\\s*(?:上午|下午|晚上|早上|午前|午後|오전|오후)?\\s*${D}{1,2}\\s*[時时点點시]\\s*(?:${D}{1,2}\\s*[分분])?)?`;
const ZONE = `(?:\\s*(?:Z|(?:UTC|GMT)?\\s?[+-]${D}{1,2}(?::?${D}{2})?|UTC|GMT|[A-Z]{2,4}T|\\((?:UTC|GMT)[+-]${D}{1,2}(?::?${D}{2})?\\)))?`;
const DATELINE = new RegExp(
  `^${DATE_LABEL}${WEEKDAY_BEFORE}(?:${DATE_ALTERNATIVES})${WEEKDAY_AFTER}${TIME}${ZONE}$`,
  "iu",
);

/**
 * Whether a (tidied) line is a dateline: `2025-02-06 18:31:59`, `2025/2/6`, `2025年2月6日`,
 * `February 6, 2025`, `6 Feb 2025`, optionally with a label (`Published:`), weekday, time and zone.
 */
export function isDateline(line: string): boolean {
  return DATELINE.test(line);
}

const SENTENCE_MARKS = /[。．！？!?｡]/u;

/** A byline by its shape: short (≤ 40 code points), no sentence terminator, not a marker/caption/date. */
function isBylineCandidate(line: string): boolean {
  return (
    line !== "" &&
    codePointLength(line) <= 40 &&
    !SENTENCE_MARKS.test(line) &&
    !endsSentence(line) &&
    !isSectionMarker(line) &&
    !isCaption(line) &&
    !isDateline(line)
  );
}

/** A byline by its wording: `By …`, `文／…`, `作者：…`, `記者…`, `… 기자`… */
const EXPLICIT_BYLINE =
  /^(?:(?:written\s+|text\s+|words\s+)?by\s+\S|(?:文|撰文|作者|記者|记者|編輯|编辑|譯|译|翻譯|翻译|整理|口述|著者|筆者|筆|글|기자|작성자)\s*[／/|｜:：]|[—–-]\s*\S)|\s기자$/iu;

function isExplicitByline(line: string): boolean {
  return isBylineCandidate(line) && EXPLICIT_BYLINE.test(line);
}

/** A title: at most 120 code points, not ending a sentence (a question or exclamation is fine). */
function isTitleLike(line: string): boolean {
  if (line === "" || codePointLength(line) > 120) return false;
  if (isSectionMarker(line) || isCaption(line) || isDateline(line)) return false;
  if (!endsSentence(line)) return true;
  return /[?？!！][」』”’"')）】》]*$/u.test(line);
}

// ---------------------------------------------------------------------------------------------
// Markdown syntax

const MD_FENCE = /^(`{3,}|~{3,})/;
const MD_ATX = /^(#{1,6})(?:\s+(.*?))?(?:\s+#+)?$/;
const MD_HR = /^([-*_])(?:\s*\1){2,}$/;
const MD_QUOTE = /^>/;
const MD_BULLET = /^[-*+]\s+(?=\S)/;
const MD_ORDERED = /^([0-9]{1,9})([.)])\s+(?=\S)/;
const MD_IMAGE_LINE = /^\[?!\[((?:[^\]\\]|\\.)*)\]\([^)]*\)(?:\]\([^)]*\))?$/;
const MD_ITALIC_LINE = /^(\*|_)(?![*_\s])(.*\S)\1$/;
const MD_LINK_DEFINITION = /^\[[^\]]+\]:\s*\S/;
const MD_COMMENT = /^<!--.*-->$/;
const MD_SETEXT_H1 = /^=+$/;
const MD_SETEXT_H2 = /^-+$/;

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00A0",
  mdash: "\u2014",
  ndash: "\u2013",
  hellip: "\u2026",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z]{1,32});/gi, (whole, name: string) => {
    if (name.startsWith("#")) {
      const code =
        name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : whole;
    }
    return HTML_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

// Inline patterns are bounded and exclude their own delimiters, so no line can make them quadratic.
const LINK_URL = "(?:[^()\\s]|\\([^()\\s]{0,200}\\)){0,2048}";
const LINK_TITLE = `(?:\\s+(?:"[^"]{0,500}"|'[^']{0,500}'|\\([^()]{0,500}\\)))?`;
const LINK_TARGET = `\\(\\s?<?${LINK_URL}>?${LINK_TITLE}\\s?\\)`;
const MD_INLINE_IMAGE = new RegExp(`!\\[([^\\[\\]]{0,1000})\\]${LINK_TARGET}`, "g");
const MD_INLINE_LINK = new RegExp(`\\[([^\\[\\]]{1,1000})\\]${LINK_TARGET}`, "g");
const MD_REFERENCE_LINK = /\[([^[\]]{1,1000})\]\[[^[\]]{0,1000}\]/g;
const MD_AUTOLINK = /<((?:https?|mailto|ftp):[^<>\s]{1,2048})>/gi;
const HTML_INLINE_TAG =
  /<\/?(?:br|em|strong|i|b|u|s|sup|sub|span|mark|small|kbd|code|abbr|cite|q|del|ins)\b[^<>]{0,500}>/gi;

const SPACE_OR_EDGE = /^\s?$/u;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

/**
 * Removes paired `delimiter`s around non-empty content whose first and last characters are not
 * spaces (`**bold**`, `__strong__`, `~~struck~~`), pairing each opener with the nearest closer like
 * a lazy regular expression would, in linear time. With `wordBounded`, an opener may not follow a
 * word character and a closer may not precede one (so `snake__case__name` stays).
 */
function stripDelimiterPairs(text: string, delimiter: string, wordBounded: boolean): string {
  const size = delimiter.length;
  const cuts: number[] = [];
  let open = -1;
  for (let at = text.indexOf(delimiter); at !== -1; at = text.indexOf(delimiter, at + size)) {
    const before = text.charAt(at - 1);
    const after = text.charAt(at + size);
    if (
      open !== -1 &&
      at > open + size &&
      !SPACE_OR_EDGE.test(before) &&
      !(wordBounded && WORD_CHAR.test(after))
    ) {
      cuts.push(open, at);
      open = -1;
    } else if (open === -1 && !SPACE_OR_EDGE.test(after) && !(wordBounded && WORD_CHAR.test(before))) {
      open = at;
    }
  }
  if (cuts.length === 0) return text;
  let out = "";
  let from = 0;
  for (const cut of cuts) {
    out += text.slice(from, cut);
    from = cut + size;
  }
  return out + text.slice(from);
}

/**
 * Removes inline Markdown a reader does not see: `**`/`__`/`*`/`_`/`~~` emphasis, code backticks,
 * `[text](url)` and `[text][ref]` links (the text stays), inline images (the alt text stays),
 * `<url>` autolinks, simple inline HTML tags, backslash escapes and HTML entities.
 */
export function stripInlineMarkdown(text: string): string {
  const held: string[] = [];
  const hold = (literal: string): string => {
    held.push(literal);
    return `\uE000${held.length - 1}\uE001`;
  };
  let out = text.replace(/\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, (_, ch: string) => hold(ch));
  out = out.replace(/(`+)([^`]|[^`].{0,998}?[^`])\1(?!`)/g, (_, _ticks: string, code: string) =>
    hold(/^ .* $/.test(code) && code.trim() !== "" ? code.slice(1, -1) : code),
  );
  out = out.replace(MD_INLINE_IMAGE, "$1");
  out = out.replace(MD_INLINE_LINK, "$1");
  out = out.replace(MD_REFERENCE_LINK, "$1");
  out = out.replace(MD_AUTOLINK, "$1");
  out = out.replace(HTML_INLINE_TAG, "");
  out = stripDelimiterPairs(out, "**", false);
  out = stripDelimiterPairs(out, "__", true);
  out = stripDelimiterPairs(out, "~~", false);
  out = out.replace(/\*(?=[^\s*])([^*]*?[^\s*])\*/g, "$1");
  out = out.replace(/(^|[^\p{L}\p{N}_])_(?=[^\s_])([^_]*?[^\s_])_(?![\p{L}\p{N}_])/gu, "$1$2");
  out = out.replace(/\*\*|__/g, "");
  out = decodeEntities(out);
  out = out.replace(/\uE000([0-9]+)\uE001/g, (_, index: string) => held[Number(index)] ?? "");
  return tidyLine(out);
}

/** Whether a Markdown line (tidied) starts a block of its own rather than continuing a paragraph. */
function isMarkdownStructural(line: string): boolean {
  return (
    MD_FENCE.test(line) ||
    (MD_ATX.test(line) && line.replace(/^#+/, "").trim() !== "") ||
    MD_HR.test(line) ||
    MD_QUOTE.test(line) ||
    MD_BULLET.test(line) ||
    MD_ORDERED.test(line) ||
    MD_IMAGE_LINE.test(line)
  );
}

/**
 * Guesses the format of a source: Markdown when it has `#` headings, images, links or code fences,
 * or at least two quote/list lines (or `**bold**`); plain text otherwise.
 */
export function detectEssayFormat(source: string): EssayFormat {
  return detectFormat(normalizeLines(source));
}

function detectFormat(lines: readonly NormalizedLine[]): EssayFormat {
  let weak = 0;
  for (const { text } of lines) {
    if (text === "") continue;
    if (/^#{1,6}\s+\S/.test(text) || MD_FENCE.test(text)) return "markdown";
    if (/!?\[[^[\]]{0,1000}\]\([^()\s]{1,2048}/.test(text)) return "markdown";
    if (MD_HR.test(text)) continue;
    if (MD_QUOTE.test(text) || MD_BULLET.test(text) || MD_ORDERED.test(text)) weak++;
    if (/\*\*[^\s*][^*]{0,1000}\*\*/.test(text)) weak++;
    if (weak >= 2) return "markdown";
  }
  return "text";
}

// ---------------------------------------------------------------------------------------------
// Parsing into segments

type Segment =
  | { type: "para"; lines: string[] }
  | { type: "block"; block: ImportedBlock }
  | { type: "blank" };

function block(kind: BlockKind, text: string): Segment {
  return { type: "block", block: { kind, text } };
}

/** Plain text: section markers, captions and bullets stand alone; everything else is paragraph text. */
function parseText(lines: readonly NormalizedLine[]): Segment[] {
  const out: Segment[] = [];
  let para: string[] = [];
  const flush = (): void => {
    if (para.length > 0) out.push({ type: "para", lines: para });
    para = [];
  };
  for (const { text } of lines) {
    if (text === "") {
      flush();
      out.push({ type: "blank" });
    } else if (isSectionMarker(text)) {
      flush();
      out.push(block("section_marker", text));
    } else if (isCaption(text)) {
      flush();
      out.push(block("caption", text));
    } else if (TEXT_BULLET.test(text)) {
      flush();
      out.push(block("list_item", text.replace(TEXT_BULLET, "")));
    } else {
      para.push(text);
    }
  }
  flush();
  return out;
}

/** Markdown: headings, rules, quotes, lists, images (+ italic captions), fences, then paragraph text. */
function parseMarkdown(lines: readonly NormalizedLine[]): Segment[] {
  const out: Segment[] = [];
  let para: string[] = [];
  let quote: string[] | null = null;
  let item: string[] | null = null;
  let fence: { marker: string; lines: string[] } | null = null;
  let lastNonBlank = -1;
  let lastImage = -2;

  const flushPara = (): void => {
    if (para.length > 0) out.push({ type: "para", lines: para });
    para = [];
  };
  const flushQuote = (): void => {
    const text = quote ? joinLines(quote) : "";
    if (text !== "") out.push(block("quote", text));
    quote = null;
  };
  const flushItem = (): void => {
    const text = item ? joinLines(item) : "";
    if (text !== "") out.push(block("list_item", text));
    item = null;
  };
  const flushAll = (): void => {
    flushPara();
    flushQuote();
    flushItem();
  };

  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]?.text ?? "";
    if (fence) {
      if (text.startsWith(fence.marker) && text.replace(/[`~]/g, "") === "") {
        const code = fence.lines.join("\n").trim();
        if (code !== "") out.push(block("paragraph", code));
        fence = null;
      } else {
        fence.lines.push(text);
      }
      continue;
    }
    if (text === "") {
      flushAll();
      out.push({ type: "blank" });
      continue;
    }
    const previousNonBlank = lastNonBlank;
    lastNonBlank = index;
    const fenceMatch = MD_FENCE.exec(text);
    if (fenceMatch) {
      flushAll();
      fence = { marker: fenceMatch[1] ?? "```", lines: [] };
      continue;
    }
    if (MD_COMMENT.test(text) || MD_LINK_DEFINITION.test(text)) continue;
    const atx = MD_ATX.exec(text);
    const atxText = atx ? stripInlineMarkdown(atx[2] ?? "") : "";
    if (atx && atxText !== "") {
      flushAll();
      out.push({ type: "block", block: { kind: "heading", text: atxText, level: atx[1]?.length ?? 1 } });
      continue;
    }
    if (para.length > 0 && (MD_SETEXT_H1.test(text) || (MD_SETEXT_H2.test(text) && text.length >= 2))) {
      const heading = joinLines(para);
      para = [];
      out.push({
        type: "block",
        block: { kind: "heading", text: heading, level: text.startsWith("=") ? 1 : 2 },
      });
      continue;
    }
    if (MD_HR.test(text)) {
      flushAll();
      out.push(block("section_marker", text));
      continue;
    }
    if (MD_QUOTE.test(text)) {
      flushPara();
      flushItem();
      const content = stripInlineMarkdown(text.replace(/^(?:>\s?)+/, ""));
      if (content === "") flushQuote();
      else {
        quote ??= [];
        quote.push(content);
      }
      continue;
    }
    const ordered = MD_ORDERED.exec(text);
    if (ordered || MD_BULLET.test(text)) {
      flushAll();
      // Bullets are presentation; ordinals are content a reader sees, so they stay.
      const content = ordered
        ? `${ordered[1]}${ordered[2]} ${text.replace(MD_ORDERED, "")}`
        : text.replace(MD_BULLET, "");
      item = [stripInlineMarkdown(content)];
      continue;
    }
    const image = MD_IMAGE_LINE.exec(text);
    if (image) {
      flushAll();
      const alt = stripInlineMarkdown(image[1] ?? "");
      if (alt !== "") out.push(block("caption", alt));
      lastImage = index;
      continue;
    }
    const stripped = stripInlineMarkdown(text.replace(/\\$/, ""));
    if (stripped === "") continue;
    if (MD_ITALIC_LINE.test(text) && previousNonBlank === lastImage) {
      flushAll();
      out.push(block("caption", stripped));
      continue;
    }
    if (isSectionMarker(stripped) || isCaption(stripped)) {
      flushAll();
      out.push(block(isSectionMarker(stripped) ? "section_marker" : "caption", stripped));
      continue;
    }
    if (quote) quote.push(stripped);
    else if (item) item.push(stripped);
    else para.push(stripped);
  }
  if (fence) {
    const code = fence.lines.join("\n").trim();
    if (code !== "") out.push(block("paragraph", code));
  }
  flushAll();
  return out;
}

function parse(lines: readonly NormalizedLine[], format: EssayFormat): Segment[] {
  return format === "markdown" ? parseMarkdown(lines) : parseText(lines);
}

type Layout = "wrapped" | "lines";

/** Detects the paragraph layout (see the module comment). */
function detectLayout(segments: readonly Segment[]): Layout {
  let soft = 0;
  let hard = 0;
  let paraSeen = false;
  let blankAfterPara = false;
  let blankSeparated = false;
  for (const segment of segments) {
    if (segment.type === "blank") {
      if (paraSeen) blankAfterPara = true;
    } else if (segment.type === "para") {
      if (blankAfterPara) blankSeparated = true;
      paraSeen = true;
      for (let i = 0; i < segment.lines.length - 1; i++) {
        if (endsSentence(segment.lines[i] ?? "")) hard++;
        else soft++;
      }
    }
  }
  return blankSeparated && soft > hard ? "wrapped" : "lines";
}

/** Splits a run of text lines into paragraphs according to the layout. */
function paragraphsOf(lines: readonly string[], layout: Layout): string[] {
  if (layout === "wrapped") return [joinLines(lines)];
  const out: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    const previous = current[current.length - 1];
    if (
      previous !== undefined &&
      (endsSentence(previous) || endsWithPauseDash(previous) || ENUMERATION_START.test(line))
    ) {
      out.push(joinLines(current));
      current = [];
    }
    current.push(line);
  }
  if (current.length > 0) out.push(joinLines(current));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Metadata (title, byline, dateline)

interface Metadata {
  title: string | null;
  byline: string | null;
  dateline: string | null;
  /** Indexes of the lines the metadata came from (left out of the blocks). */
  consumed: Set<number>;
}

/** The text of a line as metadata, or null when the line is structural (Markdown) or blank. */
function metaText(line: NormalizedLine | undefined, format: EssayFormat): string | null {
  if (!line || line.text === "") return null;
  if (format === "markdown") {
    if (isMarkdownStructural(line.text)) return null;
    return stripInlineMarkdown(line.text);
  }
  return line.text;
}

function clip(text: string, max: number): string {
  return codePointLength(text) <= max ? text : `${sliceCodePoints(text, 0, max - 1).trimEnd()}…`;
}

/** Reads `title`, `author`/`byline` and `date` from a YAML front matter block at the very top. */
function readFrontMatter(lines: readonly NormalizedLine[], meta: Metadata): number {
  if (lines[0]?.text !== "---") return 0;
  const end = lines.findIndex(
    (line, index) => index > 0 && index <= 60 && (line.text === "---" || line.text === "..."),
  );
  if (end < 0) return 0;
  const body = lines.slice(1, end);
  if (!body.every((line) => line.text === "" || /^[\w-]+\s*:/.test(line.text) || /^-\s/.test(line.text)))
    return 0;
  const value = (...keys: string[]): string | null => {
    for (const line of body) {
      const match = /^([\w-]+)\s*:\s*(.*)$/.exec(line.text);
      if (match && keys.includes((match[1] ?? "").toLowerCase())) {
        const raw = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2").trim();
        if (raw !== "") return raw;
      }
    }
    return null;
  };
  meta.title = value("title");
  meta.byline = value("author", "byline", "authors");
  meta.dateline = value("date", "published", "dateline");
  for (let i = 0; i <= end; i++) meta.consumed.add(i);
  return end + 1;
}

function extractMetadata(lines: readonly NormalizedLine[], format: EssayFormat, layout: Layout): Metadata {
  const meta: Metadata = { title: null, byline: null, dateline: null, consumed: new Set() };
  let start = format === "markdown" ? readFrontMatter(lines, meta) : 0;
  const fromFrontMatter = meta.title !== null;
  while (start < lines.length && lines[start]?.text === "") start++;
  const first = lines[start];
  if (!first) return meta;

  // Title
  let next: number;
  const atx = format === "markdown" ? /^#\s+(.*?)(?:\s+#+)?$/.exec(first.text) : null;
  const setext = format === "markdown" && MD_SETEXT_H1.test(lines[start + 1]?.text ?? "");
  if (atx || setext) {
    const heading = stripInlineMarkdown(atx ? (atx[1] ?? "") : first.text);
    if (heading === "" || (fromFrontMatter && heading !== meta.title)) return meta;
    meta.title = heading;
    meta.consumed.add(start);
    if (setext) meta.consumed.add(start + 1);
    next = start + (setext ? 2 : 1);
  } else {
    if (fromFrontMatter) return meta;
    const text = metaText(first, format);
    if (text === null || !isTitleLike(text)) return meta;
    const following = lines[start + 1];
    const followingText = metaText(following, format);
    const accept =
      following === undefined ||
      following.text === "" ||
      followingText === null ||
      isDateline(followingText) ||
      isBylineCandidate(followingText) ||
      isSectionMarker(followingText) ||
      isCaption(followingText) ||
      (layout === "lines" && !LOWERCASE_START.test(followingText));
    if (!accept) return meta;
    meta.title = text;
    meta.consumed.add(start);
    next = start + 1;
  }
  if (fromFrontMatter && (meta.byline !== null || meta.dateline !== null)) return meta;

  // Byline and dateline: either the lines right under the title, or a run of its own after a blank.
  const take = (index: number, text: string): boolean => {
    if (meta.dateline === null && isDateline(text)) meta.dateline = text;
    else if (meta.byline === null && isBylineCandidate(text)) meta.byline = text;
    else return false;
    meta.consumed.add(index);
    return true;
  };
  if (lines[next] !== undefined && lines[next]?.text !== "") {
    for (let index = next; index < next + 2; index++) {
      const text = metaText(lines[index], format);
      if (text === null || !take(index, text)) break;
    }
    return meta;
  }
  // Runs of their own after a blank line: taken only when every line in them is metadata.
  let cursor = next;
  while (meta.byline === null || meta.dateline === null) {
    let runStart = cursor;
    while (runStart < lines.length && lines[runStart]?.text === "") runStart++;
    let runEnd = runStart;
    while (runEnd < lines.length && lines[runEnd]?.text !== "") runEnd++;
    if (runStart >= runEnd || runEnd - runStart > 2) break;
    const run: string[] = [];
    for (let index = runStart; index < runEnd; index++) {
      const text = metaText(lines[index], format);
      if (text === null) return meta;
      run.push(text);
    }
    const dates = run.filter((text) => isDateline(text)).length;
    const fits =
      dates <= (meta.dateline === null ? 1 : 0) && run.length - dates <= (meta.byline === null ? 1 : 0);
    const explicit = run.every((text) => isDateline(text) || isExplicitByline(text));
    const pair =
      run.length === 2 && dates === 1 && run.every((text) => isDateline(text) || isBylineCandidate(text));
    if (!fits || !(explicit || pair)) break;
    run.forEach((text, offset) => {
      take(runStart + offset, text);
    });
    cursor = runEnd;
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Language

/** Characters that differ between Traditional and Simplified Chinese, as (traditional, simplified) pairs. */
const HANZI_PAIRS =
  "這这個个來来們们說说國国會会為为時时與与後后對对發发開开關关產产學学體体點点經经創创還还進进過过種种將将從从於于" +
  "無无長长見见現现實实讓让動动機机問问題题義义業业論论應应麼么樣样當当頭头電电話话語语讀读書书網网資资數数據据華华" +
  "東东間间區区圖图術术變变歷历議议記记車车門门領领導导權权價价錢钱聽听寫写認认識识覺觉氣气總总結结構构獨独運运類类" +
  "師师環环處处親亲愛爱歲岁廣广戰战萬万億亿響响嗎吗麗丽幾几層层態态樂乐雙双軟软邊边選选擇择則则專专傳传統统團团隊队" +
  "際际嚴严滿满陽阳陰阴雲云飛飞馬马魚鱼鳥鸟龍龙龜龟";
const TRADITIONAL_ONLY = new Set<string>();
const SIMPLIFIED_ONLY = new Set<string>();
for (const [index, ch] of Array.from(HANZI_PAIRS).entries()) {
  (index % 2 === 0 ? TRADITIONAL_ONLY : SIMPLIFIED_ONLY).add(ch);
}

/**
 * Guesses the language of a text from its scripts: kana → `ja`, Hangul → `ko`, Han → `zh-Hant` or
 * `zh-Hans` (from characters that differ between the two; null when none tell them apart), Latin →
 * `en`. CJK wins over Latin when it makes up at least a quarter of the letters.
 */
export function guessLanguage(text: string): EssayLanguage | null {
  let han = 0;
  let kana = 0;
  let hangul = 0;
  let latin = 0;
  let traditional = 0;
  let simplified = 0;
  for (const ch of text) {
    if (HAN.test(ch)) {
      han++;
      if (TRADITIONAL_ONLY.has(ch)) traditional++;
      else if (SIMPLIFIED_ONLY.has(ch)) simplified++;
    } else if (KANA.test(ch)) kana++;
    else if (HANGUL.test(ch)) hangul++;
    else if (/\p{Script=Latin}/u.test(ch)) latin++;
  }
  const cjk = han + kana + hangul;
  if (cjk > 0 && cjk * 3 >= latin) {
    if (hangul > 0 && hangul >= kana && hangul * 2 >= han) return "ko";
    if (kana > 0 && kana * 10 >= han + kana) return "ja";
    if (traditional > simplified) return "zh-Hant";
    if (simplified > traditional) return "zh-Hans";
    return null;
  }
  return latin > 0 ? "en" : null;
}

// ---------------------------------------------------------------------------------------------
// The importer

function fail(reason: EssayImportFailure, message: string, extra: Record<string, unknown> = {}): never {
  throw new EssayImportError(message, { reason, ...extra });
}

/**
 * Imports an essay from plain text or Markdown. Normalises the text (NFC, LF, no BOM, tidy
 * whitespace), detects title/byline/dateline at the top, and splits the rest into blocks: headings,
 * section markers, captions, paragraphs (hard-wrapped lines rejoined), quotes and list items.
 * Throws `EssayImportError` for empty input, input over `ESSAY_LIMITS`, or input without body text
 * (no paragraph, quote or list item).
 */
export function importEssay(source: string, options: ImportOptions = {}): ImportedEssay {
  if (typeof source !== "string") fail("not_text", "The essay must be text.");
  const requested = options.format ?? "auto";
  if (requested !== "auto" && requested !== "text" && requested !== "markdown") {
    fail("invalid_option", `Unknown essay format "${String(requested)}".`, { format: requested });
  }
  const { maxSourceChars, maxBlocks, maxBlockChars } = ESSAY_LIMITS;
  const length = source.length > maxSourceChars * 2 ? source.length : codePointLength(source);
  if (length > maxSourceChars) {
    fail("source_too_long", `The essay is longer than ${maxSourceChars} characters.`, {
      limit: maxSourceChars,
      length,
    });
  }
  const lines = normalizeLines(source);
  if (lines.every((line) => line.text === "")) fail("empty", "The essay is empty.");

  const format: EssayFormat = requested === "auto" ? detectFormat(lines) : requested;
  const roughLayout = detectLayout(parse(lines, format));
  const meta = extractMetadata(lines, format, roughLayout);
  const body = lines.map((line, index) => (meta.consumed.has(index) ? { text: "", indent: 0 } : line));
  const segments = parse(body, format);
  const layout = detectLayout(segments);

  const blocks: ImportedBlock[] = [];
  for (const segment of segments) {
    if (segment.type === "block") blocks.push(segment.block);
    else if (segment.type === "para") {
      for (const text of paragraphsOf(segment.lines, layout))
        if (text !== "") blocks.push({ kind: "paragraph", text });
    }
  }

  if (blocks.length > maxBlocks) {
    fail("too_many_blocks", `The essay has more than ${maxBlocks} blocks.`, {
      limit: maxBlocks,
      blocks: blocks.length,
    });
  }
  blocks.forEach((item, index) => {
    const chars = codePointLength(item.text);
    if (chars > maxBlockChars) {
      fail("block_too_long", `Block ${index + 1} is longer than ${maxBlockChars} characters.`, {
        limit: maxBlockChars,
        index,
        length: chars,
      });
    }
  });
  const bodyBlocks = blocks.filter(
    (item) => item.kind === "paragraph" || item.kind === "quote" || item.kind === "list_item",
  );
  if (bodyBlocks.length === 0) fail("no_body", "The essay has no body paragraphs.");

  const override = typeof options.title === "string" ? tidyLine(options.title.normalize("NFC")) : "";
  const firstHeading = blocks.find((item) => item.kind === "heading");
  const firstParagraph = bodyBlocks.find((item) => item.kind === "paragraph") ?? bodyBlocks[0];
  const detected = meta.title ?? firstHeading?.text ?? (firstParagraph ? clip(firstParagraph.text, 61) : "");
  const title = clip(override !== "" ? override : detected, 200);

  const languageSample = [title, ...blocks.map((item) => item.text)].join("\n");
  return {
    title,
    byline: meta.byline === null ? null : clip(meta.byline, 200),
    dateline: meta.dateline === null ? null : clip(meta.dateline, 200),
    language: guessLanguage(languageSample),
    format,
    blocks,
  };
}
