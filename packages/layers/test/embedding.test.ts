// Embedding against torch-conv-layers.json (PyTorch 1.13): lookups, accumulated gradients of
// repeated indices, the padding row (zero at creation, no gradient), and errors.

import { tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Embedding } from "../src/embedding.js";
import { convFixture, decode, expectAllclose } from "./helpers.js";

describe("Embedding", () => {
  const c = convFixture.embedding;

  it("looks up rows and accumulates gradients as PyTorch's, none for the padding row", () => {
    const table = new Embedding(7, 3, { paddingIdx: c.paddingIdx, dtype: "float64" });
    table.loadStateDict({ weight: decode(c.state.weight) });
    const out = table.forward(decode(c.indices));
    out.backward(decode(c.gradOutput));
    expectAllclose(out, decode(c.output), { what: "output" });
    expectAllclose(table.weight.grad, decode(c.gradWeight), { what: "grad of weight" });
  });

  it("starts the padding row at zeros, as PyTorch does, and the rest as N(0, 1) draws", () => {
    const table = new Embedding(200, 50, { paddingIdx: -1 });
    expect(table.paddingIdx).toBe(199);
    expect(decode(c.paddingRowInitial).tolist()).toEqual([0, 0, 0]); // PyTorch's
    expect(table.weight.select(0, 199).tolist()).toEqual(new Array(50).fill(0));
    const rest = table.weight.narrow(0, 0, 199);
    expect(Math.abs(rest.mean().item())).toBeLessThan(0.05);
    expect(Math.abs(rest.std().item() - 1)).toBeLessThan(0.05);
  });

  it("refuses float indices, indices out of range and bad sizes, naming the table", () => {
    const table = new Embedding(4, 2);
    expect(() => table.forward(tensor([1.5]))).toThrow(
      'Embedding(4, 2): indices must be an int32 tensor, got dtype float32; cast with .to("int32")',
    );
    expect(() => table.forward(tensor([4], { dtype: "int32" }))).toThrow(
      "embedding: index 4 is out of range for a table of 4 rows (weight shape [4, 2]; indices must be in [0, 3])",
    );
    expect(() => new Embedding(0, 2)).toThrow(
      "Embedding(0, 2): numEmbeddings must be a positive integer, got 0",
    );
    expect(() => new Embedding(4, 2, { paddingIdx: 4 })).toThrow(
      "Embedding(4, 2): paddingIdx must be an integer in [-4, 3], got 4",
    );
  });
});
