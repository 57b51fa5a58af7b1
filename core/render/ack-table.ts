/**
 * Renders the ACK `Table` (dynamodb.services.k8s.aws/v1alpha1) for a planned
 * request. Pure and deterministic: the same request always gives the same
 * object, so Kratix, Flux and Pulumi see no spurious changes.
 *
 * ACK has no spec.region: the region goes in the `services.k8s.aws/region`
 * annotation, and the deletion policy in `services.k8s.aws/deletion-policy`.
 */
import type { TablePlan } from "../api/plan.ts";
import { PLATFORM_TAG_KEYS } from "../api/rules.ts";
import type { EncryptionSpec, KeySchemaElement, Projection, ProvisionedThroughput } from "../api/types.ts";
import { labelValue } from "../k8s/metadata.ts";

export const ACK_TABLE_API_VERSION = "dynamodb.services.k8s.aws/v1alpha1";
export const ACK_TABLE_KIND = "Table";
export const ACK_REGION_ANNOTATION = "services.k8s.aws/region";
export const ACK_DELETION_POLICY_ANNOTATION = "services.k8s.aws/deletion-policy";
/**
 * ACK's adoption (runtime annotations, ResourceAdoption on by default): `adopt` takes over
 * the AWS resource the adoption fields name and never creates one.
 */
export const ACK_ADOPTION_POLICY_ANNOTATION = "services.k8s.aws/adoption-policy";
export const ACK_ADOPTION_FIELDS_ANNOTATION = "services.k8s.aws/adoption-fields";

/**
 * Labels that lead from a Table back to the request that asked for it (the same keys as the table's tags).
 * Label values are limited to 63 characters and request names to 253, so each value goes through
 * labelValue() (kept when valid, else a prefix and a hash), and the request's full name is also in
 * the REQUEST_NAME_ANNOTATION annotation.
 */
