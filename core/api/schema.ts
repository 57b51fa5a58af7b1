/**
 * The DynamoDBRequest CRD, generated from rules.ts and cross-field-rules.ts.
 *
 * The structural schema carries every per-field rule (types, enums, lengths,
 * patterns, list and map sizes); the validator (validate.ts) compiles this very
 * schema, so the API server and the validator enforce the same shape by
 * construction. Cross-field rules are attached as CEL `x-kubernetes-validations`.
 */
import {
  API_GROUP,
  API_KIND,
  API_PLURAL,
  API_SINGULAR,
  API_VERSION,
  ATTRIBUTE_NAME_MAX_LENGTH,
  ATTRIBUTE_NAME_MIN_LENGTH,
  ATTRIBUTE_TYPES,
  BILLING_MODES,
  CRD_NAME,
  DEFAULT_BILLING_MODE,
  DEFAULT_DELETION_POLICY,
  DELETION_POLICIES,
  ENCRYPTION_TYPES,
  KEY_TYPES,
  KMS_KEY_ID_MAX_LENGTH,
  MAX_ATTRIBUTE_DEFINITIONS,
  MAX_CAPACITY_UNITS,
  MAX_GLOBAL_SECONDARY_INDEXES,
  MAX_LOCAL_SECONDARY_INDEXES,
  MAX_NON_KEY_ATTRIBUTES,
  MAX_NON_KEY_ATTRIBUTES_PER_INDEX,
  MAX_USER_TAGS,
  MIN_CAPACITY_UNITS,
  NAME_MAX_LENGTH,
  NAME_MIN_LENGTH,
  NAME_PATTERN,
  PROJECTION_TYPES,
  REGION_MAX_LENGTH,
  REGION_PATTERN,
  STREAM_VIEW_TYPES,
  TABLE_CLASSES,
  TAG_KEY_MAX_LENGTH,
  TAG_PATTERN,
  TAG_VALUE_MAX_LENGTH,
} from "./rules.ts";
import { CROSS_FIELD_RULES, TRANSITION_RULES, type SchemaLocation } from "./cross-field-rules.ts";

