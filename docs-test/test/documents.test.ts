// Every command the documents, the examples' output and the scripts' messages give resolves to a
// real root script, example, benchmark, file or tool on a fresh machine with only Node and npm.

import { describe, expect, it } from "vitest";
import { commandsInMarkdown, commandsInSource, problemWith } from "../src/commands.js";
import { documents, repository, userFacingSources } from "./helpers.js";

describe("documented commands", () => {
  const repo = repository();
  const commands = [
    ...documents().flatMap((d) => commandsInMarkdown(d.text, d.path)),
    ...userFacingSources().flatMap((s) => commandsInSource(s.text, s.path)),
  ];

  it("finds the commands of the README, the guides and the examples' output", () => {
    const texts = commands.map((c) => c.command);
    expect(texts).toContain("npm test");
    expect(texts).toContain("npm run demo");
    expect(commands.some((c) => c.where.startsWith("examples/demo.ts"))).toBe(true);
    expect(commands.some((c) => c.where.startsWith("docs/guides/your-project.md"))).toBe(true);
    expect(commands.length).toBeGreaterThan(40);
  });

  it("all work on a fresh machine", () => {
    const problems = commands
      .map((c) => ({ c, problem: problemWith(c, repo) }))
      .filter(({ problem }) => problem !== null)
      .map(({ c, problem }) => `${c.where}: \`${c.command}\`: ${problem}`);
    expect(problems).toEqual([]);
  });
});
