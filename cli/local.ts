/**
 * The main job on the embedded default: this program, with the real Pulumi
 * engine and Kubernetes provider, against a real kube-apiserver on 127.0.0.1
 * where KubeVela's and Kratix's controllers run for real.
 *
 *   ./dev local          build/find the tools, start the control plane, vela-core and
 *                        Kratix, `pulumi up` the `local` stack, print its outputs and
 *                        what the controllers made of it
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
  say("tools: pulumi and its plugins, etcd, kube-apiserver, kube-controller-manager, vela-core, kratix");
  say("(built from Go modules on first use, then cached: docs/benchmarks.md has the times)");
  const local = await startLocalEnvironment(CLUSTER_DIR, { echo: true, reuse: true });
  say(`control plane, vela-core and Kratix running; logs in ${CLUSTER_DIR}/*.log`);
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
  say("What a full environment adds (see docs/local.md): no node runs pods here, so Kratix's pipeline Jobs wait,");
  say("and there is no ACK controller or AWS: the ARNs are computed for account 000000000000 (tableArnSources: computed).");
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
