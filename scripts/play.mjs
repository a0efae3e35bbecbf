// `npm run play -- <file.ts> [--no-check] [args]`: runs a script of yours in playground/ against
// the workspace packages (resolved from source), after type-checking it. A file that does not
// exist yet is created from playground/example.ts.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";

const root = join(import.meta.dirname, "..");
const playground = join(root, "playground");
const argv = process.argv.slice(2);
const check = !argv.includes("--no-check");
const [file, ...scriptArgs] = argv.filter((a) => a !== "--no-check");

if (file === undefined) {
  console.error("Usage: npm run play -- <file.ts> [--no-check] [arguments for your script]");
  console.error("The file lives in playground/; try: npm run play -- example.ts");
  process.exit(2);
}
// `npm run` starts scripts in the repository root; INIT_CWD is where the user typed the command.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by this root script, not by a turbo task
const typedFrom = process.env.INIT_CWD ?? root;
const candidates = isAbsolute(file) ? [file] : [resolve(typedFrom, file), join(playground, file)];
let path = candidates.find((p) => existsSync(p) && !relative(playground, p).startsWith(".."));
if (path === undefined) {
  const outside = candidates.find((p) => existsSync(p));
  if (outside !== undefined) {
    console.error(
      `npm run play: ${relative(root, outside)} is outside playground/, where the workspace packages resolve. ` +
        `Move or copy it there, e.g. cp ${relative(typedFrom, outside)} ${relative(typedFrom, join(playground, basename(outside)))}`,
    );
    process.exit(2);
  }
  if (!/\.(ts|mts|js|mjs)$/.test(file)) {
    console.error(
      `npm run play: ${file} does not exist; name a .ts or .js file to create it from example.ts`,
    );
    process.exit(2);
  }
  path = join(playground, basename(file));
  copyFileSync(join(playground, "example.ts"), path);
  console.log(
    `Created ${relative(root, path)} from playground/example.ts; edit it and run this again.\n`,
  );
}

if (check && /\.(ts|mts)$/.test(path)) {
  // Only this file (and what it imports), with the playground's strict settings.
  // The config sits in playground/ (git-ignored) so that its type roots resolve from there.
  const config = join(playground, `.tsconfig.play-${process.pid}.json`);
  writeFileSync(config, JSON.stringify({ extends: "./tsconfig.json", include: [], files: [path] }));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", config, "--pretty"], {
    cwd: playground,
    stdio: "inherit",
  });
  rmSync(config, { force: true });
  if (result.status !== 0) {
    console.error(
      `\nType errors in ${relative(root, path)} (run with --no-check to run it anyway).`,
    );
    process.exit(1);
  }
}

const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
const run = spawnSync(process.execPath, [tsx, "--conditions=@koubai/source", path, ...scriptArgs], {
  cwd: playground,
  stdio: "inherit",
});
process.exit(run.status ?? 1);
