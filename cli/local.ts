/**
 * The main job on the embedded default: this program, with the real Pulumi
 * engine and Kubernetes provider, against a real kube-apiserver on 127.0.0.1.
 *
 *   ./dev local          build/find the tools, start etcd + kube-apiserver, apply the
 *                        upstream CRDs, `pulumi up` the `local` stack, print its outputs
 *   ./dev local -- down  stop the control plane and remove .local/ (cluster and state)
 */
import { rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  LOCAL_DIR,
  ROOT,
  projectWorkdir,
  kubeClient,
  prepareCluster,
  pulumi,
  pulumiEnv,
  selectStack,
  startCluster,
  stopCluster,
  toolsPath,
} from "./local-env.ts";

const CLUSTER_DIR = join(LOCAL_DIR, "cluster");
const STATE_DIR = join(LOCAL_DIR, "state");
const say = (line: string) => console.log(`[local] ${line}`);

async function reachable(kubeconfig: string): Promise<boolean> {
  try {
    await kubeClient(kubeconfig).core.listNamespace();
    return true;
  } catch {
    return false;
  }
}

async function up(): Promise<number> {
  const t0 = performance.now();
  say(
    "tools: pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes, kube-apiserver, etcd (built from Go modules on first use, then cached)",
  );
  const path = await toolsPath(true);
  const env = { ...process.env, PATH: path };
  const kubeconfig = join(CLUSTER_DIR, "kubeconfig");
  if (existsSync(kubeconfig) && (await reachable(kubeconfig))) {
    say(`reusing the control plane in ${CLUSTER_DIR}`);
  } else {
    await stopCluster(CLUSTER_DIR, env);
    say("starting etcd and kube-apiserver on 127.0.0.1");
    await startCluster(CLUSTER_DIR, env);
  }
  say("applying the upstream CRDs (Kratix Promise, KubeVela Application and ComponentDefinition, ACK Table) and vela-system");
  await prepareCluster(kubeconfig);
  const penv = pulumiEnv(path, kubeconfig, STATE_DIR);
  const cwd = projectWorkdir(join(LOCAL_DIR, "project"), "local", join(ROOT, "Pulumi.local.yaml"));
  await selectStack("local", penv, cwd);
  say("pulumi up --stack local");
  const r = await pulumi(["up", "--yes", "--skip-preview", "--stack", "local"], penv, { echo: true, cwd });
  if (r.code !== 0) return r.code;
  const out = await pulumi(["stack", "output", "--json", "--stack", "local"], penv, { cwd });
  console.log(out.stdout);
  say(`up in ${((performance.now() - t0) / 1000).toFixed(1)} s. KUBECONFIG=${kubeconfig}`);
  say("What a full environment adds (see docs/local.md): no kubelet runs here, so KubeVela, Kratix, Flux and the ACK");
  say("controller are not installed and nothing reconciles the Application or the requests; there is no AWS, so");
  say('no table is created and the ARNs are computed for account 000000000000 (tableArnSources: "computed").');
  say("Stop with: ./dev local -- down");
  return 0;
}

async function down(): Promise<number> {
  await stopCluster(CLUSTER_DIR);
  rmSync(LOCAL_DIR, { recursive: true, force: true });
  say("stopped the control plane and removed .local/");
  return 0;
}

if (import.meta.main) {
  const cmd = process.argv.slice(2).find((a) => a !== "--") ?? "up";
  const main = cmd === "down" ? down : cmd === "up" ? up : undefined;
  if (!main) {
    console.error("usage: ./dev local [-- up|down]");
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
