/**
 * Validates objects against real CustomResourceDefinitions the way the API
 * server would, but louder: the structural schema with unknown fields treated
 * as errors (the server would prune them silently), plus every CEL rule in
 * `x-kubernetes-validations` that does not compare with the stored object
 * (`oldSelf`), evaluated with @marcbachmann/cel-js, plus what the server checks
 * in every object's metadata (names, label keys and values, annotations).
 *
 * The upstream CRDs are those of the versions that run (findCrds, below); a test whose
 * CRDs cannot be had on this machine is skipped, naming what is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Environment } from "@marcbachmann/cel-js";
import { Ajv, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { openApiToJsonSchema } from "../../core/k8s/openapi-to-json-schema.ts";
import { fieldPath } from "../../core/api/validate.ts";
import { isDnsLabel, isDnsSubdomain, labelValueProblem } from "../../core/k8s/metadata.ts";
import type { Context, Test } from "mocha";
import { REPO_ROOT, UPSTREAM_SRC } from "./paths.ts";

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

/**
 * The upstream CRD sets, each taken from the source of the version that runs (the local
 * environment applies the same files):
 *
 *   kubevela  KubeVela's charts/vela-core/crds          from the Go module cache, copied by
 *   flux      Flux's source and kustomize controllers'   `tools/build-tools.sh --crds-dir`
 *             config/crd/bases                          (Go, and the module proxy the first time)
 *   kratix    Kratix 224e148's config/crd/bases         from the upstream trees (UPSTREAM_SRC:
 *   ack       ACK v1.9.2's helm/crds                    ../shared/upstream-src), no Go needed
 *
 * The versions and tree names are tools/build-tools.sh's own. A set that cannot be had is
 * "missing", with the reason, and a test that needs it is skipped naming it, never passed;
 * KDDB_REQUIRE_CRDS=1 (for CI, where all of them must be there) makes that a failure instead.
 */
export type CrdSet = "kubevela" | "kratix" | "flux" | "ack";
export type FoundCrds = { dir: string } | { missing: string };

const BUILD_TOOLS = join(REPO_ROOT, "tools", "build-tools.sh");
let buildToolsText: string | undefined;
/** A variable of tools/build-tools.sh (a version, a tree's name): the script is where they are pinned. */
function buildToolsVar(name: string): string {
  buildToolsText ??= readFileSync(BUILD_TOOLS, "utf8");
  const m = new RegExp(`^${name}=(\\S+)$`, "m").exec(buildToolsText);
  if (!m) throw new Error(`no ${name}= in ${BUILD_TOOLS}`);
  return m[1]!;
}

const lastLine = (text: string | undefined) => (text ?? "").trim().split("\n").pop() || "no output";

let controllerCrds: FoundCrds | undefined;
/** `tools/build-tools.sh --crds-dir`, once per process, under a lock: two test files never copy it at once. */
function buildToolsCrdsDir(): FoundCrds {
  if (controllerCrds) return controllerCrds;
  const command = ["bash", BUILD_TOOLS, "--crds-dir"];
  const opts = { encoding: "utf8", timeout: 15 * 60_000, maxBuffer: 16 << 20 } as const;
  let r = spawnSync("flock", [join(tmpdir(), "kddb-crds-dir.lock"), ...command], opts);
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") r = spawnSync(command[0]!, command.slice(1), opts);
  const dir = r.stdout?.trim();
  controllerCrds =
    r.status === 0 && dir && existsSync(dir)
      ? { dir }
      : {
          missing:
            "tools/build-tools.sh --crds-dir failed (it needs Go >= 1.26, the upstream trees and, the first time, " +
            `the Go module proxy): ${lastLine(r.error?.message ?? r.stderr)}`,
        };
  return controllerCrds;
}