export const REQUEST_LABELS = {
  name: PLATFORM_TAG_KEYS.requestName,
  namespace: PLATFORM_TAG_KEYS.requestNamespace,
  promise: PLATFORM_TAG_KEYS.promise,
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** The labels of an object the platform makes for a request (its Table, its connection ConfigMap). */
export function requestLabels(ref: Pick<RequestRef, "name" | "namespace" | "promiseName">): Record<string, string> {
  return {
    [REQUEST_LABELS.name]: labelValue(ref.name),
    [REQUEST_LABELS.namespace]: labelValue(ref.namespace),
    [REQUEST_LABELS.promise]: labelValue(ref.promiseName),
    [REQUEST_LABELS.managedBy]: MANAGED_BY,
  };
}

/** The request's name exactly, whatever its length (the label may hold a shortened form). */
export const REQUEST_NAME_ANNOTATION = PLATFORM_TAG_KEYS.requestName;
/**
 * The metadata.uid of the request the Table was rendered for: one request of a name, deleted,
 * and the next one of that name, made after it, are told apart by it. The release mark
 * (core/kratix/release.ts) lets Flux prune a Table only while it names the request that released it.
 */
export const REQUEST_UID_ANNOTATION = "dynamodb.kratix.io/request-uid";

export const MANAGED_BY = "kratix";

/** Where the request lives, and which Promise serves it. */
export interface RequestRef {
  name: string;
  namespace: string;
  promiseName: string;
  /** The request's metadata.uid (REQUEST_UID_ANNOTATION), when known. */
  uid?: string;
}

export interface AckTable {
  apiVersion: typeof ACK_TABLE_API_VERSION;
  kind: typeof ACK_TABLE_KIND;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

const keys = (k: KeySchemaElement[]) => k.map((e) => ({ attributeName: e.attributeName, keyType: e.keyType }));
const throughput = (p: ProvisionedThroughput) => ({ readCapacityUnits: p.readCapacity, writeCapacityUnits: p.writeCapacity });
const projection = (p: Projection) => ({
  projectionType: p.type,
  ...(p.nonKeyAttributes ? { nonKeyAttributes: [...p.nonKeyAttributes] } : {}),
});

/** AWS_OWNED is DynamoDB's default and needs no SSE block; the others use KMS. */
function sse(e: EncryptionSpec | undefined): Record<string, unknown> | undefined {
  if (!e || e.type === "AWS_OWNED") return undefined;
  return { enabled: true, sseType: "KMS", ...(e.type === "CUSTOMER_MANAGED" ? { kmsMasterKeyID: e.kmsKeyId } : {}) };
}

/** The table's tags: the user's, sorted, then the platform's. */
export function tableTags(plan: TablePlan, ref: RequestRef): { key: string; value: string }[] {
  const user = Object.entries(plan.spec.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const platform: [string, string][] = [
    [PLATFORM_TAG_KEYS.managedBy, MANAGED_BY],
    [PLATFORM_TAG_KEYS.promise, ref.promiseName],
    [PLATFORM_TAG_KEYS.requestNamespace, ref.namespace],
    [PLATFORM_TAG_KEYS.requestName, ref.name],
  ];
  return [...user, ...platform].map(([key, value]) => ({ key, value }));
}

/** Drops undefined members so the object carries only fields that mean something. */
const compact = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function renderAckTable(plan: TablePlan, ref: RequestRef): AckTable {
  const s = plan.spec;
  const provisioned = plan.billingMode === "PROVISIONED";
  return {
    apiVersion: ACK_TABLE_API_VERSION,
    kind: ACK_TABLE_KIND,
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: requestLabels(ref),
      annotations: {
        [ACK_REGION_ANNOTATION]: plan.region,
        [ACK_DELETION_POLICY_ANNOTATION]: plan.deletionPolicy === "Delete" ? "delete" : "retain",
        [REQUEST_NAME_ANNOTATION]: ref.name,
        ...(ref.uid ? { [REQUEST_UID_ANNOTATION]: ref.uid } : {}),
        ...(plan.adopt
          ? {
              [ACK_ADOPTION_POLICY_ANNOTATION]: "adopt",
              [ACK_ADOPTION_FIELDS_ANNOTATION]: JSON.stringify({ tableName: plan.tableName }),
            }
          : {}),
      },
    },
    spec: compact({
      tableName: plan.tableName,
      billingMode: plan.billingMode,
      attributeDefinitions: plan.attributeDefinitions.map((a) => ({ attributeName: a.name, attributeType: a.type })),
      keySchema: keys(plan.keySchema),
      provisionedThroughput: provisioned && s.provisioned ? throughput(s.provisioned) : undefined,
      globalSecondaryIndexes: plan.globalSecondaryIndexes.length
        ? plan.globalSecondaryIndexes.map((g) =>
            compact({
              indexName: g.name,
              keySchema: keys(g.keySchema),
              projection: projection(g.projection),
              provisionedThroughput: provisioned && g.provisioned ? throughput(g.provisioned) : undefined,
            }),
          )
        : undefined,
      localSecondaryIndexes: plan.localSecondaryIndexes.length
        ? plan.localSecondaryIndexes.map((l) => ({
            indexName: l.name,
            keySchema: keys(l.keySchema),
            projection: projection(l.projection),
          }))
        : undefined,
      // Only an enabled stream or TTL is written: AWS describes a disabled one as absent, so ACK
      // would compare {enabled: false} with nothing and call UpdateTable/UpdateTimeToLive forever
      // (aws-controllers-k8s/community#2782; found by the ACK test double, test/e2e/ack-double.test.ts).
      streamSpecification: s.stream?.enabled ? { streamEnabled: true, streamViewType: s.stream.viewType } : undefined,
      continuousBackups: s.pointInTimeRecovery !== undefined ? { pointInTimeRecoveryEnabled: s.pointInTimeRecovery } : undefined,
      timeToLive: s.timeToLive?.enabled ? { attributeName: s.timeToLive.attributeName, enabled: true } : undefined,
      tableClass: s.tableClass,
      deletionProtectionEnabled: s.deletionProtection,
      sseSpecification: sse(s.encryption),
      tags: tableTags(plan, ref),
    }),
  };
}
