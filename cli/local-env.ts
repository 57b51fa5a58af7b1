/**
 * The local environment: the project's tools (built from Go modules by
 * tools/build-tools.sh), a loopback control plane (tools/local-cluster.sh),
 * the upstream CRDs the stack's objects need, and the Pulumi CLI with a local
 * file backend. Used by `./dev local` and by the end-to-end tests.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node";
import { request as httpsRequest, type RequestOptions } from "node:https";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const LOCAL_DIR = join(ROOT, ".local");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command, capturing output; `echo` streams it as well. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean; timeoutMs?: number } = {},
): Promise<Run> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), opts.echo && process.stdout.write(d)));
    child.stderr.on("data", (d: Buffer) => ((stderr += d), opts.echo && process.stderr.write(d)));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - start });
    });
  });
}

/** The tools the local environment runs (tools/build-tools.sh's default set). */
export const LOCAL_TOOLS = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "kube-apiserver", "etcd"];

/** Builds (or finds) the tools and returns the PATH that has them, with Node >= 22 first. */
export async function toolsPath(echo = false, tools: string[] = LOCAL_TOOLS): Promise<string> {
  const r = await run("bash", [join(ROOT, "tools", "build-tools.sh"), ...tools], { echo: false });
  if (echo) process.stderr.write(r.stderr);
  if (r.code !== 0) throw new Error(`tools/build-tools.sh failed:\n${r.stderr}`);
  const m = /export PATH="?([^"\n]+)"?/.exec(r.stdout);
  if (!m) throw new Error(`tools/build-tools.sh printed no PATH:\n${r.stdout}`);
  const path = m[1]!.replace(/\$PATH|\$\{PATH\}/, process.env.PATH ?? "");
  return `${join(process.execPath, "..")}:${path}`;
}

export interface Cluster {
  dir: string;
  kubeconfig: string;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager. The controller manager
 * is what finishes deletions: the Kubernetes provider deletes with foreground
 * propagation, whose finalizer only its garbage collector removes.
 */
export async function startCluster(dir: string, env: NodeJS.ProcessEnv, echo = false): Promise<Cluster> {
  const r = await run("bash", [join(ROOT, "tools", "local-cluster.sh"), "start", dir], {
    env: { ...env, KDDB_CONTROLLER_MANAGER: "1" },
    echo,
  });
  if (r.code !== 0) throw new Error(`local-cluster.sh start failed:\n${r.stderr}`);
  return { dir, kubeconfig: join(dir, "kubeconfig") };
}

export async function stopCluster(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!existsSync(dir)) return;
  await run("bash", [join(ROOT, "tools", "local-cluster.sh"), "stop", dir], { env });
}

/**
 * Where the upstream CRDs come from: UPSTREAM_CRDS_DIR, else ../shared/upstream-crds
 * beside the clone. (The Go module proxy reachable here refuses the Kratix,
 * KubeVela and ACK modules, so their module caches cannot supply them.)
 */
export function upstreamCrdsDir(): string {
  const dir = process.env.UPSTREAM_CRDS_DIR ?? join(ROOT, "..", "shared", "upstream-crds");
  if (!existsSync(dir))
    throw new Error(`no upstream CRDs at ${dir}: set UPSTREAM_CRDS_DIR to a folder with the Kratix, KubeVela and ACK CRDs`);
  return dir;
}

/** The CRDs the local stack's objects need, and what else the stack expects to exist. */
export const LOCAL_CRDS = [
  "kratix/platform.kratix.io_promises.yaml",
  "kubevela/core.oam.dev_applications.yaml",
  "kubevela/core.oam.dev_componentdefinitions.yaml",
  "ack-dynamodb/dynamodb.services.k8s.aws_tables.yaml",
];
export const LOCAL_NAMESPACES = ["vela-system"];

export function kubeClient(kubeconfig: string) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kc,
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    crds: kc.makeApiClient(k8s.ApiextensionsV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
  };
}

/**
 * Sends one raw JSON request to the API server. Used for CRDs: the client's
 * typed serializer drops the schema's x-kubernetes-* extensions.
 */
export async function rawRequest(
  kubeconfig: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { "content-type": "application/json" },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(opts, (res) => {
      let data = "";
      res.on("data", (d: Buffer) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Applies the upstream CRDs and namespaces, then waits until every CRD is Established. */
export async function prepareCluster(kubeconfig: string): Promise<void> {
  const { crds, core } = kubeClient(kubeconfig);
  const dir = upstreamCrdsDir();
  for (const ns of LOCAL_NAMESPACES) {
    await core.createNamespace({ body: { metadata: { name: ns } } }).catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
  }
  const names: string[] = [];
  for (const file of LOCAL_CRDS) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const crd = doc.toJS() as k8s.KubernetesObject;
      if (!crd?.kind) continue;
      names.push(crd.metadata!.name!);
      const r = await rawRequest(kubeconfig, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
      if (r.status !== 201 && r.status !== 409) throw new Error(`creating CRD ${crd.metadata!.name!}: ${r.status} ${r.body}`);
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd = await crds.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Environment for the Pulumi CLI: local file backend, no network, tools on PATH. */
export function pulumiEnv(path: string, kubeconfig: string, stateDir: string): NodeJS.ProcessEnv {
  mkdirSync(stateDir, { recursive: true });
  return {
    ...process.env,
    PATH: path,
    KUBECONFIG: kubeconfig,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "local-only-not-a-secret",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: join(stateDir, ".pulumi-home"),
    PULUMI_SKIP_CONFIRMATIONS: "true",
    NO_COLOR: "1",
  };
}

export const pulumi = (args: string[], env: NodeJS.ProcessEnv, opts: { echo?: boolean; cwd?: string; timeoutMs?: number } = {}) =>
  run("pulumi", [...args, "--non-interactive"], { env, ...opts });

/**
 * A project folder for one stack: links to the repository's files, and the
 * stack's config copied in as Pulumi.<stack>.yaml. Pulumi writes to the stack
 * file (e.g. its encryption salt), so local and test stacks never touch the work tree.
 */
export function projectWorkdir(dir: string, stack: string, configFile: string): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(ROOT)) {
    if (/^Pulumi\..+\.yaml$/.test(entry) || entry === ".local" || entry === ".git") continue;
    if (!existsSync(join(dir, entry))) symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  const target = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(target)) copyFileSync(configFile, target);
  return dir;
}

/** Selects (creating if needed) a stack in the local backend. */
export async function selectStack(stack: string, env: NodeJS.ProcessEnv, cwd = ROOT): Promise<void> {
  const sel = await pulumi(["stack", "select", stack, "--create"], env, { cwd });
  if (sel.code !== 0) throw new Error(`pulumi stack select ${stack} failed:\n${sel.stderr}${sel.stdout}`);
}
