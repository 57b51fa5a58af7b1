/**
 * Reads one ACK Table from the cluster: in-cluster service account config in a
 * Kratix Job, KUBECONFIG (or ~/.kube/config) on a laptop. Imported only by the
 * status step, so configure and delete start without the Kubernetes client.
 */
import * as k8s from "@kubernetes/client-node";
import type { ObservedTable } from "../core/kratix/steps.ts";

export async function readAckTable(namespace: string, name: string): Promise<ObservedTable | undefined> {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  try {
    return (await api.getNamespacedCustomObject({
      group: "dynamodb.services.k8s.aws",
      version: "v1alpha1",
      namespace,
      plural: "tables",
      name,
    })) as ObservedTable;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}
