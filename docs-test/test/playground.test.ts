// `npm run play`: the tracked example type-checks and trains, a new file is created from it, and a
// file outside playground/ is refused with advice. Runs scripts/play.mjs directly (npm run play
// only adds the install step in front).

import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.js";

function play(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, "scripts", "play.mjs"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, INIT_CWD: repoRoot },
  });
}

describe("npm run play", () => {
  it("type-checks and runs playground/example.ts, whose loss falls", () => {
    const result = play("example.ts");
    expect(result.status, result.stderr).toBe(0);
    const losses = [...result.stdout.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(losses.length).toBe(7);
    expect(losses[6]).toBeLessThan(losses[0] / 10);
  });

  it("creates a missing file from the example, then runs it with the arguments after it", () => {
    const name = `created-by-test-${process.pid}.ts`;
    const path = join(repoRoot, "playground", name);
    try {
      const result = play(name, "--no-check");
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Created playground/${name} from playground/example.ts`);
      expect(existsSync(path)).toBe(true);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it("refuses a file outside playground/, saying where to put it", () => {
    const result = play("scripts/pack.mjs");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "scripts/pack.mjs is outside playground/, where the workspace packages resolve. Move or copy it there, e.g. cp scripts/pack.mjs playground/pack.mjs",
    );
  });

  it("stops on a type error and says how to run anyway", () => {
    const name = `type-error-${process.pid}.ts`;
    const path = join(repoRoot, "playground", name);
    try {
      spawnSync("sh", ["-c", `printf 'const n: number = "x";\\nconsole.log(n);\\n' > ${path}`]);
      const result = play(name);
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain("TS2322");
      expect(result.stderr).toContain("run with --no-check to run it anyway");
    } finally {
      rmSync(path, { force: true });
    }
  });
});
