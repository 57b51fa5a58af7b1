/**
 * TEST DOUBLE, never shipped: stands in for the node this local cluster lacks,
 * for Kratix's delete pipelines only. Kratix holds a deleted request until its
 * delete pipeline Job has succeeded (lib/workflow/reconciler.go checks
 * status.succeeded); with no kubelet no pod ever runs, so `pulumi destroy` would
 * wait forever. While running, this marks each such Job succeeded, writing the
 * status the Job controller writes for a finished Job.
 */
import { kubeClient, sleep } from "../../local-env/index.ts";

export function completeKratixDeleteJobs(kubeconfig: string): { stop: () => Promise<number> } {
  const { batch } = kubeClient(kubeconfig);
  let running = true;
  let completed = 0;
  const loop = (async () => {
    while (running) {
      const jobs = await batch.listJobForAllNamespaces({ labelSelector: "kratix.io/work-action=delete" }).catch(() => ({ items: [] }));
      for (const job of jobs.items) {
        if ((job.status?.succeeded ?? 0) > 0) continue;
        const now = new Date();
        const condition = (type: string) => ({ type, status: "True", lastTransitionTime: now, lastProbeTime: now });
        await batch
          .replaceNamespacedJobStatus({
            name: job.metadata!.name!,
            namespace: job.metadata!.namespace!,
            body: {
              ...job,
              status: {
                startTime: now,
                completionTime: now,
                succeeded: 1,
                conditions: [condition("SuccessCriteriaMet"), condition("Complete")],
              },
            },
          })
          .then(() => completed++)
          .catch(() => undefined); // changed meanwhile: the next pass retries
      }
      await sleep(300);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return completed;
    },
  };
}
