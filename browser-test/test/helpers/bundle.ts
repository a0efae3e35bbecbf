// Bundles the page (index.html, src/main.ts) with Vite into a temporary folder and serves it on
// 127.0.0.1 at a free port with a minimal static server. Workspace packages resolve from source
// through the "@koubai/source" export condition, as in the unit tests.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { build, defaultClientConditions } from "vite";

const packageDir = join(import.meta.dirname, "..", "..");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
};

/** Builds the page into a new temporary folder and returns that folder. */
export async function bundlePage(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "koubai-browser-test-"));
  await build({
    root: packageDir,
    configFile: false,
    logLevel: "warn",
    resolve: { conditions: ["@koubai/source", ...defaultClientConditions] },
    build: {
      outDir,
      emptyOutDir: true,
      reportCompressedSize: false,
      // Minified like a production app, without keepNames: classes get short names, and layers
      // must still name themselves in errors (static typeName, see expectReadableErrors).
    },
  });
  return outDir;
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 at a port the OS picks; unknown paths get 404. */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    try {
      if (!file.startsWith(dir)) throw new Error("outside the bundle");
      const body = readFileSync(file);
      response.writeHead(200, {
        "content-type": contentTypes[extname(file)] ?? "application/octet-stream",
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function removeBundle(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
