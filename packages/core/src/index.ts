export type { DType } from "./tensor/dtype.js";
export { DTYPES } from "./tensor/dtype.js";
