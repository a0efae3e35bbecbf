// `npm run pack`: a clean build of the published packages, then `pnpm pack` of each into
// .packs/ (git-ignored). pnpm pack applies each package's publishConfig (an exports map without
// the workspace's source condition) and turns `workspace:^` ranges into real version ranges, so
// the tarballs are what `npm publish` would upload. Prints the tarballs and how to install them.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const PUBLISHED = ["core", "layers", "optim", "onnx"];
const packsDir = join(root, ".packs");
const pnpmEntry = join(root, ".tools", "node_modules", "pnpm", "bin", "pnpm.cjs");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

function main() {
  for (const entry of [pnpmEntry, tsc]) {
    if (!existsSync(entry)) {
      console.error(
        `pack: ${relative(root, entry)} is missing; run \`npm run pack\` from the repository root (it installs the tools first)`,
      );
      process.exit(1);
    }
  }
  // A clean build: tsc -b never deletes the output of a source file that was removed or renamed,
  // and such a stale file would ship.
  for (const name of PUBLISHED) {
    rmSync(join(root, "packages", name, "dist"), { recursive: true, force: true });
    rmSync(join(root, "packages", name, "tsconfig.build.tsbuildinfo"), { force: true });
  }
  execFileSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });

  rmSync(packsDir, { recursive: true, force: true });
  mkdirSync(packsDir);
  for (const name of PUBLISHED) {
    execFileSync(process.execPath, [pnpmEntry, "pack", "--pack-destination", packsDir], {
      cwd: join(root, "packages", name),
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  const tarballs = readdirSync(packsDir)
    .filter((f) => f.endsWith(".tgz"))
    .sort();
  if (tarballs.length !== PUBLISHED.length) {
    console.error(
      `pack: expected ${PUBLISHED.length} tarballs in .packs/, found ${tarballs.join(", ") || "none"}`,
    );
    process.exit(1);
  }
  console.log("Packed into .packs/:");
  for (const file of tarballs) {
    const kb = (statSync(join(packsDir, file)).size / 1024).toFixed(0);
    console.log(`  ${file}  (${kb} KB)`);
  }
  console.log(
    `\nInstall them into a project of yours (run this in that project's folder):\n  npm install ${tarballs
      .map((f) => join(packsDir, f))
      .join(" ")}`,
  );
}

main();
