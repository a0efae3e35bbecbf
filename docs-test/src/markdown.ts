// Reading the parts of a Markdown document that readers copy: fenced code blocks (with the
// sentence that introduces each) and inline code spans outside them.

export interface CodeBlock {
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The last non-empty line before the fence and its prelude (e.g. "Save as `hello.ts`:"). */
  introducedBy: string;
  /**
   * Code a type check puts before the block, from an HTML comment right above the fence
   * (`<!-- prelude: declare const model: Module; -->`): what the surrounding text supplies.
   * Renderers hide the comment; "" when there is none.
   */
  prelude: string;
}

export interface InlineCode {
  text: string;
  line: number;
}

const FENCE = /^```(\w*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(FENCE)].map((match) => {
    let before = markdown.slice(0, match.index).trimEnd();
    let prelude = "";
    const comment = /<!--\s*prelude:((?:(?!-->)[\s\S])*)-->$/.exec(before);
    if (comment !== null) {
      prelude = comment[1].trim();
      before = before.slice(0, comment.index).trimEnd();
    }
    return {
      lang: match[1],
      body: match[2],
      line: lineOf(markdown, match.index),
      introducedBy: before.slice(before.lastIndexOf("\n") + 1),
      prelude,
    };
  });
}

export function inlineCode(markdown: string): InlineCode[] {
  // Blank out fenced blocks (keeping line breaks) so their backticks are not read as spans.
  const prose = markdown.replace(FENCE, (block) => block.replace(/[^\n]/g, " "));
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => ({
    text: m[1],
    line: lineOf(prose, m.index),
  }));
}
