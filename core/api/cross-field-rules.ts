/**
 * Rules that tie several fields together (a key must be declared, a projection
 * type decides whether nonKeyAttributes is allowed, ...).
 *
 * Each rule is written twice, side by side: as CEL, which the CRD carries in
 * `x-kubernetes-validations` so the Kubernetes API server enforces it, and as
 * TypeScript, which the validator runs to give a precise field path before
 * anything is created. test/api/cel-agreement.test.ts evaluates both on a
 * shared corpus and fails if they ever disagree. Keep the CEL to the standard
 * macros (all, exists, exists_one, has, map, size) and the string and list
 * functions every Kubernetes API server has in CRD validation rules since CEL
 * came to CRDs: startsWith, matches (Go RE2), lowerAscii (the strings
 * extension) and sum (Kubernetes' list library). The test's evaluator
 * (@marcbachmann/cel-js) implements the macros and startsWith; its matches has
 * no `\p{L}`, its lowerAscii lowers more than ASCII and it has no sum, so
 * test/helpers/crd-validator.ts stands in for those three with the API
 * server's semantics.
 */
import {
  ACK_DEFAULT_TAG_KEYS,
  MAX_NON_KEY_ATTRIBUTES,
  PLATFORM_TAG_KEYS,
  RESERVED_TAG_PREFIXES,
  TAG_KEY_MAX_LENGTH,
  TAG_PATTERN,
} from "./rules.ts";
import type { AttributeDefinition, DynamoDBRequestSpec, EncryptionSpec, KeySchemaElement, Projection, StreamSpec } from "./types.ts";

/** One problem, at a field path such as `spec.keySchema[1].attributeName`. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * Where a rule sits in the spec schema: property names, with "*" for "every
 * item of this list". [] is spec itself.
 */
export type SchemaLocation = readonly string[];

export interface CrossFieldRule<T = unknown> {
  id: string;
  /** Every location the rule is attached to (the same key rules apply to the table and to each index). */
  at: readonly SchemaLocation[];
  /** CEL, evaluated by the API server with `self` bound to the value at `at`. */
  cel: string;
  /** The message the API server shows when the CEL rule fails. */
  message: string;
  /**
   * The field the API server names when the rule fails (a path relative to `at`,
   * such as `.keySchema`); without it, the location itself (often just `spec`).
   */
  fieldPath?: string;
  /** The TypeScript twin: the problems in `self` (at field path `path`), none when the rule holds. */
  check(self: T, path: string): FieldError[];
}

/**
 * Rules only the API server can check, because they compare an update with the
 * stored object (`oldSelf`). They have no TypeScript twin.
 */
export interface TransitionRule {
  at: SchemaLocation;
  cel: string;
  message: string;
}

const isProvisioned = (spec: DynamoDBRequestSpec): boolean => spec.billingMode === "PROVISIONED";
const CEL_IS_PROVISIONED = "(has(self.billingMode) && self.billingMode == 'PROVISIONED')";

function undeclaredKeys(keys: KeySchemaElement[], defs: AttributeDefinition[], path: string): FieldError[] {
  const declared = new Set(defs.map((d) => d.name));
  return keys.flatMap((k, i) =>
    declared.has(k.attributeName)
      ? []
      : [{ path: `${path}[${i}].attributeName`, message: `"${k.attributeName}" is not in attributeDefinitions` }],
  );
}

function duplicates<T>(items: T[], name: (item: T) => string, path: string, field: string, what: string): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  items.forEach((item, i) => {
    const n = name(item);
    if (seen.has(n)) errors.push({ path: `${path}[${i}].${field}`, message: `duplicate ${what} "${n}"` });
    seen.add(n);
  });
  return errors;
}

/** Erases a rule's value type so rules of different locations share one list. */
const rule = <T>(r: CrossFieldRule<T>): CrossFieldRule => r as unknown as CrossFieldRule;
const specRule = (r: Omit<CrossFieldRule<DynamoDBRequestSpec>, "at">): CrossFieldRule => rule({ ...r, at: [[]] });

const KEY_SCHEMAS: SchemaLocation[] = [
  ["keySchema"],
  ["globalSecondaryIndexes", "*", "keySchema"],
  ["localSecondaryIndexes", "*", "keySchema"],
];
const PROJECTIONS: SchemaLocation[] = [
  ["globalSecondaryIndexes", "*", "projection"],
  ["localSecondaryIndexes", "*", "projection"],
];

