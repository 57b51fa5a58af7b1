/**
 * The local environment, started the same way by `./dev local`, the end-to-end
 * tests and the benchmarks: the tools, a control plane, the upstream CRDs,
 * vela-core and Kratix reconciling for real, a node that runs the pipeline pods
 * (containerd, kubelet, kube-proxy), the state store and Flux, an emulated AWS with
 * IAM enforced, and ACK's DynamoDB controller against it (local-env/aws.ts).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  applyUpstreamCrds,
  applyVelaBuiltIns,
  logTail,
  killProcess,
  reachable,
  restartProcess,
  startCluster,
  startControllers,
  startDelivery,
  startNode,
  stopCluster,
  type Faultable,
} from "./cluster.ts";
import { LOCAL_TOOLS, toolsPath } from "./tools.ts";
import { pulumiEnv } from "./pulumi.ts";
import {
  ACK_CONTROLLER,
  AWS_EMULATOR,
  ackPolicyFor,
  localStackAckSettings,
  startAckController,
  startAwsEmulator,
  type EmulatedAws,
} from "./aws.ts";

export * from "./aws.ts";
export * from "./cluster.ts";
export * from "./ports.ts";
export * from "./kube.ts";
export * from "./paths.ts";
export * from "./process.ts";
export * from "./pulumi.ts";
export * from "./tools.ts";

export interface LocalEnvironment {
  /** The cluster folder: kubeconfig, pids, and every process's log (<name>.log). */
  dir: string;
  kubeconfig: string;
  /** The emulated AWS: its endpoint and the keys of its users. */
  aws: EmulatedAws;
  /** PATH with the tools (and this Node.js) first. */
  path: string;
  /** This process's environment with that PATH. */
  env: NodeJS.ProcessEnv;
  kill(name: Faultable): Promise<void>;
  restart(name: Faultable): Promise<void>;
  /** The tails of the controllers' logs, for a failing test's message. */
  controllerLogs(lines?: number): string;
  stop(): Promise<void>;
}

export interface LocalEnvironmentOptions {
  /** Stream progress to the terminal. */
  echo?: boolean;
  /** Reuse a control plane already running in `dir` (./dev local run twice). */
  reuse?: boolean;
}

export const CONTROLLER_LOGS = [
  "vela-core",
  "kratix",
  "kube-controller-manager",
  "kubelet",
  "source-controller",
  "kustomize-controller",
  ACK_CONTROLLER,
  AWS_EMULATOR,
];

export async function startLocalEnvironment(dir: string, o: LocalEnvironmentOptions = {}): Promise<LocalEnvironment> {
  const path = await toolsPath(LOCAL_TOOLS, o.echo);
  const env = { ...process.env, PATH: path };
  const kubeconfig = join(dir, "kubeconfig");
  if (!(o.reuse && (await reachable(kubeconfig)))) {
    await stopCluster(dir, env);
    await startCluster(dir, env, o.echo, true);
  }
  await applyUpstreamCrds(kubeconfig);
  await startControllers(dir, env, o.echo);
  await applyVelaBuiltIns(kubeconfig, env);
  await startNode(dir, env, o.echo);
  await startDelivery(dir, env, o.echo);
  // ACK's identity and the emulator's IAM are scoped by the local stack's own settings.
  const ack = localStackAckSettings();
  const aws = await startAwsEmulator(dir, env, ack.region, ackPolicyFor(ack));
  await startAckController(dir, env, ack, aws);
  return {
    dir,
    kubeconfig,
    aws,
    path,
    env,
    kill: (name) => killProcess(dir, name, env),
    restart: (name) => restartProcess(dir, name, env),
    controllerLogs: (lines = 30) => CONTROLLER_LOGS.map((n) => `--- ${n}.log (last ${lines} lines)\n${logTail(dir, n, lines)}`).join("\n"),
    stop: () => stopCluster(dir, env),
  };
}

/** The tools a preview of the program needs: the engine, the Kubernetes provider, a control plane. */
export const PREVIEW_TOOLS = [
  "pulumi",
  "pulumi-language-nodejs",
  "pulumi-resource-kubernetes",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
];

/**
 * What `pulumi preview` of the program runs against without a node: a fresh control plane in
 * `<work>/cluster` with every upstream CRD, and a fresh file backend in `<work>/state`. Returns
 * the environment to run pulumi with, and how to stop the control plane.
 */
export async function startPreviewPlane(work: string): Promise<{ env: NodeJS.ProcessEnv; stop: () => Promise<void> }> {
  const path = await toolsPath(PREVIEW_TOOLS);
  const clusterEnv = { ...process.env, PATH: path };
  const clusterDir = join(work, "cluster");
  await stopCluster(clusterDir, clusterEnv);
  rmSync(join(work, "state"), { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const kubeconfig = await startCluster(clusterDir, clusterEnv);
  await applyUpstreamCrds(kubeconfig);
  return { env: pulumiEnv(path, kubeconfig, join(work, "state")), stop: () => stopCluster(clusterDir, clusterEnv) };
}
