import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Adam, OneCycleLR, Optimizer, SGD } from "../../src/index.js";
import { fixtureCases, replay } from "../helpers/schedulers.js";

const param = () => zeros([1], { requiresGrad: true });

describe("OneCycleLR", () => {
  it.each(fixtureCases("OneCycleLR"))("matches torch's lrs and momentums: %s", (_, c) => {
    const { lrs, momentums } = replay(c);
    expect(lrs).toBeAllclose(c.lrs);
    expect(momentums).toBeAllclose(c.momentums!);
  });

  it("cycles Adam's beta1 and keeps beta2", () => {
    const optimizer = new Adam([param()], { betas: [0.9, 0.99] });
    const scheduler = new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10 });
    expect(optimizer.paramGroups[0].betas).toEqual([0.95, 0.99]);
    expect(optimizer.paramGroups[0].lr).toBeCloseTo(1 / 25, 15);
    scheduler.step();
    scheduler.step();
    // End of phase 1 (step 2 = 0.3·10 − 1): peak lr, base momentum.
    expect(optimizer.paramGroups[0].betas).toEqual([0.85, 0.99]);
    expect(scheduler.getLastLr()).toEqual([1]);
  });

  it("saves its per-group values in the optimizer's groups", () => {
    const optimizer = new SGD([param()], { lr: 0.1, momentum: 0.9 });
    new OneCycleLR(optimizer, { maxLr: [2], totalSteps: 5, divFactor: 4, finalDivFactor: 10 });
    const group = optimizer.stateDict().paramGroups[0];
    expect(group).toMatchObject({
      initialLr: 0.5,
      maxLr: 2,
      minLr: 0.05,
      maxMomentum: 0.95,
      baseMomentum: 0.85,
    });
  });

  it("refuses to step past totalSteps", () => {
    const optimizer = new SGD([param()], { lr: 0.1, momentum: 0.9 });
    const scheduler = new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 2 });
    scheduler.step();
    scheduler.step();
    expect(() => scheduler.step()).toThrow(
      "OneCycleLR: tried to step 4 times; the specified number of total steps is 2",
    );
  });

  it.each([
    [{ maxLr: 1, totalSteps: 0 }, "OneCycleLR: expected a positive integer totalSteps, got 0"],
    [{ maxLr: 1, totalSteps: 5, pctStart: 1.5 }, "expected pctStart between 0 and 1, got 1.5"],
    [{ maxLr: 1, totalSteps: 5, annealStrategy: "step" }, 'must be "cos" or "linear"'],
    [{ maxLr: [1, 2], totalSteps: 5 }, "expected 1 values for maxLr (one per parameter group)"],
  ])("rejects %o", (options, message) => {
    const optimizer = new SGD([param()], { lr: 0.1, momentum: 0.9 });
    expect(() => new OneCycleLR(optimizer, options as never)).toThrow(message);
  });

  it("names the optimizer by its typeName when it has neither momentum nor betas", () => {
    // A user optimizer whose class a minifier renamed to Zx; its static typeName survives.
    class Zx extends Optimizer {
      static readonly typeName: string = "Lion";
      protected validateGroup(): void {}
      protected update(): void {}
    }
    const optimizer = new Zx([param()], { lr: 0.1 });
    expect(() => new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 5 })).toThrow(
      "OneCycleLR: cycleMomentum needs an optimizer with momentum or betas, and Lion has neither; pass cycleMomentum: false",
    );
  });
});
