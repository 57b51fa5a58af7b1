/**
 * The DynamoDBRequest API, declared once: the TypeBox declaration below is both
 * the TypeScript types (types.ts takes them with `Static`) and the JSON schema
 * of `spec`, from which the CRD's structural `openAPIV3Schema` is generated, with
 * the cross-field and transition rules of cross-field-rules.ts attached as CEL
 * `x-kubernetes-validations`.
 *
 * The structural schema carries every per-field rule (types, enums, lengths,
 * patterns, list and map sizes); the validator (validate.ts) compiles this very
 * schema, so the API server and the validator enforce the same shape by
 * construction, and test/definitions/cue.test.ts holds the KubeVela
 * definition's CUE parameters to it.
 */
import { Type, type TSchema, type TSchemaOptions } from "typebox";
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

// Builders for the few shapes the API uses; each takes the field's description first.
const str = (description: string, extra: TSchemaOptions = {}) => Type.String({ description, ...extra });
/** A string enum (a structural schema needs `type` beside `enum`). */
const oneOf = <const V extends string[]>(description: string, values: readonly [...V], extra: TSchemaOptions = {}) =>
  Type.Enum(values, { type: "string", description: `${description} One of: ${values.join(", ")}.`, ...extra });
const bool = (description: string) => Type.Boolean({ description });
const { Optional } = Type;

const nameField = (what: string) =>
  str(`${what}: ${NAME_MIN_LENGTH}-${NAME_MAX_LENGTH} characters of a-z, A-Z, 0-9, '_', '-', '.'.`, {
    minLength: NAME_MIN_LENGTH,
    maxLength: NAME_MAX_LENGTH,
    pattern: NAME_PATTERN,
  });
const attributeName = (description: string) =>
  str(description, { minLength: ATTRIBUTE_NAME_MIN_LENGTH, maxLength: ATTRIBUTE_NAME_MAX_LENGTH });

const capacityUnits = (description: string) => Type.Integer({ description, minimum: MIN_CAPACITY_UNITS, maximum: MAX_CAPACITY_UNITS });
const Capacity = Type.Object(
  { readCapacity: capacityUnits("Read capacity units."), writeCapacity: capacityUnits("Write capacity units.") },
  { description: "Provisioned throughput in capacity units (only with billingMode PROVISIONED)." },
);

const KeyElement = Type.Object(
  {
    attributeName: attributeName("Name of an attribute declared in attributeDefinitions."),
    keyType: oneOf("HASH is the partition key, RANGE the sort key.", KEY_TYPES),
  },
  { description: "A key attribute." },
);
const keySchema = (description: string) => Type.Array(KeyElement, { description, minItems: 1, maxItems: 2 });

const Projection = Type.Object(
  {
    type: oneOf("Projection type.", PROJECTION_TYPES),
    nonKeyAttributes: Optional(
      Type.Array(attributeName("Attribute name."), {
        description: `Non-key attributes to project; required with INCLUDE, forbidden otherwise. At most ${MAX_NON_KEY_ATTRIBUTES_PER_INDEX} per index and ${MAX_NON_KEY_ATTRIBUTES} summed across all indexes.`,
        minItems: 1,
        maxItems: MAX_NON_KEY_ATTRIBUTES_PER_INDEX,
      }),
    ),
  },
  { description: "Which attributes are copied into the index. Defaults to ALL." },
);

const AttributeDefinition = Type.Object(
  { name: attributeName("Attribute name, 1-255 characters."), type: oneOf("S string, N number, B binary.", ATTRIBUTE_TYPES) },
  { description: "An attribute definition." },
);

const GlobalSecondaryIndex = Type.Object(
  {
    name: nameField("Index name"),
    keySchema: keySchema("The index key: one HASH key and optionally one RANGE key."),
    projection: Optional(Projection),
    provisioned: Optional(Capacity),
  },
  { description: "A global secondary index." },
);

const LocalSecondaryIndex = Type.Object(
  {
    name: nameField("Index name"),
    keySchema: keySchema("The table's HASH key and a RANGE key of the index's own."),
    projection: Optional(Projection),
  },
  { description: "A local secondary index." },
);

