// Checks that @koubai/core's source imports point one way, from the entry points down:
//   kernels ← tensor ← autograd ← ops ← functional ← debug ← compile ← entry points (src/*.ts)
// A module may import, at run time, modules of its own directory or of a lower layer, and the
// run-time imports must form no cycle. Type-only imports (`import type`, `export type`) vanish
// when compiled and may point anywhere (the Tensor class names the graph Node it carries); an
// `import { type A }` stays a run-time import under verbatimModuleSyntax, so it counts.
// Run by scripts/check.mjs inside `npm test`: `node scripts/check-layers.mjs [src directory]`.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Directories of src/ from the bottom layer up; files directly in src/ are the top layer. */
export const LAYERS = ["kernels", "tensor", "autograd", "ops", "functional", "debug", "compile"];

/** Every .ts file below `dir`, as paths relative to it with "/" separators. */
export function sourceFiles(dir, sub = "") {
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((entry) => {
    const path = sub === "" ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(dir, path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The relative imports of one module's text: `{ target, typeOnly }`, targets as written. */
export function importsOf(text) {
  const found = [];
  for (const match of text.matchAll(IMPORT)) {
    found.push({ target: match[3], typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(DYNAMIC)) found.push({ target: match[1], typeOnly: false });
  return found.filter((i) => i.target.startsWith("."));
}

/** The layer of a path relative to src/: its index in LAYERS, or LAYERS.length for src/*.ts. */
export function layerOf(path) {
  const top = path.includes("/") ? path.slice(0, path.indexOf("/")) : null;
  if (top === null) return LAYERS.length;
  const layer = LAYERS.indexOf(top);
  if (layer === -1) throw new Error(`check-layers: ${path} is in no known layer (${LAYERS})`);
  return layer;
}

/**
 * The violations in `modules` (path relative to src/ → source text): run-time imports into a
 * higher layer or a sibling directory of the same layer, imports of missing modules, and cycles.
 */
export function violations(modules) {
  const problems = [];
  const graph = new Map();
  for (const [path, text] of modules) {
    const edges = [];
    for (const { target, typeOnly } of importsOf(text)) {
      const resolved = relative("/", resolve("/", dirname(path), target)).replace(/\.js$/, ".ts");
      if (!modules.has(resolved)) {
        problems.push(`${path} imports ${target}, which is not a module of src/`);
        continue;
      }
      if (typeOnly) continue;
      edges.push(resolved);
      const from = layerOf(path);
      const to = layerOf(resolved);
      const sameDir = dirname(path) === dirname(resolved);
      if (to > from || (to === from && !sameDir)) {
        const name = (layer) => (layer === LAYERS.length ? "the entry points" : LAYERS[layer]);
        problems.push(
          `${path} (${name(from)}) imports ${resolved} (${name(to)}) at run time, against the direction ${LAYERS.join(" ← ")} ← entry points`,
        );
      }
    }
    graph.set(path, edges);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${cycle.join(" → ")}`);
  return problems;
}

/** One cycle (as a closed path) per strongly connected component with more than one module. */
function cycles(graph) {
  const found = [];
  const state = new Map(); // undefined: unvisited, 1: on the stack, 2: done
  const stack = [];
  const visit = (start) => {
    // Iterative DFS: [module, index of the next edge to follow].
    const frames = [[start, 0]];
    state.set(start, 1);
    stack.push(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const [node, next] = frame;
      const edges = graph.get(node) ?? [];
      if (next === edges.length) {
        frames.pop();
        stack.pop();
        state.set(node, 2);
        continue;
      }
      frame[1]++;
      const target = edges[next];
      if (state.get(target) === 1) found.push([...stack.slice(stack.indexOf(target)), target]);
      else if (state.get(target) === undefined) {
        state.set(target, 1);
        stack.push(target);
        frames.push([target, 0]);
      }
    }
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src =
    process.argv[2] ??
    join(dirname(fileURLToPath(import.meta.url)), "..", "packages", "core", "src");
  const modules = new Map(
    sourceFiles(src).map((path) => [path, readFileSync(join(src, path), "utf8")]),
  );
  const problems = violations(modules);
  for (const problem of problems) console.error(`  ${problem}`);
  console.log(
    problems.length === 0
      ? `@koubai/core: ${modules.size} modules import in one direction (${LAYERS.join(" ← ")} ← entry points), no cycles`
      : `@koubai/core: ${problems.length} import problem(s)`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
