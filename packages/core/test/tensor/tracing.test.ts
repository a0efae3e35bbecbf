// The tracer hook: tracedCall reports a call's start and its end or failure, in order.

import { describe, expect, it } from "vitest";
import {
  activeTracer,
  type OpTracer,
  setActiveTracer,
  tracedCall,
} from "../../src/tensor/tracing.js";

function recorder(): OpTracer & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    enter: (op, args) => events.push(`enter ${op.name} ${args.length}`),
    leave: (result) => events.push(`leave ${String(result)}`),
    abort: () => events.push("abort"),
    read: (method) => events.push(`read ${method}`),
    created: () => events.push("created"),
    createdGenerator: () => events.push("createdGenerator"),
    gradRead: () => events.push("gradRead"),
  };
}

describe("tracedCall", () => {
  it("reports enter and leave around a call and returns its result", () => {
    const t = recorder();
    expect(
      tracedCall(
        t,
        { name: "f", kind: "opaque" },
        [1, 2],
        () => 3,
        () => 3,
      ),
    ).toBe(3);
    expect(t.events).toEqual(["enter f 2", "leave 3"]);
  });

  it("reports abort and rethrows when the call throws", () => {
    const t = recorder();
    const boom = () => {
      throw new RangeError("boom");
    };
    expect(() => tracedCall(t, { name: "f", kind: "opaque" }, [], boom, boom)).toThrow("boom");
    expect(t.events).toEqual(["enter f 0", "abort"]);
  });

  it("setActiveTracer returns the tracer it replaces", () => {
    const t = recorder();
    expect(setActiveTracer(t)).toBeNull();
    expect(activeTracer()).toBe(t);
    expect(setActiveTracer(null)).toBe(t);
    expect(activeTracer()).toBeNull();
  });
});
