/**
 * The status step's reads of the cluster: in-cluster service account config in a Kratix
 * Job, KUBECONFIG (or ~/.kube/config) on a laptop. Imported only by the status step, so
 * configure and delete start without the Kubernetes client (4 MB of code).
 */
import * as k8s from "@kubernetes/client-node";
import type { ObservedTable } from "../core/kratix/steps.ts";
import { ACK_TABLE_API_VERSION } from "../core/render/ack-table.ts";
import { API_GROUP, API_PLURAL, API_VERSION } from "../core/api/rules.ts";

const [ACK_TABLE_GROUP, ACK_TABLE_VERSION] = ACK_TABLE_API_VERSION.split("/") as [string, string];

const config = () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
};
const client = () => config().makeApiClient(k8s.CustomObjectsApi);

/** The request's ACK Table (same namespace and name), as the API server has it; undefined when there is none. */
export async function readAckTable(namespace: string, name: string): Promise<ObservedTable | undefined> {
  try {
    return (await client().getNamespacedCustomObject({
      group: ACK_TABLE_GROUP,
      version: ACK_TABLE_VERSION,
      namespace,
      plural: "tables",
      name,
    })) as ObservedTable;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

/** Every DynamoDBRequest in the cluster, for the table-name ownership rule (core/kratix/table-claims.ts). */
export async function listDynamoDBRequests(): Promise<unknown[]> {
  const list = (await client().listClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: API_PLURAL,
  })) as { items: unknown[] };
  return list.items;
}

/** A namespace's annotations (adoption approvals, core/kratix/adoption.ts); undefined when it does not exist. */
export async function readNamespaceAnnotations(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await config().makeApiClient(k8s.CoreV1Api).readNamespace({ name })).metadata?.annotations ?? {};
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}
