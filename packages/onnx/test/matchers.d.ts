// Brings the type of the toBeAllclose matcher into this package's tests; vitest.config.ts
// registers the matcher itself (setupFiles).
import "@koubai/test-utils/matchers";
