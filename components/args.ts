/**
 * The components' argument and output types, written so that Pulumi can infer
 * the component package's schema from them (provider/index.ts), which is what
 * other languages (YAML, Python, Go, ...) use. Pulumi's schema inference
 * (@pulumi/pulumi/provider/experimental) takes named interfaces, arrays, string
 * maps, Input/Output, and string enums written as an `as const` object with a
 * type of the same name. It refuses unions (`"a" | "b"`, `A | B`), intersections,
 * anonymous object types, `unknown`, functions and references to resources of
 * packages other than `@pulumi/*`. So:
 *
 * - every enum is a const object and a type (TypeScript users still write the
 *   plain strings: `billingMode: "PROVISIONED"` has type BillingMode);
 * - a discriminated union (credentials, state store) is one interface with a
 *   `mode` and every mode's fields optional, checked per mode when the component
 *   is built, with the field named (`ackCredentials.oidcProviderArn: is
 *   required with mode irsa`);
 * - the table is the TableProperties interface, which test/pulumi/components.test.ts
 *   holds equal, at compile time, to the API's TableProperties (core/api/schema.ts
 *   is the one declaration of the API; this is its shape as component arguments);
 * - resources a component exposes (its Promise, its DynamoDBRequest) are getters:
 *   the inference takes every property of a component class as an output.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PlatformDefaults } from "../core/api/types.ts";
import type { FieldError } from "../core/api/validate.ts";

/** Billing mode of a table. */
export const BillingMode = { PayPerRequest: "PAY_PER_REQUEST", Provisioned: "PROVISIONED" } as const;
export type BillingMode = (typeof BillingMode)[keyof typeof BillingMode];
/** Type of a key attribute: S string, N number, B binary. */
export const AttributeType = { String: "S", Number: "N", Binary: "B" } as const;
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];
/** HASH is the partition key, RANGE the sort key. */
export const KeyType = { Hash: "HASH", Range: "RANGE" } as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];
/** Which attributes an index holds. */
export const ProjectionType = { All: "ALL", KeysOnly: "KEYS_ONLY", Include: "INCLUDE" } as const;
export type ProjectionType = (typeof ProjectionType)[keyof typeof ProjectionType];
/** What each stream record holds. */
export const StreamViewType = {
  KeysOnly: "KEYS_ONLY",
  NewImage: "NEW_IMAGE",
  OldImage: "OLD_IMAGE",
  NewAndOldImages: "NEW_AND_OLD_IMAGES",
} as const;
export type StreamViewType = (typeof StreamViewType)[keyof typeof StreamViewType];
/** Table class. */
export const TableClass = { Standard: "STANDARD", StandardInfrequentAccess: "STANDARD_INFREQUENT_ACCESS" } as const;
export type TableClass = (typeof TableClass)[keyof typeof TableClass];
/** Who owns the key that encrypts the table at rest. */
export const EncryptionType = { AwsOwned: "AWS_OWNED", AwsManaged: "AWS_MANAGED", CustomerManaged: "CUSTOMER_MANAGED" } as const;
export type EncryptionType = (typeof EncryptionType)[keyof typeof EncryptionType];
/** What happens to the AWS table when its request is deleted. */
export const DeletionPolicy = { Retain: "Retain", Delete: "Delete" } as const;
export type DeletionPolicy = (typeof DeletionPolicy)[keyof typeof DeletionPolicy];

/** An attribute used as a key of the table or of one of its indexes. */
export interface AttributeDefinition {
  /** Attribute name, 1-255 characters. */
  name: string;
  /** S string, N number, B binary. */
  type: AttributeType;
}

/** A key attribute. */
export interface KeySchemaElement {
  /** Name of an attribute declared in attributeDefinitions. */
  attributeName: string;
  /** HASH is the partition key, RANGE the sort key. */
  keyType: KeyType;
}

/** Provisioned throughput in capacity units (only with billingMode PROVISIONED). */
export interface ProvisionedThroughput {
  /** Read capacity units. */
  readCapacity: number;
  /** Write capacity units. */
  writeCapacity: number;
}

/** Which attributes are copied into an index. Defaults to ALL. */
export interface Projection {
  /** Projection type. */
  type: ProjectionType;
  /** Non-key attributes to project; required with INCLUDE, forbidden otherwise. */
  nonKeyAttributes?: string[];
}

