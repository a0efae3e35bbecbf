// The op registry: every op block of ops/ and functional/ (see ops/define.ts), by name, with what
// a compiler or an exporter reads: its kind, its shape rule, whether it has a gradient. It is
// built from the family modules' exports, so an op is registered by being exported, and its name
// is a type: the test sample table is keyed by DifferentiableOpName, so a differentiable op
// without samples does not compile, and methods.ts takes the Tensor methods' ops from here.

import * as activation from "./functional/activation.js";
import * as loss from "./functional/loss.js";
import * as normalization from "./functional/normalization.js";
import * as binary from "./ops/binary.js";
import * as compare from "./ops/compare.js";
import * as conv from "./ops/conv.js";
import type { OpInfo } from "./ops/define.js";
import * as indexing from "./ops/indexing.js";
import * as join from "./ops/join.js";
import * as matmul from "./ops/matmul.js";
import * as nllLoss from "./ops/nll-loss.js";
import * as pool from "./ops/pool.js";
import * as rearrange from "./ops/rearrange.js";
import * as reduce from "./ops/reduce.js";
import * as scan from "./ops/scan.js";
import * as softmax from "./ops/softmax.js";
import * as sorting from "./ops/sort.js";
import * as unary from "./ops/unary.js";
import * as view from "./ops/view.js";

/** The modules whose op exports make up the registry. */
export const OP_FAMILIES = {
  unary,
  binary,
  compare,
  reduce,
  view,
  join,
  indexing,
  matmul,
  conv,
  pool,
  rearrange,
  scan,
  sorting,
  softmax,
  nllLoss,
  activation,
  loss,
  normalization,
} as const;

/** The op exports of module M, keyed by op name (`variance` is the op `var`). */
type OpsOf<M> = {
  [K in keyof M as M[K] extends { readonly definition: { readonly name: infer N extends string } }
    ? N
    : never]: M[K];
};

type Families = typeof OP_FAMILIES;

/** Every op, by name. */
export type OpRegistry = OpsOf<Families["unary"]> &
  OpsOf<Families["binary"]> &
  OpsOf<Families["compare"]> &
  OpsOf<Families["reduce"]> &
  OpsOf<Families["view"]> &
  OpsOf<Families["join"]> &
  OpsOf<Families["indexing"]> &
  OpsOf<Families["matmul"]> &
  OpsOf<Families["conv"]> &
  OpsOf<Families["pool"]> &
  OpsOf<Families["rearrange"]> &
  OpsOf<Families["scan"]> &
  OpsOf<Families["sorting"]> &
  OpsOf<Families["softmax"]> &
  OpsOf<Families["nllLoss"]> &
  OpsOf<Families["activation"]> &
  OpsOf<Families["loss"]> &
  OpsOf<Families["normalization"]>;

/** The name of any registered op. */
export type OpName = keyof OpRegistry;

/** The ops with a gradient: primitives with a backward, and composites of them. */
export type DifferentiableOpName = {
  [K in OpName]: OpRegistry[K]["definition"]["differentiable"] extends true ? K : never;
}[OpName];

/** The ops users call: all but those only the ops' own backwards record (`reluBackward`). */
export type PublicOpName = {
  [K in OpName]: OpRegistry[K]["definition"] extends { readonly internal: true } ? never : K;
}[OpName];

function collect(families: Families): OpRegistry {
  const ops: Record<string, unknown> = {};
  for (const family of Object.values(families)) {
    for (const value of Object.values(family)) {
      if (typeof value !== "function" || !("definition" in value)) continue;
      const { name } = value.definition as OpInfo;
      if (name in ops) throw new Error(`registry: two ops are named ${name}`);
      ops[name] = value;
    }
  }
  return ops as OpRegistry;
}

/** Every op, by name: `OPS.add.definition` says `{ name: "add", kind: "elementwise", ... }`. */
export const OPS: OpRegistry = collect(OP_FAMILIES);