const Stream = Type.Object(
  { enabled: bool("Turn the stream on."), viewType: Optional(oneOf("What each stream record holds.", STREAM_VIEW_TYPES)) },
  { description: "DynamoDB Streams." },
);

const TimeToLive = Type.Object(
  { attributeName: attributeName("Attribute holding the expiry time in epoch seconds."), enabled: bool("Turn TTL on.") },
  { description: "Expire items by a timestamp attribute." },
);

const Encryption = Type.Object(
  {
    type: oneOf("Who owns the key.", ENCRYPTION_TYPES),
    kmsKeyId: Optional(
      str("KMS key id, ARN or alias; only with CUSTOMER_MANAGED, and required there.", { minLength: 1, maxLength: KMS_KEY_ID_MAX_LENGTH }),
    ),
  },
  { description: "Server-side encryption at rest." },
);

/** Map keys have no schema in a structural CRD: the rules on tag keys are CEL (cross-field-rules.ts). */
const Tags = Type.Record(Type.String(), str("Tag value.", { maxLength: TAG_VALUE_MAX_LENGTH, pattern: TAG_PATTERN }), {
  description: `Tags on the table: at most ${MAX_USER_TAGS} (AWS allows 50; the platform adds its own), keys 1-${TAG_KEY_MAX_LENGTH} characters not starting with aws: (any case), values up to ${TAG_VALUE_MAX_LENGTH}; keys and values only of letters, digits, spaces and _ . : / = + - @.`,
  maxProperties: MAX_USER_TAGS,
});

/** `spec` of a DynamoDBRequest, as users write it: the one declaration of the API's fields and per-field rules. */
export const DynamoDBRequestSpecSchema = Type.Object(
  {
    name: nameField("DynamoDB table name (the platform may add a prefix)"),
    region: Optional(
      str("AWS region such as us-east-1; when omitted the platform's default region is used.", {
        pattern: REGION_PATTERN,
        maxLength: REGION_MAX_LENGTH,
      }),
    ),
    billingMode: Optional(oneOf("Billing mode.", BILLING_MODES, { default: DEFAULT_BILLING_MODE })),
    attributeDefinitions: Type.Array(AttributeDefinition, {
      description:
        "Attributes used as keys of the table or of its indexes. Attributes no key uses are left out of the table (DynamoDB rejects them) and listed in status.droppedAttributes.",
      minItems: 1,
      maxItems: MAX_ATTRIBUTE_DEFINITIONS,
    }),
    keySchema: keySchema("The table's primary key: one HASH key and optionally one RANGE key."),
    provisioned: Optional(Capacity),
    globalSecondaryIndexes: Optional(
      Type.Array(GlobalSecondaryIndex, {
        description: `Global secondary indexes, at most ${MAX_GLOBAL_SECONDARY_INDEXES}.`,
        maxItems: MAX_GLOBAL_SECONDARY_INDEXES,
      }),
    ),
    localSecondaryIndexes: Optional(
      Type.Array(LocalSecondaryIndex, {
        description: `Local secondary indexes, at most ${MAX_LOCAL_SECONDARY_INDEXES}; fixed when the table is created.`,
        maxItems: MAX_LOCAL_SECONDARY_INDEXES,
      }),
    ),
    stream: Optional(Stream),
    pointInTimeRecovery: Optional(bool("Continuous backups with point-in-time recovery.")),
    timeToLive: Optional(TimeToLive),
    tableClass: Optional(oneOf("Table class.", TABLE_CLASSES)),
    deletionProtection: Optional(bool("AWS refuses to delete the table while this is true.")),
    encryption: Optional(Encryption),
    tags: Optional(Tags),
    adopt: Optional(
      bool(
        "Take over the existing DynamoDB table of this name (one a deleted request kept with deletionPolicy Retain) instead of creating one. The platform team approves it per namespace: the namespace's annotation dynamodb.kratix.io/adoptable-tables lists the table name.",
      ),
    ),
    deletionPolicy: Optional(
      oneOf(
        "What happens to the AWS table when this request is deleted. Retain (default) keeps the table and its data.",
        DELETION_POLICIES,
        { default: DEFAULT_DELETION_POLICY },
      ),
    ),
  },
  { description: "The DynamoDB table this request asks for." },
);