/** A global secondary index. */
export interface GlobalSecondaryIndex {
  /** Index name. */
  name: string;
  /** The index key: one HASH key and optionally one RANGE key. */
  keySchema: KeySchemaElement[];
  /** Which attributes the index holds. Default ALL. */
  projection?: Projection;
  /** The index's capacity (billingMode PROVISIONED). */
  provisioned?: ProvisionedThroughput;
}

/** A local secondary index: fixed when the table is created. */
export interface LocalSecondaryIndex {
  /** Index name. */
  name: string;
  /** The table's HASH key and a RANGE key of the index's own. */
  keySchema: KeySchemaElement[];
  /** Which attributes the index holds. Default ALL. */
  projection?: Projection;
}

/** DynamoDB Streams. */
export interface StreamSpec {
  /** Turn the stream on. */
  enabled: boolean;
  /** What each stream record holds. */
  viewType?: StreamViewType;
}

/** Expire items by a timestamp attribute. */
export interface TimeToLiveSpec {
  /** Attribute holding the expiry time in epoch seconds. */
  attributeName: string;
  /** Turn TTL on. */
  enabled: boolean;
}

/** Server-side encryption at rest. */
export interface EncryptionSpec {
  /** Who owns the key. */
  type: EncryptionType;
  /** KMS key id, ARN or alias; only with CUSTOMER_MANAGED, and required there. */
  kmsKeyId?: string;
}

/**
 * One DynamoDB table, written as the aws-dynamodb-kratix component's properties: the
 * DynamoDBRequest spec (docs/api.md) with tableName for name.
 */
export interface TableProperties {
  /** The DynamoDB table name (before any platform prefix): 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'. */
  tableName: string;
  /** AWS region such as us-east-1; when omitted the platform's default region is used. */
  region?: string;
  /** Billing mode. Default PAY_PER_REQUEST. */
  billingMode?: BillingMode;
  /** Attributes used as keys of the table or of its indexes (others are left out of the table and reported). */
  attributeDefinitions: AttributeDefinition[];
  /** The table's primary key: one HASH key and optionally one RANGE key. */
  keySchema: KeySchemaElement[];
  /** Capacity, with billingMode PROVISIONED. */
  provisioned?: ProvisionedThroughput;
  /** Global secondary indexes. */
  globalSecondaryIndexes?: GlobalSecondaryIndex[];
  /** Local secondary indexes. */
  localSecondaryIndexes?: LocalSecondaryIndex[];
  /** DynamoDB Streams. */
  stream?: StreamSpec;
  /** Continuous backups with point-in-time recovery. */
  pointInTimeRecovery?: boolean;
  /** Expire items by a timestamp attribute. */
  timeToLive?: TimeToLiveSpec;
  /** Table class. */
  tableClass?: TableClass;
  /** AWS refuses to delete the table while this is true. */
  deletionProtection?: boolean;
  /** Server-side encryption at rest. */
  encryption?: EncryptionSpec;
  /** Tags on the table (the platform adds its own). */
  tags?: Record<string, string>;
  /**
   * Take over the existing DynamoDB table of this name (one a deleted request kept with deletionPolicy
   * Retain) instead of creating one; the namespace's annotation dynamodb.kratix.io/adoptable-tables must list it.
   */
  adopt?: boolean;
  /** What happens to the AWS table when the request is deleted. Default Retain (the table and its data stay). */
  deletionPolicy?: DeletionPolicy;
}

/** The platform's settings, applied to every request. */
export interface DynamoDBPlatformDefaults extends PlatformDefaults {
  /** Region used when a request leaves region out; the ACK controller's region. */
  defaultRegion: string;
}

/** Which parts of the platform to install; each can be off for clusters that already have it. */
export interface PlatformInstall {
  /** vela-core (KubeVela's controller). Default false: most clusters already run KubeVela. */
  velaCore?: boolean;
  /** cert-manager (Kratix's webhooks need it). Default true. */
  certManager?: boolean;
  /** Kratix. Default true. */
  kratix?: boolean;
  /** Flux's source and kustomize controllers, which apply what Kratix writes. Default true. */
  flux?: boolean;
  /** The ACK DynamoDB controller. Default true. */
  ackController?: boolean;
}