/** Where a CRD set is, or why it is missing. */
export function findCrds(set: CrdSet): FoundCrds {
  const tree = (what: string, treeVar: string, sub: string): FoundCrds => {
    const dir = join(UPSTREAM_SRC, buildToolsVar(treeVar), sub);
    return existsSync(dir)
      ? { dir }
      : { missing: `${what}: no ${dir} (the upstream trees: ../shared/upstream-src beside the clone, or KDDB_UPSTREAM_SRC)` };
  };
  if (set === "kratix") return tree(`Kratix ${buildToolsVar("KRATIX_VERSION")}'s CRDs`, "KRATIX_TREE", "config/crd/bases");
  if (set === "ack") return tree(`ACK ${buildToolsVar("ACK_VERSION")}'s CRDs`, "ACK_TREE", "helm/crds");
  const what = set === "kubevela" ? `KubeVela ${buildToolsVar("KUBEVELA_VERSION")}'s CRDs` : `Flux ${buildToolsVar("FLUX_VERSION")}'s CRDs`;
  const found = buildToolsCrdsDir();
  return "dir" in found ? { dir: join(found.dir, set) } : { missing: `${what}: ${found.missing}` };
}

/** Every CRD in the YAML files of `dir`, keyed by "group/version Kind". */
export function loadCrds(dir: string): Map<string, CrdValidator> {
  const byKind = new Map<string, CrdValidator>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const crd = doc.toJS() as Crd;
      if (!crd?.spec?.versions) continue;
      const v = new CrdValidator(crd);
      for (const av of v.apiVersions) byKind.set(`${av} ${crd.spec.names.kind}`, v);
    }
  }
  return byKind;
}

// The mocha test that is running, so that validateAgainstUpstream can skip it. The hooks are
// root hooks of the file that imports this module (mocha's globals exist only under mocha).
let currentTest: Test | undefined;
const mochaGlobals = globalThis as { beforeEach?: (fn: (this: Context) => void) => void; afterEach?: (fn: () => void) => void };
mochaGlobals.beforeEach?.(function () {
  currentTest = this.currentTest;
});
mochaGlobals.afterEach?.(() => {
  currentTest = undefined;
});

/**
 * Skips the running test (or, given its context, the test or hook of `ctx`) because
 * `missing` is, naming it in the test's title. Throws instead outside a test, or with
 * KDDB_REQUIRE_CRDS=1.
 */
export function skipBecauseMissing(missing: string, ctx?: Context): never {
  if (process.env.KDDB_REQUIRE_CRDS === "1") throw new Error(`${missing} (KDDB_REQUIRE_CRDS=1: every CRD set must be there)`);
  const runnable = ctx ? ctx.runnable() : currentTest;
  if (!runnable) throw new Error(missing);
  if ((runnable as Test).type === "test") runnable.title += ` (skipped: ${missing})`;
  else process.stderr.write(`skipping "${runnable.parent?.fullTitle() ?? ""}": ${missing}\n`);
  return runnable.skip();
}

/** The folders of the CRD sets a test needs; the test (or the hook, and its suite) is skipped when one is missing. */
export function requireCrds(ctx: Context, ...sets: CrdSet[]): string[] {
  return sets.map((set) => {
    const found = findCrds(set);
    return "dir" in found ? found.dir : skipBecauseMissing(found.missing, ctx);
  });
}

/** The CRD set an API group's kinds are in. */
function setOfGroup(group: string): CrdSet | undefined {
  if (group === "core.oam.dev") return "kubevela";
  if (group === "platform.kratix.io") return "kratix";
  if (group.endsWith(".toolkit.fluxcd.io")) return "flux";
  if (group === "services.k8s.aws" || group.endsWith(".services.k8s.aws")) return "ack";
  return undefined;
}

const sets = new Map<CrdSet, Map<string, CrdValidator> | { missing: string }>();
/**
 * Validates an object of KubeVela, Kratix, Flux or ACK against its upstream CRD (see findCrds);
 * throws for a kind its set does not have. When the set is missing, the running test is
 * skipped, naming what is missing.
 */
export function validateAgainstUpstream(obj: Record<string, unknown>): CrdError[] {
  const kind = `${String(obj.apiVersion)} ${String(obj.kind)}`;
  const set = setOfGroup(String(obj.apiVersion).split("/")[0]!);
  if (!set) throw new Error(`no upstream CRD set has ${kind}`);
  let crds = sets.get(set);
  if (!crds) {
    const found = findCrds(set);
    crds = "dir" in found ? loadCrds(found.dir) : found;
    sets.set(set, crds);
  }
  if (!(crds instanceof Map)) return skipBecauseMissing(crds.missing);
  const v = crds.get(kind);
  if (!v) throw new Error(`no upstream CRD for ${kind} in the ${set} set (${(findCrds(set) as { dir: string }).dir})`);
  return v.validate(obj);
}
