// ModuleList: modules held in a list, registered as children "0", "1", ... (PyTorch's
// nn.ModuleList). A container, not a layer: it has no forward. The keyed container is in
// module-dict.ts.

import { describeValue, Module } from "./module.js";

/**
 * Holds modules in a list, like `nn.ModuleList`: the modules are registered children named
 * `"0"`, `"1"`, ..., so their parameters appear in `parameters()`, `namedParameters()` (as
 * `0.weight`) and `stateDict()`, and `train()`/`eval()` reach them. The names always run from
 * `"0"` to `"length - 1"`: `insert`, `delete` and `pop` renumber the later modules, exactly as
 * PyTorch does, so a state dict saved before such a change has different keys.
 *
 * A ModuleList has no `forward` (calling it throws); the module that owns it decides how its
 * modules are called. Use `Sequential` to chain modules.
 *
 * @example
 * ```ts
 * class Mlp extends Module {
 *   hidden = new ModuleList([new Linear(4, 8), new Linear(8, 8)]);
 *   head = new Linear(8, 2);
 *   forward(x: Tensor): Tensor {
 *     for (const layer of this.hidden) x = layer.forward(x).relu();
 *     return this.head.forward(x);
 *   }
 * }
 * new Mlp().namedParameters()[0][0]; // "hidden.0.weight"
 * ```
 */
export class ModuleList extends Module implements Iterable<Module> {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ModuleList";

  /** Registers `modules` in iteration order as `"0"`, `"1"`, ... (`nn.ModuleList(modules)`). */
  constructor(modules: Iterable<Module> = []) {
    super();
    this.#extend(modules, "constructor");
  }

  /** Number of modules (`len(list)`). */
  get length(): number {
    return this.children().length;
  }

  /** The module at `index`; a negative index counts from the end (`list[index]`). */
  at(index: number): Module {
    return this.#child(this.#position(index, "at"));
  }

  /** Replaces the module at `index` (negative counts from the end), like `list[index] = module`. */
  set(index: number, module: Module): void {
    this.setChild(String(this.#position(index, "set")), module, "set");
  }

  /** Adds `module` at the end, as `"length"`. Returns `this`. */
  append(module: Module): this {
    this.setChild(String(this.length), module, "append");
    return this;
  }

  /**
   * Adds the modules of `modules` at the end, in order. Every element is checked before any is
   * added, so on error the list is unchanged. Returns `this`.
   */
  extend(modules: Iterable<Module>): this {
    return this.#extend(modules, "extend");
  }

  /**
   * Inserts `module` before position `index`, for `0 <= index <= length`; the modules from `index`
   * on move up one place and are renamed (`"1"` becomes `"2"`, ...).
   *
   * NOTE: PyTorch 1.13 checks neither `index` nor `module` here: a negative index fails with
   * `KeyError`, one past the end registers the module under that number (leaving a gap), and a
   * non-Module is stored as is. Here they are a RangeError and a TypeError, as in `append`.
   */
  insert(index: number, module: Module): void {
    const n = this.length;
    if (!Number.isInteger(index) || index < 0 || index > n) {
      throw new RangeError(
        `${this.typeName()}.insert: index ${index} is out of range for inserting into ${n} modules (0 to ${n})`,
      );
    }
    this.checkChild(String(n), module, "insert");
    for (let k = n; k > index; k--) this.setChild(String(k), this.#child(k - 1), "insert");
    this.setChild(String(index), module, "insert");
  }

  /**
   * Removes the module at `index` (negative counts from the end), like `del list[index]`; the
   * later modules move down one place and are renamed so the names stay `"0"` to `"length - 1"`.
   */
  delete(index: number): void {
    this.#remove(this.#position(index, "delete"));
  }

  /** Removes the module at `index` (negative counts from the end) and returns it, as `delete` does. */
  pop(index: number): Module {
    const i = this.#position(index, "pop");
    const module = this.#child(i);
    this.#remove(i);
    return module;
  }

  /** The modules in order (`for (const m of list)`). */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** Always throws: a ModuleList is a container, not a layer (PyTorch raises NotImplementedError). */
  forward(): never {
    throw new Error(
      `${this.typeName()} has no forward: it is a container, not a layer. Call the modules it holds (for (const m of list) x = m.forward(x)), or chain them with Sequential`,
    );
  }

  #extend(modules: Iterable<Module>, op: string): this {
    if (
      modules === null ||
      typeof modules !== "object" ||
      typeof (modules as Partial<Iterable<Module>>)[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `${this.typeName()}.${op}: expected an iterable of Modules, got ${describeValue(modules)}`,
      );
    }
    const added = [...modules];
    const offset = this.length;
    added.forEach((module, i) => {
      this.checkChild(String(offset + i), module, op);
    });
    added.forEach((module, i) => {
      this.setChild(String(offset + i), module, op);
    });
    return this;
  }

  /** The non-negative position of `index`, or a clear error naming `op`, the index and the length. */
  #position(index: number, op: string): number {
    const n = this.length;
    if (!Number.isInteger(index)) {
      throw new TypeError(`${this.typeName()}.${op}: index must be an integer, got ${index}`);
    }
    if (index < -n || index >= n) {
      const valid = n === 0 ? "an empty list" : `${n} modules (-${n} to ${n - 1})`;
      throw new RangeError(`${this.typeName()}.${op}: index ${index} is out of range for ${valid}`);
    }
    return index < 0 ? index + n : index;
  }

  #child(i: number): Module {
    return this.getChild(String(i)) as Module;
  }

  #remove(i: number): void {
    const n = this.length;
    for (let k = i; k < n - 1; k++) this.setChild(String(k), this.#child(k + 1), "delete");
    this.deleteChild(String(n - 1));
  }
}
