/**
 * A stand-in for the Promise's status step on a bare API server (no Kratix, no pipeline):
 * once a DynamoDBRequest carries its spec digest, write the status the step writes when the
 * table is ACTIVE (its ARN, and the digest as ready and settled), so that Pulumi's wait on the request ends
 * and the table's ARN flows back into the stack's outputs.
 */
import { SPEC_DIGEST_ANNOTATION } from "../../core/api/spec-digest.ts";
import { rawRequest, sleep } from "../../local-env/index.ts";

export const requestPath = (namespace: string, name: string) =>
  `/apis/dynamodb.kratix.io/v1alpha1/namespaces/${namespace}/dynamodbrequests/${name}`;

/** Writes the ready status of one request whenever its digest is not yet the ready one, until stop() is called. */
export function statusStep(
  kubeconfig: string,
  namespace: string,
  name: string,
  arnFor: (spec: { name: string; region?: string }) => string,
): { stop: () => Promise<number> } {
  let running = true;
  let writes = 0;
  const loop = (async () => {
    while (running) {
      const r = await rawRequest(kubeconfig, "GET", requestPath(namespace, name));
      if (r.status === 200) {
        const o = JSON.parse(r.body) as {
          metadata: { annotations?: Record<string, string> };
          spec: { name: string; region?: string };
          status?: { settledSpecDigest?: string };
        };
        const digest = o.metadata.annotations?.[SPEC_DIGEST_ANNOTATION];
        if (digest && o.status?.settledSpecDigest !== digest) {
          const w = await rawRequest(
            kubeconfig,
            "PATCH",
            `${requestPath(namespace, name)}/status`,
            {
              status: {
                tableArn: arnFor(o.spec),
                tableStatus: "ACTIVE",
                message: "table is ACTIVE",
                readySpecDigest: digest,
                settledSpecDigest: digest,
              },
            },
            { contentType: "application/merge-patch+json" },
          );
          if (w.status === 200) writes++;
        }
      }
      await sleep(300);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return writes;
    },
  };
}
