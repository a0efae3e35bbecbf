// Builds (and serves) the Backprop Explorer from the workspace packages' sources, offline: every
// script and style is bundled, nothing comes from a CDN.
import { defaultClientConditions, defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  resolve: { conditions: ["@koubai/source", ...defaultClientConditions] },
  build: {
    outDir: "../out/explorer",
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
  },
});
