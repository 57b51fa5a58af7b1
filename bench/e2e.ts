/**
 * End-to-end figures on the local environment, each run on a fresh control plane:
 *   - starting it with warm tools (etcd, kube-apiserver, kube-controller-manager, the
 *     upstream CRDs, vela-core and Kratix healthy);
 *   - `pulumi up` of the `local` stack: from its start to the Promise Available (vela-core
 *     rendered it from the Application, Kratix made its CRD), and to the end of the run;
 *   - a no-change `pulumi preview`;
 *   - the sum of the first two, which is what `./dev local` takes from a warm cache.
 * Usage: node bench/e2e.ts [--runs 3]
 */
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LOCAL_DIR, ROOT, projectWorkdir, pulumi, pulumiEnv, selectStack, sleep, startLocalEnvironment } from "../local-env/index.ts";
import { readChain } from "../local-env/chain.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
const work = join(LOCAL_DIR, "bench-e2e");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const must = <T extends { code: number; stdout: string; stderr: string }>(x: T, what: string): T => {
  if (x.code !== 0) throw new Error(`${what} failed:\n${x.stdout}\n${x.stderr}`);
  return x;
};

const sample = { environment: [] as number[], upToPromiseAvailable: [] as number[], up: [] as number[], preview: [] as number[] };
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const local = await startLocalEnvironment(join(work, "cluster"));
  try {
    sample.environment.push(performance.now() - t0);
    const env = pulumiEnv(local.path, local.kubeconfig, join(work, `state-${i}`));
    const cwd = projectWorkdir(join(work, "project"), `bench${i}`, join(ROOT, "Pulumi.local.yaml"));
    await selectStack(`bench${i}`, env, cwd);
    const t1 = performance.now();
    let available: number | undefined;
    const upRun = pulumi(["up", "--yes", "--skip-preview", "--stack", `bench${i}`], env, { cwd });
    let done = false;
    void upRun.then(() => (done = true));
    while (!done && available === undefined) {
      if ((await readChain(local.kubeconfig)).promise?.status === "Available") available = performance.now() - t1;
      else await sleep(100);
    }
    const up = must(await upRun, "pulumi up");
    if (available === undefined) throw new Error("the Promise was not Available before pulumi up ended");
    sample.upToPromiseAvailable.push(available);
    sample.up.push(up.ms);
    sample.preview.push(must(await pulumi(["preview", "--expect-no-changes", "--stack", `bench${i}`], env, { cwd }), "preview").ms);
  } finally {
    await local.stop();
  }
}
const m = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, Math.round(median(v))])) as Record<keyof typeof sample, number>;
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, loadavg1m: +loadavg()[0]!.toFixed(2), node: process.version },
      runs,
      medianMs: { ...m, devLocalWarm: m.environment + m.up },
    },
    null,
    2,
  ),
);
