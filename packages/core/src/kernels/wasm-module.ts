// Loading the kernels' WebAssembly modules. Each wrapper (gemm-wasm.ts, elementwise-wasm.ts, ...)
// compiles its module on first use, once, and falls back to its JavaScript loops where that
// fails: no WebAssembly, or no SIMD128 (the module then does not validate).

/** The bytes of a base64 string (atob works in browsers and Node alike). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A loader for the module in `base64`. Its first call compiles and instantiates the module
 * (synchronously: every kernel module stays under the browsers' 4 KB limit for that) and returns
 * `prepare(exports)`; later calls return the same value. Where compiling or instantiating throws,
 * it returns null, and keeps returning null.
 */
export function lazyInstance<T>(
  base64: string,
  prepare: (exports: WebAssembly.Exports) => T,
): () => T | null {
  let value: T | null | undefined;
  return () => {
    if (value !== undefined) return value;
    try {
      const module = new WebAssembly.Module(decodeBase64(base64));
      value = prepare(new WebAssembly.Instance(module, {}).exports);
    } catch {
      value = null;
    }
    return value;
  };
}

/**
 * Grows a module's memory to at least `bytes` and returns its (possibly new) buffer. Growing
 * detaches the old buffer, so views made before the call must be made again.
 */
export function growMemory(memory: WebAssembly.Memory, bytes: number): ArrayBuffer {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  return memory.buffer;
}
