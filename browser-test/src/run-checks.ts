// Every check in one call, returning plain JSON-safe data: the page stores it as
// window.__results, and the Node test calls the same function, so both run one program.

import {
  type BackwardResult,
  backwardCheck,
  type GradcheckResult,
  gradcheckChecks,
} from "./autograd-checks.js";
import { type ErrorResult, errorChecks } from "./error-checks.js";
import { type MatmulResult, matmulCheck } from "./matmul-checks.js";
import { type TrainingResult, trainMlp } from "./mlp-checks.js";
import { type SafetensorsResult, safetensorsCheck } from "./safetensors-checks.js";

export interface CheckResults {
  /** navigator.userAgent in the page, `Node.js <version>` under Node. */
  runtime: string;
  backward: BackwardResult;
  gradchecks: GradcheckResult[];
  mlp: { composite: TrainingResult; fused: TrainingResult; compiled: TrainingResult };
  matmul: MatmulResult;
  safetensors: SafetensorsResult;
  errors: ErrorResult;
  /** Wall-clock milliseconds for all checks. */
  milliseconds: number;
}

export function runChecks(runtime: string): CheckResults {
  const started = performance.now();
  const results: Omit<CheckResults, "milliseconds"> = {
    runtime,
    backward: backwardCheck(),
    gradchecks: gradcheckChecks(),
    mlp: { composite: trainMlp(false), fused: trainMlp(true), compiled: trainMlp(false, true) },
    matmul: matmulCheck(),
    safetensors: safetensorsCheck(),
    errors: errorChecks(),
  };
  return { ...results, milliseconds: performance.now() - started };
}