/** An OpenAPI v3 schema node as Kubernetes structural schemas use it. */
export interface SchemaNode {
  type?: "object" | "array" | "string" | "integer" | "boolean" | "number";
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: readonly (string | number)[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  format?: string;
  "x-kubernetes-validations"?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [extension: `x-${string}`]: unknown;
}

const str = (description: string, extra: Partial<SchemaNode> = {}): SchemaNode => ({
  type: "string",
  description,
  ...extra,
});
const oneOf = (description: string, values: readonly string[], extra: Partial<SchemaNode> = {}): SchemaNode =>
  str(`${description} One of: ${values.join(", ")}.`, { enum: values, ...extra });
const obj = (description: string, properties: Record<string, SchemaNode>, required: string[] = []): SchemaNode => ({
  type: "object",
  description,
  properties,
  ...(required.length ? { required } : {}),
});
const list = (description: string, items: SchemaNode, bounds: Partial<SchemaNode>): SchemaNode => ({
  type: "array",
  description,
  items,
  ...bounds,
});
const bool = (description: string): SchemaNode => ({ type: "boolean", description });

const nameField = (what: string): SchemaNode =>
  str(`${what}: ${NAME_MIN_LENGTH}-${NAME_MAX_LENGTH} characters of a-z, A-Z, 0-9, '_', '-', '.'.`, {
    minLength: NAME_MIN_LENGTH,
    maxLength: NAME_MAX_LENGTH,
    pattern: NAME_PATTERN,
  });
const attributeName = (description: string): SchemaNode =>
  str(description, { minLength: ATTRIBUTE_NAME_MIN_LENGTH, maxLength: ATTRIBUTE_NAME_MAX_LENGTH });

const capacity = (): SchemaNode =>
  obj(
    "Provisioned throughput in capacity units (only with billingMode PROVISIONED).",
    {
      readCapacity: { type: "integer", description: "Read capacity units.", minimum: MIN_CAPACITY_UNITS, maximum: MAX_CAPACITY_UNITS },
      writeCapacity: { type: "integer", description: "Write capacity units.", minimum: MIN_CAPACITY_UNITS, maximum: MAX_CAPACITY_UNITS },
    },
    ["readCapacity", "writeCapacity"],
  );

const keySchema = (description: string): SchemaNode =>
  list(
    description,
    obj(
      "A key attribute.",
      {
        attributeName: attributeName("Name of an attribute declared in attributeDefinitions."),
        keyType: oneOf("HASH is the partition key, RANGE the sort key.", KEY_TYPES),
      },
      ["attributeName", "keyType"],
    ),
    { minItems: 1, maxItems: 2 },
  );

const projection = (): SchemaNode =>
  obj(
    "Which attributes are copied into the index. Defaults to ALL.",
    {
      type: oneOf("Projection type.", PROJECTION_TYPES),
      nonKeyAttributes: list(
        `Non-key attributes to project; required with INCLUDE, forbidden otherwise. At most ${MAX_NON_KEY_ATTRIBUTES_PER_INDEX} per index and ${MAX_NON_KEY_ATTRIBUTES} summed across all indexes.`,
        attributeName("Attribute name."),
        { minItems: 1, maxItems: MAX_NON_KEY_ATTRIBUTES_PER_INDEX },
      ),
    },
    ["type"],
  );

/** The schema of `spec`, without CEL rules. */
function specSchema(): SchemaNode {
  return obj(
    "The DynamoDB table this request asks for.",
    {
      name: nameField("DynamoDB table name (the platform may add a prefix)"),
      region: str("AWS region such as us-east-1; when omitted the platform's default region is used.", {
        pattern: REGION_PATTERN,
        maxLength: REGION_MAX_LENGTH,
      }),
      billingMode: oneOf("Billing mode.", BILLING_MODES, { default: DEFAULT_BILLING_MODE }),
      attributeDefinitions: list(
        "Attributes used as keys of the table or of its indexes. Attributes no key uses are left out of the table (DynamoDB rejects them) and listed in status.droppedAttributes.",
        obj(
          "An attribute definition.",
          {
            name: attributeName("Attribute name, 1-255 characters."),
            type: oneOf("S string, N number, B binary.", ATTRIBUTE_TYPES),
          },
          ["name", "type"],
        ),
        { minItems: 1, maxItems: MAX_ATTRIBUTE_DEFINITIONS },
      ),
      keySchema: keySchema("The table's primary key: one HASH key and optionally one RANGE key."),
      provisioned: capacity(),
      globalSecondaryIndexes: list(
        `Global secondary indexes, at most ${MAX_GLOBAL_SECONDARY_INDEXES}.`,
        obj(
          "A global secondary index.",
          {
            name: nameField("Index name"),
            keySchema: keySchema("The index key: one HASH key and optionally one RANGE key."),
            projection: projection(),
            provisioned: capacity(),
          },
          ["name", "keySchema"],
        ),
        { maxItems: MAX_GLOBAL_SECONDARY_INDEXES },
      ),
      localSecondaryIndexes: list(
        `Local secondary indexes, at most ${MAX_LOCAL_SECONDARY_INDEXES}; fixed when the table is created.`,
        obj(
          "A local secondary index.",
          {
            name: nameField("Index name"),
            keySchema: keySchema("The table's HASH key and a RANGE key of the index's own."),
            projection: projection(),
          },
          ["name", "keySchema"],
        ),
        { maxItems: MAX_LOCAL_SECONDARY_INDEXES },
      ),
      stream: obj(
        "DynamoDB Streams.",
        { enabled: bool("Turn the stream on."), viewType: oneOf("What each stream record holds.", STREAM_VIEW_TYPES) },
        ["enabled"],
      ),
      pointInTimeRecovery: bool("Continuous backups with point-in-time recovery."),
      timeToLive: obj(
        "Expire items by a timestamp attribute.",
        {
          attributeName: attributeName("Attribute holding the expiry time in epoch seconds."),
          enabled: bool("Turn TTL on."),
        },
        ["attributeName", "enabled"],
      ),
      tableClass: oneOf("Table class.", TABLE_CLASSES),
      deletionProtection: bool("AWS refuses to delete the table while this is true."),
      encryption: obj(
        "Server-side encryption at rest.",
        {
          type: oneOf("Who owns the key.", ENCRYPTION_TYPES),
          kmsKeyId: str("KMS key id, ARN or alias; only with CUSTOMER_MANAGED, and required there.", {
            minLength: 1,
            maxLength: KMS_KEY_ID_MAX_LENGTH,
          }),
        },
        ["type"],
      ),
      tags: {
        type: "object",
        description: `Tags on the table: at most ${MAX_USER_TAGS} (AWS allows 50; the platform adds its own), keys 1-${TAG_KEY_MAX_LENGTH} characters not starting with aws: (any case), values up to ${TAG_VALUE_MAX_LENGTH}; keys and values only of letters, digits, spaces and _ . : / = + - @.`,
        additionalProperties: str("Tag value.", { maxLength: TAG_VALUE_MAX_LENGTH, pattern: TAG_PATTERN }),
        maxProperties: MAX_USER_TAGS,
      },
      deletionPolicy: oneOf(
        "What happens to the AWS table when this request is deleted. Retain (default) keeps the table and its data.",
        DELETION_POLICIES,
        { default: DEFAULT_DELETION_POLICY },
      ),
    },
    ["name", "attributeDefinitions", "keySchema"],
  );
}

function nodeAt(root: SchemaNode, at: SchemaLocation): SchemaNode {
  let node = root;
  for (const step of at) {
    const next = step === "*" ? node.items : node.properties?.[step];
    if (!next) throw new Error(`schema has no location ${at.join(".")}`);
    node = next;
  }
  return node;
}

/** The `spec` schema with every cross-field and transition rule attached where it belongs. */
export function dynamoDBRequestSpecSchema(): SchemaNode {
  const spec = specSchema();
  const attach = (at: SchemaLocation, rule: string, message: string, fieldPath?: string): void => {
    const node = nodeAt(spec, at);
    (node["x-kubernetes-validations"] ??= []).push({ rule, message, ...(fieldPath ? { fieldPath } : {}) });
  };
  for (const r of CROSS_FIELD_RULES) for (const at of r.at) attach(at, r.cel, r.message, r.fieldPath);
  for (const r of TRANSITION_RULES) attach(r.at, r.cel, r.message);
  return spec;
}

/** The whole object schema (Kratix replaces `status` with its own, so it is left open here). */
export function dynamoDBRequestSchema(): SchemaNode {
  return {
    type: "object",
    description: "A request for an AWS DynamoDB table, fulfilled by the aws-dynamodb-kratix Promise through ACK.",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: dynamoDBRequestSpecSchema(),
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
    required: ["spec"],
  };
}

/** A printer column for `kubectl get dynamodbrequests`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: "Table", type: "string", jsonPath: ".status.tableName" },
  { name: "Region", type: "string", jsonPath: ".status.region" },
  { name: "Table-Status", type: "string", jsonPath: ".status.tableStatus" },
  { name: "ARN", type: "string", jsonPath: ".status.tableArn", priority: 1 },
  { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The CustomResourceDefinition that becomes the Promise's `spec.api`. */
export function dynamoDBRequestCRD() {
  return {
    apiVersion: "apiextensions.k8s.io/v1" as const,
    kind: "CustomResourceDefinition" as const,
    metadata: { name: CRD_NAME },
    spec: {
      group: API_GROUP,
      scope: "Namespaced",
      names: {
        kind: API_KIND,
        listKind: `${API_KIND}List`,
        plural: API_PLURAL,
        singular: API_SINGULAR,
        shortNames: ["ddbr"],
        categories: ["kratix", "dynamodb"],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: dynamoDBRequestSchema() },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}
