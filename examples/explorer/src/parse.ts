// A small, safe expression language for the Expression view: numbers, names, + - * / @, unary
// minus, parentheses, method calls (`x.tanh()`) and a few functions (`softmax(x, 0)`), evaluated
// with Koubai ops. Nothing a learner types is run as JavaScript.

import { logSoftmax, matmul, softmax, type Tensor, tensor } from "@koubai/core";

type Node =
  | { kind: "number"; value: number }
  | { kind: "name"; name: string }
  | { kind: "unary"; operand: Node }
  | { kind: "binary"; op: "+" | "-" | "*" | "/" | "@"; left: Node; right: Node }
  | { kind: "method"; target: Node; method: string; args: Node[] }
  | { kind: "call"; fn: string; args: Node[] };

/** Methods a learner may call, each taking only numbers as arguments. */
export const METHODS = [
  "tanh",
  "relu",
  "sigmoid",
  "exp",
  "log",
  "sin",
  "cos",
  "square",
  "sqrt",
  "abs",
  "neg",
  "sum",
  "mean",
  "t",
  "pow",
] as const;
/** Functions a learner may call. */
export const FUNCTIONS = ["softmax", "logSoftmax", "matmul"] as const;

/** A mistake in what was typed, with the position it was found at. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at character ${position + 1})`);
  }
}

interface Token {
  type: "number" | "name" | "symbol" | "end";
  text: string;
  at: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(source.slice(i));
      if (m === null) throw new ExpressionError(`"${c}" does not start a number`, i);
      tokens.push({ type: "number", text: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ type: "name", text: m[0], at: i });
      i += m[0].length;
    } else if ("+-*/@().,".includes(c)) {
      tokens.push({ type: "symbol", text: c, at: i });
      i++;
    } else {
      throw new ExpressionError(`unexpected "${c}"`, i);
    }
  }
  tokens.push({ type: "end", text: "", at: source.length });
  return tokens;
}

/** Parses `source` into a tree, or throws an ExpressionError saying where it went wrong. */
export function parseExpression(source: string): Node {
  const tokens = tokenize(source);
  let k = 0;
  const peek = () => tokens[k];
  const take = (text?: string): Token => {
    const t = tokens[k];
    if (text !== undefined && t.text !== text) {
      throw new ExpressionError(
        `expected "${text}" but found ${t.type === "end" ? "the end" : `"${t.text}"`}`,
        t.at,
      );
    }
    k++;
    return t;
  };
  const args = (): Node[] => {
    take("(");
    const list: Node[] = [];
    if (peek().text !== ")") {
      list.push(sum());
      while (peek().text === ",") {
        take(",");
        list.push(sum());
      }
    }
    take(")");
    return list;
  };
  const primary = (): Node => {
    const t = peek();
    if (t.type === "number") {
      take();
      return { kind: "number", value: Number(t.text) };
    }
    if (t.type === "name") {
      take();
      if (peek().text === "(") {
        if (!(FUNCTIONS as readonly string[]).includes(t.text)) {
          throw new ExpressionError(
            `unknown function ${t.text} (known: ${FUNCTIONS.join(", ")})`,
            t.at,
          );
        }
        return { kind: "call", fn: t.text, args: args() };
      }
      return { kind: "name", name: t.text };
    }
    if (t.text === "(") {
      take("(");
      const inner = sum();
      take(")");
      return inner;
    }
    throw new ExpressionError(
      t.type === "end" ? "the expression ends too early" : `unexpected "${t.text}"`,
      t.at,
    );
  };
  const postfix = (): Node => {
    let node = primary();
    while (peek().text === ".") {
      take(".");
      const name = take();
      if (name.type !== "name" || !(METHODS as readonly string[]).includes(name.text)) {
        throw new ExpressionError(
          `unknown method ${name.text} (known: ${METHODS.join(", ")})`,
          name.at,
        );
      }
      node = { kind: "method", target: node, method: name.text, args: args() };
    }
    return node;
  };
  const unary = (): Node => {
    if (peek().text === "-") {
      take("-");
      return { kind: "unary", operand: unary() };
    }
    return postfix();
  };
  const binaryLevel = (next: () => Node, ops: string[]) => (): Node => {
    let left = next();
    while (ops.includes(peek().text)) {
      const op = take().text as "+" | "-" | "*" | "/" | "@";
      left = { kind: "binary", op, left, right: next() };
    }
    return left;
  };
  const product = binaryLevel(binaryLevel(unary, ["@"]), ["*", "/"]);
  const sum = binaryLevel(product, ["+", "-"]);
  const tree = sum();
  if (peek().type !== "end") throw new ExpressionError(`unexpected "${peek().text}"`, peek().at);
  return tree;
}

