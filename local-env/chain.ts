/**
 * What the controllers made of the stack, read back from the cluster: the
 * kratix-platform Application (vela-core), the Promise it rendered and its
 * status (Kratix), the request CRD Kratix made from the Promise's API, and the
 * pipeline Jobs Kratix started per request. `./dev local` prints it; the
 * end-to-end tests assert on it.
 */
import { kubeClient } from "./kube.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { DEFAULT_PROMISE_NAME } from "../core/kratix/steps.ts";
import { PLATFORM_APPLICATION } from "../core/render/application.ts";

export const REQUEST_CRD = "dynamodbrequests.dynamodb.kratix.io";
/** The label Kratix puts on what it makes for a Promise (the CRD, requests, Jobs, RBAC). */
export const KRATIX_PROMISE_LABEL = "kratix.io/promise-name";

interface Obj {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    generation?: number;
    managedFields?: { manager?: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const JOB_STATES = ["succeeded", "running", "failed"] as const;
type JobState = (typeof JOB_STATES)[number];

export interface ChainState {
  application?: { status?: string; services: { name: string; healthy?: boolean; message?: string }[] };
  promise?: { status?: string; managers: string[]; spec: Record<string, unknown> };
  crd?: { promiseLabel?: string; managers: string[] };
  requests: {
    name: string;
    namespace: string;
    message?: string;
    tableArn?: string;
    tableStatus?: string;
    jobs: { name: string; state: JobState }[];
  }[];
  /** The ACK Tables on the cluster, with what ACK (or its local test double) reports, and who applied them. */
  tables: { name: string; namespace: string; arn?: string; tableStatus?: string; synced?: string; managers: string[] }[];
}

const managers = (o: Obj) => [...new Set((o.metadata?.managedFields ?? []).map((f) => f.manager ?? ""))].sort();

export async function readChain(kubeconfig: string, namespace: string = NAMESPACES.application): Promise<ChainState> {
  const { custom, crds, batch } = kubeClient(kubeconfig);
  const get = <T>(p: Promise<unknown>) => p.then((x) => x as T).catch(() => undefined);
  const app = await get<Obj>(
    custom.getNamespacedCustomObject({
      group: "core.oam.dev",
      version: "v1beta1",
      namespace,
      plural: "applications",
      name: PLATFORM_APPLICATION,
    }),
  );
  const promise = await get<Obj>(
    custom.getClusterCustomObject({ group: "platform.kratix.io", version: "v1alpha1", plural: "promises", name: DEFAULT_PROMISE_NAME }),
  );
  const crd = await get<Obj>(crds.readCustomResourceDefinition({ name: REQUEST_CRD }));
  const list = await get<{ items: Obj[] }>(
    custom.listClusterCustomObject({ group: "dynamodb.kratix.io", version: "v1alpha1", plural: "dynamodbrequests" }),
  );
  const requests = [];
  for (const r of list?.items ?? []) {
    const ns = r.metadata!.namespace!;
    const jobs = await get<{ items: Obj[] }>(
      batch.listNamespacedJob({ namespace: ns, labelSelector: `kratix.io/resource-name=${r.metadata!.name!}` }),
    );
    const state = (j: Obj): JobState => {
      const st = j.status as { succeeded?: number; failed?: number } | undefined;
      return st?.succeeded ? "succeeded" : st?.failed ? "failed" : "running";
    };
    requests.push({
      name: r.metadata!.name!,
      namespace: ns,
      ...(typeof r.status?.message === "string" ? { message: r.status.message } : {}),
      ...(typeof r.status?.tableArn === "string" ? { tableArn: r.status.tableArn } : {}),
      ...(typeof r.status?.tableStatus === "string" ? { tableStatus: r.status.tableStatus } : {}),
      jobs: (jobs?.items ?? []).map((j) => ({ name: j.metadata!.name!, state: state(j) })).sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  const ackTables = await get<{ items: Obj[] }>(
    custom.listClusterCustomObject({ group: "dynamodb.services.k8s.aws", version: "v1alpha1", plural: "tables" }),
  );
  const tables = (ackTables?.items ?? []).map((t) => {
    const st = (t.status ?? {}) as {
      ackResourceMetadata?: { arn?: string };
      tableStatus?: string;
      conditions?: { type: string; status: string }[];
    };
    const synced = st.conditions?.find((c) => c.type === "ACK.ResourceSynced")?.status;
    return {
      name: t.metadata!.name!,
      namespace: t.metadata!.namespace!,
      ...(st.ackResourceMetadata?.arn ? { arn: st.ackResourceMetadata.arn } : {}),
      ...(st.tableStatus ? { tableStatus: st.tableStatus } : {}),
      ...(synced ? { synced } : {}),
      managers: managers(t),
    };
  });
  const services = ((app?.status?.services as { name: string; healthy?: boolean; message?: string }[] | undefined) ?? []).map((s) => ({
    name: s.name,
    ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    ...(s.message ? { message: s.message } : {}),
  }));
  return {
    ...(app ? { application: { ...(app.status?.status ? { status: String(app.status.status) } : {}), services } } : {}),
    ...(promise
      ? {
          promise: {
            ...(promise.status?.status ? { status: String(promise.status.status) } : {}),
            managers: managers(promise),
            spec: promise.spec ?? {},
          },
        }
      : {}),
    ...(crd
      ? {
          crd: {
            ...(crd.metadata?.labels?.[KRATIX_PROMISE_LABEL] ? { promiseLabel: crd.metadata.labels[KRATIX_PROMISE_LABEL] } : {}),
            managers: managers(crd),
          },
        }
      : {}),
    requests: requests.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
    tables: tables.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
  };
}

/** "5 (4 succeeded, 1 running)": a request's pipeline Jobs counted by state. */
function runs(jobs: { state: JobState }[]): string {
  if (!jobs.length) return "none";
  const count = (state: JobState) => jobs.filter((j) => j.state === state).length;
  const parts = JOB_STATES.map((st) => [count(st), st] as const).filter(([n]) => n > 0);
  return `${jobs.length} (${parts.map(([n, st]) => `${n} ${st}`).join(", ")})`;
}

/** The chain as a few lines for a person. */
export async function describeChain(kubeconfig: string): Promise<string[]> {
  const c = await readChain(kubeconfig);
  return [
    `Application ${PLATFORM_APPLICATION}: ${c.application?.status ?? "missing"}` +
      (c.application?.services.length
        ? ` (${c.application.services.map((s) => `${s.name}: ${s.healthy ? "healthy" : "not healthy"}${s.message ? `, ${s.message}` : ""}`).join("; ")})`
        : ""),
    `Promise ${DEFAULT_PROMISE_NAME}: ${c.promise?.status ?? "missing"}, written by ${c.promise?.managers.join(", ") || "?"}`,
    `CRD ${REQUEST_CRD}: ${c.crd ? `made for promise ${c.crd.promiseLabel ?? "?"} by ${c.crd.managers.join(", ")}` : "missing"}`,
    ...c.requests.map(
      (r) => `DynamoDBRequest ${r.namespace}/${r.name}: ${r.message ?? "no status"}; Kratix pipeline runs: ${runs(r.jobs)}`,
    ),
    ...c.tables.map(
      (t) =>
        `ACK Table ${t.namespace}/${t.name}: ${t.tableStatus ?? "no status"}, synced ${t.synced ?? "?"}, ${t.arn ?? "no ARN"}; applied by ${t.managers.join(", ") || "?"}`,
    ),
  ];
}
