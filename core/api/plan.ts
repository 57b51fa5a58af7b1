/**
 * From a valid request to the table DynamoDB will actually get: platform
 * defaults applied (region, name prefix), keys ordered HASH first, index
 * projections defaulted, and attribute definitions that no key uses set aside
 * (DynamoDB rejects them, and the design's own examples declare some).
 */
import type { FieldError } from "./cross-field-rules.ts";
import {
  DEFAULT_BILLING_MODE,
  DEFAULT_DELETION_POLICY,
  DEFAULT_PROJECTION,
  NAME_MAX_LENGTH,
  NAME_MIN_LENGTH,
  NAME_PATTERN,
  REGION_MAX_LENGTH,
  REGION_PATTERN,
} from "./rules.ts";
import type {
  AttributeDefinition,
  BillingMode,
  DeletionPolicy,
  DynamoDBRequestSpec,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  PlatformDefaults,
  Projection,
} from "./types.ts";

export interface TablePlan {
  /** The DynamoDB table name, prefix included. */
  tableName: string;
  region: string;
  billingMode: BillingMode;
  deletionPolicy: DeletionPolicy;
  /** Take over the existing table of this name (ACK adoption) instead of creating one. */
  adopt: boolean;
  /** Only the attributes some key uses, in the order the request declared them. */
  attributeDefinitions: AttributeDefinition[];
  /** Declared attributes no key uses: left out of the table, reported in status. */
  droppedAttributes: string[];
  keySchema: KeySchemaElement[];
  globalSecondaryIndexes: (GlobalSecondaryIndex & { projection: Projection })[];
  localSecondaryIndexes: (LocalSecondaryIndex & { projection: Projection })[];
  /** The request's spec, for the optional features mapped one to one. */
  spec: DynamoDBRequestSpec;
}

/** An AWS region name, as spec.region allows it. */
const isRegionName = (r: string) => new RegExp(REGION_PATTERN).test(r) && r.length <= REGION_MAX_LENGTH;

/**
 * Checks the platform team's settings (Pulumi config, component arguments, or the
 * pipeline's environment) with the API's own rules for spec.region and spec.name.
 */
export function validatePlatformDefaults(d: PlatformDefaults, base = "platform"): FieldError[] {
  const errors: FieldError[] = [];
  if (d.defaultRegion !== undefined && !isRegionName(d.defaultRegion)) {
    errors.push({
      path: `${base}.defaultRegion`,
      message: `"${d.defaultRegion}" is not an AWS region name such as us-east-1 (at most ${REGION_MAX_LENGTH} characters)`,
    });
  }
  if (d.tableNamePrefix !== undefined && d.tableNamePrefix !== "") {
    if (!new RegExp(NAME_PATTERN).test(d.tableNamePrefix)) {
      errors.push({ path: `${base}.tableNamePrefix`, message: `"${d.tableNamePrefix}" may only contain a-z, A-Z, 0-9, '_', '-' and '.'` });
    } else if (d.tableNamePrefix.length > NAME_MAX_LENGTH - NAME_MIN_LENGTH) {
      errors.push({
        path: `${base}.tableNamePrefix`,
        message: `is ${d.tableNamePrefix.length} characters: with the shortest table name (${NAME_MIN_LENGTH}) it must stay within DynamoDB's ${NAME_MAX_LENGTH}`,
      });
    }
  }
  if (d.allowedRegions !== undefined) {
    if (d.allowedRegions.length === 0) errors.push({ path: `${base}.allowedRegions`, message: "is empty: name at least one region" });
    d.allowedRegions.forEach((r, i) => {
      if (!isRegionName(r))
        errors.push({ path: `${base}.allowedRegions[${i}]`, message: `"${r}" is not an AWS region name such as us-east-1` });
    });
    if (d.defaultRegion !== undefined && d.allowedRegions.length > 0 && !d.allowedRegions.includes(d.defaultRegion))
      errors.push({
        path: `${base}.defaultRegion`,
        message: `"${d.defaultRegion}" is not one of the allowed regions (${d.allowedRegions.join(", ")})`,
      });
  }
  return errors;
}

/** Why `region` is refused by the platform's allowed regions, or undefined. */
export function regionNotAllowed(region: string, allowed: readonly string[] | undefined): string | undefined {
  if (!allowed || allowed.includes(region)) return undefined;
  return `"${region}" is not one of the platform's regions: ${allowed.join(", ")}`;
}

const hashFirst = (keys: KeySchemaElement[]): KeySchemaElement[] =>
  [...keys].sort((a, b) => (a.keyType === b.keyType ? 0 : a.keyType === "HASH" ? -1 : 1));

/**
 * Plans the table for a spec that passed validateSpec. Returns the errors that
 * only the platform's settings reveal (no region anywhere, a prefixed name too long).
 */
export function planTable(
  spec: DynamoDBRequestSpec,
  defaults: PlatformDefaults = {},
  base = "spec",
): { plan: TablePlan; errors: [] } | { plan?: undefined; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const region = spec.region ?? defaults.defaultRegion;
  if (!region) errors.push({ path: `${base}.region`, message: "is required: the platform has no default region" });
  const notAllowed = region ? regionNotAllowed(region, defaults.allowedRegions) : undefined;
  if (notAllowed) errors.push({ path: `${base}.region`, message: notAllowed });
  const tableName = `${defaults.tableNamePrefix ?? ""}${spec.name}`;
  if (tableName.length > NAME_MAX_LENGTH) {
    errors.push({
      path: `${base}.name`,
      message: `with the platform prefix "${defaults.tableNamePrefix ?? ""}" the table name is ${tableName.length} characters; DynamoDB allows ${NAME_MAX_LENGTH}`,
    });
  }
  if (errors.length > 0 || !region) return { errors };

  const withProjection = <T extends { projection?: Projection; keySchema: KeySchemaElement[] }>(index: T) => ({
    ...index,
    keySchema: hashFirst(index.keySchema),
    projection: index.projection ?? { type: DEFAULT_PROJECTION },
  });
  const globalSecondaryIndexes = (spec.globalSecondaryIndexes ?? []).map(withProjection);
  const localSecondaryIndexes = (spec.localSecondaryIndexes ?? []).map(withProjection);
  const used = new Set(
    [spec.keySchema, ...globalSecondaryIndexes.map((g) => g.keySchema), ...localSecondaryIndexes.map((l) => l.keySchema)]
      .flat()
      .map((k) => k.attributeName),
  );
  return {
    errors: [],
    plan: {
      tableName,
      region,
      billingMode: spec.billingMode ?? DEFAULT_BILLING_MODE,
      deletionPolicy: spec.deletionPolicy ?? DEFAULT_DELETION_POLICY,
      adopt: spec.adopt ?? false,
      attributeDefinitions: spec.attributeDefinitions.filter((a) => used.has(a.name)),
      droppedAttributes: spec.attributeDefinitions.filter((a) => !used.has(a.name)).map((a) => a.name),
      keySchema: hashFirst(spec.keySchema),
      globalSecondaryIndexes,
      localSecondaryIndexes,
      spec,
    },
  };
}
