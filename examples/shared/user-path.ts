// Paths as the user sees them. `npm run example -- ...` runs an example with examples/ as its
// working directory, but the user typed the command elsewhere (usually the repository root),
// which npm records in INIT_CWD: file names printed, and paths given on the command line, are
// relative to that folder.
import { relative, resolve } from "node:path";

/** The folder the user ran the command from. */
export function userCwd(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** `file` relative to where the user typed the command, for printing. */
export function shownPath(file: string): string {
  return relative(userCwd(), file) || ".";
}

/** A path the user typed, resolved against where they typed it. */
export function userPath(path: string): string {
  return resolve(userCwd(), path);
}
