import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Tensor, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { ReLU } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from "../src/safetensors.js";
import { Sequential } from "../src/sequential.js";

const SCRIPT = fileURLToPath(new URL("./fixtures/safetensors_interop.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const hasPython = (module: string) => spawnSync(PYTHON, ["-c", `import ${module}`]).status === 0;

/** The tensors safetensors_interop.py's reference() holds (same names, dtypes, values). */
function reference() {
  return {
    weight: tensor([
      [-1, -0.5, 0],
      [0.5, 1, 1.5],
    ]),
    double: tensor([1 / 3, -2.5e-300, 1e300], { dtype: "float64" }),
    ids: tensor([-2, 0, 7, 2147483647], { dtype: "int32" }),
    "layer.num_batches_tracked": tensor(5, { dtype: "int32" }),
    mask: tensor(
      [
        [1, 0],
        [0, 1],
      ],
      { dtype: "bool" },
    ),
  };
}

function headerOf(bytes: Uint8Array): Record<string, { dtype: string; data_offsets: number[] }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

describe("saveSafetensors / loadSafetensors", () => {
  it("round-trips every dtype bit for bit, special values included", () => {
    const state = {
      f32: tensor([Number.NaN, -0, Infinity, -Infinity, 1e-45, 3.4e38], { dtype: "float32" }),
      f64: tensor([Number.NaN, -0, 5e-324, Number.MAX_VALUE, 0.1], {
        dtype: "float64",
        shape: [5],
      }),
      i32: tensor(
        [
          [-2147483648, 2147483647],
          [0, -1],
        ],
        { dtype: "int32" },
      ),
      flags: tensor([1, 0, 1], { dtype: "bool" }),
      empty: tensor([], { dtype: "float32", shape: [0, 3] }),
      scalar: tensor(2.5, { dtype: "float64" }),
    };
    const loaded = loadSafetensors(saveSafetensors(state));
    expect(Object.keys(loaded)).toEqual(Object.keys(state));
    for (const [key, t] of Object.entries(state)) {
      expect(loaded[key].dtype, key).toBe(t.dtype);
      expect(loaded[key].shape, key).toEqual(t.shape);
      const a = t.toArray();
      const b = loaded[key].toArray();
      expect(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).toEqual(
        new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      );
    }
  });

  it("pads the header with spaces to 8 bytes and keeps string metadata", () => {
    const bytes = saveSafetensors({ a: tensor([1, 2, 3]) }, { format: "pt", note: "é" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(safetensorsMetadata(bytes)).toEqual({ format: "pt", note: "é" });
    expect(bytes.length).toBe(8 + n + 12);
  });

  it("writes num_batches_tracked as I64 and reads I64 back as int32", () => {
    const bn = new BatchNorm1d(2);
    const header = headerOf(saveSafetensors(bn.stateDict()));
    expect(header.num_batches_tracked.dtype).toBe("I64");
    expect(header.running_mean.dtype).toBe("F32");
    const back = loadSafetensors(
      saveSafetensors({ "1.num_batches_tracked": tensor(7, { dtype: "int32" }) }),
    );
    expect(back["1.num_batches_tracked"].dtype).toBe("int32");
    expect(back["1.num_batches_tracked"].item()).toBe(7);
  });

  it("loads the file numpy wrote (fixtures/numpy-written.safetensors)", () => {
    const bytes = new Uint8Array(
      readFileSync(new URL("./fixtures/numpy-written.safetensors", import.meta.url)),
    );
    const loaded = loadSafetensors(bytes);
    const ref = reference();
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(ref).sort());
    for (const [key, t] of Object.entries(ref)) {
      expect(loaded[key].dtype, key).toBe(t.dtype);
      expect(loaded[key].shape, key).toEqual(t.shape);
      expect(Array.from(loaded[key].toArray()), key).toEqual(Array.from(t.toArray()));
    }
    expect(safetensorsMetadata(bytes)).toEqual({ writer: "numpy", format: "pt" });
  });

  it("writes a file numpy reads back exactly (needs /usr/bin/python3 with numpy)", (ctx) => {
    ctx.skip(
      !hasPython("numpy"),
      "needs Debian's python3-numpy to read the file back: apt-get install -y python3-numpy",
    );
    const dir = mkdtempSync(join(tmpdir(), "koubai-st-"));
    try {
      const file = join(dir, "koubai.safetensors");
      writeFileSync(file, saveSafetensors(reference(), { writer: "koubai" }));
      expect(execFileSync(PYTHON, [SCRIPT, "verify", file], { encoding: "utf8" }).trim()).toBe(
        "ok",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a state dict PyTorch loads with load_state_dict(strict=True) (needs torch)", (ctx) => {
    ctx.skip(
      !hasPython("torch"),
      "needs Debian's python3-torch to load the state dict: apt-get install -y python3-torch",
    );
    const model = new Sequential(
      new Linear(4, 8),
      new BatchNorm1d(8),
      new ReLU(),
      new Linear(8, 3),
    ).double();
    model.forward(
      tensor(
        [
          [1, 2, 3, 4],
          [0, 1, 0, 1],
          [2, 2, 1, 0],
        ],
        { dtype: "float64" },
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), "koubai-st-"));
    try {
      const file = join(dir, "mlp.safetensors");
      writeFileSync(file, saveSafetensors(model.stateDict()));
      expect(execFileSync(PYTHON, [SCRIPT, "torch-load", file], { encoding: "utf8" }).trim()).toBe(
        "ok",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("loadSafetensors refuses bad files with a clear error", () => {
  const good = saveSafetensors({ a: tensor([1, 2, 3]), b: tensor([4], { dtype: "int32" }) });
  const withHeader = (header: object, data: Uint8Array) => {
    const text = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + text.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(data, 8 + text.length);
    return out;
  };

  it.each([
    ["a file shorter than 8 bytes", good.slice(0, 5), /too short/],
    ["a truncated data section", good.slice(0, good.length - 2), /truncated or corrupted/],
    ["a header length beyond the file", good.slice(0, 20), /exceeds/],
    [
      "a header that is not JSON",
      withHeader({}, new Uint8Array()).fill(120, 8),
      /not valid UTF-8 JSON/,
    ],
    [
      "an unsupported dtype",
      withHeader({ h: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)),
      /F16.*supported/,
    ],
    [
      "offsets that disagree with the shape",
      withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /needs 8 bytes/,
    ],
    [
      "overlapping tensors",
      withHeader(
        {
          a: { dtype: "I32", shape: [1], data_offsets: [0, 4] },
          b: { dtype: "I32", shape: [1], data_offsets: [0, 4] },
        },
        new Uint8Array(4),
      ),
      /overlapping or gapped/,
    ],
    [
      "an I64 outside the int32 range",
      withHeader(
        { n: { dtype: "I64", shape: [], data_offsets: [0, 8] } },
        new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]),
      ),
      /outside the int32 range/,
    ],
    [
      "a BOOL byte other than 0 or 1",
      withHeader({ m: { dtype: "BOOL", shape: [1], data_offsets: [0, 1] } }, new Uint8Array([2])),
      /expected 0 or 1/,
    ],
  ])("%s", (_, bytes, message) => {
    expect(() => loadSafetensors(bytes as Uint8Array)).toThrow(message);
    expect(() => loadSafetensors(bytes as Uint8Array)).toThrow(/^loadSafetensors: /);
  });
});

describe("loadSafetensors on Node Buffers and other views", () => {
  it("reads the Buffer readFileSync returns, a view into a larger shared pool", () => {
    const bytes = readFileSync(new URL("./fixtures/numpy-written.safetensors", import.meta.url));
    expect(bytes.byteLength).toBeLessThan(bytes.buffer.byteLength); // the case this guards
    const loaded = loadSafetensors(bytes);
    for (const [key, t] of Object.entries(reference())) {
      expect(Array.from(loaded[key].toArray()), key).toEqual(Array.from(t.toArray()));
    }
    expect(safetensorsMetadata(bytes)).toEqual({ writer: "numpy", format: "pt" });
  });

  it("reads a file written to disk and read back with readFileSync", () => {
    const dir = mkdtempSync(join(tmpdir(), "koubai-st-"));
    try {
      const file = join(dir, "small.safetensors");
      writeFileSync(
        file,
        saveSafetensors({ w: tensor([1.5, -2, 3]), on: tensor([1, 0], { dtype: "bool" }) }),
      );
      const loaded = loadSafetensors(readFileSync(file));
      expect(loaded.w.tolist()).toEqual([1.5, -2, 3]);
      expect(loaded.on.dtype).toBe("bool");
      expect(loaded.on.tolist()).toEqual([1, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a Uint8Array at an odd byte offset inside a larger buffer", () => {
    const file = saveSafetensors({ d: tensor([0.25, -1e300], { dtype: "float64" }) });
    const host = new Uint8Array(file.length + 13);
    host.set(file, 5);
    const loaded = loadSafetensors(host.subarray(5, 5 + file.length));
    expect(loaded.d.tolist()).toEqual([0.25, -1e300]);
  });

  it("names what it got instead of a Uint8Array", () => {
    const file = saveSafetensors({ a: tensor([1]) });
    expect(() => loadSafetensors(file.buffer as never)).toThrow(
      "loadSafetensors: expected a Uint8Array (a Node Buffer is one), got an object of type ArrayBuffer (view its bytes: new Uint8Array(buffer))",
    );
  });
});

describe("names from files never touch a prototype", () => {
  it('round-trips a tensor named "__proto__" as an ordinary own entry', () => {
    const state: Record<string, Tensor> = {};
    Object.defineProperty(state, "__proto__", {
      value: tensor([7, 8]),
      enumerable: true,
    });
    state.w = tensor([1]);
    const loaded = loadSafetensors(saveSafetensors(state, { note: "x" }));
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect(Object.keys(loaded)).toEqual(["__proto__", "w"]);
    expect(Object.getOwnPropertyDescriptor(loaded, "__proto__")?.value.tolist()).toEqual([7, 8]);
    expect(({} as Record<string, unknown>).tolist).toBeUndefined();
  });

  it('keeps a "__proto__" metadata entry as an own string', () => {
    const metadata = JSON.parse('{"__proto__": "evil", "ok": "1"}') as Record<string, string>;
    const meta = safetensorsMetadata(saveSafetensors({ a: tensor([1]) }, metadata));
    expect(Object.getPrototypeOf(meta)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(meta, "__proto__")?.value).toBe("evil");
    expect(meta.ok).toBe("1");
  });

  it("refuses a dtype named after an Object.prototype member instead of computing NaN bytes", () => {
    const header = new TextEncoder().encode(
      JSON.stringify({ t: { dtype: "toString", shape: [1], data_offsets: [0, 4] } }),
    );
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => loadSafetensors(bytes)).toThrow(
      'loadSafetensors: tensor "t" has dtype "toString"; supported: F32, F64, I32, I64, BOOL',
    );
  });
});
