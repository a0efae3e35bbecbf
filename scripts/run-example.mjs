// `npm run example -- <name> [flags]`: runs one of examples/ with the workspace packages (from
// source). Without a name, or with an unknown one, lists the examples.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const pnpmEntry = join(root, ".tools", "node_modules", "pnpm", "bin", "pnpm.cjs");
const { scripts } = JSON.parse(readFileSync(join(root, "examples", "package.json"), "utf8"));
const examples = Object.keys(scripts).filter((name) => name !== "typecheck" && name !== "test");

const [name, ...flags] = process.argv.slice(2);
if (name === undefined || !examples.includes(name)) {
  if (name !== undefined) console.error(`npm run example: no example named "${name}"`);
  console.error(
    `Usage: npm run example -- <name> [flags]\nExamples: ${examples.join(", ")}` +
      "\n(see examples/README.md for what each shows and its flags)",
  );
  process.exit(name === undefined ? 0 : 2);
}
// pnpm passes everything after the script's name on to the script.
const args = ["--filter", "@koubai/examples", "run", name, ...flags];
const result = spawnSync(process.execPath, [pnpmEntry, "--silent", ...args], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
