/** A Kubernetes client for the local environment's kubeconfig, and raw JSON requests. */
import { readFileSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

export function kubeClient(kubeconfig: string) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kc,
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    crds: kc.makeApiClient(k8s.ApiextensionsV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
  };
}

/**
 * Sends one raw JSON request to the API server. Used for CRDs (the client's typed
 * serializer drops the schema's x-kubernetes-* extensions) and for requests made
 * as another user (`headers`: Impersonate-User, Impersonate-Group).
 */
export async function rawRequest(
  kubeconfig: string,
  method: string,
  path: string,
  body?: unknown,
  o: { contentType?: string; headers?: Record<string, string | string[]> } = {},
): Promise<{ status: number; body: string }> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { "content-type": o.contentType ?? "application/json", ...o.headers },
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

/** Every document of the YAML files, as objects (empty documents skipped). */
export function readManifests(files: string[]): k8s.KubernetesObject[] {
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, "utf8"))
      .map((d) => d.toJS() as k8s.KubernetesObject)
      .filter((o) => o?.kind),
  );
}

/** Creates CRDs as they are (raw, so no field is dropped), then waits until every one is Established. */
export async function applyCrds(kubeconfig: string, crds: k8s.KubernetesObject[], timeoutMs = 60_000): Promise<void> {
  for (const crd of crds) {
    const r = await rawRequest(kubeconfig, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating CRD ${crd.metadata!.name!}: ${r.status} ${r.body}`);
  }
  const api = kubeClient(kubeconfig).crds;
  const deadline = Date.now() + timeoutMs;
  for (const name of crds.map((c) => c.metadata!.name!)) {
    while (!(await isEstablished(api, name))) {
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }
}

async function isEstablished(api: k8s.ApiextensionsV1Api, name: string): Promise<boolean> {
  const crd = await api.readCustomResourceDefinition({ name });
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
}

export async function ensureNamespace(kubeconfig: string, name: string): Promise<void> {
  await kubeClient(kubeconfig)
    .core.createNamespace({ body: { metadata: { name } } })
    .catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
}

/** Creates each object, or replaces it when it exists (in order). */
export async function applyObjects(kubeconfig: string, objects: k8s.KubernetesObject[]): Promise<void> {
  const api = kubeClient(kubeconfig).objects;
  for (const o of objects) {
    const exists = await api.read(o as never).then(
      () => true,
      () => false,
    );
    if (exists) await api.replace(o);
    else await api.create(o);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined), or fails with `what` after the timeout. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(everyMs);
  }
}