/** Prefixes no user tag key may start with, in any letter case: AWS's, ACK's and the platform's own tags' (rules.ts). */
const reservedTagPrefixes: readonly string[] = RESERVED_TAG_PREFIXES;

/** A CEL string literal holding `s` exactly. */
const celString = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
/** CEL's lowerAscii(): only A-Z change (JavaScript's toLowerCase would also fold, e.g., the Kelvin sign to "k"). */
const lowerAscii = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
/** Length in characters (code points), as CEL's size(), Ajv and AWS count, not UTF-16 units. */
const characters = (s: string): number => [...s].length;
const tagRe = new RegExp(TAG_PATTERN, "u");

/** The non-key attributes an index list projects, as CEL: 0 for an index without them. */
const celNonKeyCount = (list: string) =>
  `(has(self.${list}) ? self.${list}.map(i, has(i.projection) && has(i.projection.nonKeyAttributes) ? size(i.projection.nonKeyAttributes) : 0).sum() : 0)`;

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  specRule({
    id: "table-keys-declared",
    fieldPath: ".keySchema",
    cel: "self.keySchema.all(k, self.attributeDefinitions.exists(a, a.name == k.attributeName))",
    message: "every keySchema attributeName must be declared in attributeDefinitions",
    check: (s, p) => undeclaredKeys(s.keySchema, s.attributeDefinitions, `${p}.keySchema`),
  }),
  specRule({
    id: "gsi-keys-declared",
    fieldPath: ".globalSecondaryIndexes",
    cel:
      "!has(self.globalSecondaryIndexes) || self.globalSecondaryIndexes.all(i, " +
      "i.keySchema.all(k, self.attributeDefinitions.exists(a, a.name == k.attributeName)))",
    message: "every globalSecondaryIndexes keySchema attributeName must be declared in attributeDefinitions",
    check: (s, p) =>
      (s.globalSecondaryIndexes ?? []).flatMap((g, i) =>
        undeclaredKeys(g.keySchema, s.attributeDefinitions, `${p}.globalSecondaryIndexes[${i}].keySchema`),
      ),
  }),
  specRule({
    id: "lsi-keys-declared",
    fieldPath: ".localSecondaryIndexes",
    cel:
      "!has(self.localSecondaryIndexes) || self.localSecondaryIndexes.all(i, " +
      "i.keySchema.all(k, self.attributeDefinitions.exists(a, a.name == k.attributeName)))",
    message: "every localSecondaryIndexes keySchema attributeName must be declared in attributeDefinitions",
    check: (s, p) =>
      (s.localSecondaryIndexes ?? []).flatMap((l, i) =>
        undeclaredKeys(l.keySchema, s.attributeDefinitions, `${p}.localSecondaryIndexes[${i}].keySchema`),
      ),
  }),
  specRule({
    id: "provisioned-needs-capacity",
    fieldPath: ".provisioned",
    cel: `!${CEL_IS_PROVISIONED} || has(self.provisioned)`,
    message: "provisioned (readCapacity, writeCapacity) is required when billingMode is PROVISIONED",
    check: (s, p) =>
      isProvisioned(s) && !s.provisioned ? [{ path: `${p}.provisioned`, message: "required when billingMode is PROVISIONED" }] : [],
  }),
  specRule({
    id: "on-demand-forbids-capacity",
    fieldPath: ".provisioned",
    cel: `${CEL_IS_PROVISIONED} || !has(self.provisioned)`,
    message: "provisioned is only allowed when billingMode is PROVISIONED",
    check: (s, p) =>
      !isProvisioned(s) && s.provisioned ? [{ path: `${p}.provisioned`, message: "only allowed when billingMode is PROVISIONED" }] : [],
  }),
  specRule({
    id: "gsi-capacity-when-provisioned",
    fieldPath: ".globalSecondaryIndexes",
    cel: `!has(self.globalSecondaryIndexes) || !${CEL_IS_PROVISIONED} || self.globalSecondaryIndexes.all(i, has(i.provisioned))`,
    message: "every global secondary index needs provisioned capacity when billingMode is PROVISIONED",
    check: (s, p) =>
      isProvisioned(s)
        ? (s.globalSecondaryIndexes ?? []).flatMap((g, i) =>
            g.provisioned
              ? []
              : [
                  {
                    path: `${p}.globalSecondaryIndexes[${i}].provisioned`,
                    message: "required when billingMode is PROVISIONED",
                  },
                ],
          )
        : [],
  }),
  specRule({
    id: "gsi-no-capacity-when-on-demand",
    fieldPath: ".globalSecondaryIndexes",
    cel: `!has(self.globalSecondaryIndexes) || ${CEL_IS_PROVISIONED} || self.globalSecondaryIndexes.all(i, !has(i.provisioned))`,
    message: "global secondary indexes take provisioned capacity only when billingMode is PROVISIONED",
    check: (s, p) =>
      isProvisioned(s)
        ? []
        : (s.globalSecondaryIndexes ?? []).flatMap((g, i) =>
            g.provisioned
              ? [
                  {
                    path: `${p}.globalSecondaryIndexes[${i}].provisioned`,
                    message: "only allowed when billingMode is PROVISIONED",
                  },
                ]
              : [],
          ),
  }),
  specRule({
    id: "lsi-needs-table-sort-key",
    fieldPath: ".localSecondaryIndexes",
    cel: "!has(self.localSecondaryIndexes) || size(self.localSecondaryIndexes) == 0 || self.keySchema.exists(k, k.keyType == 'RANGE')",
    message: "local secondary indexes need a table with a RANGE (sort) key",
    check: (s, p) =>
      (s.localSecondaryIndexes ?? []).length > 0 && !s.keySchema.some((k) => k.keyType === "RANGE")
        ? [{ path: `${p}.localSecondaryIndexes`, message: "need a table with a RANGE (sort) key in keySchema" }]
        : [],
  }),
  specRule({
    id: "lsi-shares-table-hash-key",
    fieldPath: ".localSecondaryIndexes",
    cel:
      "!has(self.localSecondaryIndexes) || self.localSecondaryIndexes.all(l, l.keySchema.all(k, " +
      "k.keyType != 'HASH' || self.keySchema.exists(t, t.keyType == 'HASH' && t.attributeName == k.attributeName)))",
    message: "a local secondary index must use the table's HASH key as its HASH key",
    check: (s, p) => {
      const tableHash = s.keySchema.find((k) => k.keyType === "HASH")?.attributeName;
      return (s.localSecondaryIndexes ?? []).flatMap((l, i) =>
        l.keySchema.flatMap((k, j) =>
          k.keyType === "HASH" && k.attributeName !== tableHash
            ? [
                {
                  path: `${p}.localSecondaryIndexes[${i}].keySchema[${j}].attributeName`,
                  message: `"${k.attributeName}" must be the table's HASH key "${tableHash ?? ""}"`,
                },
              ]
            : [],
        ),
      );
    },
  }),
  specRule({
    id: "index-names-unique-across-kinds",
    fieldPath: ".localSecondaryIndexes",
    cel:
      "!has(self.globalSecondaryIndexes) || !has(self.localSecondaryIndexes) || " +
      "self.globalSecondaryIndexes.all(g, !self.localSecondaryIndexes.exists(l, l.name == g.name))",
    message: "index names must be unique across global and local secondary indexes",
    check: (s, p) => {
      const gsiNames = new Set((s.globalSecondaryIndexes ?? []).map((g) => g.name));
      return (s.localSecondaryIndexes ?? []).flatMap((l, i) =>
        gsiNames.has(l.name)
          ? [
              {
                path: `${p}.localSecondaryIndexes[${i}].name`,
                message: `"${l.name}" is also the name of a global secondary index`,
              },
            ]
          : [],
      );
    },
  }),
  rule({
    id: "exactly-one-hash-key",
    at: KEY_SCHEMAS,
    cel: "self.exists_one(k, k.keyType == 'HASH')",
    message: "a key schema needs exactly one HASH (partition) key",
    check: (keys: KeySchemaElement[], p: string) =>
      keys.filter((k) => k.keyType === "HASH").length === 1 ? [] : [{ path: p, message: "needs exactly one HASH (partition) key" }],
  }),
  rule({
    id: "distinct-key-attributes",
    at: KEY_SCHEMAS,
    cel: "size(self) < 2 || self[0].attributeName != self[1].attributeName",
    message: "the HASH and RANGE keys must be different attributes",
    check: (keys: KeySchemaElement[], p: string) =>
      keys.length === 2 && keys[0]!.attributeName === keys[1]!.attributeName
        ? [{ path: `${p}[1].attributeName`, message: `"${keys[1]!.attributeName}" is already the other key` }]
        : [],
  }),
  rule({
    id: "lsi-has-sort-key",
    at: [["localSecondaryIndexes", "*", "keySchema"]],
    cel: "self.exists(k, k.keyType == 'RANGE')",
    message: "a local secondary index needs a RANGE (sort) key",
    check: (keys: KeySchemaElement[], p: string) =>
      keys.some((k) => k.keyType === "RANGE") ? [] : [{ path: p, message: "needs a RANGE (sort) key" }],
  }),
  rule({
    id: "attribute-names-unique",
    at: [["attributeDefinitions"]],
    cel: "self.all(a, self.exists_one(b, b.name == a.name))",
    message: "attribute names must be unique",
    check: (defs: AttributeDefinition[], p: string) => duplicates(defs, (d) => d.name, p, "name", "attribute"),
  }),
  rule({
    id: "index-names-unique",
    at: [["globalSecondaryIndexes"], ["localSecondaryIndexes"]],
    cel: "self.all(i, self.exists_one(j, j.name == i.name))",
    message: "index names must be unique",
    check: (indexes: { name: string }[], p: string) => duplicates(indexes, (x) => x.name, p, "name", "index name"),
  }),
  rule({
    id: "include-needs-non-key-attributes",
    fieldPath: ".nonKeyAttributes",
    at: PROJECTIONS,
    cel: "self.type != 'INCLUDE' || (has(self.nonKeyAttributes) && size(self.nonKeyAttributes) > 0)",
    message: "projection type INCLUDE needs nonKeyAttributes",
    check: (pr: Projection, p: string) =>
      pr.type === "INCLUDE" && !(pr.nonKeyAttributes && pr.nonKeyAttributes.length > 0)
        ? [{ path: `${p}.nonKeyAttributes`, message: "required when projection type is INCLUDE" }]
        : [],
  }),
  rule({
    id: "non-key-attributes-only-with-include",
    fieldPath: ".nonKeyAttributes",
    at: PROJECTIONS,
    cel: "self.type == 'INCLUDE' || !has(self.nonKeyAttributes)",
    message: "nonKeyAttributes is only allowed with projection type INCLUDE",
    check: (pr: Projection, p: string) =>
      pr.type !== "INCLUDE" && pr.nonKeyAttributes !== undefined
        ? [{ path: `${p}.nonKeyAttributes`, message: `only allowed with projection type INCLUDE, not ${pr.type}` }]
        : [],
  }),
  rule({
    id: "stream-needs-view-type",
    fieldPath: ".viewType",
    at: [["stream"]],
    cel: "!self.enabled || has(self.viewType)",
    message: "stream.viewType is required when the stream is enabled",
    check: (st: StreamSpec, p: string) =>
      st.enabled && !st.viewType ? [{ path: `${p}.viewType`, message: "required when the stream is enabled" }] : [],
  }),
  rule({
    id: "customer-managed-needs-key",
    fieldPath: ".kmsKeyId",
    at: [["encryption"]],
    cel: "self.type != 'CUSTOMER_MANAGED' || has(self.kmsKeyId)",
    message: "encryption.kmsKeyId is required with CUSTOMER_MANAGED",
    check: (e: EncryptionSpec, p: string) =>
      e.type === "CUSTOMER_MANAGED" && !e.kmsKeyId ? [{ path: `${p}.kmsKeyId`, message: "required when type is CUSTOMER_MANAGED" }] : [],
  }),
  rule({
    id: "key-only-with-customer-managed",
    fieldPath: ".kmsKeyId",
    at: [["encryption"]],
    cel: "self.type == 'CUSTOMER_MANAGED' || !has(self.kmsKeyId)",
    message: "encryption.kmsKeyId is only allowed with CUSTOMER_MANAGED",
    check: (e: EncryptionSpec, p: string) =>
      e.type !== "CUSTOMER_MANAGED" && e.kmsKeyId !== undefined
        ? [{ path: `${p}.kmsKeyId`, message: `only allowed when type is CUSTOMER_MANAGED, not ${e.type}` }]
        : [],
  }),
  specRule({
    id: "non-key-attributes-total",
    cel: `${celNonKeyCount("globalSecondaryIndexes")} + ${celNonKeyCount("localSecondaryIndexes")} <= ${MAX_NON_KEY_ATTRIBUTES}`,
    message: `at most ${MAX_NON_KEY_ATTRIBUTES} nonKeyAttributes in all, summed across every secondary index (DynamoDB's limit)`,
    check: (s, p) => {
      let total = 0;
      const indexes = [
        ...(s.globalSecondaryIndexes ?? []).map((x, i) => ({ x, path: `${p}.globalSecondaryIndexes[${i}]` })),
        ...(s.localSecondaryIndexes ?? []).map((x, i) => ({ x, path: `${p}.localSecondaryIndexes[${i}]` })),
      ];
      for (const { x, path } of indexes) {
        total += x.projection?.nonKeyAttributes?.length ?? 0;
        if (total > MAX_NON_KEY_ATTRIBUTES) {
          const all = indexes.reduce((n, i) => n + (i.x.projection?.nonKeyAttributes?.length ?? 0), 0);
          return [
            {
              path: `${path}.projection.nonKeyAttributes`,
              message: `makes ${all} non-key attributes across the table's indexes; DynamoDB allows at most ${MAX_NON_KEY_ATTRIBUTES} in all (an attribute projected into two indexes counts twice)`,
            },
          ];
        }
      }
      return [];
    },
  }),
  rule({
    id: "tag-key-length",
    at: [["tags"]],
    cel: `self.all(k, size(k) >= 1 && size(k) <= ${TAG_KEY_MAX_LENGTH})`,
    message: `tag keys must be 1-${TAG_KEY_MAX_LENGTH} characters`,
    check: (tags: Record<string, string>, p: string) =>
      Object.keys(tags)
        .filter((k) => characters(k) < 1 || characters(k) > TAG_KEY_MAX_LENGTH)
        .map((k) => ({ path: `${p}[${JSON.stringify(k)}]`, message: `tag keys must be 1-${TAG_KEY_MAX_LENGTH} characters` })),
  }),
  rule({
    id: "tag-key-characters",
    at: [["tags"]],
    cel: `self.all(k, k.matches(${celString(TAG_PATTERN)}))`,
    message: "tag keys may only contain letters, digits, spaces and _ . : / = + - @",
    check: (tags: Record<string, string>, p: string) =>
      Object.keys(tags)
        .filter((k) => !tagRe.test(k))
        .map((k) => ({
          path: `${p}[${JSON.stringify(k)}]`,
          message: `${JSON.stringify(k)} may only contain letters, digits, spaces and _ . : / = + - @`,
        })),
  }),
  rule({
    id: "tag-key-reserved",
    at: [["tags"]],
    cel: `self.all(k, ${reservedTagPrefixes.map((x) => `!k.lowerAscii().startsWith(${celString(x)})`).join(" && ")})`,
    message: `tag keys must not start with ${reservedTagPrefixes.join(", ")} in any letter case (reserved for AWS, ACK and this platform)`,
    check: (tags: Record<string, string>, p: string) =>
      Object.keys(tags)
        .filter((k) => reservedTagPrefixes.some((x) => lowerAscii(k).startsWith(x)))
        .map((k) => ({
          path: `${p}[${JSON.stringify(k)}]`,
          message: `"${k}" uses a reserved prefix (${reservedTagPrefixes.join(", ")}, in any letter case)`,
        })),
  }),
];

/** Fields that cannot change once a table exists: DynamoDB would need a new table. */
export const TRANSITION_RULES: readonly TransitionRule[] = [
  { at: ["name"], cel: "self == oldSelf", message: "name is immutable: a renamed table is a new table" },
  { at: ["region"], cel: "self == oldSelf", message: "region is immutable: a table cannot move between regions" },
  { at: ["keySchema"], cel: "self == oldSelf", message: "keySchema is immutable once the table exists" },
  {
    at: ["localSecondaryIndexes"],
    cel: "self == oldSelf",
    message: "localSecondaryIndexes are immutable once the table exists",
  },
];

// The platform's and ACK's own tag keys are reserved by the prefixes above; keep that true.
for (const key of [...Object.values(PLATFORM_TAG_KEYS), ...ACK_DEFAULT_TAG_KEYS]) {
  if (!reservedTagPrefixes.some((x) => key.startsWith(x))) throw new Error(`tag ${key} is not reserved`);
}
