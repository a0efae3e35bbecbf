/** Element types a tensor can hold. `int32` is for indices and class targets and never carries gradients. */
export type DType = "float32" | "float64" | "int32";
export const DTYPES: readonly DType[] = ["float32", "float64", "int32"];
