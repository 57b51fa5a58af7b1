/**
 * The local cluster: etcd, kube-apiserver and kube-controller-manager on
 * 127.0.0.1 (tools/local-cluster.sh), the upstream CRDs, and KubeVela's and
 * Kratix's controllers as processes against it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { run } from "./process.ts";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { applyCrds, applyObjects, ensureNamespace, kubeClient, readManifests } from "./kube.ts";
import { controllerCrdsDir } from "./tools.ts";

const script = join(ROOT, "tools", "local-cluster.sh");

async function clusterScript(args: string[], env: NodeJS.ProcessEnv, echo = false): Promise<void> {
  const r = await run("bash", [script, ...args], { env, echo });
  if (r.code !== 0) throw new Error(`local-cluster.sh ${args.join(" ")} failed:\n${r.stderr}`);
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager. The controller manager
 * is what finishes deletions (the Kubernetes provider deletes with foreground
 * propagation, whose finalizer only its garbage collector removes) and makes
 * service accounts' tokens. With `node`, the API server listens on the pod
 * bridge's address (198.18.0.1) so that pods reach it, and startNode can follow.
 */
export async function startCluster(dir: string, env: NodeJS.ProcessEnv, echo = false, node = false): Promise<string> {
  await clusterScript(["start", dir], { ...env, KDDB_CONTROLLER_MANAGER: "1", ...(node ? { KDDB_NODE: "1" } : {}) }, echo);
  return join(dir, "kubeconfig");
}

/** containerd, the images (tools/build-images.sh), kube-scheduler, kubelet and kube-proxy; waits for the node to be Ready. */
export const startNode = (dir: string, env: NodeJS.ProcessEnv, echo = false) => clusterScript(["start-node", dir], env, echo);

/** The state store (an S3 stand-in on 127.0.0.1:19000) and Flux's source- and kustomize-controller. */
export const startDelivery = (dir: string, env: NodeJS.ProcessEnv, echo = false) => clusterScript(["start-delivery", dir], env, echo);

export async function stopCluster(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (existsSync(dir)) await run("bash", [script, "stop", dir], { env });
}

/** Starts vela-core and the Kratix controller (if not running) and waits for their health checks. */
export const startControllers = (dir: string, env: NodeJS.ProcessEnv, echo = false) => clusterScript(["start-controllers", dir], env, echo);

/** The processes a fault test may kill (SIGKILL) and restart with the same command line (DIR/<name>.cmd). */
export type Faultable =
  | "kube-apiserver"
  | "vela-core"
  | "kratix"
  | "containerd"
  | "kubelet"
  | "kube-scheduler"
  | "kube-proxy"
  | "s3"
  | "source-controller"
  | "kustomize-controller"
  | "aws-emulator"
  | "ack-controller";
export const killProcess = (dir: string, name: Faultable, env: NodeJS.ProcessEnv) => clusterScript(["kill", name, dir], env);
export const restartProcess = (dir: string, name: Faultable, env: NodeJS.ProcessEnv) => clusterScript(["restart", name, dir], env);

/** The last lines of one process's log in the cluster folder. */
export function logTail(dir: string, name: string, lines = 40): string {
  const file = join(dir, `${name}.log`);
  if (!existsSync(file)) return `(no ${name}.log)`;
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/** Namespaces the controllers expect before they start. */
export const SYSTEM_NAMESPACES = ["vela-system", "kratix-platform-system", "flux-system"];

/**
 * Applies what the controllers' charts would: every KubeVela, Kratix, Flux and ACK CRD of
 * the versions built (from their sources: tools/build-tools.sh --crds-dir), and the system namespaces.
 */
export async function applyUpstreamCrds(kubeconfig: string): Promise<void> {
  const dir = await controllerCrdsDir();
  const files = ["kubevela", "kratix", "flux", "ack"].flatMap((sub) =>
    readdirSync(join(dir, sub))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join(dir, sub, f)),
  );
  for (const ns of SYSTEM_NAMESPACES) await ensureNamespace(kubeconfig, ns);
  await applyCrds(kubeconfig, readManifests(files));
}

/**
 * KubeVela's built-in component types that vela-core's chart installs with it
 * (templates/defwithtemplate) and the examples use. The local chain runs vela-core as a
 * process, so it applies these from the chart of the version built, as the chart would.
 */
export const VELA_BUILT_IN_COMPONENTS = ["webservice"] as const;

export async function applyVelaBuiltIns(kubeconfig: string, env: NodeJS.ProcessEnv): Promise<void> {
  const chart = join(await controllerCrdsDir(), "charts", "vela-core");
  const only = VELA_BUILT_IN_COMPONENTS.flatMap((n) => ["--show-only", `templates/defwithtemplate/${n}.yaml`]);
  const r = await run("helm", ["template", "kubevela", chart, "--namespace", "vela-system", ...only], { env });
  if (r.code !== 0) throw new Error(`helm template of vela-core's chart (${chart}) failed:\n${r.stderr}`);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as KubernetesObject)
    .filter((o) => o?.kind);
  await applyObjects(kubeconfig, objects);
}

export async function reachable(kubeconfig: string): Promise<boolean> {
  if (!existsSync(kubeconfig)) return false;
  try {
    await kubeClient(kubeconfig).core.listNamespace();
    return true;
  } catch {
    return false;
  }
}
