// Where Debian's headless Chromium lives, and why the browser test cannot run when it is absent.
// Never downloads a browser: CI installs `chromium` from apt (.ci/run).

import { existsSync } from "node:fs";

/** KOUBAI_CHROMIUM overrides the path (e.g. to another Chromium build, or to test the skip). */
export const chromiumPath = process.env.KOUBAI_CHROMIUM ?? "/usr/lib/chromium/chromium";

/** Flags that run as root, with no GPU and no network besides the page's own server. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Null when Chromium is there; otherwise the reason the browser tests give for skipping. */
export function chromiumMissingReason(): string | null {
  if (existsSync(chromiumPath)) return null;
  return (
    `no Chromium at ${chromiumPath}: install it with ` +
    "`apt-get install -y --no-install-recommends chromium` (bash .ci/run does this on CI), " +
    "or point KOUBAI_CHROMIUM at a Chromium binary."
  );
}
