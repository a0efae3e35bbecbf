// @koubai/test-utils: what the packages' tests share. Only re-exports live here; importing
// "@koubai/test-utils/matchers" (as a Vitest setup file) registers `toBeAllclose`.

export { type AllcloseOptions, type Comparison, closeEnough, compareValues } from "./allclose.js";
export {
  decodeNumber,
  decodeValues,
  type EncodedNumber,
  type EncodedTensor,
  readJson,
} from "./fixtures.js";
