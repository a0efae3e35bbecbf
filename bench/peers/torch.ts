// PyTorch's side of the peer benchmark: torch_peer.py in a child process (Debian's python3-torch,
// one thread), driven one JSON line per request. Each timed step is a round trip to the child, so
// PyTorch's times include about 0.1 ms of pipe latency per step (measured as the "ping" below);
// on the millisecond-scale workloads that is a few percent, on the others less.

import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BatchNormInputs, CnnInputs, MatmulInputs, MlpInputs } from "./inputs.js";
import type { Case, Framework, Outputs } from "./measure.js";

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = "/usr/bin/python3";

interface Reply {
  ok: boolean;
  error?: string;
  version?: string;
  outputs?: Record<string, string>;
}

/** A running torch_peer.py: one request at a time, replies in order. */
class Peer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: ((reply: Reply) => void)[] = [];

  constructor() {
    this.#child = spawn(PYTHON, [join(here, "torch_peer.py")], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.#child.stdout }).on("line", (line) =>
      this.#waiting.shift()?.(JSON.parse(line)),
    );
    this.#child.stderr.on("data", (chunk: Buffer) => process.stderr.write(`[torch] ${chunk}`));
    this.#child.unref();
  }

  async request(message: object): Promise<Reply> {
    const reply = await new Promise<Reply>((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(message)}\n`);
    });
    if (!reply.ok) throw new Error(`torch: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.#child.stdin.end();
  }
}

/** Typed arrays as base64, numbers and shapes as they are: what torch_peer.py reads. */
function encode(value: unknown): unknown {
  if (value instanceof Float32Array || value instanceof Int32Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  }
  if (Array.isArray(value)) return value;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

function decode(outputs: Record<string, string>): Outputs {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, b64]) => {
      const bytes = Buffer.from(b64, "base64");
      return [
        name,
        new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      ];
    }),
  );
}

function open(peer: Peer, workload: string) {
  return async (inputs: BatchNormInputs | MatmulInputs | MlpInputs | CnnInputs): Promise<Case> => {
    await peer.request({ cmd: "open", workload, inputs: encode(inputs) });
    return {
      check: async () => decode((await peer.request({ cmd: "check" })).outputs ?? {}),
      step: async () => void (await peer.request({ cmd: "step" })),
      dispose: () => void peer.request({ cmd: "dispose" }),
    };
  };
}

/** Whether Debian's python3 can import torch (python3-torch installed). */
export function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import torch, numpy"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The PyTorch adapter, or undefined when python3-torch is not installed. */
export async function torchFramework(): Promise<
  { framework: Framework; close(): void } | undefined
> {
  if (!torchAvailable()) return undefined;
  const peer = new Peer();
  const { version } = await peer.request({ cmd: "version" });
  const pings: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    await peer.request({ cmd: "version" });
    pings.push(performance.now() - start);
  }
  pings.sort((a, b) => a - b);
  const ping = pings[pings.length >> 1];
  return {
    framework: {
      name: "pytorch",
      version: `PyTorch ${version} (Debian python3-torch, CPU, 1 thread; a pipe round trip of ${ping.toFixed(2)} ms per step included)`,
      batchNorm: open(peer, "bn"),
      matmul: open(peer, "matmul"),
      mlp: open(peer, "mlp"),
      cnn: open(peer, "cnn"),
    },
    close: () => peer.close(),
  };
}
