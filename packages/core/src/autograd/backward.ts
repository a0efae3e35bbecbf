// `Tensor.backward`: checks its arguments and the seed gradient, then runs the engine from one
// output, accumulating into the leaves' `.grad`.

import { full, onesLike } from "../tensor/creation.js";
import { formatShape } from "../tensor/shape.js";
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { activeTracer, tracedCall } from "../tensor/tracing.js";
import { type BackwardOptions, runBackward } from "./engine.js";

/** How a tracer sees a backward pass: a scope holding the calls the engine makes. */
const BACKWARD = { name: "backward", kind: "backward" };

/** `output.backward(options)` or `output.backward(gradient, options)`; see `Tensor.backward`. */
export function backward(
  output: Tensor,
  gradientOrOptions?: TensorLike | BackwardOptions,
  maybeOptions?: BackwardOptions,
): void {
  const tracer = activeTracer();
  if (tracer === null) {
    runFrom(output, gradientOrOptions, maybeOptions);
    return;
  }
  tracedCall(
    tracer,
    BACKWARD,
    [output, gradientOrOptions, maybeOptions],
    () => runFrom(output, gradientOrOptions, maybeOptions),
    backward,
  );
}

function runFrom(
  output: Tensor,
  gradientOrOptions?: TensorLike | BackwardOptions,
  maybeOptions?: BackwardOptions,
): void {
  const [gradient, options] = splitBackwardArguments(gradientOrOptions, maybeOptions);
  if (!output.requiresGradFlag) {
    throw new Error(
      "backward: this tensor does not require grad and has no graph (did you set requiresGrad on the inputs, or run inside noGrad?)",
    );
  }
  let seed: Tensor;
  if (gradient === undefined) {
    if (output.numel() !== 1) {
      throw new Error(
        `backward: a gradient is needed for a non-scalar output of shape ${formatShape(output.shape)}; pass one of the same shape, e.g. onesLike(out)`,
      );
    }
    seed = onesLike(output);
  } else {
    seed =
      typeof gradient === "number"
        ? full([], gradient, { dtype: output.dtype }).expand(output.shape)
        : gradient;
    if (!(seed instanceof Tensor)) {
      throw new TypeError(
        `backward: gradient must be a Tensor or a number, got ${Array.isArray(seed) ? "an array (wrap it with tensor(...))" : typeof seed}`,
      );
    }
    if (
      seed.shape.length !== output.shape.length ||
      seed.shape.some((s, d) => s !== output.shape[d])
    ) {
      throw new Error(
        `backward: gradient has shape ${formatShape(seed.shape)} but the output has shape ${formatShape(output.shape)}`,
      );
    }
    if (seed.dtype !== output.dtype) seed = seed.to(output.dtype);
  }
  const createGraph = options.createGraph ?? false;
  runBackward([output], [seed], {
    createGraph,
    retainGraph: options.retainGraph ?? createGraph,
    inputs: null,
  });
}

const BACKWARD_OPTION_NAMES: readonly (keyof BackwardOptions)[] = ["retainGraph", "createGraph"];

/** `backward(options)` or `backward(gradient, options)`: which argument is which, checked. */
function splitBackwardArguments(
  first: TensorLike | BackwardOptions | undefined,
  second: BackwardOptions | undefined,
): [TensorLike | undefined, BackwardOptions] {
  const isOptions =
    typeof first === "object" &&
    first !== null &&
    !(first instanceof Tensor) &&
    !Array.isArray(first);
  if (isOptions && second !== undefined) {
    throw new TypeError(
      "backward: got two options objects; call backward(options) or backward(gradient, options)",
    );
  }
  const gradient = isOptions ? undefined : (first as TensorLike | undefined);
  const options = (isOptions ? first : second) ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `backward: options must be an object like { retainGraph: true }, got ${Array.isArray(options) ? "an array" : options === null ? "null" : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(BACKWARD_OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(
        `backward: unknown option "${key}"; the options are ${BACKWARD_OPTION_NAMES.join(" and ")}`,
      );
    }
  }
  for (const key of BACKWARD_OPTION_NAMES) {
    const value = options[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`backward: option ${key} must be true or false, got ${typeof value}`);
    }
  }
  return [gradient, options];
}
