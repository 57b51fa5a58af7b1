/**
 * The connection ConfigMap: what a workload needs to reach its table (name, ARN, region and,
 * when the table has a stream, the stream's ARN), in the request's namespace, named after the
 * request (decision 113). The status step writes it once the table is ready and again whenever
 * what it holds changes; the request owns it (ownerReferences), so Kubernetes' garbage
 * collector removes it with the request, and nothing of the platform's has to.
 *
 * Its keys are environment variable names, so a pod takes them all with `envFrom`.
 * A ConfigMap of that name that is not the request's (a team's own, made before) is left
 * alone: the status says so, and the workload reads the request's status instead.
 */
import { createHash } from "node:crypto";
import { API_GROUP, API_KIND, API_VERSION } from "../api/rules.ts";
import { requestLabels } from "../render/ack-table.ts";

/** The ConfigMap's keys. */
export const CONNECTION_KEYS = {
  tableName: "TABLE_NAME",
  tableArn: "TABLE_ARN",
  region: "TABLE_REGION",
  streamArn: "TABLE_STREAM_ARN",
} as const;

export const CONNECTION_SUFFIX = "-connection";
/** An object name's limit (a DNS subdomain). */
const NAME_MAX_LENGTH = 253;

/** `<request>-connection`; a request name too long for the suffix keeps a prefix and a hash of the whole. */
export function connectionConfigMapName(requestName: string): string {
  const name = `${requestName}${CONNECTION_SUFFIX}`;
  if (name.length <= NAME_MAX_LENGTH) return name;
  const hash = createHash("sha256").update(requestName).digest("hex").slice(0, 10);
  const prefix = requestName.slice(0, NAME_MAX_LENGTH - CONNECTION_SUFFIX.length - hash.length - 1).replace(/[^a-z0-9]+$/, "");
  return `${prefix}-${hash}${CONNECTION_SUFFIX}`;
}

/** What a workload reads. */
export interface ConnectionDetails {
  tableName: string;
  tableArn: string;
  region: string;
  streamArn?: string;
}

/** The ConfigMap's data: one key per detail, the stream's only when the table has one. */
export function connectionData(d: ConnectionDetails): Record<string, string> {
  return {
    [CONNECTION_KEYS.tableName]: d.tableName,
    [CONNECTION_KEYS.tableArn]: d.tableArn,
    [CONNECTION_KEYS.region]: d.region,
    ...(d.streamArn ? { [CONNECTION_KEYS.streamArn]: d.streamArn } : {}),
  };
}

/** The request the ConfigMap belongs to. */
export interface ConnectionOwner {
  namespace: string;
  name: string;
  uid: string;
  promiseName: string;
}

export interface ConnectionConfigMap {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: { apiVersion: string; kind: string; name: string; uid: string }[];
    resourceVersion?: string;
  };
  data: Record<string, string>;
}

/** The ConfigMap as the status step writes it: the request's labels (as its Table has them) and the request as owner. */
export function connectionConfigMap(owner: ConnectionOwner, details: ConnectionDetails): ConnectionConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: connectionConfigMapName(owner.name),
      namespace: owner.namespace,
      labels: requestLabels(owner),
      // No blockOwnerDeletion: it needs update on the request's finalizers, which the pipeline lacks.
      ownerReferences: [{ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: API_KIND, name: owner.name, uid: owner.uid }],
    },
    data: connectionData(details),
  };
}

/** A ConfigMap as the API server has it (the parts judged). */
export interface LiveConfigMap {
  metadata?: { resourceVersion?: string; ownerReferences?: { kind?: string; uid?: string }[] };
  data?: Record<string, string>;
}

export type ConnectionWrite =
  | { write: "create"; configMap: ConnectionConfigMap }
  /** Replaces the request's own ConfigMap, on the version read (a change in between is a conflict, and read again). */
  | { write: "replace"; configMap: ConnectionConfigMap }
  | { write: "none" }
  /** A ConfigMap of that name that is not the request's: left alone. */
  | { write: "foreign"; note: string };

/** What to do about the connection ConfigMap, given the one at its name (undefined: none). */
export function connectionWrite(live: LiveConfigMap | undefined, desired: ConnectionConfigMap): ConnectionWrite {
  if (!live) return { write: "create", configMap: desired };
  const owner = desired.metadata.ownerReferences[0]!;
  const ours = (live.metadata?.ownerReferences ?? []).some((r) => r.kind === owner.kind && r.uid === owner.uid);
  if (!ours)
    return {
      write: "foreign",
      note: `ConfigMap ${desired.metadata.namespace}/${desired.metadata.name} exists and is not this request's: the connection details are not written there (rename or remove it)`,
    };
  const same = JSON.stringify(Object.entries(live.data ?? {}).sort()) === JSON.stringify(Object.entries(desired.data).sort());
  if (same) return { write: "none" };
  const resourceVersion = live.metadata?.resourceVersion;
  return {
    write: "replace",
    configMap: { ...desired, metadata: { ...desired.metadata, ...(resourceVersion ? { resourceVersion } : {}) } },
  };
}
