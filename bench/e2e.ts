/**
 * End-to-end figures on the local environment (the whole chain: node, state store,
 * Flux, the ACK test double), each run on a fresh environment:
 *   - starting it with warm tools and images;
 *   - `pulumi up` of the `local` stack with N tables (default: its own 2): from its start
 *     to the Promise Available, and to its end, which is when the last table's ARN came
 *     back by status (the stack waits for every table: waitForTables);
 *   - a no-change `pulumi preview`;
 *   - each pipeline step's container, start to finish, from the pods' container statuses
 *     (ours: configure, status; Kratix's: reader, work-writer, status-writer).
 * Usage: node bench/e2e.ts [--runs 3] [--tables N]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import {
  LOCAL_DIR,
  ROOT,
  kubeClient,
  projectWorkdir,
  pulumi,
  pulumiEnv,
  selectStack,
  sleep,
  startLocalEnvironment,
} from "../local-env/index.ts";
import { readChain } from "../local-env/chain.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, tables: { type: "string" } } });
const runs = Number(values.runs);
const tables = values.tables ? Number(values.tables) : undefined;
const work = join(LOCAL_DIR, "bench-e2e");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const must = <T extends { code: number; stdout: string; stderr: string }>(x: T, what: string): T => {
  if (x.code !== 0) throw new Error(`${what} failed:\n${x.stdout}\n${x.stderr}`);
  return x;
};

/** Pulumi.local.yaml, or a copy with N PAY_PER_REQUEST tables instead of its own. */
function stackConfig(): string {
  if (tables === undefined) return join(ROOT, "Pulumi.local.yaml");
  const doc = parse(readFileSync(join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
  doc.config["kratix-dynamodb-platform:tables"] = Array.from({ length: tables }, (_, i) => ({
    name: `bench-${i}`,
    table: {
      tableName: `bench-${i}`,
      attributeDefinitions: [{ name: "id", type: "S" }],
      keySchema: [{ attributeName: "id", keyType: "HASH" }],
    },
  }));
  doc.config["kratix-dynamodb-platform:waitTimeoutMinutes"] = 30;
  const file = join(work, `Pulumi.tables-${tables}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** Seconds each container of the pipeline pods ran, by container name. */
async function stepTimes(kubeconfig: string): Promise<Record<string, number[]>> {
  const pods = (await kubeClient(kubeconfig).core.listPodForAllNamespaces({ labelSelector: "kratix.io/promise-name" })).items;
  const out: Record<string, number[]> = {};
  for (const pod of pods) {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const t = c.state?.terminated;
      if (!t?.startedAt || !t.finishedAt || t.exitCode !== 0) continue;
      (out[c.name] ??= []).push((new Date(t.finishedAt).getTime() - new Date(t.startedAt).getTime()) / 1000);
    }
  }
  return out;
}

const sample = { environment: [] as number[], upToPromiseAvailable: [] as number[], upToLastArn: [] as number[], preview: [] as number[] };
const steps: Record<string, number[]> = {};
const config = stackConfig();
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const local = await startLocalEnvironment(join(work, "cluster"));
  try {
    sample.environment.push(performance.now() - t0);
    const env = pulumiEnv(local.path, local.kubeconfig, join(work, `state-${i}`));
    const cwd = projectWorkdir(join(work, "project"), `bench${i}`, config);
    await selectStack(`bench${i}`, env, cwd);
    const t1 = performance.now();
    let available: number | undefined;
    const upRun = pulumi(["up", "--yes", "--skip-preview", "--stack", `bench${i}`], env, { cwd, timeoutMs: 40 * 60_000 });
    let done = false;
    void upRun.then(() => (done = true));
    while (!done && available === undefined) {
      if ((await readChain(local.kubeconfig)).promise?.status === "Available") available = performance.now() - t1;
      else await sleep(100);
    }
    const up = must(await upRun, "pulumi up");
    if (available === undefined) throw new Error("the Promise was not Available before pulumi up ended");
    sample.upToPromiseAvailable.push(available);
    sample.upToLastArn.push(up.ms);
    sample.preview.push(must(await pulumi(["preview", "--expect-no-changes", "--stack", `bench${i}`], env, { cwd }), "preview").ms);
    for (const [name, xs] of Object.entries(await stepTimes(local.kubeconfig))) (steps[name] ??= []).push(...xs);
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
      tables: tables ?? "the local stack's 2 (+ the Application's example)",
      medianMs: { ...m, devLocalWarm: m.environment + m.upToLastArn },
      pipelineContainerSeconds: Object.fromEntries(
        Object.entries(steps).map(([k, v]) => [k, { median: +median(v).toFixed(2), max: +Math.max(...v).toFixed(2), runs: v.length }]),
      ),
    },
    null,
    2,
  ),
);
