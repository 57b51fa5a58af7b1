/**
 * The main job on the embedded default: this program, with the real Pulumi
 * engine and Kubernetes provider, against a throwaway cluster on this machine
 * where the whole chain runs: KubeVela's, Kratix's and ACK's controllers, a node
 * that runs the Promise's pipeline pods, the state store and Flux, and an emulated
 * AWS (moto, with IAM enforced) where the tables are made.
 *
 *   ./dev local          build/find the tools and images, start everything, `pulumi up`
 *                        the `local` stack, print its outputs (every table's ARN, as
 *                        reported through the chain) and what each part made
 *   ./dev local -- down  stop every process and remove .local/ (cluster, logs and state)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_DIR, ROOT, projectWorkdir, pulumi, pulumiEnv, selectStack, startLocalEnvironment, stopCluster } from "../local-env/index.ts";
import { describeChain } from "../local-env/chain.ts";

const CLUSTER_DIR = join(LOCAL_DIR, "cluster");
const STATE_DIR = join(LOCAL_DIR, "state");
const say = (line: string) => console.log(`[local] ${line}`);

async function up(): Promise<number> {
  const t0 = performance.now();
  say("tools: pulumi and its plugins, the control plane, vela-core, Kratix, ACK's controller, the node, gofakes3 and Flux");
  say("(built from Go modules on first use, then cached; images built here: docs/benchmarks.md has the times)");
  const local = await startLocalEnvironment(CLUSTER_DIR, { echo: true, reuse: true });
  say(`control plane, vela-core, Kratix, node, state store, Flux, emulated AWS and ACK running; logs in ${CLUSTER_DIR}/*.log`);
  const penv = pulumiEnv(local.path, local.kubeconfig, STATE_DIR);
  const cwd = projectWorkdir(join(LOCAL_DIR, "project"), "local", join(ROOT, "Pulumi.local.yaml"));
  await selectStack("local", penv, cwd);
  say("pulumi up --stack local");
  const r = await pulumi(["up", "--yes", "--skip-preview", "--stack", "local"], penv, { echo: true, cwd });
  if (r.code !== 0) {
    console.error(local.controllerLogs());
    return r.code;
  }
  const out = await pulumi(["stack", "output", "--json", "--stack", "local"], penv, { cwd });
  console.log(out.stdout);
  for (const line of await describeChain(local.kubeconfig)) say(line);
  say(`up in ${((performance.now() - t0) / 1000).toFixed(1)} s. KUBECONFIG=${local.kubeconfig}`);
  say("What differs from a real environment (docs/local.md): AWS is emulated (moto, account 123456789012, IAM enforced),");
  say("and the controllers run as processes rather than through their charts.");
  say("Stop with: ./dev local down");
  return 0;
}

async function down(): Promise<number> {
  await stopCluster(CLUSTER_DIR);
  rmSync(LOCAL_DIR, { recursive: true, force: true });
  say("stopped the control plane and its controllers, removed .local/");
  return 0;
}

if (import.meta.main) {
  const cmd = process.argv.slice(2).find((a) => a !== "--") ?? "up";
  const main = cmd === "down" ? down : cmd === "up" ? up : undefined;
  if (!main) {
    console.error("usage: ./dev local [up|down]");
    process.exit(2);
  }
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`[local] ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
