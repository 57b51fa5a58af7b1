/**
 * The DynamoDBRequest validator: every message names the field path, e.g.
 * `spec.keySchema[1].attributeName: "orderId" is not in attributeDefinitions`.
 *
 * Shape rules come from the CRD schema itself (compiled once with Ajv), so the
 * validator and the API server cannot disagree on them; cross-field rules come
 * from cross-field-rules.ts, whose CEL twins the API server runs.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { CROSS_FIELD_RULES, type FieldError, type SchemaLocation } from "./cross-field-rules.ts";
import { API_GROUP, API_KIND, API_VERSION, NAME_PATTERN, REGION_PATTERN, TAG_PATTERN } from "./rules.ts";
import { compileSpecValidator } from "./compile-validator.ts";
import { precompiledSpecValidator } from "./precompiled-validator.ts";

export type { FieldError } from "./cross-field-rules.ts";

/** Plain-words explanations of the patterns, so errors do not quote regular expressions at users. */
const PATTERN_HINTS: Record<string, string> = {
  [NAME_PATTERN]: "may only contain a-z, A-Z, 0-9, '_', '-' and '.'",
  [REGION_PATTERN]: "is not an AWS region name such as us-east-1 or eu-central-2",
  [TAG_PATTERN]: "may only contain letters, digits, spaces and _ . : / = + - @",
};

let compiled: ValidateFunction | undefined;
function specShapeValidator(): ValidateFunction {
  compiled ??= precompiledSpecValidator ?? compileSpecValidator();
  return compiled;
}

/** `/keySchema/1/attributeName` under `spec` becomes `spec.keySchema[1].attributeName`. */
export function fieldPath(base: string, jsonPointer: string): string {
  const segments = jsonPointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  return segments.reduce(
    (path, s) =>
      /^\d+$/.test(s) ? `${path}[${s}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `${path}.${s}` : `${path}[${JSON.stringify(s)}]`,
    base,
  );
}

/** A value as JSON for a message, cut short: a message quotes what it refuses, not a whole document. */
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
};

function describe(e: ErrorObject, base: string): FieldError {
  const path = fieldPath(base, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { path: fieldPath(path, `/${String(p.missingProperty)}`), message: "is required" };
    case "additionalProperties":
      return { path: fieldPath(path, `/${String(p.additionalProperty)}`), message: "is not a field of this API (check the spelling)" };
    case "enum":
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).join(", ")} (got ${show(e.data)})` };
    case "type":
      return { path, message: `must be ${String(p.type)} (got ${show(e.data)})` };
    case "pattern":
      return { path, message: `${show(e.data)} ${PATTERN_HINTS[String(p.pattern)] ?? `does not match ${String(p.pattern)}`}` };
    case "minLength":
      return { path, message: `must be at least ${String(p.limit)} characters (got ${show(e.data)})` };
    case "maxLength":
      return { path, message: `must be at most ${String(p.limit)} characters (got ${String((e.data as string).length)})` };
    case "minimum":
    case "maximum":
      return { path, message: `must be ${e.keyword === "minimum" ? ">=" : "<="} ${String(p.limit)} (got ${show(e.data)})` };
    case "minItems":
    case "maxItems":
      return {
        path,
        message: `must have ${e.keyword === "minItems" ? "at least" : "at most"} ${String(p.limit)} items (got ${String((e.data as unknown[]).length)})`,
      };
    case "maxProperties":
      return { path, message: `must have at most ${String(p.limit)} entries (got ${String(Object.keys(e.data as object).length)})` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/** Every value (with its field path) found at a schema location in `spec`. */
function valuesAt(spec: unknown, at: SchemaLocation, path: string): { value: unknown; path: string }[] {
  if (at.length === 0) return spec === undefined ? [] : [{ value: spec, path }];
  const [step, ...rest] = at;
  if (step === "*") {
    return Array.isArray(spec) ? spec.flatMap((item, i) => valuesAt(item, rest, `${path}[${i}]`)) : [];
  }
  const child = (spec as Record<string, unknown> | undefined)?.[step!];
  return child === undefined ? [] : valuesAt(child, rest, `${path}.${step!}`);
}

/** Only the per-field (schema) errors of a spec, without the cross-field rules. */
export function shapeErrors(spec: unknown, base = "spec"): FieldError[] {
  const shape = specShapeValidator();
  return shape(spec) ? [] : dedupe((shape.errors ?? []).map((e) => describe(e, base)));
}

/**
 * Checks a request's `spec`. Shape errors are reported first; cross-field
 * rules only run on a spec whose shape is right (they assume it).
 */
export function validateSpec(spec: unknown, base = "spec"): FieldError[] {
  const shape = shapeErrors(spec, base);
  if (shape.length > 0) return shape;
  return CROSS_FIELD_RULES.flatMap((rule) =>
    rule.at.flatMap((at) => valuesAt(spec, at, base).flatMap(({ value, path }) => rule.check(value as never, path))),
  );
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\0${e.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Checks a whole DynamoDBRequest object: apiVersion, kind, metadata.name and spec. */
export function validateRequestObject(obj: unknown): FieldError[] {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    const got = obj === undefined || obj === null ? "nothing" : Array.isArray(obj) ? "a list" : `the ${typeof obj} ${show(obj)}`;
    return [{ path: "", message: `expected a DynamoDBRequest object with apiVersion, kind, metadata and spec (got ${got})` }];
  }
  const o = obj as Record<string, unknown>;
  const errors: FieldError[] = [];
  const apiVersion = `${API_GROUP}/${API_VERSION}`;
  if (o.apiVersion !== apiVersion) errors.push({ path: "apiVersion", message: `must be ${apiVersion} (got ${show(o.apiVersion)})` });
  if (o.kind !== API_KIND) errors.push({ path: "kind", message: `must be ${API_KIND} (got ${show(o.kind)})` });
  const name = (o.metadata as Record<string, unknown> | undefined)?.name;
  if (typeof name !== "string" || name === "") errors.push({ path: "metadata.name", message: "is required" });
  if (o.spec === undefined) return [...errors, { path: "spec", message: "is required" }];
  return [...errors, ...validateSpec(o.spec)];
}

/** One line per error, ready for a log, an exception or a status message; past `limit` lines, "… and N more". */
export function formatErrors(errors: FieldError[], limit = Infinity): string {
  const lines = errors.slice(0, limit).map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  if (errors.length > limit) lines.push(`… and ${errors.length - limit} more`);
  return lines.join("\n");
}
