/**
 * Turns a Kubernetes structural OpenAPI v3 schema (as found in a CRD) into a
 * JSON Schema that Ajv can compile, with the API server's pruning made loud:
 * an object that names its properties rejects any other field, unless the
 * schema says `x-kubernetes-preserve-unknown-fields`. The API server would
 * silently drop such a field (ACK's Table has no spec.region, for example);
 * our validators report it instead.
 *
 * CEL rules (`x-kubernetes-validations`) are not JSON Schema; they are left out
 * here and evaluated separately where a test needs them.
 */
type Json = Record<string, unknown>;

const DROPPED_KEYS = new Set([
  "format",
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "nullable",
  "default",
  "example",
]);

export function openApiToJsonSchema(node: unknown): Json {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return {};
  const src = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(src)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === "properties" && value && typeof value === "object") {
      out.properties = Object.fromEntries(Object.entries(value as Json).map(([name, child]) => [name, openApiToJsonSchema(child)]));
    } else if (key === "items" || key === "additionalProperties" || key === "not") {
      out[key] = typeof value === "boolean" ? value : openApiToJsonSchema(value);
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      out[key] = (value as unknown[]).map(openApiToJsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (src["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (src.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  const preserve = src["x-kubernetes-preserve-unknown-fields"] === true || src["x-kubernetes-embedded-resource"] === true;
  if (src.properties && !preserve && src.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
