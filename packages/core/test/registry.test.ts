// The op registry against the package's exports: every op a family module defines is registered
// under its name, every registered op users call is exported by that name, and every function the
// package exports from an op family is a registered op (so it has samples, see op-samples.ts).

import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import { OP_FAMILIES, OPS, type OpInfo, type PublicOpName } from "../src/internal.js";

// Compile-time: every public op is exported from @koubai/core under its registry name, with the
// registry's type. A registered op missing from index.ts fails the typecheck here.
const exported: { [K in PublicOpName]: (typeof OPS)[K] } = core;

const ops = Object.entries(OPS) as [string, { definition: OpInfo }][];

describe("the op registry", () => {
  it("keys each op by the name its definition (and its graph nodes) carry", () => {
    for (const [name, op] of ops) expect(op.definition.name).toBe(name);
    expect(ops.length).toBeGreaterThan(70);
  });

  it("exports every op users call from @koubai/core under its name", () => {
    for (const [name, op] of ops) {
      if (op.definition.internal === true) {
        expect(name in core, name).toBe(false);
        continue;
      }
      expect(exported[name as PublicOpName], name).toBe(op);
    }
  });

  it("registers every function @koubai/core exports from an op family", () => {
    const registered = new Set<unknown>(Object.values(OPS));
    const unregistered: string[] = [];
    for (const family of Object.values(OP_FAMILIES)) {
      for (const [name, value] of Object.entries(family)) {
        const public_ = (core as Record<string, unknown>)[name] === value;
        if (typeof value === "function" && public_ && !registered.has(value))
          unregistered.push(name);
      }
    }
    expect(unregistered).toEqual([]);
  });

  it("gives every primitive a kind and a shape rule, and composites neither", () => {
    const kinds = new Set(["elementwise", "reduction", "movement", "opaque"]);
    for (const [name, { definition }] of ops) {
      if (definition.kind === "composite") {
        expect(definition.shape, name).toBeUndefined();
        expect(definition.differentiable, name).toBe(true);
      } else {
        expect(kinds.has(definition.kind), name).toBe(true);
        expect(typeof definition.shape, name).toBe("function");
      }
    }
  });

  it("says which ops have no gradient: the comparisons, argmax/argmin and argsort", () => {
    const none = ops.filter(([, op]) => !op.definition.differentiable).map(([name]) => name);
    expect(none.sort()).toEqual([
      "argmax",
      "argmin",
      "argsort",
      "eq",
      "ge",
      "gt",
      "le",
      "lt",
      "ne",
    ]);
  });
});

describe("the derivative rules", () => {
  it("every primitive with a gradient states its derivative as a line of text", () => {
    const missing = Object.values(OPS)
      .map((op) => op.definition as OpInfo)
      .filter((info) => info.differentiable && info.kind !== "composite")
      .filter((info) => typeof info.rule !== "string" || info.rule.trim() === "")
      .map((info) => info.name);
    expect(missing).toEqual([]);
  });
});
