/**
 * Validates objects against real CustomResourceDefinitions the way the API
 * server would, but louder: the structural schema with unknown fields treated
 * as errors (the server would prune them silently), plus every CEL rule in
 * `x-kubernetes-validations` that does not compare with the stored object
 * (`oldSelf`), evaluated with @marcbachmann/cel-js, plus what the server checks
 * in every object's metadata (names, label keys and values, annotations).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Environment } from "@marcbachmann/cel-js";
import { Ajv, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { openApiToJsonSchema } from "../../core/k8s/openapi-to-json-schema.ts";
import { fieldPath } from "../../core/api/validate.ts";
import { isDnsLabel, isDnsSubdomain, labelValueProblem } from "../../core/k8s/metadata.ts";
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

/** A label or annotation key: an optional DNS-subdomain prefix and "/", then a name of 1-63 characters. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return `key "${key}" has more than one '/'`;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]!];
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return `key "${key}" has a prefix that is not a DNS subdomain`;
  if (name.length > 63 || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name)) return `key "${key}" has an invalid name part`;
  return undefined;
}

/** What the API server checks in every object's metadata itself (ObjectMeta validation), which no CRD schema carries. */
export function objectMetaErrors(obj: Record<string, unknown>, namespaced: boolean): CrdError[] {
  const meta = (obj.metadata ?? {}) as { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown };
  const errors: CrdError[] = [];
  const add = (path: string, message: string | undefined) =>
    message && errors.push({ path: `metadata.${path}`, message, source: "schema" });
  if (typeof meta.name === "string" && !isDnsSubdomain(meta.name)) add("name", `"${meta.name}" is not a DNS-1123 subdomain of at most 253`);
  if (namespaced && typeof meta.namespace === "string" && !isDnsLabel(meta.namespace))
    add("namespace", `"${meta.namespace}" is not a DNS-1123 label of at most 63`);
  for (const [k, v] of Object.entries((meta.labels ?? {}) as Record<string, unknown>)) {
    add(`labels[${JSON.stringify(k)}]`, qualifiedNameProblem(k));
    add(`labels[${JSON.stringify(k)}]`, typeof v === "string" ? labelValueProblem(v) : "must be a string");
  }
  let bytes = 0;
  for (const [k, v] of Object.entries((meta.annotations ?? {}) as Record<string, unknown>)) {
    add(`annotations[${JSON.stringify(k)}]`, qualifiedNameProblem(k));
    if (typeof v !== "string") add(`annotations[${JSON.stringify(k)}]`, "must be a string");
    bytes += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (bytes > 256 * 1024) add("annotations", `${bytes} bytes in all; the API server allows 256 KiB`);
  return errors;
}

/**
 * cel-js with the API server's semantics where they differ for what our rules use:
 * Kubernetes' matches() is Go RE2, which knows Unicode classes such as \p{L} (cel-js
 * builds a JavaScript RegExp without the `u` flag, where \p is a plain "p"); its
 * lowerAscii() lowers A-Z only (cel-js lowers everything); and its list library has
 * sum(), which cel-js lacks. cel-js cannot replace a built-in overload, so the rules'
 * calls are renamed to these stand-ins before evaluation.
 */
const cel = new Environment({ unlistedVariablesAreDyn: true })
  .registerFunction("string.re2Matches(string): bool", (s: string, re: string) => new RegExp(re, "u").test(s))
  .registerFunction("string.k8sLowerAscii(): string", (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  .registerFunction("list<int>.sum(): int", (l: bigint[]) => l.reduce((a, b) => a + b, 0n));
const celRule = (rule: string) => rule.replace(/\.matches\(/g, ".re2Matches(").replace(/\.lowerAscii\(\)/g, ".k8sLowerAscii()");

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
      ok = cel.evaluate(celRule(v.rule), { self: toCel(value) });
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
    errors.push(...objectMetaErrors(obj, this.crd.spec.scope === "Namespaced"));
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
