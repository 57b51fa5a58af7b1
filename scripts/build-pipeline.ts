/**
 * Bundles the pipeline into dist/pipeline/ for its container image: one ES
 * module for the steps, and a separate chunk for the Kubernetes client that
 * only the status step loads. A bundle starts faster than node_modules
 * resolution and keeps the image to Node.js plus about a megabyte.
 *
 * Usage: node scripts/build-pipeline.ts [outdir]
 */
import { build, type Plugin } from "esbuild";
import { Ajv } from "ajv";
import standalone from "ajv/dist/standalone/index.js";
import { AJV_OPTIONS, specJsonSchema } from "../core/api/compile-validator.ts";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = process.argv[2] ?? join(root, "dist", "pipeline");

/** Swaps core/api/precompiled-validator.ts for Ajv's standalone code of the spec schema. */
// CommonJS interop: the module object is the function and also carries it as `default`.
const standaloneCode = standalone.default;

const precompiledValidator: Plugin = {
  name: "precompiled-validator",
  setup(b) {
    // With the validator compiled ahead of time, Ajv's compiler (~120 KB) stays out of the bundle.
    b.onLoad({ filter: /core[\\/]api[\\/]compile-validator\.ts$/ }, () => ({
      contents:
        'export const compileSpecValidator = () => { throw new Error("this bundle carries the validator compiled ahead of time"); };',
      loader: "js",
    }));
    b.onLoad({ filter: /core[\\/]api[\\/]precompiled-validator\.ts$/ }, () => {
      const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
      const code = standaloneCode(ajv, ajv.compile(specJsonSchema()));
      return {
        contents: `${code}\nexport { validate as precompiledSpecValidator };`,
        loader: "js",
        resolveDir: join(root, "node_modules"),
      };
    });
  },
};

/** The status step's module stays a separate file, loaded only by that step. */
const clusterReadsApart: Plugin = {
  name: "cluster-apart",
  setup(b) {
    b.onResolve({ filter: /[\\/]cluster\.ts$|^\.\/cluster\.ts$/ }, () => ({ path: "./cluster.mjs", external: true }));
  },
};

const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node24",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
} as const;

await rm(outdir, { recursive: true, force: true });
const results = [
  // The steps: no CommonJS inside, so no require() shim to load at start.
  await build({
    ...common,
    entryPoints: [join(root, "pipeline", "main.ts")],
    outfile: join(outdir, "main.mjs"),
    plugins: [precompiledValidator, clusterReadsApart],
  }),
  // The Kubernetes client for the status step. It is CommonJS and calls require() for Node built-ins.
  await build({
    ...common,
    entryPoints: [join(root, "pipeline", "cluster.ts")],
    outfile: join(outdir, "cluster.mjs"),
    banner: {
      js: 'import { createRequire as __kratixCreateRequire } from "node:module"; const require = __kratixCreateRequire(import.meta.url);',
    },
  }),
];
const outputs = results.flatMap((r) => Object.values(r.metafile.outputs));
const bytes = outputs.reduce((n, o) => n + o.bytes, 0);
console.log(`pipeline bundle: ${outdir} (${(bytes / 1024).toFixed(0)} KiB in ${outputs.length} files)`);
