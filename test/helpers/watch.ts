/**
 * Watches for the end-to-end tests' "this never happens" checks: a watch opened before the
 * event records everything that happens to a kind of object until the chain has had every
 * chance to act — the pipeline Jobs the event started have finished, then two Flux intervals
 * and the Kustomization's retry have passed — so a check cannot pass only because it looked
 * too early.
 */
import * as k8s from "@kubernetes/client-node";
import { kubeClient, sleep, waitUntil } from "../../local-env/index.ts";

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: T;
  at: number;
}

export interface Recording<T> {
  events: WatchEvent<T>[];
  stop(): void;
}

/** Records every event on `path` (a list path, e.g. /apis/dynamodb.services.k8s.aws/v1alpha1/tables) from now on. */
export async function record<T extends k8s.KubernetesObject>(kubeconfig: string, path: string): Promise<Recording<T>> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const events: WatchEvent<T>[] = [];
  let stopped = false;
  let controller: AbortController | undefined;
  // A watch can end (the API server's timeout); it is reopened until stop().
  const open = async () => {
    controller = await new k8s.Watch(kc).watch(
      path,
      { allowWatchBookmarks: false },
      (type, object: T) => events.push({ type: type as WatchEvent<T>["type"], object, at: Date.now() }),
      () => {
        if (!stopped) void open();
      },
    );
  };
  await open();
  return {
    events,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/**
 * The namespace of the request a pipeline Job runs for: its own namespace, or, when the Promise
 * runs pipelines in a platform namespace (workflows.config.pipelineNamespace), Kratix's annotation.
 */
export const requestNamespaceOf = (job: k8s.V1Job) =>
  job.metadata?.annotations?.["kratix.io/job-resource-namespace"] ?? job.metadata?.namespace;

/** The local stack's Flux timings (Pulumi.local.yaml: the bucket's interval; the Kustomizations share it). */
export const LOCAL_FLUX_INTERVAL_MS = 5_000;
/** Long enough for a Work written now to be applied (or pruned) by Flux: two intervals and a retry. */
export const FLUX_SETTLE_MS = 3 * LOCAL_FLUX_INTERVAL_MS + 5_000;

/** A Job that has finished, either way. */
const jobFinished = (j: k8s.V1Job) => (j.status?.succeeded ?? 0) > 0 || (j.status?.failed ?? 0) > 0;

/**
 * Waits until every pipeline Job Kratix started for the request after `since` has finished,
 * and at least one has, then lets Flux settle: afterwards nothing more can come of the event.
 */
export async function chainSettled(kubeconfig: string, request: { namespace: string; name: string }, since: number, timeoutMs = 240_000) {
  const batch = kubeClient(kubeconfig).batch;
  await waitUntil(
    `the pipeline Jobs of ${request.namespace}/${request.name} started after the event to finish`,
    async () => {
      const jobs = (await batch.listJobForAllNamespaces({ labelSelector: `kratix.io/resource-name=${request.name}` })).items.filter(
        (j) => requestNamespaceOf(j) === request.namespace && new Date(j.metadata!.creationTimestamp!).getTime() >= since - 1_000,
      );
      return jobs.length > 0 && jobs.every(jobFinished) ? true : undefined;
    },
    timeoutMs,
    1_000,
  );
  await sleep(FLUX_SETTLE_MS);
}

/**
 * Waits until no Kratix pipeline Job is running in any namespace and `snapshot` (what the test
 * is about to change: a state store folder) has stayed the same for three Flux intervals. After a
 * Promise upgrade Kratix runs every request's workflows again and rewrites their Works' files for
 * minutes: a change made meanwhile would be written over before Flux saw it.
 */
export async function chainQuiet(kubeconfig: string, snapshot: () => Promise<string>, timeoutMs = 600_000) {
  const batch = kubeClient(kubeconfig).batch;
  let last = "";
  let sameSince = Date.now();
  await waitUntil(
    "no pipeline Job running and the state store unchanged for three Flux intervals",
    async () => {
      const jobs = (await batch.listJobForAllNamespaces({ labelSelector: "kratix.io/promise-name" })).items;
      const running = jobs.some((j) => !jobFinished(j));
      const now = await snapshot();
      if (running || now !== last) {
        last = now;
        sameSince = Date.now();
        return undefined;
      }
      return Date.now() - sameSince >= 3 * LOCAL_FLUX_INTERVAL_MS ? true : undefined;
    },
    timeoutMs,
    2_000,
  );
}