/** Who applies the aws-dynamodb-kratix Promise. */
export const PromiseDelivery = { KubeVela: "kubevela", Pulumi: "pulumi" } as const;
export type PromiseDelivery = (typeof PromiseDelivery)[keyof typeof PromiseDelivery];

/** Where Kratix writes the ACK Tables for Flux to apply. */
export const StateStoreMode = { S3: "s3", Bucket: "bucket", Existing: "existing", None: "none" } as const;
export type StateStoreMode = (typeof StateStoreMode)[keyof typeof StateStoreMode];
/** Kind of an existing Kratix state store. */
export const StateStoreKind = { BucketStateStore: "BucketStateStore", GitStateStore: "GitStateStore" } as const;
export type StateStoreKind = (typeof StateStoreKind)[keyof typeof StateStoreKind];

/** How Kratix and Flux reach an S3 state store (mode s3). */
export const StateStoreAuthMode = { Irsa: "irsa", AccessKey: "accessKey" } as const;
export type StateStoreAuthMode = (typeof StateStoreAuthMode)[keyof typeof StateStoreAuthMode];

/**
 * Credentials of the state store. Mode s3: `mode` irsa (a role per controller, trusted by the
 * cluster's OIDC provider: oidcProviderArn; no keys anywhere) or accessKey (IAM users with access
 * keys in Secrets, the default). Mode bucket: the access key (accessKeyId, secretAccessKey), which
 * Kratix writes and Flux reads with; pass it as a secret.
 */
export interface StateStoreCredentials {
  /** s3: irsa or accessKey. Default accessKey. */
  mode?: StateStoreAuthMode;
  /** s3 with irsa: ARN of the cluster's IAM OIDC provider. */
  oidcProviderArn?: pulumi.Input<string>;
  /** bucket: the access key's id. */
  accessKeyId?: string;
  /** bucket: the secret access key. */
  secretAccessKey?: string;
}

/**
 * The Kratix state store, by mode: s3 (an S3 bucket made here, read and written by Kratix and
 * read by Flux; region, bucketName, path, credentials), bucket (an S3-compatible server you run;
 * endpoint, bucketName, region, credentials, insecure, path, interval), existing (a
 * state store you have; kind, name: Flux and the Destination are then yours as well) or none.
 */
export interface StateStore {
  /** s3, bucket, existing or none. */
  mode: StateStoreMode;
  /** s3, bucket: region of the bucket (bucket: the region the server expects in signatures). Default the platform's default region. */
  region?: pulumi.Input<string>;
  /** s3: the bucket's name (default: a generated one); bucket: required. */
  bucketName?: pulumi.Input<string>;
  /** s3, bucket: folder for this platform inside the bucket. */
  path?: string;
  /** bucket: host:port of the server. */
  endpoint?: string;
  /** bucket: plain HTTP (a server on loopback or a trusted network only). Default false. */
  insecure?: boolean;
  /** bucket: how often Flux polls the bucket (a Go duration). Default 30s. */
  interval?: string;
  /** s3: how Kratix and Flux authenticate (default IAM users with access keys); bucket: the access key, required. */
  credentials?: pulumi.Input<StateStoreCredentials>;
  /** existing: BucketStateStore or GitStateStore. */
  kind?: StateStoreKind;
  /** existing: the state store's name. */
  name?: string;
}

/** How the ACK controller gets AWS credentials. */
export const AckCredentialsMode = {
  Irsa: "irsa",
  PodIdentity: "podIdentity",
  AccessKey: "accessKey",
  ExistingSecret: "existingSecret",
} as const;
export type AckCredentialsMode = (typeof AckCredentialsMode)[keyof typeof AckCredentialsMode];

/**
 * ACK controller credentials, by mode: irsa (a role trusted by the cluster's OIDC provider;
 * oidcProviderArn), podIdentity (a role and an EKS Pod Identity association; clusterName),
 * accessKey (an IAM user whose key goes into the INI Secret ack-dynamodb-user-secrets) or
 * existingSecret (your Secret holding an INI credentials file; secretName, secretKey, profile).
 */
