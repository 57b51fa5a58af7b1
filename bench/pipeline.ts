/**
 * Pipeline benchmark.
 *
 *   cold:        wall time of one `configure` process, start to exit: Node alone
 *                (`node -e 0`), the bundle, the bundle with a warm compile cache as
 *                the image runs it, and the TypeScript source. configure reads the cluster
 *                (the requests for its table name, its Table): here a loopback API server
 *                (test/helpers/fake-apiserver.ts) that holds the request and its namespace
 *   in-process:  configureRequest() throughput for 1, 100 and 10,000 requests
 *
 * Usage: node bench/pipeline.ts [--runs 30] [--sizes 1,100,10000]
 *   --runs   cold processes per variant; --sizes  requests per in-process batch.
 * It builds the bundle first, into a folder of its own (never dist/), which it removes at the end.
 * `./dev test` runs it at its smallest (--runs 1 --sizes 1, test/bench/pipeline.test.ts).
 * Targets (issue 2): under 150 ms per cold process, over 5,000 requests/s in process.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { configureRequest } from "../core/kratix/steps.ts";
import { EVERYTHING, DESIGN_USER_SESSIONS, requestObject } from "../test/fixtures/corpus.ts";
import { TABLE_OUTPUT_FILE } from "../pipeline/main.ts";
import { REPO_ROOT } from "../test/helpers/paths.ts";
import { startFakeApiServer } from "../test/helpers/fake-apiserver.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" }, sizes: { type: "string", default: "1,100,10000" } } });
const runs = Number(values.runs);
const sizes = values.sizes.split(",").map(Number);
if (!(runs >= 1) || !sizes.every((n) => n >= 1))
  throw new Error(`--runs and --sizes take whole numbers >= 1 (got ${values.runs}, ${values.sizes})`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

const dir = mkdtempSync(join(tmpdir(), "bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const bundle = join(dir, "bundle", "main.mjs");
execFileSync(process.execPath, [join(REPO_ROOT, "scripts", "build-pipeline.ts"), join(dir, "bundle")], { stdio: "ignore" });

const input = join(dir, "input");
mkdirSync(input);
const request = requestObject(EVERYTHING as never, "orders", "team-a");
writeFileSync(join(input, "object.yaml"), stringify(request));
const api = await startFakeApiServer();
api.namespaces.set("team-a", {});
api.dynamoDBRequests.push(request);
const output = join(dir, "out");
const env = {
  ...process.env,
  KRATIX_INPUT_DIR: input,
  KRATIX_OUTPUT_DIR: output,
  KRATIX_METADATA_DIR: join(dir, "meta"),
  KUBECONFIG: api.kubeconfig,
};

/** Wall times of `n` processes of `args`, one after the other (spawned asynchronously: the API server is in this process). */
async function cold(args: string[], extraEnv: Record<string, string> = {}, n = runs): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    rmSync(output, { recursive: true, force: true });
    mkdirSync(output);
    const t = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("close", (c) => resolve({ code: c, stderr: err }));
    });
    times.push(performance.now() - t);
    if (code !== 0) throw new Error(`${args.join(" ")} exited ${code}:\n${stderr}`);
    // A configure that published no Table (a refusal, a failed read of the cluster) is not the figure.
    if (args.includes("configure") && !existsSync(join(output, TABLE_OUTPUT_FILE)))
      throw new Error(`${args.join(" ")} published no Table:\n${stderr}`);
  }
  return times;
}

const baseline = await cold(["-e", "0"]);
const bundled = await cold([bundle, "configure"]);
// As the image runs it: the Dockerfile warms Node's compile cache at build time.
const cacheDir = join(dir, "compile-cache");
const cachedEnv = { NODE_COMPILE_CACHE: cacheDir };
await cold([bundle, "configure"], cachedEnv, 1);
const image = await cold([bundle, "configure"], cachedEnv);
const source = await cold([join(REPO_ROOT, "pipeline", "main.ts"), "configure"]);
await api.close();

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
      inProcess: sizes.map(throughput),
    },
    null,
    2,
  ),
);