/** Keys first in every generated node, so the CRD reads as before: what a node is, then its fields. */
const LEADING_KEYS = ["type", "description", "properties", "required"];

/**
 * A TypeBox schema as a Kubernetes structural schema node: plain JSON (TypeBox's
 * own markers are not enumerable), a record's `patternProperties` as
 * `additionalProperties` (the only map form a structural schema has), no empty
 * `required`.
 */
export function structuralSchema(schema: TSchema): SchemaNode {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    const src = { ...(node as Record<string, unknown>) };
    const patterns = src.patternProperties as Record<string, unknown> | undefined;
    if (patterns) {
      const entries = Object.entries(patterns);
      if (entries.length !== 1 || entries[0]![0] !== "^.*$") throw new Error("a structural schema has maps with any string key only");
      delete src.patternProperties;
      src.additionalProperties = entries[0]![1];
    }
    if (Array.isArray(src.required) && src.required.length === 0) delete src.required;
    const keys = [...LEADING_KEYS.filter((k) => k in src), ...Object.keys(src).filter((k) => !LEADING_KEYS.includes(k))];
    return Object.fromEntries(
      keys.map((k) => [
        k,
        k === "properties"
          ? Object.fromEntries(Object.entries(src[k] as Record<string, unknown>).map(([name, child]) => [name, walk(child)]))
          : k === "enum" || k === "required" || k === "default"
            ? src[k]
            : walk(src[k]),
      ]),
    );
  };
  return walk(schema) as SchemaNode;
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
/** What the platform narrows in the API it serves (the Promise's CRD). */
export interface ApiOptions {
  /** The only regions `spec.region` may name (PlatformDefaults.allowedRegions). */
  allowedRegions?: readonly string[];
}

export function dynamoDBRequestSpecSchema(o: ApiOptions = {}): SchemaNode {
  const spec = structuralSchema(DynamoDBRequestSpecSchema);
  // The API server then refuses another region at once, naming spec.region and the allowed values.
  if (o.allowedRegions) spec.properties!.region = { ...spec.properties!.region, enum: [...o.allowedRegions] };
  const attach = (at: SchemaLocation, rule: string, message: string, fieldPath?: string): void => {
    const node = nodeAt(spec, at);
    (node["x-kubernetes-validations"] ??= []).push({ rule, message, ...(fieldPath ? { fieldPath } : {}) });
  };
  for (const r of CROSS_FIELD_RULES) for (const at of r.at) attach(at, r.cel, r.message, r.fieldPath);
  for (const r of TRANSITION_RULES) attach(r.at, r.cel, r.message);
  return spec;
}

/** The whole object schema (Kratix replaces `status` with its own, so it is left open here). */
export function dynamoDBRequestSchema(o: ApiOptions = {}): SchemaNode {
  return {
    type: "object",
    description: "A request for an AWS DynamoDB table, fulfilled by the aws-dynamodb-kratix Promise through ACK.",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: dynamoDBRequestSpecSchema(o),
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

/**
 * Kratix gives a request CRD its own two columns (message, and its Reconciled condition's
 * message) only when the Promise's CRD names none (internal/controller/promise_controller.go,
 * setStatusFieldsOnCRD), so ours keep both: a refused or failing request shows why without
 * `-o wide` (decision 104).
 */
const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Reason", type: "string", jsonPath: ".status.reason" },
  { name: "Table", type: "string", jsonPath: ".status.tableName" },
  { name: "Region", type: "string", jsonPath: ".status.region" },
  { name: "Message", type: "string", jsonPath: ".status.message" },
  { name: "Reconciled", type: "string", jsonPath: '.status.conditions[?(@.type=="Reconciled")].message', priority: 1 },
  { name: "Table-Status", type: "string", jsonPath: ".status.tableStatus", priority: 1 },
  { name: "ARN", type: "string", jsonPath: ".status.tableArn", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The CustomResourceDefinition that becomes the Promise's `spec.api`. */
export function dynamoDBRequestCRD(o: ApiOptions = {}) {
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
          schema: { openAPIV3Schema: dynamoDBRequestSchema(o) },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}
