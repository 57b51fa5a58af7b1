/**
 * Pipeline benchmark.
 *
 *   cold:        wall time of one `configure` process, start to exit: Node alone
 *                (`node -e 0`), the bundle, the bundle with a warm compile cache as
 *                the image runs it, and the TypeScript source
 *   in-process:  configureRequest() throughput for 1, 100 and 10,000 requests
 *
 * Usage: node bench/pipeline.ts [--runs N]     (builds the bundle first)
 * Targets (issue 2): under 150 ms per cold process, over 5,000 requests/s in process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { configureRequest } from "../core/kratix/steps.ts";
import { EVERYTHING, DESIGN_USER_SESSIONS, requestObject } from "../test/fixtures/corpus.ts";
import { REPO_ROOT } from "../test/helpers/paths.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 30;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

execFileSync(process.execPath, [join(REPO_ROOT, "scripts", "build-pipeline.ts")], { stdio: "ignore" });

const dir = mkdtempSync(join(tmpdir(), "bench-"));
const input = join(dir, "input");
mkdirSync(input);
writeFileSync(join(input, "object.yaml"), stringify(requestObject(EVERYTHING as never, "orders", "team-a")));
const env = { ...process.env, KRATIX_INPUT_DIR: input, KRATIX_OUTPUT_DIR: join(dir, "out"), KRATIX_METADATA_DIR: join(dir, "meta") };

function cold(args: string[], extraEnv: Record<string, string> = {}, n = runs): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: "ignore" });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
  }
  return times;
}

const baseline = cold(["-e", "0"]);
const bundled = cold([join(REPO_ROOT, "dist", "pipeline", "main.mjs"), "configure"]);
// As the image runs it: the Dockerfile warms Node's compile cache at build time.
const cacheDir = join(dir, "compile-cache");
const cachedEnv = { NODE_COMPILE_CACHE: cacheDir };
cold([join(REPO_ROOT, "dist", "pipeline", "main.mjs"), "configure"], cachedEnv, 1);
const image = cold([join(REPO_ROOT, "dist", "pipeline", "main.mjs"), "configure"], cachedEnv);
const source = cold([join(REPO_ROOT, "pipeline", "main.ts"), "configure"]);

const requests = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    requestObject({ ...(i % 2 ? EVERYTHING : DESIGN_USER_SESSIONS), name: `table-${i}` } as never, `req-${i}`, "team-a"),
  );
const throughput = (n: number) => {
  const batch = requests(n);
  configureRequest(batch[0]); // warm: compile the validator once, as a long-lived process would
  const t = performance.now();
  for (const r of batch) if (!configureRequest(r, { defaultRegion: "us-east-1" }).ok) throw new Error("invalid");
  const ms = performance.now() - t;
  return { n, ms: +ms.toFixed(2), perSecond: Math.round((n / ms) * 1000) };
};

const ms = (x: number) => +x.toFixed(1);
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg1m: +loadavg()[0]!.toFixed(2), node: process.version },
      coldProcessMs: {
        runs,
        nodeBaseline: { median: ms(median(baseline)), p90: ms(p90(baseline)) },
        bundledConfigure: { median: ms(median(bundled)), p90: ms(p90(bundled)) },
        imageConfigure: { median: ms(median(image)), p90: ms(p90(image)) },
        sourceConfigure: { median: ms(median(source)), p90: ms(p90(source)) },
      },
      inProcess: [throughput(1), throughput(100), throughput(10_000)],
    },
    null,
    2,
  ),
);
