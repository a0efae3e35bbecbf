// The lambdas of torch-schedulers.json, keyed by the Python expression the generator used, each
// written again in TypeScript (Python's `//` is Math.floor of the quotient for these epochs >= 0).

import type { LrLambda } from "../../src/index.js";

export const torchLambdas: Record<string, LrLambda> = {
  "0.95 ** epoch": (epoch) => 0.95 ** epoch,
  "epoch // 3": (epoch) => Math.floor(epoch / 3),
  "1 / (epoch + 1)": (epoch) => 1 / (epoch + 1),
  "0.9": () => 0.9,
  "0.5 if epoch % 3 == 0 else 1.0": (epoch) => (epoch % 3 === 0 ? 0.5 : 1.0),
  "1.0 + 0.1 * epoch": (epoch) => 1.0 + 0.1 * epoch,
};

/** The fixture's lambda (or one per group) by name; an unknown name is a fixture error. */
export function lambdasNamed(names: string | readonly string[]): LrLambda | LrLambda[] {
  const lookUp = (name: string): LrLambda => {
    const fn = torchLambdas[name];
    if (fn === undefined) throw new Error(`fixture: no TypeScript version of lambda ${name}`);
    return fn;
  };
  return typeof names === "string" ? lookUp(names) : names.map(lookUp);
}
