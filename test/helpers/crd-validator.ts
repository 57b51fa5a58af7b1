/**
 * Validates objects against real CustomResourceDefinitions the way the API
 * server would, but louder: the structural schema with unknown fields treated
 * as errors (the server would prune them silently), plus every CEL rule in
 * `x-kubernetes-validations` that does not compare with the stored object
 * (`oldSelf`), evaluated with @marcbachmann/cel-js.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { evaluate } from "@marcbachmann/cel-js";
import { Ajv, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { openApiToJsonSchema } from "../../core/k8s/openapi-to-json-schema.ts";
import { fieldPath } from "../../core/api/validate.ts";
import { UPSTREAM_CRDS_DIR } from "./paths.ts";

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
};

export interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: { kind: string; plural: string };
    versions: { name: string; served: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
}

export interface CrdError {
  path: string;
  message: string;
  /** "schema" for structural errors, "cel" for x-kubernetes-validations. */
  source: "schema" | "cel";
}

/** Kubernetes CEL sees integers as int; JSON numbers arrive as JS numbers. */
function toCel(value: unknown): unknown {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

/** Every CEL failure in `value` against `schema`, walking the data and the schema together. */
export function celErrors(schema: Schema, value: unknown, path: string): CrdError[] {
  if (value === undefined || value === null) return [];
  const errors: CrdError[] = [];
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    if (v.rule.includes("oldSelf")) continue; // transition rules need the stored object: server only
    let ok: unknown;
    try {
      ok = evaluate(v.rule, { self: toCel(value) });
    } catch (e) {
      ok = `error: ${(e as Error).message}`;
    }
    if (ok !== true) errors.push({ path, message: v.message ?? v.rule, source: "cel" });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errors.push(...celErrors(schema.items!, item, `${path}[${i}]`)));
  } else if (typeof value === "object") {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      if (sub) errors.push(...celErrors(sub, child, fieldPath(path, `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`)));
    }
  }
  return errors;
}

export class CrdValidator {
  readonly crd: Crd;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ allErrors: true, strict: false });

  constructor(crd: Crd) {
    this.crd = crd;
  }

  get apiVersions(): string[] {
    return this.crd.spec.versions.map((v) => `${this.crd.spec.group}/${v.name}`);
  }

  /** Structural and CEL errors of `obj` (an object of this CRD's kind). */
  validate(obj: Record<string, unknown>): CrdError[] {
    const version = this.crd.spec.versions.find((v) => `${this.crd.spec.group}/${v.name}` === obj.apiVersion);
    if (!version)
      return [{ path: "apiVersion", message: `not served by ${this.crd.metadata.name}: ${String(obj.apiVersion)}`, source: "schema" }];
    if (obj.kind !== this.crd.spec.names.kind) return [{ path: "kind", message: `expected ${this.crd.spec.names.kind}`, source: "schema" }];
    const schema = version.schema.openAPIV3Schema;
    let fn = this.compiled.get(version.name);
    if (!fn) {
      // metadata is ObjectMeta, validated by the server itself rather than the CRD schema.
      fn = this.ajv.compile(openApiToJsonSchema({ ...schema, properties: { ...schema.properties, metadata: { type: "object" } } }));
      this.compiled.set(version.name, fn);
    }
    const errors: CrdError[] = [];
    if (!fn(obj)) {
      for (const e of fn.errors ?? []) {
        const p = e.params as Record<string, unknown>;
        const extra =
          e.keyword === "additionalProperties"
            ? `/${String(p.additionalProperty)}`
            : e.keyword === "required"
              ? `/${String(p.missingProperty)}`
              : "";
        errors.push({
          path: fieldPath("", e.instancePath + extra).replace(/^\./, ""),
          message: `${e.keyword}: ${e.message ?? ""}`,
          source: "schema",
        });
      }
    }
    const meta = obj.metadata as Record<string, unknown> | undefined;
    if (!meta?.name) errors.push({ path: "metadata.name", message: "required", source: "schema" });
    if (this.crd.spec.scope === "Cluster" && meta?.namespace)
      errors.push({ path: "metadata.namespace", message: "cluster-scoped objects have no namespace", source: "schema" });
    if (errors.length === 0) errors.push(...celErrors(schema, obj, "").map((e) => ({ ...e, path: e.path.replace(/^\./, "") })));
    return errors;
  }
}

/** Loads every CRD under ../shared/upstream-crds, keyed by "group/version Kind". */
export function loadUpstreamCrds(dir = UPSTREAM_CRDS_DIR): Map<string, CrdValidator> {
  const byKind = new Map<string, CrdValidator>();
  for (const folder of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(dir, folder.name)).filter((f) => f.endsWith(".yaml"))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, folder.name, file), "utf8"))) {
        const crd = doc.toJS() as Crd;
        if (!crd?.spec?.versions) continue;
        const v = new CrdValidator(crd);
        for (const av of v.apiVersions) byKind.set(`${av} ${crd.spec.names.kind}`, v);
      }
    }
  }
  return byKind;
}

let upstream: Map<string, CrdValidator> | undefined;
/** Validates any object whose kind has an upstream CRD; throws for kinds it does not know. */
export function validateAgainstUpstream(obj: Record<string, unknown>): CrdError[] {
  upstream ??= loadUpstreamCrds();
  const v = upstream.get(`${String(obj.apiVersion)} ${String(obj.kind)}`);
  if (!v) throw new Error(`no upstream CRD for ${String(obj.apiVersion)} ${String(obj.kind)}`);
  return v.validate(obj);
}
