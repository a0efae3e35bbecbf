// The page's entry point: runs every check and publishes the outcome as window.__results (or
// window.__error with the message and stack when a check throws), and in the page text.

import { type CheckResults, runChecks } from "./run-checks.js";

declare global {
  interface Window {
    __results?: CheckResults;
    __error?: string;
  }
}

const status = document.getElementById("status")!;
try {
  window.__results = runChecks(navigator.userAgent);
  status.textContent = `done in ${window.__results.milliseconds.toFixed(0)} ms`;
} catch (error) {
  window.__error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  status.textContent = `failed: ${window.__error}`;
}
