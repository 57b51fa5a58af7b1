/**
 * A bare control plane for admission tests (etcd, kube-apiserver, kube-controller-manager from
 * tools/local-cluster.sh, on free ports below the ephemeral range; never the local
 * environment's fixed 19000 or 9443), plus a second kube-controller-manager running only the
 * controller that type-checks ValidatingAdmissionPolicies (status.typeChecking), which
 * local-cluster.sh does not run. Requests go as the kubeconfig's admin token, or as an identity
 * it impersonates: user, groups and user extras (the admin, in system:masters, may impersonate
 * extras; `edit` may not).
 *
 * Used by every admission suite (test/admission/).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { rawRequest, startCluster, stopCluster, toolsPath, waitUntil } from "../../local-env/index.ts";

export const POLICIES = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
export const BINDINGS = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
const TOOLS = ["etcd", "kube-apiserver", "kube-controller-manager"];

/** Who a request is sent as: the admin token itself (username `admin`, group system:masters), or an identity it impersonates. */
export interface Identity {
  label: string;
  user: string;
  groups: string[];
  /** User extras (Impersonate-Extra-*), as a pod-bound service account token carries them. */
  extra?: Record<string, string[]>;
  /** The admin token itself, not impersonated. */
  admin?: boolean;
}

export type Result = { status: number; body: string };

export interface AdmissionServer {
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  /** One raw JSON request as `as`. */
  send(as: Identity, method: string, path: string, body?: unknown, contentType?: string): Promise<Result>;
  /** POST as the admin, expecting 201. */
  post(path: string, body: unknown): Promise<void>;
  /** The policy's status once the type checker has seen its current generation. */
  typeChecking(name: string): Promise<{ expressionWarnings?: { fieldRef: string; warning: string }[] } | undefined>;
  stop(): Promise<void>;
}

/** The headers that impersonate `as` (extra keys are percent-encoded: '/' is not allowed in a header name). */
export function impersonation(as: Identity): Record<string, string | string[]> {
  if (as.admin) return {};
  const headers: Record<string, string | string[]> = { "Impersonate-User": as.user, "Impersonate-Group": as.groups };
  for (const [key, values] of Object.entries(as.extra ?? {})) headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
  return headers;
}

/** Starts the control plane in `dir` (stopping whatever an earlier run left there) and the type checker. */
export async function startAdmissionServer(dir: string): Promise<AdmissionServer> {
  const env = { ...process.env, PATH: await toolsPath(TOOLS) };
  await stopCluster(dir, env);
  const kubeconfig = await startCluster(dir, env);
  const typeChecker: ChildProcess = spawn(
    "kube-controller-manager",
    [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--leader-elect=false",
      "--controllers=validatingadmissionpolicy-status-controller",
    ],
    { env, stdio: "ignore" },
  );
  const send = (as: Identity, method: string, path: string, body?: unknown, contentType?: string) =>
    rawRequest(kubeconfig, method, path, body, { ...(contentType ? { contentType } : {}), headers: impersonation(as) });
  return {
    kubeconfig,
    env,
    send,
    async post(path, body) {
      const r = await rawRequest(kubeconfig, "POST", path, body);
      assert.equal(r.status, 201, `POST ${path}: ${r.body}`);
    },
    typeChecking: (name) =>
      waitUntil(
        `${name}'s type checking`,
        async () => {
          const p = JSON.parse((await rawRequest(kubeconfig, "GET", `${POLICIES}/${name}`)).body) as {
            metadata: { generation: number };
            status?: { observedGeneration?: number; typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] } };
          };
          return p.status?.observedGeneration === p.metadata.generation ? { value: p.status.typeChecking } : undefined;
        },
        60_000,
      ).then((s) => s.value),
    async stop() {
      typeChecker.kill();
      await stopCluster(dir, env);
    },
  };
}

/** A kubeconfig for a bearer token on the admin kubeconfig's cluster (a team's own credential, not the admin's). */
export function tokenKubeconfig(adminKubeconfig: string, token: string, file: string): string {
  const admin = parseYaml(readFileSync(adminKubeconfig, "utf8")) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = admin.clusters[0]!;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [cluster],
    users: [{ name: "token", user: { token } }],
    contexts: [{ name: "token", context: { cluster: cluster.name, user: "token" } }],
    "current-context": "token",
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}
