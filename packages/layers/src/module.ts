// Module: the base class of every layer, PyTorch's nn.Module in camelCase. Parameters, buffers and
// child modules are found by scanning the instance's own properties (rule below); the state dict
// (keys, validation, loading) lives in state-dict.ts.

import { type DType, noGrad, type Tensor, Tensor as TensorClass } from "@koubai/core";
import { invalidateTraces } from "@koubai/core/internal";
import { Parameter } from "./parameter.js";
import {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  loadState,
  stateOf,
} from "./state-dict.js";

/** One parameter or buffer slot of a module, as found by `Module.ownEntries()`. */
export interface ModuleEntry {
  /** The property name on the module (camelCase, as written in TypeScript). */
  name: string;
  /** Whether the slot holds a trainable `Parameter` or a registered buffer. */
  kind: "parameter" | "buffer";
  /** Null for a slot registered empty (e.g. `bias: null`); such slots are skipped everywhere. */
  tensor: Tensor | null;
  /** Buffers only: false keeps the buffer out of `stateDict()`. */
  persistent: boolean;
}

type Slots = Record<string, unknown>;

function checkName(module: Module, name: string, what: string): void {
  if (typeof name !== "string" || name === "" || name.includes(".")) {
    throw new TypeError(
      `${module.typeName()}.${what}: name must be a non-empty string without ".", got ${JSON.stringify(name)}`,
    );
  }
  if (
    name === "training" ||
    name in Module.prototype ||
    (!Object.hasOwn(module, name) && name in module)
  ) {
    throw new TypeError(
      `${module.typeName()}.${what}: "${name}" is already a method or property of the module`,
    );
  }
}

/** @internal How error messages show a value given where a Module was expected (`got number 3`). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof Module) return `a ${value.typeName()}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  if (typeof value === "function") return "a function";
  return `${typeof value} ${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
}

/**
 * @internal Runs `make` (a creation function for a layer's parameter or buffer) and prefixes a
 * RangeError it throws (an allocation too large for the runtime) with `owner`, the layer the
 * user constructed, e.g. `Linear(1000000, 1000000): cannot create the weight: zeros: ...`.
 */
export function creating<T>(owner: string, what: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof RangeError)
      throw new RangeError(`${owner}: cannot create ${what}: ${e.message}`);
    throw e;
  }
}

/**
 * The name namedParameters() last gave each parameter: while `name` still equals it, a later
 * listing (from another root) may rename it; a name the user set is never changed.
 */
const AUTO_NAMES = new WeakMap<Parameter, string>();

/**
 * @internal The error for an input whose dtype differs from a layer's parameters, with advice
 * that works: a layer only moves between float dtypes (`Module.to`), so an integer or bool input
 * has to be cast.
 */
export function dtypeMismatch(owner: string, input: DType, params: DType): TypeError {
  const advice =
    input === "float32" || input === "float64"
      ? `call .to("${input}") on the layer, or cast the input with .to("${params}")`
      : `cast the input with .to("${params}") (layers compute in float32 or float64)`;
  return new TypeError(
    `${owner}: input has dtype ${input} but the layer's parameters are ${params}; ${advice}`,
  );
}

/**
 * Base class of layers and models. Subclasses assign parameters and sub-modules to properties and
 * implement `forward`.
 *
 * Discovery rule: at every query the module scans its own enumerable properties in property order
 * (declaration/assignment order; JavaScript puts integer-like names such as "0", "1" first, in
 * ascending order). A property holding a `Parameter` is a parameter, one holding a `Module` is a
 * child module. Buffers are plain tensors, so they must be registered with `registerBuffer`;
 * `registerParameter(name, null)` declares an empty parameter slot (like `bias=None`). A module's
 * own parameters come before its children's, and its own buffers after its own parameters, as in
 * PyTorch. A container with an order of its own overrides `namedChildren()`: `ModuleDict` lists
 * its children in insertion order, integer-like keys included. Names in `namedParameters()` are
 * the property paths (`layers.0.weight`); `stateDict()` keys are the same paths in PyTorch's
 * snake_case (`runningMean` → `running_mean`).
 *
 * @example
 * ```ts
 * class Mlp extends Module {
 *   fc1 = new Linear(4, 8);
 *   fc2 = new Linear(8, 2);
 *   forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 * new Mlp().namedParameters().map(([n]) => n); // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
 * ```
 */
