// The repository checks `npm test` runs, scripts/check-layers.mjs (core's import direction) and
// scripts/check-mirror.mjs (test twins): each must pass today's tree and fail on each kind of
// violation, shown here on small made-up trees.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/check-layers.mjs", import.meta.url));
const mirrorScript = fileURLToPath(new URL("../../../scripts/check-mirror.mjs", import.meta.url));
const repository = fileURLToPath(new URL("../../..", import.meta.url));
const src = fileURLToPath(new URL("../src", import.meta.url));

let tree: string | null = null;

afterEach(() => {
  if (tree !== null) rmSync(tree, { recursive: true, force: true });
  tree = null;
});

function check(dir: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [script, dir], { encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A throwaway src/ holding `files` (path → text). */
function makeTree(files: Record<string, string>): string {
  tree = mkdtempSync(join(tmpdir(), "koubai-layers-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  return tree;
}

const base = {
  "kernels/rows.ts": "export const row = 1;\n",
  "tensor/tensor.ts": 'import { row } from "../kernels/rows.js";\nexport class Tensor {}\n',
  "autograd/node.ts": 'import { Tensor } from "../tensor/tensor.js";\nexport const node = 1;\n',
  "ops/unary.ts": 'import { node } from "../autograd/node.js";\nexport const exp = 1;\n',
  "index.ts": 'import "./methods.js";\nexport { exp } from "./ops/unary.js";\n',
  "methods.ts": 'import { exp } from "./ops/unary.js";\n',
};

describe("check-layers", () => {
  it("passes core's source tree", () => {
    const { status, output } = check(src);
    expect(output).toMatch(/import in one direction/);
    expect(status).toBe(0);
  });

  it("passes a tree whose run-time imports all point down, with type imports pointing up", () => {
    const { status } = check(
      makeTree({
        ...base,
        "tensor/format.ts": 'import type { Node } from "../autograd/node.js";\n',
      }),
    );
    expect(status).toBe(0);
  });

  it("fails on a run-time import into a higher layer, `import { type X }` included", () => {
    for (const line of [
      'import { exp } from "../ops/unary.js";',
      'import { type Thing } from "../ops/unary.js";',
      'export { exp } from "../ops/unary.js";',
      'const lazy = () => import("../ops/unary.js");',
    ]) {
      const { status, output } = check(makeTree({ ...base, "tensor/methods.ts": `${line}\n` }));
      expect(status, line).toBe(1);
      expect(output).toContain("tensor/methods.ts (tensor) imports ops/unary.ts (ops) at run time");
      rmSync(tree!, { recursive: true, force: true });
      tree = null;
    }
  });

  it("fails on an import cycle inside one layer, and on an import of a missing module", () => {
    const { status, output } = check(
      makeTree({
        ...base,
        "ops/a.ts": 'import { b } from "./b.js";\nexport const a = 1;\n',
        "ops/b.ts": 'import { a } from "./a.js";\nexport const b = 1;\n',
        "ops/c.ts": 'import { gone } from "./gone.js";\n',
      }),
    );
    expect(status).toBe(1);
    expect(output).toContain("import cycle: ops/a.ts → ops/b.ts → ops/a.ts");
    expect(output).toContain("ops/c.ts imports ./gone.js, which is not a module of src/");
  });
});

describe("check-mirror", () => {
  function mirror(root: string): { status: number | null; output: string } {
    const result = spawnSync(process.execPath, [mirrorScript, root], { encoding: "utf8" });
    return { status: result.status, output: result.stdout + result.stderr };
  }

  it("passes the repository", () => {
    const { status, output } = mirror(repository);
    expect(output).toMatch(/every source has a test twin or says where it is covered/);
    expect(status).toBe(0);
  });

  it("fails on a source without twin or entry, an entry without reason, and stale entries", () => {
    const root = makeTree({
      "packages/core/src/ops/a.ts": "",
      "packages/core/test/ops/a.test.ts": "",
      "packages/core/src/ops/b.ts": "",
      "packages/core/src/ops/c.ts": "",
      "packages/layers/src/d.ts": "",
      "scripts/test-mirror-allow-list.json": JSON.stringify({
        "packages/core/src/ops/a.ts": "has a twin now",
        "packages/core/src/ops/c.ts": " ",
        "packages/optim/src/gone.ts": "covered nowhere",
      }),
    });
    const { status, output } = mirror(root);
    expect(status).toBe(1);
    expect(output).toContain(
      "packages/core/src/ops/b.ts has no test twin (packages/core/test/ops/b.test.ts)",
    );
    expect(output).toContain("packages/layers/src/d.ts has no test twin");
    expect(output).toContain("packages/core/src/ops/c.ts: its allow-list entry must say where");
    expect(output).toContain("allow-list entry packages/core/src/ops/a.ts: it has a twin now");
    expect(output).toContain("allow-list entry packages/optim/src/gone.ts: no such source");
  });
});
