/**
 * End-to-end figures on the local environment (the whole chain: node, state store,
 * Flux, ACK's controller against the AWS emulator), each run on a fresh environment:
 *   - starting it with warm tools and images;
 *   - `pulumi up` of the `local` stack with N tables (default: its own 2): from its start
 *     to the Promise Available, and to its end, which is when the last table's ARN came
 *     back by status (the stack waits for every table: waitForTables);
 *   - a no-change `pulumi preview`;
 *   - each pipeline step's container, start to finish, from the pods' container statuses
 *     (ours: configure, status; Kratix's: reader, work-writer, status-writer).
 * Usage: node bench/e2e.ts [--runs 3] [--tables N]
 * Its smallest run (--runs 1 --tables 1) is test/bench/e2e.test.ts, in every `./dev test`; it starts
 * a whole local environment of its own, so the runner never runs it beside the whole-chain e2e.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  mkdirSync(work, { recursive: true });
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * Seconds each pipeline pod took, from its start (the kubelet took it) to its last container's
 * end, by pipeline (render-table, table-status, report-delete); and each container's own run
 * time by name (Kubernetes records these to the second, so they read 0-1 s).
 */
async function stepTimes(
  kubeconfig: string,
): Promise<{ pods: Record<string, number[]>; containers: Record<string, number[]>; podsPerRequest: number }> {
  const pods = (await kubeClient(kubeconfig).core.listPodForAllNamespaces({ labelSelector: "kratix.io/promise-name" })).items;
  const requests = new Set(pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.labels?.["kratix.io/resource-name"] ?? ""}`));
  const out = {
    pods: {} as Record<string, number[]>,
    containers: {} as Record<string, number[]>,
    // Every pipeline pod Kratix ran, over the requests it ran them for (the stack's tables and the Application's example).
    podsPerRequest: pods.length / Math.max(1, requests.size),
  };
  for (const pod of pods) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const ends = statuses.map((c) => c.state?.terminated?.finishedAt).filter((t): t is Date => !!t);
    const pipeline = pod.metadata?.labels?.["kratix.io/pipeline-name"];
    if (pipeline && pod.status?.phase === "Succeeded" && pod.status.startTime && ends.length) {
      const end = Math.max(...ends.map((t) => new Date(t).getTime()));
      (out.pods[pipeline] ??= []).push((end - new Date(pod.status.startTime).getTime()) / 1000);
    }
    for (const c of statuses) {
      const t = c.state?.terminated;
      if (!t?.startedAt || !t.finishedAt || t.exitCode !== 0) continue;
      (out.containers[c.name] ??= []).push((new Date(t.finishedAt).getTime() - new Date(t.startedAt).getTime()) / 1000);
    }
  }
  return out;
}

const sample = { environment: [] as number[], upToPromiseAvailable: [] as number[], upToLastArn: [] as number[], preview: [] as number[] };
const steps = { pods: {} as Record<string, number[]>, containers: {} as Record<string, number[]> };
const podsPerRequest: number[] = [];
const config = stackConfig();
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const local = await startLocalEnvironment(join(work, "cluster"));
  try {
    sample.environment.push(performance.now() - t0);
    // A fresh cluster needs a fresh state (a state from an earlier run would claim the platform exists).
    rmSync(join(work, `state-${i}`), { recursive: true, force: true });
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
    const times = await stepTimes(local.kubeconfig);
    podsPerRequest.push(times.podsPerRequest);
    for (const kind of ["pods", "containers"] as const)
      for (const [name, xs] of Object.entries(times[kind])) (steps[kind][name] ??= []).push(...xs);
  } finally {
    await local.stop();
  }
}
const summary = (by: Record<string, number[]>) =>
  Object.fromEntries(
    Object.entries(by).map(([k, v]) => [k, { median: +median(v).toFixed(1), max: +Math.max(...v).toFixed(1), runs: v.length }]),
  );
const m = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, Math.round(median(v))])) as Record<keyof typeof sample, number>;
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, loadavg1m: +loadavg()[0]!.toFixed(2), node: process.version },
      runs,
      tables: tables ?? "the local stack's 2 (+ the Application's example)",
      medianMs: { ...m, devLocalWarm: m.environment + m.upToLastArn },
      pipelinePodsPerRequest: +median(podsPerRequest).toFixed(1),
      pipelinePodSeconds: summary(steps.pods),
      pipelineContainerSeconds: summary(steps.containers),
    },
    null,
    2,
  ),
);
