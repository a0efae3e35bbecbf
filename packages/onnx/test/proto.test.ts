import { describe, expect, it } from "vitest";
import { decodeModel, encodeModel, type ModelMessage } from "../src/proto.js";

const model: ModelMessage = {
  ir_version: 8,
  opset_import: [{ domain: "", version: 17 }],
  producer_name: "koubai",
  graph: {
    name: "g",
    node: [
      {
        name: "n",
        op_type: "Softmax",
        input: ["x"],
        output: ["y"],
        attribute: [{ name: "axis", type: "INT", i: -1 }],
      },
    ],
    initializer: [{ name: "w", dims: [2], data_type: 1, raw_data: new Uint8Array(8) }],
    input: [
      {
        name: "x",
        type: {
          tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: "batch" }, { dim_value: 2 }] } },
        },
      },
    ],
    output: [
      { name: "y", type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } },
    ],
  },
};

describe("encodeModel and decodeModel", () => {
  it("round-trip a model through the ONNX schema", () => {
    const back = decodeModel(encodeModel(model));
    expect(back.ir_version).toBe(8);
    expect(back.graph.node[0]).toMatchObject(model.graph.node[0]);
    expect(back.graph.input).toEqual(model.graph.input);
    expect(Array.from(back.graph.initializer[0].raw_data)).toEqual(new Array(8).fill(0));
  });

  it("write ModelProto's field numbers: ir_version is field 1, a varint", () => {
    const bytes = encodeModel(model);
    expect([bytes[0], bytes[1]]).toEqual([0x08, 8]);
  });
});
