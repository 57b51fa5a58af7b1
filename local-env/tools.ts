/**
 * The binaries the local environment runs, from tools/build-tools.sh: found on
 * PATH, or built from Go modules once and cached outside the repository.
 */
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { run } from "./process.ts";

/**
 * What the local environment runs: the Pulumi CLI with its plugins, the control plane,
 * KubeVela, Kratix and ACK (with helm, which renders ACK's chart), the node, the S3
 * stand-in and Flux. (Kratix's pipeline-adapter goes into its image: tools/build-images.sh.)
 */
export const LOCAL_TOOLS = [
  "pulumi",
  "pulumi-language-nodejs",
  "pulumi-resource-kubernetes",
  "kube-apiserver",
  "kube-controller-manager",
  "etcd",
  "vela-core",
  "kratix",
  "ack-dynamodb-controller",
  "helm",
  "kubelet",
  "kube-scheduler",
  "kube-proxy",
  "gofakes3",
  "source-controller",
  "kustomize-controller",
];

const buildTools = join(ROOT, "tools", "build-tools.sh");

/** Builds (or finds) the tools and returns the PATH that has them, with this Node.js first. */
export async function toolsPath(tools: string[] = LOCAL_TOOLS, echo = false): Promise<string> {
  const r = await run("bash", [buildTools, ...tools]);
  if (echo) process.stderr.write(r.stderr);
  if (r.code !== 0) throw new Error(`tools/build-tools.sh failed:\n${r.stderr}`);
  const m = /export PATH="?([^"\n]+)"?/.exec(r.stdout);
  // Every tool already on PATH: nothing to add.
  const path = m ? m[1]!.replace(/\$PATH|\$\{PATH\}/, process.env.PATH ?? "") : (process.env.PATH ?? "");
  return `${join(process.execPath, "..")}:${path}`;
}

/** The folder with KubeVela's (kubevela/), Kratix's (kratix/) and Flux's (flux/) CRDs, taken from their module sources. */
export async function controllerCrdsDir(): Promise<string> {
  const r = await run("bash", [buildTools, "--crds-dir"]);
  if (r.code !== 0) throw new Error(`tools/build-tools.sh --crds-dir failed:\n${r.stderr}`);
  return r.stdout.trim();
}
