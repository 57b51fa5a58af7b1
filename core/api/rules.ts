/**
 * The facts of the DynamoDBRequest API: enums, limits and name patterns.
 *
 * Every other part of the project (TypeScript types, the CRD schema, the
 * validator, the CUE parameters, the pipeline) reads these constants, so a
 * limit is changed here and nowhere else. The numbers are DynamoDB's own
 * service quotas and naming rules (AWS DynamoDB developer guide, "Service,
 * account, and table quotas" and "Naming rules and data types").
 */

export const API_GROUP = "dynamodb.kratix.io";
export const API_VERSION = "v1alpha1";
export const API_KIND = "DynamoDBRequest";
export const API_PLURAL = "dynamodbrequests";
export const API_SINGULAR = "dynamodbrequest";
export const CRD_NAME = `${API_PLURAL}.${API_GROUP}`;

export const BILLING_MODES = ["PAY_PER_REQUEST", "PROVISIONED"] as const;
export const ATTRIBUTE_TYPES = ["S", "N", "B"] as const;
export const KEY_TYPES = ["HASH", "RANGE"] as const;
export const PROJECTION_TYPES = ["ALL", "KEYS_ONLY", "INCLUDE"] as const;
export const STREAM_VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] as const;
export const TABLE_CLASSES = ["STANDARD", "STANDARD_INFREQUENT_ACCESS"] as const;
export const ENCRYPTION_TYPES = ["AWS_OWNED", "AWS_MANAGED", "CUSTOMER_MANAGED"] as const;
export const DELETION_POLICIES = ["Retain", "Delete"] as const;

export const DEFAULT_BILLING_MODE: (typeof BILLING_MODES)[number] = "PAY_PER_REQUEST";
export const DEFAULT_PROJECTION: (typeof PROJECTION_TYPES)[number] = "ALL";
/** Tables are data: deleting a request keeps the AWS table unless asked otherwise. */
export const DEFAULT_DELETION_POLICY: (typeof DELETION_POLICIES)[number] = "Retain";

/** Table and index names: 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'. */
export const NAME_PATTERN = "^[a-zA-Z0-9_.-]+$";
export const NAME_MIN_LENGTH = 3;
export const NAME_MAX_LENGTH = 255;

/** Attribute names: 1-255 characters (DynamoDB allows any UTF-8 for non-key attributes). */
export const ATTRIBUTE_NAME_MIN_LENGTH = 1;
export const ATTRIBUTE_NAME_MAX_LENGTH = 255;

/**
 * An AWS region name: two letters, one to three dash-separated words, a number
 * (us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5, us-isob-east-1).
 * Deliberately a shape, not a list: AWS opens regions faster than we release.
 */
export const REGION_PATTERN = "^[a-z]{2}(-[a-z]+){1,3}-[1-9][0-9]*$";
export const REGION_MAX_LENGTH = 32;

export const MAX_GLOBAL_SECONDARY_INDEXES = 20;
export const MAX_LOCAL_SECONDARY_INDEXES = 5;
/**
 * DynamoDB CreateTable, Projection.NonKeyAttributes: "Maximum number of 20 items" in one
 * index's projection, and "The total count of attributes provided in NonKeyAttributes, summed
 * across all of the secondary indexes, must not exceed 100" (the same attribute projected
 * into two indexes counts twice).
 */
export const MAX_NON_KEY_ATTRIBUTES_PER_INDEX = 20;
export const MAX_NON_KEY_ATTRIBUTES = 100;
/**
 * Attribute definitions can only describe key attributes: 2 for the table,
 * 2 per GSI, 1 more per LSI. Bounding the list also bounds the cost of the
 * CRD's CEL rules, which the API server checks when the CRD is created.
 */
export const MAX_ATTRIBUTE_DEFINITIONS = 2 + 2 * MAX_GLOBAL_SECONDARY_INDEXES + MAX_LOCAL_SECONDARY_INDEXES;

/** Capacity units: whole numbers from 1. The upper bound is only there to keep CEL costs bounded. */
export const MIN_CAPACITY_UNITS = 1;
export const MAX_CAPACITY_UNITS = 1_000_000_000;

/** AWS allows 50 tags per table; the platform adds its own (see PLATFORM_TAG_KEYS). */
export const AWS_MAX_TAGS = 50;
/** DynamoDB TagResource, Tag: Key 1-128 characters, Value 0-256. */
export const TAG_KEY_MAX_LENGTH = 128;
export const TAG_VALUE_MAX_LENGTH = 256;
/**
 * DynamoDB TagResource, Tag Key and Value: `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, i.e. letters,
 * separators (spaces), numbers and `_ . : / = + - @`, in any script. The same string is the
 * CRD's pattern (Go RE2 on the API server, JavaScript with the `u` flag in Ajv) and the CUE
 * definition's (Go RE2), so all three read it alike.
 */
export const TAG_PATTERN = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";
/** AWS reserves tag keys starting with `aws:` in any letter case. */
export const RESERVED_TAG_PREFIX = "aws:";

/**
 * Tags the platform puts on every table so an operator can find who asked
 * for it. They count against AWS's 50, as do the tags the ACK controller adds
 * by default (ACK_DEFAULT_TAG_COUNT), so users get 50 minus both.
 */
export const PLATFORM_TAG_KEYS = {
  managedBy: "kratix.io/managed-by",
  promise: "kratix.io/promise-name",
  requestNamespace: "dynamodb.kratix.io/request-namespace",
  requestName: "dynamodb.kratix.io/request-name",
} as const;
/**
 * The ACK controller's default resource tags (its chart's resourceTags:
 * services.k8s.aws/controller-version, services.k8s.aws/namespace and
 * app.kubernetes.io/managed-by), added to every table it creates. Without
 * counting them, a request with the most user tags failed at CreateTable
 * (found by the ACK test double: 46 + 4 + 3 = 53 > 50).
 */
export const ACK_DEFAULT_TAG_KEYS = ["services.k8s.aws/controller-version", "services.k8s.aws/namespace", "app.kubernetes.io/managed-by"];
export const ACK_DEFAULT_TAG_COUNT = ACK_DEFAULT_TAG_KEYS.length;
export const MAX_USER_TAGS = AWS_MAX_TAGS - Object.keys(PLATFORM_TAG_KEYS).length - ACK_DEFAULT_TAG_COUNT;

/**
 * Tag key prefixes no user tag may start with, in any letter case: AWS's (`aws:`), ACK's, and
 * the platform's own tags'. ACK's matter because a user's tag would replace ACK's own: ACK adds
 * its default tags only where the table has no tag of that key (runtime v0.61.0 pkg/tags
 * Merge, called by the controller's EnsureTags), so a tenant could label its table
 * `services.k8s.aws/namespace: <another team's namespace>`. Its whole `services.k8s.aws/`
 * domain is reserved, and the one default tag outside it by its exact key.
 */
export const RESERVED_TAG_PREFIXES = [
  RESERVED_TAG_PREFIX,
  "services.k8s.aws/",
  "app.kubernetes.io/managed-by",
  "kratix.io/",
  "dynamodb.kratix.io/",
] as const;

/** KMS key id, ARN or alias: bounded for CEL cost, shape left to AWS. */
export const KMS_KEY_ID_MAX_LENGTH = 2048;
