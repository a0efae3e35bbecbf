// Your layer: write a custom op's forward and backward in the page and gradcheck it, with the
// first disagreeing element shown. The code is yours, run in your own browser with `new Function`.

import * as core from "@koubai/core";
import { customOp, GradcheckError, gradcheck, randn } from "@koubai/core";
import { button, el } from "./dom.js";

const FORWARD =
  "// x is a Tensor; return a Tensor. core holds every @koubai/core function.\nreturn x.mul(x).mul(x);";
const BACKWARD =
  "// gradOut is the gradient of the output; x the saved input. Return the gradient of x.\nreturn gradOut.mul(x.square().mul(3));";

/** gradcheck of the op written as forward and backward bodies; "passes" or gradcheck's message. */
export function checkUserOp(forwardBody: string, backwardBody: string): string {
  const forward = new Function("x", "core", forwardBody) as (
    x: core.Tensor,
    c: typeof core,
  ) => core.Tensor;
  const backward = new Function("gradOut", "x", "core", backwardBody) as (
    g: core.Tensor,
    x: core.Tensor,
    c: typeof core,
  ) => core.Tensor;
  const op = customOp({
    name: "yourOp",
    forward: (ctx, x) => {
      ctx.saveForBackward(x);
      return forward(x, core);
    },
    backward: (ctx, gradOut) => [backward(gradOut, ctx.saved[0], core)],
  });
  try {
    gradcheck(op, [randn([2, 3], { dtype: "float64" }).requiresGrad_(true)]);
    return "gradcheck passes: your backward agrees with float64 central differences.";
  } catch (error) {
    if (error instanceof GradcheckError) return `gradcheck FAILS. ${error.message}`;
    throw error;
  }
}

export function yourLayerView(): HTMLElement {
  const errorBox = el("p", { class: "error" });
  const forward = el("textarea", { id: "yl-forward", rows: "4", cols: "70" });
  forward.value = FORWARD;
  const backward = el("textarea", { id: "yl-backward", rows: "4", cols: "70" });
  backward.value = BACKWARD;
  const result = el("pre", { id: "yl-result", class: "step" });
  return el(
    "section",
    { id: "view-your-layer" },
    el("h2", {}, "Your layer: write a forward and a backward, and gradcheck them"),
    el(
      "p",
      { class: "note" },
      "This runs the code you type, in your own browser (with new Function), as any script you write would.",
    ),
    el("p", {}, "forward(x):"),
    forward,
    el("p", {}, "backward(gradOut, x):"),
    backward,
    el(
      "div",
      { class: "buttons" },
      button(
        "gradcheck",
        "yl-check",
        () => {
          result.textContent = checkUserOp(forward.value, backward.value);
        },
        errorBox,
      ),
    ),
    errorBox,
    result,
  );
}