export abstract class Module {
  /** True in training mode (the default), false after `eval()`. */
  training = true;
  readonly #parameterSlots = new Set<string>();
  readonly #bufferSlots = new Map<string, boolean>();

  /** Computes the module's output. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * The class name that messages print, e.g. `"BatchNorm1d"` (PyTorch's `Module._get_name()`): the
   * static `typeName` string of the class, or of its nearest ancestor that declares one, else
   * `this.constructor.name`.
   *
   * It exists because minifiers rename classes: a bundled `BatchNorm1d` may be called `Yr`, and
   * `constructor.name` would then print `Yr: numFeatures must be ...`. Every built-in layer declares
   * `static readonly typeName = "BatchNorm1d"` (a string, which minifiers keep), so its name
   * survives. The static is inherited: `class MyNorm extends BatchNorm1d {}` reports
   * `"BatchNorm1d"`. A subclass that should name itself, and keep that name when minified,
   * declares its own `static override readonly typeName: string = "MyNorm"` (no `override` on a
   * direct subclass of Module). A direct subclass of Module without one reports its constructor
   * name, as before.
   */
  typeName(): string {
    const declared = (this.constructor as { typeName?: unknown }).typeName;
    return typeof declared === "string" ? declared : this.constructor.name;
  }

  /** Adds a parameter (or an empty slot) named `name`; same as assigning a Parameter to the property. */
  registerParameter(name: string, param: Parameter | null): void {
    checkName(this, name, "registerParameter");
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(
        `${this.typeName()}.registerParameter: "${name}" must be a Parameter or null; wrap tensors with new Parameter(t)`,
      );
    }
    this.#bufferSlots.delete(name);
    this.#parameterSlots.add(name);
    (this as unknown as Slots)[name] = param;
  }

  /** Adds a buffer: state that is saved and moved with the module but not trained (running statistics). */
  registerBuffer(
    name: string,
    tensor: Tensor | null,
    options: { persistent?: boolean } = {},
  ): void {
    checkName(this, name, "registerBuffer");
    if (tensor !== null && (!(tensor instanceof TensorClass) || tensor instanceof Parameter)) {
      throw new TypeError(
        `${this.typeName()}.registerBuffer: "${name}" must be a plain Tensor or null (a Parameter belongs in registerParameter)`,
      );
    }
    this.#parameterSlots.delete(name);
    this.#bufferSlots.set(name, options.persistent ?? true);
    (this as unknown as Slots)[name] = tensor;
  }

  /** Adds a child module; same as assigning it to the property. */
  registerModule(name: string, module: Module): void {
    this.setChild(name, module, "registerModule");
  }

  /**
   * For containers such as `ModuleList` and `ModuleDict`: adds the child `name`, or replaces the
   * child registered under it (which keeps its place), validated as `registerModule` validates,
   * with errors naming `op`, the container's own method (`"ModuleList.append: ..."`).
   */
  protected setChild(name: string, module: Module, op = "registerModule"): void {
    this.checkChild(name, module, op);
    this.#parameterSlots.delete(name);
    this.#bufferSlots.delete(name);
    (this as unknown as Slots)[name] = module;
  }

  /**
   * For containers: throws what `setChild(name, module, op)` would throw, without changing
   * anything, so a container can check a whole batch before it adds any of it.
   */
  protected checkChild(name: string, module: unknown, op: string): void {
    checkName(this, name, op);
    if (!(module instanceof Module)) {
      throw new TypeError(
        `${this.typeName()}.${op}: "${name}" must be a Module, got ${describeValue(module)}`,
      );
    }
  }

  /** For containers: the child registered as `name`, or undefined if there is none. */
  protected getChild(name: string): Module | undefined {
    const value = Object.hasOwn(this, name) ? (this as unknown as Slots)[name] : undefined;
    return value instanceof Module ? value : undefined;
  }

  /**
   * For containers: removes the child `name` and returns it, like `delattr(module, name)` on a
   * submodule in PyTorch. The other children keep their names and order; renumbering them
   * (`ModuleList`) is the container's job. Throws if no child is registered as `name`.
   */
  protected deleteChild(name: string): Module {
    const child = this.getChild(name);
    if (child === undefined) {
      throw new Error(
        `${this.typeName()}.deleteChild: no child module named ${JSON.stringify(name)}`,
      );
    }
    Reflect.deleteProperty(this, name);
    return child;
  }

  /** @internal This module's own parameter and buffer slots, parameters first, in property order. */
  ownEntries(): ModuleEntry[] {
    const params: ModuleEntry[] = [];
    const buffers: ModuleEntry[] = [];
    const slots = this as unknown as Slots;
    for (const name of Object.keys(this)) {
      const value = slots[name];
      if (this.#bufferSlots.has(name)) {
        if (value !== null && !(value instanceof TensorClass)) {
          throw new TypeError(
            `${this.typeName()}: buffer "${name}" holds ${typeof value}, expected a Tensor or null`,
          );
        }
        const persistent = this.#bufferSlots.get(name) ?? true;
        buffers.push({ name, kind: "buffer", tensor: value as Tensor | null, persistent });
      } else if (value instanceof Parameter) {
        params.push({ name, kind: "parameter", tensor: value, persistent: true });
      } else if (this.#parameterSlots.has(name)) {
        if (value !== null) {
          throw new TypeError(
            `${this.typeName()}: parameter "${name}" holds a ${value instanceof TensorClass ? "plain Tensor" : typeof value}; assign a Parameter (new Parameter(t)) or null`,
          );
        }
        params.push({ name, kind: "parameter", tensor: null, persistent: true });
      }
    }
    return [...params, ...buffers];
  }

  /** Direct children with their property names, in property order. */
  namedChildren(): [string, Module][] {
    const slots = this as unknown as Slots;
    return Object.keys(this)
      .filter((name) => slots[name] instanceof Module)
      .map((name) => [name, slots[name] as Module]);
  }

  /** Direct children, in property order (`namedChildren()` without the names). */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module ("") and every descendant, depth-first pre-order, each module once. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (path: string, module: Module): void => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([path, module]);
      for (const [name, child] of module.namedChildren())
        visit(path === "" ? name : `${path}.${name}`, child);
    };
    visit(prefix, this);
    return out;
  }

  /** This module and every descendant, depth-first pre-order (`namedModules()` without the names). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted path (`layers.0.weight`), each tensor once. Each parameter
   * also takes its path as its `name` (what graph listings, DOT exports and backward traces call
   * it), unless you set a name yourself; so once an optimizer has the model's `parameters()`,
   * graphs show `0.weight` rather than `leaf0`.
   */
  namedParameters(): [string, Parameter][] {
    const named = this.#collect("parameter") as [string, Parameter][];
    for (const [path, p] of named) {
      if (p.name === undefined || p.name === AUTO_NAMES.get(p)) {
        p.name = path;
        AUTO_NAMES.set(p, path);
      }
    }
    return named;
  }

  /**
   * Every parameter, each tensor once, in `namedParameters()` order: what an optimizer takes,
   * as in `new SGD(model.parameters(), { lr: 0.1 })`.
   */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every non-null buffer (persistent or not) with its dotted path, each tensor once. */
  namedBuffers(): [string, Tensor][] {
    return this.#collect("buffer");
  }

  /** Every non-null buffer, each tensor once (`namedBuffers()` without the names). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  #collect(kind: ModuleEntry["kind"]): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, module] of this.namedModules()) {
      for (const entry of module.ownEntries()) {
        if (entry.kind !== kind || entry.tensor === null || seen.has(entry.tensor)) continue;
        seen.add(entry.tensor);
        out.push([path === "" ? entry.name : `${path}.${entry.name}`, entry.tensor]);
      }
    }
    return out;
  }

  /** Sets `training` on this module and every descendant. Returns `this`. */
  train(mode = true): this {
    let changed = false;
    for (const module of this.modules()) {
      changed ||= module.training !== mode;
      module.training = mode;
    }
    // Compiled functions traced one mode's forward: they must trace again.
    if (changed) invalidateTraces();
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every module (children first, then this one, as PyTorch's `apply`). Returns `this`. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Clears the gradients of all parameters: `grad = null` (default, `setToNone: true`), or fills
   * the existing gradients with zeros.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    noGrad(() => {
      for (const p of this.parameters()) {
        // Unconditional, so that a compiled step's trace does not depend on whether a
        // gradient was there before.
        if (setToNone) p.grad = null;
        else if (p.grad !== null) {
          // Zeroed in place, as PyTorch does: the same gradient tensor (so a compiled step
          // sees no new .grad), detached only when it carries a graph (createGraph).
          const zeroed = p.grad.detach().zero_();
          if (p.grad.gradFn !== null) p.grad = zeroed;
        }
      }
    });
  }

  /**
   * The parameters and persistent buffers by PyTorch key (`0.weight`, `1.running_mean`), in
   * insertion order: own parameters, own buffers, then each child's entries. Values are detached
   * tensors sharing storage with the module.
   */
  stateDict(): Record<string, Tensor> {
    return stateOf(this);
  }

  /**
   * Copies `state` into the module's parameters and buffers in place (tensor identity is kept, so
   * optimizers stay attached). Every key is validated first: with `strict` (default) missing and
   * unexpected keys are errors; a shape or dtype mismatch always is. On error nothing changes.
   */
  loadStateDict(
    state: Record<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    return loadState(this, state, options);
  }

  /**
   * Casts every floating-point parameter and buffer to `dtype` (integer buffers such as
   * `numBatchesTracked` are kept), like `module.to(dtype)`. Parameters are replaced by new
   * Parameter objects: create optimizers after calling this. Returns `this`.
   */
  to(dtype: DType): this {
    if (dtype !== "float32" && dtype !== "float64") {
      throw new TypeError(`${this.typeName()}.to: dtype must be float32 or float64, got ${dtype}`);
    }
    // One replacement per original tensor, so weights tied between modules stay tied.
    const replaced = new Map<Tensor, Tensor>();
    for (const module of this.modules()) {
      const slots = module as unknown as Slots;
      for (const { name, kind, tensor } of module.ownEntries()) {
        if (tensor === null || tensor.dtype === dtype) continue;
        if (tensor.dtype !== "float32" && tensor.dtype !== "float64") continue;
        const already = replaced.get(tensor);
        if (already !== undefined) {
          slots[name] = already;
          continue;
        }
        const cast = noGrad(() => tensor.detach().to(dtype));
        replaced.set(tensor, cast);
        if (kind === "parameter") {
          const param = new Parameter(cast, tensor.requiresGrad);
          param.grad = tensor.grad === null ? null : noGrad(() => tensor.grad!.detach().to(dtype));
          replaced.set(tensor, param);
          slots[name] = param;
        } else slots[name] = cast;
      }
    }
    return this;
  }

  /** `to("float64")`. */
  double(): this {
    return this.to("float64");
  }

  /** `to("float32")`. */
  float(): this {
    return this.to("float32");
  }
}
