// State dicts: PyTorch-compatible keys (dotted paths in snake_case), and loading that validates
// every key, shape and dtype before it changes anything.

import { noGrad, type Tensor, Tensor as TensorClass } from "@koubai/core";
import type { Module } from "./module.js";

/** Options of `Module.loadStateDict`, as `load_state_dict(state, strict=)`. */
export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true); otherwise they are only reported. */
  strict?: boolean;
}

/** What `Module.loadStateDict` returns, like PyTorch's `_IncompatibleKeys`: both lists are empty after a strict load. */
export interface LoadStateDictResult {
  /** Keys the module has but `state` lacks. */
  missingKeys: string[];
  /** Keys in `state` the module does not have. */
  unexpectedKeys: string[];
}

/**
 * PyTorch's name for a camelCase property: `runningMean` → `running_mean`,
 * `numBatchesTracked` → `num_batches_tracked`; names without capitals are unchanged.
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** The state-dict key of a dotted property path: each segment in snake_case. */
export function stateKey(path: string): string {
  return path.split(".").map(toSnakeCase).join(".");
}

function describeTensor(t: Tensor): string {
  return `${t.dtype} [${t.shape.join(", ")}]`;
}

/** The module's state entries by key, in PyTorch's order; throws if two paths share a key. */
function stateEntries(module: Module): Map<string, { path: string; tensor: Tensor }> {
  const entries = new Map<string, { path: string; tensor: Tensor }>();
  for (const [prefix, m] of module.namedModules()) {
    for (const entry of m.ownEntries()) {
      if (entry.tensor === null || !entry.persistent) continue;
      const path = prefix === "" ? entry.name : `${prefix}.${entry.name}`;
      const key = stateKey(path);
      const clash = entries.get(key);
      if (clash !== undefined) {
        throw new Error(
          `${module.typeName()}.stateDict: properties "${clash.path}" and "${path}" both map to the key "${key}"; rename one`,
        );
      }
      entries.set(key, { path, tensor: entry.tensor });
    }
  }
  return entries;
}

export function stateOf(module: Module): Record<string, Tensor> {
  const state: Record<string, Tensor> = {};
  for (const [key, { tensor }] of stateEntries(module)) state[key] = tensor.detach();
  return state;
}

export function loadState(
  module: Module,
  state: Record<string, Tensor>,
  options: LoadStateDictOptions,
): LoadStateDictResult {
  const op = `${module.typeName()}.loadStateDict`;
  if (state === null || typeof state !== "object") {
    throw new TypeError(
      `${op}: expected a Record<string, Tensor>, got ${state === null ? "null" : typeof state}`,
    );
  }
  const strict = options.strict ?? true;
  const expected = stateEntries(module);
  const missingKeys = [...expected.keys()].filter((key) => !Object.hasOwn(state, key));
  const unexpectedKeys = Object.keys(state).filter((key) => !expected.has(key));
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(", ")}`);
  if (strict && unexpectedKeys.length > 0)
    problems.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
  const copies: [Tensor, Tensor][] = [];
  for (const [key, { tensor: target }] of expected) {
    if (!Object.hasOwn(state, key)) continue;
    const source = state[key];
    if (!(source instanceof TensorClass)) {
      problems.push(`"${key}" is ${source === null ? "null" : typeof source}, expected a Tensor`);
      continue;
    }
    const sameShape =
      source.shape.length === target.shape.length &&
      source.shape.every((s, d) => s === target.shape[d]);
    if (!sameShape || source.dtype !== target.dtype) {
      problems.push(
        `"${key}" is ${describeTensor(source)} but the module expects ${describeTensor(target)}`,
      );
      continue;
    }
    copies.push([target, source]);
  }
  if (problems.length > 0) {
    throw new Error(
      `${op}: nothing was loaded because of ${problems.length} problem(s):\n  ${problems.join("\n  ")}`,
    );
  }
  // A source that shares memory with any target (the module's own weights, transposed or
  // swapped between layers) is copied out before the first write, so every source is read as it
  // was when loadStateDict was called.
  const targets = new Set(copies.map(([target]) => target.storage));
  noGrad(() => {
    const sources = copies.map(([, source]) =>
      targets.has(source.storage) ? source.detach().clone() : source,
    );
    copies.forEach(([target], i) => {
      target.copy_(sources[i]);
    });
  });
  return { missingKeys, unexpectedKeys };
}
