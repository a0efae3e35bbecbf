// Turns a guide into the shell script a reader would type: every ```sh block runs as written,
// and every block introduced by "Save as `name`:" (or "and as `name`:") is written to that file
// first. Any other code block is an error, so the guide cannot grow a step nobody runs.

export type GuideStep =
  | { kind: "file"; name: string; content: string }
  | { kind: "shell"; commands: string };

const FENCE = /^```(\w*)[^\n]*\n([\s\S]*?)^```\s*$/gm;
const SAVE_AS = /as `([^`]+)`:\s*$/;

export function guideSteps(markdown: string, guideName: string): GuideStep[] {
  const steps: GuideStep[] = [];
  for (const match of markdown.matchAll(FENCE)) {
    const [, lang, body] = match;
    const before = markdown.slice(0, match.index).trimEnd().split("\n").pop() ?? "";
    const file = SAVE_AS.exec(before)?.[1];
    if (file !== undefined) steps.push({ kind: "file", name: file, content: body });
    else if (lang === "sh") steps.push({ kind: "shell", commands: body });
    else {
      throw new Error(
        `${guideName}: a \`\`\`${lang} block after "${before}" is neither a command block nor a file to save`,
      );
    }
  }
  return steps;
}

/** One bash script that writes the files and runs the commands in the guide's order. */
export function guideScript(steps: readonly GuideStep[]): string {
  const lines = ["set -euo pipefail"];
  for (const step of steps) {
    if (step.kind === "shell") lines.push(step.commands.trimEnd());
    else
      lines.push(
        `cat > ${JSON.stringify(step.name)} <<'KOUBAI_GUIDE_EOF'`,
        step.content.trimEnd(),
        "KOUBAI_GUIDE_EOF",
      );
  }
  return `${lines.join("\n")}\n`;
}
