/**
 * The check of one table as a Pulumi user or a stack's config writes it: table
 * properties (the spec with `tableName` for `name`) validated with the
 * DynamoDBRequest validator and planned against the platform's defaults, with
 * problems named by the paths the user wrote (`table.tableName`, `table.keySchema[0]...`).
 * Pure: the DynamoDBTable component, the DynamoDBPromise's example table and the
 * stack config parser all use it, and none of them needs a Pulumi component to.
 */
import { planTable, type TablePlan } from "./plan.ts";
import type { DynamoDBRequestSpec, PlatformDefaults } from "./types.ts";
import { validateSpec, type FieldError } from "./validate.ts";
import { specFromProperties, type TableProperties } from "../render/dynamodb-request.ts";

/** Validator paths name `spec.*`; a Pulumi user wrote `table.*` with tableName for name. */
function asArgPaths(errors: FieldError[]): FieldError[] {
  return errors.map((e) => ({ ...e, path: e.path.replace(/^spec\.name$/, "table.tableName").replace(/^spec/, "table") }));
}

/** A table's properties checked and planned once: the request spec and table plan, or the problems (paths under `table`). */
export function checkTable(
  table: TableProperties,
  defaults: PlatformDefaults,
): { spec: DynamoDBRequestSpec; plan: TablePlan } | { errors: FieldError[] } {
  const spec = specFromProperties(table);
  const errors = validateSpec(spec);
  if (errors.length > 0) return { errors: asArgPaths(errors) };
  const planned = planTable(spec, defaults);
  return planned.plan ? { spec, plan: planned.plan } : { errors: asArgPaths(planned.errors) };
}

/** Every problem with a table's properties, as field paths under `table`. */
export function tableArgErrors(table: TableProperties, defaults: PlatformDefaults = {}): FieldError[] {
  const checked = checkTable(table, defaults);
  return "errors" in checked ? checked.errors : [];
}
