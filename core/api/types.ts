/**
 * TypeScript shapes of the DynamoDBRequest API (dynamodb.kratix.io/v1alpha1).
 * Field names stay compatible with the original design's requests; the enums
 * come from rules.ts so the types cannot drift from the schema.
 */
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

export interface AttributeDefinition {
  /** Attribute name, 1-255 characters. */
  name: string;
  /** S (string), N (number) or B (binary). */
  type: AttributeType;
}

export interface KeySchemaElement {
  /** Must be one of the attributeDefinitions. */
  attributeName: string;
  /** HASH (partition key) or RANGE (sort key). */
  keyType: KeyType;
}

export interface ProvisionedThroughput {
  /** Read capacity units, a whole number from 1. */
  readCapacity: number;
  /** Write capacity units, a whole number from 1. */
  writeCapacity: number;
}

export interface Projection {
  /** ALL (default), KEYS_ONLY or INCLUDE. */
  type: ProjectionType;
  /** Only with INCLUDE, and then required: the non-key attributes to copy into the index. */
  nonKeyAttributes?: string[];
}

export interface GlobalSecondaryIndex {
  name: string;
  keySchema: KeySchemaElement[];
  /** Defaults to ALL. */
  projection?: Projection;
  /** Required when the table is PROVISIONED, forbidden otherwise. */
  provisioned?: ProvisionedThroughput;
}

export interface LocalSecondaryIndex {
  name: string;
  /** The table's HASH key and a RANGE key of its own. */
  keySchema: KeySchemaElement[];
  /** Defaults to ALL. */
  projection?: Projection;
}

export interface StreamSpec {
  enabled: boolean;
  /** Required when enabled. */
  viewType?: StreamViewType;
}

export interface TimeToLiveSpec {
  attributeName: string;
  enabled: boolean;
}

export interface EncryptionSpec {
  /** AWS_OWNED (DynamoDB's default), AWS_MANAGED (aws/dynamodb KMS key) or CUSTOMER_MANAGED. */
  type: EncryptionType;
  /** Key id, ARN or alias; required with CUSTOMER_MANAGED and only allowed there. */
  kmsKeyId?: string;
}

/** `spec` of a DynamoDBRequest as users write it. */
export interface DynamoDBRequestSpec {
  /** The DynamoDB table name (before any platform prefix), 3-255 of [a-zA-Z0-9_.-]. */
  name: string;
  /** AWS region; may be omitted when the platform supplies a default region. */
  region?: string;
  /** PAY_PER_REQUEST (default) or PROVISIONED. */
  billingMode?: BillingMode;
  attributeDefinitions: AttributeDefinition[];
  keySchema: KeySchemaElement[];
  /** Table capacity; required with PROVISIONED, forbidden otherwise. */
  provisioned?: ProvisionedThroughput;
  globalSecondaryIndexes?: GlobalSecondaryIndex[];
  localSecondaryIndexes?: LocalSecondaryIndex[];
  stream?: StreamSpec;
  pointInTimeRecovery?: boolean;
  timeToLive?: TimeToLiveSpec;
  tableClass?: TableClass;
  deletionProtection?: boolean;
  encryption?: EncryptionSpec;
  tags?: Record<string, string>;
  /** What happens to the AWS table when the request is deleted. Default Retain. */
  deletionPolicy?: DeletionPolicy;
}

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
  droppedAttributes?: string[];
  deletionPolicy?: DeletionPolicy;
  /** metadata.generation of the request whose table is ACTIVE and synced (written by the status step). */
  readyGeneration?: number;
  /** The request's spec-digest annotation at that point (core/api/spec-digest.ts). */
  readySpecDigest?: string;
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
}