export interface AckCredentials {
  /** irsa, podIdentity, accessKey or existingSecret. */
  mode: AckCredentialsMode;
  /** irsa: ARN of the cluster's IAM OIDC provider. */
  oidcProviderArn?: pulumi.Input<string>;
  /** podIdentity: the EKS cluster the association is made in. */
  clusterName?: pulumi.Input<string>;
  /** existingSecret: the Secret's name. */
  secretName?: string;
  /** existingSecret: the key holding the INI file. Default credentials. */
  secretKey?: string;
  /** existingSecret: the profile in the INI file. Default default. */
  profile?: string;
}

/**
 * What a DynamoDBTable takes from its platform. A DynamoDBPlatform is one: from TypeScript pass
 * the platform itself, and the table takes its defaults, its providers and waits for what tables
 * need. From other languages give the platform's `defaults` output as `platformDefaults`.
 */
export interface TablePlatform {
  /** The defaults the platform applies: default region, table name prefix, Promise name. */
  readonly defaults: pulumi.Input<PlatformDefaults>;
}

/** Where a table's ARN came from. */
export const ArnSource = { Status: "status", Computed: "computed" } as const;
export type ArnSource = (typeof ArnSource)[keyof typeof ArnSource];

/** An IAM refusal the status step has counted: since when, how many runs in a row, on which spec digest. */
export interface AccessDeniedCount {
  since: string;
  runs: number;
  specDigest?: string;
}

/** A DynamoDBRequest's status as the Promise's pipeline writes it (Kratix adds its own fields beside these). */
export interface TableStatus {
  /** What the pipeline last reported. */
  message?: string;
  /** The DynamoDB table name, prefix included. */
  tableName?: string;
  region?: string;
  /** The table's ARN, as ACK reported it. */
  tableArn?: string;
  /** DynamoDB's table status (CREATING, ACTIVE, ...). */
  tableStatus?: string;
  /** The ARN of the table's stream, while the request asks for one ("" once it no longer does). */
  streamArn?: string;
  /** The ConfigMap in the request's namespace with the table's connection details. */
  connectionConfigMap?: string;
  /** Attribute definitions no key uses, left out of the table. */
  droppedAttributes?: string[];
  deletionPolicy?: DeletionPolicy;
  /** metadata.generation of the request whose table is ACTIVE and synced. */
  readyGeneration?: number;
  /** The spec digest of the request whose table is ACTIVE and synced. */
  readySpecDigest?: string;
  /** The spec digest of the last final verdict: ready, or refused until something changes. */
  settledSpecDigest?: string;
  /** Why the table is or is not ready: the TableReady reason, or a refusal (InvalidRequest, TableNameTaken, AdoptionNotApproved). */
  reason?: string;
  /** The request's metadata.generation a refusal is about. */
  observedGeneration?: number;
  /**
   * An IAM refusal seen by the status step on this spec: since when, in how many runs in a row
   * (runs 0: none now). It becomes the refusal AccessDenied once it persists (ACCESS_DENIED_SETTLE).
   */
  accessDenied?: AccessDeniedCount;
  [key: string]: unknown;
}

/**
 * The problems of a flattened union (one interface with a `mode`): a field the mode requires
 * but is missing, a field of another mode, an unknown mode. Paths start at `base`.
 */
export function modeFieldErrors(
  value: object,
  base: string,
  modes: Record<string, { required: readonly string[]; optional: readonly string[] }>,
): FieldError[] {
  const v = value as Record<string, unknown>;
  const mode = v.mode;
  const fields = typeof mode === "string" && Object.hasOwn(modes, mode) ? modes[mode] : undefined;
  if (!fields) return [{ path: `${base}.mode`, message: `must be one of ${Object.keys(modes).join(", ")}, not ${JSON.stringify(mode)}` }];
  const errors: FieldError[] = [];
  for (const f of fields.required) if (v[f] === undefined) errors.push({ path: `${base}.${f}`, message: `is required with mode ${mode}` });
  for (const [f, given] of Object.entries(v))
    if (f !== "mode" && given !== undefined && !fields.required.includes(f) && !fields.optional.includes(f))
      errors.push({ path: `${base}.${f}`, message: `is not a field of mode ${mode}` });
  return errors;
}
