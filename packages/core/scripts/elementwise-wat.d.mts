// Types of elementwise-wat.mjs, for the test that checks the committed elementwise.wat against it.

/** The text of elementwise.wat: every loop of the table, float32 first, then float64. */
export function elementwiseWat(): string;

/** The TypeScript the module file gets beside the bytes: the ops it exports, by kind. */
export function elementwiseOpLists(): string;