type Value = Tensor | number;

function asNumber(v: Value, what: string): number {
  if (typeof v !== "number") throw new Error(`${what} must be a number`);
  return v;
}

function asTensor(v: Value): Tensor {
  return typeof v === "number" ? tensor(v, { dtype: "float64" }) : v;
}

/** Evaluates `source` with Koubai ops over the named tensors. */
export function evaluate(source: string, variables: ReadonlyMap<string, Tensor>): Tensor {
  const run = (node: Node): Value => {
    switch (node.kind) {
      case "number":
        return node.value;
      case "name": {
        const t = variables.get(node.name);
        if (t === undefined)
          throw new Error(
            `${node.name} is not defined (defined: ${[...variables.keys()].join(", ") || "none"})`,
          );
        return t;
      }
      case "unary": {
        const v = run(node.operand);
        return typeof v === "number" ? -v : v.neg();
      }
      case "binary": {
        const [a, b] = [run(node.left), run(node.right)];
        if (node.op === "@") return matmul(asTensor(a), asTensor(b));
        if (typeof a === "number" && typeof b === "number") {
          return node.op === "+"
            ? a + b
            : node.op === "-"
              ? a - b
              : node.op === "*"
                ? a * b
                : a / b;
        }
        const left = asTensor(a);
        return node.op === "+"
          ? left.add(b)
          : node.op === "-"
            ? left.sub(b)
            : node.op === "*"
              ? left.mul(b)
              : left.div(b);
      }
      case "method": {
        const target = asTensor(run(node.target));
        const args = node.args.map((a, i) =>
          asNumber(run(a), `argument ${i + 1} of .${node.method}()`),
        );
        switch (node.method) {
          case "sum":
            return args.length === 0 ? target.sum() : target.sum(args[0]);
          case "mean":
            return args.length === 0 ? target.mean() : target.mean(args[0]);
          case "pow":
            return target.pow(args[0] ?? 2);
          default:
            return (target as unknown as Record<string, () => Tensor>)[node.method]();
        }
      }
      case "call": {
        const [first, ...rest] = node.args.map(run);
        if (first === undefined) throw new Error(`${node.fn} needs arguments`);
        if (node.fn === "matmul") return matmul(asTensor(first), asTensor(rest[0] ?? 1));
        const dim = asNumber(rest[0] ?? -1, `the dim of ${node.fn}`);
        return node.fn === "softmax"
          ? softmax(asTensor(first), dim)
          : logSoftmax(asTensor(first), dim);
      }
    }
  };
  return asTensor(run(parseExpression(source)));
}

/**
 * Reads variable definitions, one per line: `name = value`, the value a number or a JSON array
 * (`W = [[1, 2], [3, 4]]`). Each becomes a float64 tensor that requires grad, named after it.
 */
export function parseVariables(text: string): Map<string, Tensor> {
  const variables = new Map<string, Tensor>();
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(trimmed);
    if (m === null) throw new Error(`line ${i + 1}: expected "name = value", got "${trimmed}"`);
    let value: unknown;
    try {
      value = JSON.parse(m[2]);
    } catch {
      throw new Error(`line ${i + 1}: ${m[2]} is not a number or a [list] of numbers`);
    }
    const t = tensor(value as number, { dtype: "float64", requiresGrad: true });
    t.name = m[1];
    variables.set(m[1], t);
  });
  return variables;
}
