/**
 * TypeScript shapes of the DynamoDBRequest API (dynamodb.kratix.io/v1alpha1).
 * The spec's types are not written here: they are the TypeBox declaration in
 * schema.ts, taken with `Static`, so the types, the CRD and the validator are
 * one declaration (type-only imports: nothing of TypeBox is loaded at run time
 * by modules that only need the types, such as the pipeline).
 */
import type { Static } from "typebox";
import type { DynamoDBRequestSpecSchema } from "./schema.ts";
import type {
  ATTRIBUTE_TYPES,
  BILLING_MODES,
  DELETION_POLICIES,
  ENCRYPTION_TYPES,
  KEY_TYPES,
  PROJECTION_TYPES,
  STREAM_VIEW_TYPES,
  TABLE_CLASSES,
} from "./rules.ts";

export type BillingMode = (typeof BILLING_MODES)[number];
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];
export type KeyType = (typeof KEY_TYPES)[number];
export type ProjectionType = (typeof PROJECTION_TYPES)[number];
export type StreamViewType = (typeof STREAM_VIEW_TYPES)[number];
export type TableClass = (typeof TABLE_CLASSES)[number];
export type EncryptionType = (typeof ENCRYPTION_TYPES)[number];
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

/** `spec` of a DynamoDBRequest as users write it (each field's meaning is its description in schema.ts). */
export type DynamoDBRequestSpec = Static<typeof DynamoDBRequestSpecSchema>;
export type AttributeDefinition = DynamoDBRequestSpec["attributeDefinitions"][number];
export type KeySchemaElement = DynamoDBRequestSpec["keySchema"][number];
export type ProvisionedThroughput = NonNullable<DynamoDBRequestSpec["provisioned"]>;
export type GlobalSecondaryIndex = NonNullable<DynamoDBRequestSpec["globalSecondaryIndexes"]>[number];
export type LocalSecondaryIndex = NonNullable<DynamoDBRequestSpec["localSecondaryIndexes"]>[number];
export type Projection = NonNullable<GlobalSecondaryIndex["projection"]>;
export type StreamSpec = NonNullable<DynamoDBRequestSpec["stream"]>;
export type TimeToLiveSpec = NonNullable<DynamoDBRequestSpec["timeToLive"]>;
export type EncryptionSpec = NonNullable<DynamoDBRequestSpec["encryption"]>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  generation?: number;
}

/** The status fields this project's pipeline writes (Kratix adds its own beside them). */
export interface DynamoDBRequestStatus {
  message?: string;
  tableName?: string;
  region?: string;
  tableArn?: string;
  tableStatus?: string;
  /** The ARN of the table's stream, while the request asks for one ("" once it no longer does). */
  streamArn?: string;
  /** The ConfigMap in the request's namespace with the table's connection details (core/kratix/connection.ts). */
  connectionConfigMap?: string;
  droppedAttributes?: string[];
  deletionPolicy?: DeletionPolicy;
  /** metadata.generation of the request whose table is ACTIVE and synced (written by the status step). */
  readyGeneration?: number;
  /** The request's spec-digest annotation at that point (core/api/spec-digest.ts). */
  readySpecDigest?: string;
  /**
   * The spec digest of the last final verdict: the table ready (Ready True), or a refusal only a
   * change can resolve (Stalled True). What Pulumi's wait ends on (core/api/spec-digest.ts).
   */
  settledSpecDigest?: string;
  /** Why the table is or is not ready: the TableReady reason, or a refusal (InvalidRequest, TableNameTaken, AdoptionNotApproved). */
  reason?: string;
  /** The request's metadata.generation a refusal is about. */
  observedGeneration?: number;
  /**
   * An IAM refusal seen by the status step on this spec: since when, in how many runs in a row
   * (runs 0: none now). It becomes the refusal AccessDenied once it persists (ACCESS_DENIED_SETTLE).
   */
  accessDenied?: { since: string; runs: number; specDigest?: string };
  [key: string]: unknown;
}

export interface DynamoDBRequest {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: DynamoDBRequestSpec;
  status?: DynamoDBRequestStatus;
}

/** Settings the platform team gives the Promise once, applied to every request. */
export interface PlatformDefaults {
  /** Region used when a request leaves spec.region out. */
  defaultRegion?: string;
  /** Prefix put before every table name, e.g. "team-a-". Counted in the 255-character limit. */
  tableNamePrefix?: string;
  /** Name of the Promise, written as a tag on every table. */
  promiseName?: string;
  /**
   * The only regions requests may name (and the default region falls in): the regions the ACK
   * controller's IAM policy allows. Unset: any region.
   */
  allowedRegions?: string[];
}
