// The page: runs the same program and publishes its result (or the error) for the test to read.
import { run } from "../program.mjs";

const status = document.getElementById("status");
try {
  window.__result = run();
  status.textContent = "done";
} catch (error) {
  window.__error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  status.textContent = `failed: ${window.__error}`;
}
