// Types of conv-wat.mjs, for the test that checks the committed conv.wat against it.

/** The text of conv.wat: col2im for float32, then for float64. */
export function convWat(): string;
