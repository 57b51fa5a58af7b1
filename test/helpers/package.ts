/**
 * The package as npm publishes it, and as a consumer installs it: `npm pack` in a
 * scratch copy of the repository (prepack builds dist/ there; the work tree's dist/
 * is never touched), and the tarball unpacked into a project's node_modules beside
 * the peer dependencies.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import {
  applyCrds,
  controllerCrdsDir,
  pulumi,
  pulumiEnv,
  readManifests,
  startCluster,
  stopCluster,
  toolsPath,
} from "../../local-env/index.ts";
import { REPO_ROOT } from "./paths.ts";

/** This Node first on PATH, so that npm (and the build it runs) use it. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<{ code: number; out: string; stdout: string }>((resolve) =>
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${err?.message ?? ""}\n${stdout}${stderr}`, stdout }),
    ),
  );

/** Not copied: installed or generated trees, local state. */
const SKIP = new Set(["node_modules", ".git", ".local", "dist", "out"]);

export interface Packed {
  tarball: string;
  /** Paths in the tarball, relative to its package/ folder. */
  files: string[];
  /** The scratch copy the tarball was packed from (built). */
  source: string;
}

/** Builds and packs the package in `dir` (a scratch folder); the tarball goes to dir too. */
export async function packPackage(dir: string): Promise<Packed> {
  const source = join(dir, "src");
  rmSync(source, { recursive: true, force: true });
  mkdirSync(source, { recursive: true });
  for (const entry of readdirSync(REPO_ROOT)) {
    if (SKIP.has(entry)) continue;
    cpSync(join(REPO_ROOT, entry), join(source, entry), {
      recursive: true,
      filter: (src) =>
        !relative(REPO_ROOT, src)
          .split("/")
          .some((part) => SKIP.has(part)),
    });
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(source, "node_modules"));
  // npm runs prepack (the build) first.
  const r = await run("npm", ["pack", "--json", "--pack-destination", dir], source);
  if (r.code !== 0) throw new Error(`npm pack failed:\n${r.out}`);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path).sort(), source };
}

/**
 * A consumer project's node_modules: the tarball unpacked as node_modules/kratix-dynamodb-platform
 * (what `npm install <tarball>` puts there), and every other package (the peer dependencies and
 * the package's own dependencies) linked from this repository's node_modules, so that the
 * consumer, the package and its provider share one @pulumi/pulumi, as npm would install them.
 */
export async function installPackage(tarball: string, project: string): Promise<string> {
  const modules = join(project, "node_modules");
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(modules, { recursive: true });
  const r = await run("tar", ["-xzf", tarball, "-C", modules], project);
  if (r.code !== 0) throw new Error(`tar failed:\n${r.out}`);
  const installed = join(modules, "kratix-dynamodb-platform");
  renameSync(join(modules, "package"), installed);
  for (const entry of readdirSync(join(REPO_ROOT, "node_modules"))) {
    if (entry === "kratix-dynamodb-platform" || existsSync(join(modules, entry))) continue;
    symlinkSync(join(REPO_ROOT, "node_modules", entry), join(modules, entry));
  }
  return installed;
}

/**
 * What the package's end-to-end tests run on: a control plane only (etcd, kube-apiserver,
 * kube-controller-manager; no node, no controllers) in `dir`, with the two CRDs the components'
 * objects need: Kratix's Promise (from Kratix's module source) and the Promise's API, the
 * DynamoDBRequest CRD (which Kratix would make from the Promise).
 */
export async function packageTestCluster(dir: string, tools: string[]): Promise<{ path: string; kubeconfig: string }> {
  const path = await toolsPath(tools);
  await stopCluster(dir, { ...process.env, PATH: path });
  const kubeconfig = await startCluster(dir, { ...process.env, PATH: path });
  const crds = await controllerCrdsDir();
  await applyCrds(kubeconfig, [
    ...readManifests([join(crds, "kratix", "platform.kratix.io_promises.yaml")]),
    dynamoDBRequestCRD() as unknown as KubernetesObject,
  ]);
  return { path, kubeconfig };
}

/**
 * The stack settings both package e2e stacks set: no charts (the control plane has no node),
 * the Promise applied by Pulumi itself, no state store, no waits on controllers that do not run.
 */
export const PACKAGE_E2E_CONFIG: Record<string, string> = {
  installCharts: "false",
  promiseDelivery: "pulumi",
  stateStoreMode: "none",
  waitForPromise: "false",
  protectPromise: "false",
};

/**
 * One package e2e's world, fresh: the package packed and a test cluster started (at once), the
 * example put into `project` by `copy`, the tarball installed there, a stack `e2e` selected with
 * PACKAGE_E2E_CONFIG. Returns what the tests run pulumi with.
 */
export async function packageTestProject(
  dir: string,
  project: string,
  tools: string[],
  copy: (project: string) => void,
): Promise<{ path: string; kubeconfig: string; env: NodeJS.ProcessEnv }> {
  await stopCluster(join(dir, "cluster"));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(project, { recursive: true });
  const [packed, cluster] = await Promise.all([packPackage(join(dir, "pack")), packageTestCluster(join(dir, "cluster"), tools)]);
  copy(project);
  await installPackage(packed.tarball, project);
  const env = pulumiEnv(cluster.path, cluster.kubeconfig, join(dir, "state"));
  const ok = async (args: string[]) => {
    const r = await pulumi(args, env, { cwd: project, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  };
  await ok(["stack", "select", "e2e", "--create"]);
  for (const [k, v] of Object.entries(PACKAGE_E2E_CONFIG)) await ok(["config", "set", k, v]);
  return { ...cluster, env };
}
