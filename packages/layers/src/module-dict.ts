// ModuleDict: modules held by string key in insertion order (PyTorch's nn.ModuleDict). A
// container, not a layer: it has no forward. The indexed container is in module-list.ts.

import { describeValue, Module } from "./module.js";

/**
 * What `ModuleDict` and its `update` accept: `[key, module]` pairs (an array of pairs, a `Map`,
 * another ModuleDict) or a plain object of modules.
 */
export type ModuleDictInit =
  | ModuleDict
  | Iterable<readonly [string, Module]>
  | Record<string, Module>;

/**
 * Holds modules by string key, like `nn.ModuleDict`: each module is a registered child named by
 * its key, so its parameters appear in `parameters()`, `namedParameters()` (as `conv.weight`) and
 * `stateDict()`, and `train()`/`eval()` reach it. Keys keep insertion order (children, parameters
 * and state-dict keys follow it); replacing the module under an existing key keeps its place,
 * deleting and re-adding a key moves it to the end.
 *
 * Keys are checked as `registerModule` checks names (PyTorch's `add_module`): a non-empty string
 * without `"."` that is not already a method or property, so `"keys"`, `"training"` or `"double"`
 * (Module's cast to float64) is refused, as in PyTorch.
 *
 * The method names are `Map`'s, the behaviour is PyTorch's: `get`, `delete` and `pop` throw for a
 * missing key (Python's `KeyError`) instead of returning `undefined`/`false`, and iterating a
 * ModuleDict yields its keys, as iterating a Python dict does. The count is `size`, as on a Map.
 *
 * NOTE: a plain object lists integer-like keys (`"1"`) before the others whatever order they were
 * written in; pass `[key, module]` pairs or a `Map` where that order matters.
 *
 * A ModuleDict has no `forward` (calling it throws); the module that owns it picks the modules.
 *
 * @example
 * ```ts
 * const heads = new ModuleDict({ classify: new Linear(8, 3), regress: new Linear(8, 1) });
 * heads.get("regress").forward(features); // [N, 1]
 * heads.keys(); // ["classify", "regress"]
 * Object.keys(heads.stateDict()); // ["classify.weight", "classify.bias", "regress.weight", "regress.bias"]
 * ```
 */
export class ModuleDict extends Module implements Iterable<string> {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ModuleDict";

  // Insertion order of the keys. Property order cannot serve: JavaScript lists integer-like
  // property names first, while PyTorch keeps "b", "1", "a" in that order.
  readonly #keys = new Set<string>();

  /** Registers `modules` in order (`nn.ModuleDict(modules)`); see `update`. */
  constructor(modules: ModuleDictInit = []) {
    super();
    this.#update(modules, "constructor");
  }

  /** Number of modules (`len(dict)`). */
  get size(): number {
    return this.#keys.size;
  }

  /** The module under `key` (`dict[key]`); throws a RangeError if there is none. */
  get(key: string): Module {
    return this.#existing(key, "get");
  }

  /**
   * Registers `module` under `key` (`dict[key] = module`): a new key goes at the end, an existing
   * one keeps its place.
   */
  set(key: string, module: Module): void {
    this.#set(key, module, "set");
  }

  /** Whether a module is registered under `key` (`key in dict`). */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Removes the module under `key` (`del dict[key]`); throws a RangeError if there is none. */
  delete(key: string): void {
    this.#existing(key, "delete");
    this.#delete(key);
  }

  /** Removes the module under `key` and returns it (`dict.pop(key)`); throws a RangeError if there is none. */
  pop(key: string): Module {
    const module = this.#existing(key, "pop");
    this.#delete(key);
    return module;
  }

  /** Removes every module. */
  clear(): void {
    for (const key of [...this.#keys]) this.#delete(key);
  }

  /** The keys in order. */
  keys(): string[] {
    return [...this.#keys];
  }

  /** The modules in key order. */
  values(): Module[] {
    return this.keys().map((key) => this.getChild(key) as Module);
  }

  /** `[key, module]` pairs in order (PyTorch's `items()`). */
  entries(): [string, Module][] {
    return this.keys().map((key) => [key, this.getChild(key) as Module]);
  }

  /** The keys in order, as iterating a Python dict yields them. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  /**
   * Registers each `[key, module]` of `modules` in its order, replacing the modules under keys
   * already present (in place). Every pair, key and module is checked before any is added, so on
   * error the dict is unchanged.
   */
  update(modules: ModuleDictInit): void {
    this.#update(modules, "update");
  }

  /** The keyed children in insertion order, then any child a subclass assigned to a property. */
  override namedChildren(): [string, Module][] {
    const others = super.namedChildren().filter(([name]) => !this.#keys.has(name));
    return [...this.entries(), ...others];
  }

  /** Always throws: a ModuleDict is a container, not a layer (PyTorch raises NotImplementedError). */
  forward(): never {
    throw new Error(
      `${this.typeName()} has no forward: it is a container, not a layer. Call the modules it holds (dict.get(key).forward(x))`,
    );
  }

  #update(modules: ModuleDictInit, op: string): void {
    if (modules === null || typeof modules !== "object") {
      throw new TypeError(
        `${this.typeName()}.${op}: expected [key, module] pairs or an object of modules, got ${describeValue(modules)}`,
      );
    }
    let pairs: (readonly [string, Module])[];
    if (modules instanceof ModuleDict) pairs = modules.entries();
    else if (Symbol.iterator in modules) {
      pairs = [...(modules as Iterable<readonly [string, Module]>)];
      pairs.forEach((pair, j) => {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError(
            `${this.typeName()}.${op}: element #${j} must be a [key, module] pair, got ${describeValue(pair)}`,
          );
        }
      });
    } else pairs = Object.entries(modules);
    for (const [key, module] of pairs) this.checkChild(key, module, op);
    for (const [key, module] of pairs) this.#set(key, module, op);
  }

  #set(key: string, module: Module, op: string): void {
    this.setChild(key, module, op);
    this.#keys.add(key);
  }

  #delete(key: string): void {
    this.deleteChild(key);
    this.#keys.delete(key);
  }

  #existing(key: string, op: string): Module {
    const module = this.#keys.has(key) ? this.getChild(key) : undefined;
    if (module === undefined) {
      const keys = [...this.#keys].map((k) => JSON.stringify(k)).join(", ");
      throw new RangeError(
        `${this.typeName()}.${op}: no module under the key ${JSON.stringify(key)}; the keys are ${keys === "" ? "(none)" : keys}`,
      );
    }
    return module;
  }
}
