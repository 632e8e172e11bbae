// Bundles each page's entry script (src/main.js, the problem pages'), with chunks for what they share and
// one per language grammar, into ../static/build/ for the API to serve.
// The old build is removed first: chunk names carry content hashes, so stale ones would pile up.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const outdir = fileURLToPath(new URL("../static/build/", import.meta.url));
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ["main.js", "problem-list.js", "problem.js", "admin-problem.js"].map((name) =>
    fileURLToPath(new URL(`src/${name}`, import.meta.url)),
  ),
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
