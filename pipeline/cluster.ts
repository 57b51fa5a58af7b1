/**
 * The pipeline's calls to the cluster: in-cluster service account config in a Kratix Job,
 * KUBECONFIG (or ~/.kube/config) on a laptop. The steps read (configure, status, delete); the
 * status step also writes its request's connection ConfigMap (core/kratix/connection.ts), and
 * the delete step the release mark on its request's Table (core/kratix/release.ts).
 * Imported only when a step reaches the cluster.
 *
 * Every call is retried in the step a few times with backoff: a restarting API server or
 * a dropped connection should cost a second, not a failed workflow. A call that still
 * fails throws ClusterReadError, which the steps turn into a status asking Kratix to run
 * them again (pipeline/main.ts). A client that cannot be configured at all (no in-cluster
 * service account, a KUBECONFIG that is not there) is not retried: that is a broken
 * installation, and the step fails.
 */
import * as k8s from "@kubernetes/client-node";
import type { LiveTable } from "../core/kratix/ack-managed.ts";
import type { ConnectionWrite, LiveConfigMap } from "../core/kratix/connection.ts";
import { RELEASE_FIELD_MANAGER, type ReleaseDecision } from "../core/kratix/release.ts";
import { ACK_TABLE_API_VERSION } from "../core/render/ack-table.ts";
import { API_GROUP, API_PLURAL, API_VERSION } from "../core/api/rules.ts";

const [ACK_TABLE_GROUP, ACK_TABLE_VERSION] = ACK_TABLE_API_VERSION.split("/") as [string, string];

/** Requests per page of the cluster-wide list: a few MB at most, so memory does not grow with the cluster. */
export const LIST_PAGE_SIZE = 250;
/** Attempts per call, and the first wait between them (doubled each time): 0.2 + 0.4 + 0.8 s. */
export const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 200;

/** A call to the cluster (a read, or the delete step's release) that failed on every attempt. */
export class ClusterReadError extends Error {}

let kubeConfig: k8s.KubeConfig | undefined;
const config = () => {
  if (!kubeConfig) {
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromDefault();
  }
  return kubeConfig;
};
const customObjects = () => config().makeApiClient(k8s.CustomObjectsApi);
const core = () => config().makeApiClient(k8s.CoreV1Api);

const code = (e: unknown) => (e as { code?: unknown }).code;
/** The message of the API server's Status in a failed call's body, if it has one (an admission refusal says why). */
const statusMessage = (e: unknown): string | undefined => {
  let body = (e as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const message = (body as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" && message ? message.slice(0, 500) : undefined;
};
/** A short description of a failed call: the HTTP status (and the server's message), or the network error. */
const describe = (e: unknown) => {
  if (typeof code(e) !== "number") return (e as Error).message || String(e);
  const message = statusMessage(e);
  return `HTTP ${String(code(e))}${message ? ` (${message})` : ""}`;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `call`, tried ATTEMPTS times with doubling waits between them. */
async function withRetries<T>(what: string, call: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      return await call();
    } catch (e) {
      last = e;
      if (attempt < ATTEMPTS) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
  throw new ClusterReadError(`${what}: ${describe(last)} (${ATTEMPTS} attempts)`, { cause: last });
}

/** A get whose 404 means "there is none". */
const orNone = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await get();
  } catch (e) {
    if (code(e) === 404) return undefined;
    throw e;
  }
};

/** The request's ACK Table (same namespace and name), as the API server has it; undefined when there is none. */
export function readAckTable(namespace: string, name: string): Promise<LiveTable | undefined> {
  const api = customObjects();
  return withRetries(`get ACK Table ${namespace}/${name}`, () =>
    orNone(
      async () =>
        (await api.getNamespacedCustomObject({
          group: ACK_TABLE_GROUP,
          version: ACK_TABLE_VERSION,
          namespace,
          plural: "tables",
          name,
        })) as LiveTable,
    ),
  );
}

/**
 * The delete step's one write: reads the request's Table, asks `decide` (core/kratix/release.ts
 * releaseDecision) whether to mark it, and patches it with the mark (a merge patch as
 * RELEASE_FIELD_MANAGER, carrying the uid and resourceVersion it judged, so the API server
 * refuses it, 409, for any other version). Read, judgement and patch are retried together, so a
 * Table changed in between is judged again. A Table gone before the patch has nothing to release.
 */
export function releaseAckTable(
  namespace: string,
  name: string,
  decide: (live: LiveTable | undefined) => ReleaseDecision,
): Promise<ReleaseDecision> {
  const api = customObjects();
  const target = { group: ACK_TABLE_GROUP, version: ACK_TABLE_VERSION, namespace, plural: "tables", name };
  return withRetries(`release ACK Table ${namespace}/${name}`, async () => {
    const live = await orNone(async () => (await api.getNamespacedCustomObject(target)) as LiveTable);
    const decision = decide(live);
    if (!decision.release) return decision;
    const patched = await orNone(() =>
      api.patchNamespacedCustomObject(
        { ...target, body: decision.patch, fieldManager: RELEASE_FIELD_MANAGER },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      ),
    );
    return patched === undefined ? decide(undefined) : decision;
  });
}

/**
 * Every DynamoDBRequest in the cluster, a page at a time (`limit`/`continue`), each page
 * handed to `onPage` and then dropped. A failed page restarts the whole list (a continue
 * token the server no longer knows, HTTP 410, cannot be resumed), so `onPage` must not
 * keep what it saw across attempts: it is told when the list starts again.
 */
export async function forEachDynamoDBRequestPage(onPage: (page: unknown[]) => void, onRestart: () => void): Promise<void> {
  const api = customObjects();
  await withRetries("list DynamoDBRequests in all namespaces", async () => {
    onRestart();
    let token: string | undefined;
    do {
      const list = (await api.listClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: API_PLURAL,
        limit: LIST_PAGE_SIZE,
        ...(token ? { _continue: token } : {}),
      })) as { items?: unknown[]; metadata?: { continue?: string } };
      onPage(list.items ?? []);
      token = list.metadata?.continue || undefined;
    } while (token);
  });
}

/** A namespace's annotations (adoption approvals, core/kratix/adoption.ts); undefined when it does not exist. */
export function readNamespaceAnnotations(name: string): Promise<Record<string, string> | undefined> {
  const api = core();
  return withRetries(`get Namespace ${name}`, () => orNone(async () => (await api.readNamespace({ name })).metadata?.annotations ?? {}));
}

/**
 * The status step's write: reads the ConfigMap at `name`, asks `decide` (core/kratix/connection.ts
 * connectionWrite) what to do, and creates or replaces it (a replace carries the version it
 * judged, so a change in between is refused, 409). Read, judgement and write are retried together.
 */
export function writeConnectionConfigMap(
  namespace: string,
  name: string,
  decide: (live: LiveConfigMap | undefined) => ConnectionWrite,
): Promise<ConnectionWrite> {
  const api = core();
  return withRetries(`write ConfigMap ${namespace}/${name}`, async () => {
    const live = (await orNone(() => api.readNamespacedConfigMap({ name, namespace }))) as LiveConfigMap | undefined;
    const decision = decide(live);
    if (decision.write === "create") await api.createNamespacedConfigMap({ namespace, body: decision.configMap });
    else if (decision.write === "replace") await api.replaceNamespacedConfigMap({ name, namespace, body: decision.configMap });
    return decision;
  });
}
