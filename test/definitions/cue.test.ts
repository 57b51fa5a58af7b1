/**
 * The CUE in definitions/ judged by KubeVela's own engine (vela-cue: KubeVela
 * v1.10.9 and CUE v0.9.2, what vela-core runs): each file read as `vela def apply`
 * reads it, each template rendered on the design's properties and on the shared
 * corpus and compared with the TypeScript core, the parameter schema KubeVela
 * stores for `vela show` and VelaUX generated and compared with the API, and the
 * status policies evaluated as vela-core evaluates them.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "mocha";
import {
  DYNAMODB_DEFINITION,
  PROMISE_DEPLOYER_DEFINITION,
  componentDefinitions,
  definitionFile,
  loadDefinition,
} from "../../core/kubevela/definitions.ts";
import { renderComponentDefinition } from "../../core/kubevela/vela-def.ts";
import { propertiesFromSpec, renderDynamoDBRequest } from "../../core/render/dynamodb-request.ts";
import { renderPromise } from "../../core/render/promise.ts";
import { promiseDeployerProperties } from "../../core/render/application.ts";
import { dynamoDBRequestCRD, dynamoDBRequestSpecSchema, type SchemaNode } from "../../core/api/schema.ts";
import { shapeErrors } from "../../core/api/validate.ts";
import { CrdValidator, validateAgainstUpstream, type Crd } from "../helpers/crd-validator.ts";
import {
  CueError,
  closeVelaCue,
  definitionObject,
  evalStatus,
  parameterSchema,
  renderTemplate,
  type JsonSchema,
} from "../helpers/vela-cue.ts";
import { BAD, EVERYTHING, GOOD } from "../fixtures/corpus.ts";
import { TAG_KEY_MAX_LENGTH } from "../../core/api/rules.ts";
import type { DynamoDBRequestSpec } from "../../core/api/types.ts";

after(closeVelaCue);

const context = { name: "example-dynamodb-table", namespace: "team-a", appName: "kratix-platform" };
const table = loadDefinition(DYNAMODB_DEFINITION);
const deployer = loadDefinition(PROMISE_DEPLOYER_DEFINITION);
const requestCrd = new CrdValidator(dynamoDBRequestCRD() as unknown as Crd);

/** The properties a KubeVela user writes for a spec of the corpus. */
const props = (spec: Record<string, unknown>) => propertiesFromSpec(spec as unknown as DynamoDBRequestSpec);

const designExample = {
  tableName: "user-sessions",
  region: "us-west-2",
  billingMode: "PAY_PER_REQUEST",
  attributeDefinitions: [{ name: "sessionId", type: "S" }],
  keySchema: [{ attributeName: "sessionId", keyType: "HASH" }],
} as const;

describe("definition files, as `vela def apply` reads them", () => {
  for (const name of [DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION]) {
    it(`${name}: KubeVela's reading matches the ComponentDefinition the project applies`, async () => {
      const theirs = (await definitionObject(readFileSync(definitionFile(name), "utf8"))) as ReturnType<typeof renderComponentDefinition>;
      const ours = renderComponentDefinition(loadDefinition(name));
      assert.equal(theirs.kind, ours.kind);
      assert.equal(theirs.metadata.name, ours.metadata.name);
      assert.deepEqual(theirs.metadata.annotations, ours.metadata.annotations);
      assert.deepEqual(theirs.spec.workload, ours.spec.workload);
      assert.deepEqual(theirs.spec.status, ours.spec.status);
      // KubeVela re-prints the template; both must render the same object.
      const properties = name === DYNAMODB_DEFINITION ? designExample : promiseDeployerProperties(renderPromise({ pipelineImage: "i:1" }));
      assert.deepEqual(
        await renderTemplate(theirs.spec.schematic.cue.template, context, properties),
        await renderTemplate(ours.spec.schematic.cue.template, context, properties),
      );
    });
  }
  it("renders ComponentDefinitions valid against the upstream KubeVela CRD, in vela-system, autodetected", () => {
    for (const def of componentDefinitions()) {
      assert.deepEqual(validateAgainstUpstream(def as never), []);
      assert.equal(def.metadata.namespace, "vela-system");
      assert.equal(def.spec.workload.type, "autodetects.core.oam.dev");
    }
  });
});

describe("aws-dynamodb-kratix template", () => {
  it("renders the design's user-sessions example as the TypeScript core does", async () => {
    const out = await renderTemplate(table.template, context, designExample);
    assert.deepEqual(out, renderDynamoDBRequest({ name: context.name, namespace: context.namespace }, designExample as never));
  });
  for (const c of GOOD) {
    it(`agrees with renderDynamoDBRequest and the CRD: ${c.name}`, async () => {
      const out = await renderTemplate(table.template, context, props(c.spec));
      assert.deepEqual(out, renderDynamoDBRequest({ name: context.name, namespace: context.namespace }, props(c.spec)));
      assert.deepEqual(requestCrd.validate(out), []);
    });
  }
  for (const c of BAD) {
    it(`rejects, in CUE or at the CRD: ${c.name}`, async () => {
      const shapeError = shapeErrors(c.spec).length > 0;
      let out: Record<string, unknown> | undefined;
      try {
        out = await renderTemplate(table.template, context, props(c.spec));
      } catch (e) {
        assert.ok(e instanceof CueError);
        return; // CUE refused the properties
      }
      assert.ok(!shapeError, `CUE accepted a per-field error the API rejects (${c.path})`);
      assert.ok(requestCrd.validate(out).length > 0, "neither CUE nor the CRD rejects it");
    });
  }
  it("refuses in CUE the tag keys the CRD refuses with CEL (AWS's characters, 1-128 characters, reserved prefixes in any case)", async () => {
    const cases = BAD.filter((c) => c.path.startsWith("spec.tags["));
    assert.ok(cases.length >= 5);
    for (const c of cases)
      await assert.rejects(renderTemplate(table.template, context, props(c.spec)), CueError, `CUE accepted the tags of: ${c.name}`);
    for (const key of ["Aws:x", "KRATIX.IO/x", "Dynamodb.Kratix.io/x", ""])
      await assert.rejects(renderTemplate(table.template, context, { ...designExample, tags: { [key]: "v" } }), CueError, key);
  });
  it("rejects an unknown property, as the API does", async () => {
    await assert.rejects(renderTemplate(table.template, context, { ...props(GOOD[0]!.spec), billingmode: "PROVISIONED" }), CueError);
  });
  for (const field of ["attributeDefinitions", "keySchema"] as const) {
    it(`a missing ${field} fails in CUE, naming it, rather than rendering []`, async () => {
      const { [field]: _dropped, ...rest } = designExample;
      await assert.rejects(renderTemplate(table.template, context, rest), (e: Error) => e instanceof CueError && e.message.includes(field));
    });
  }
  it("health: healthy only when the request reports an ACTIVE table", async () => {
    assert.equal(
      (await evalStatus(table, { status: { tableStatus: "ACTIVE", tableArn: "arn:aws:dynamodb:us-west-2:1:table/x" } })).healthy,
      true,
    );
    assert.equal((await evalStatus(table, { status: { tableStatus: "CREATING" } })).healthy, false);
    assert.equal((await evalStatus(table, { metadata: { name: "x" } })).healthy, false);
  });
  it("status message: the pipeline's message, or a wait note before there is one", async () => {
    assert.equal((await evalStatus(table, { status: { message: "table is ACTIVE: arn" } })).message, "table is ACTIVE: arn");
    assert.equal((await evalStatus(table, { metadata: {} })).message, "waiting for the aws-dynamodb-kratix pipeline");
  });
});

/**
 * Compares KubeVela's parameter schema with the API's spec schema, node by node:
 * the same fields, types, enums, patterns and bounds. (CUE's OpenAPI encoder does
 * not emit minItems/maxItems/maxProperties; CUE still enforces them when rendering,
 * which the corpus tests above check.)
 */
function schemaDifferences(vela: JsonSchema, api: SchemaNode, path: string): string[] {
  const diffs: string[] = [];
  const note = (what: string, a: unknown, b: unknown) =>
    diffs.push(`${path}: ${what} ${JSON.stringify(a)} (KubeVela) vs ${JSON.stringify(b)} (API)`);
  if (vela.type !== api.type) note("type", vela.type, api.type);
  for (const k of ["pattern", "minLength", "maxLength", "minimum", "maximum", "default"] as const)
    if (vela[k] !== api[k]) note(k, vela[k], api[k]);
  if (JSON.stringify([...(vela.enum ?? [])].sort()) !== JSON.stringify([...(api.enum ?? [])].sort())) note("enum", vela.enum, api.enum);
  if (api.type === "object" && api.properties) {
    const names = (o: object | undefined) => Object.keys(o ?? {}).sort();
    if (names(vela.properties).join() !== names(api.properties).join()) note("fields", names(vela.properties), names(api.properties));
    // A field with a default is optional in the API and defaulted (so required) in CUE.
    const required = (api.required ?? []).filter((r) => api.properties![r]?.default === undefined).sort();
    const velaRequired = (vela.required ?? []).filter((r) => vela.properties?.[r]?.default === undefined).sort();
    if (velaRequired.join() !== required.join()) note("required", velaRequired, required);
    for (const [k, sub] of Object.entries(api.properties))
      if (vela.properties?.[k]) diffs.push(...schemaDifferences(vela.properties[k], sub, `${path}.${k}`));
  }
  if (api.type === "object" && api.additionalProperties && typeof api.additionalProperties === "object") {
    const sub = vela.additionalProperties as JsonSchema | undefined;
    if (!sub) note("additionalProperties", undefined, api.additionalProperties);
    else diffs.push(...schemaDifferences(sub, api.additionalProperties, `${path}{*}`));
  }
  if (api.type === "array" && api.items) {
    if (!vela.items) note("items", undefined, api.items);
    else diffs.push(...schemaDifferences(vela.items, api.items, `${path}[]`));
  }
  return diffs;
}

describe("the parameter schema KubeVela stores (vela show, VelaUX, component-schema-<name>)", () => {
  it("aws-dynamodb-kratix: generated, every parameter described by its +usage text, and the same as the API", async () => {
    const schema = await parameterSchema(table.template);
    const usage = [...readFileSync(definitionFile(DYNAMODB_DEFINITION), "utf8").matchAll(/\/\/ \+usage=(.*)\n\s*(\w+)\??:/g)];
    assert.ok(usage.length > 10);
    for (const [, text, field] of usage) assert.equal(schema.properties?.[field!]?.description, text, `description of ${field}`);
    // The API's spec, with the design's tableName for spec.name.
    const { name, ...rest } = dynamoDBRequestSpecSchema().properties!;
    const api: SchemaNode = {
      ...dynamoDBRequestSpecSchema(),
      properties: { tableName: name!, ...rest },
      required: (dynamoDBRequestSpecSchema().required ?? []).map((r) => (r === "name" ? "tableName" : r)),
    };
    assert.deepEqual(schemaDifferences(schema, api, "parameter"), []);
  });
  it("kratix-promise-deployer: generated, every parameter described by its +usage text", async () => {
    const schema = await parameterSchema(deployer.template);
    const usage = [...readFileSync(definitionFile(PROMISE_DEPLOYER_DEFINITION), "utf8").matchAll(/\/\/ \+usage=(.*)\n\s*(\w+)\??:/g)];
    assert.ok(usage.length >= 8);
    for (const [, text, field] of usage) assert.equal(schema.properties?.[field!]?.description, text, `description of ${field}`);
  });
});

/**
 * Every list and map bound the API declares (minItems, maxItems, maxProperties),
 * found by walking its schema: CUE's OpenAPI encoder leaves these out of the
 * parameter schema compared above, so each is tried on the template itself, at
 * the bound (accepted) and one past it (refused). A limit changed in core/api
 * and not in the CUE's list.MaxItems / list.MinItems / struct.MaxFields fails here.
 */
interface CountBound {
  path: string[];
  keyword: "minItems" | "maxItems" | "maxProperties";
  limit: number;
}
function countBounds(node: SchemaNode, path: string[] = []): CountBound[] {
  const own = (["minItems", "maxItems", "maxProperties"] as const).flatMap((keyword) =>
    node[keyword] === undefined ? [] : [{ path, keyword, limit: node[keyword] }],
  );
  const children = [
    ...Object.entries(node.properties ?? {}).map(([k, child]) => countBounds(child, [...path, k])),
    node.items ? countBounds(node.items, [...path, "0"]) : [],
  ];
  return [...own, ...children.flat()];
}

/** EVERYTHING, with an LSI projection that has nonKeyAttributes too, so every bounded location holds a value. */
const everyLocation = (): Record<string, unknown> => {
  const spec = structuredClone(EVERYTHING) as unknown as Record<string, unknown>;
  (spec.localSecondaryIndexes as Record<string, unknown>[])[0]!.projection = { type: "INCLUDE", nonKeyAttributes: ["total"] };
  return spec;
};

/** The spec with the list or map at `path` resized to `n` entries (copies of its first; map keys made distinct). */
function resized(path: string[], n: number): Record<string, unknown> {
  const spec = everyLocation();
  let parent = spec as Record<string, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string, unknown>;
  const last = path.at(-1)!;
  const current = parent[last];
  assert.ok(current !== undefined, `the base spec has no value at ${path.join(".")}`);
  parent[last] = Array.isArray(current)
    ? Array.from({ length: n }, () => structuredClone(current[0]) as unknown)
    : Object.fromEntries(Array.from({ length: n }, (_, i) => [`key-${i}`, "v"]));
  return spec;
}

describe("aws-dynamodb-kratix: the CUE's list and map limits are the API's", () => {
  const bounds = countBounds(dynamoDBRequestSpecSchema());
  it("finds the API's bounds (every list and the tags map)", () => {
    assert.ok(bounds.length >= 12, `only ${bounds.length} bounds found`);
  });
  const renders = (spec: Record<string, unknown>) =>
    renderTemplate(table.template, context, props(spec)).then(
      () => true,
      (e: unknown) => {
        if (e instanceof CueError) return false;
        throw e;
      },
    );
  for (const b of bounds) {
    const where = `spec.${b.path.join(".")}`;
    const [inside, outside] = b.keyword === "minItems" ? [b.limit, b.limit - 1] : [b.limit, b.limit + 1];
    it(`${where} ${b.keyword} ${b.limit}: CUE accepts ${inside} and refuses ${outside}`, async () => {
      assert.equal(await renders(resized(b.path, inside)), true, `CUE refused ${inside} at ${where}`);
      assert.equal(await renders(resized(b.path, outside)), false, `CUE accepted ${outside} at ${where}`);
    });
  }
  it(`tag keys: ${TAG_KEY_MAX_LENGTH} characters accepted, ${TAG_KEY_MAX_LENGTH + 1} refused (the CRD's CEL rule)`, async () => {
    const withKey = (length: number) => ({ ...everyLocation(), tags: { ["k".repeat(length)]: "v" } });
    assert.equal(await renders(withKey(TAG_KEY_MAX_LENGTH)), true);
    assert.equal(await renders(withKey(TAG_KEY_MAX_LENGTH + 1)), false);
  });
});

describe("kratix-promise-deployer template", () => {
  const promise = renderPromise({
    pipelineImage: "registry.example/kratix-dynamodb-pipeline:0.1.0",
    defaults: { defaultRegion: "us-west-2" },
  });
  const ctx = { name: "dynamodb-promise", namespace: "default" };
  it("renders exactly the Promise the TypeScript core renders", async () => {
    assert.deepEqual(await renderTemplate(deployer.template, ctx, promiseDeployerProperties(promise)), promise);
  });
  it("renders a valid, cluster-scoped Promise (no namespace)", async () => {
    const out = await renderTemplate(deployer.template, ctx, promiseDeployerProperties(promise));
    assert.deepEqual(validateAgainstUpstream(out), []);
    assert.equal((out.metadata as Record<string, unknown>).namespace, undefined);
  });
  it("defaults the promise name to the component name", async () => {
    const { name: _n, ...rest } = promiseDeployerProperties(promise);
    const out = await renderTemplate(deployer.template, ctx, rest);
    assert.equal((out.metadata as Record<string, unknown>).name, "dynamodb-promise");
  });
  it("rejects a version that is not semver", async () => {
    await assert.rejects(renderTemplate(deployer.template, ctx, { ...promiseDeployerProperties(promise), version: "latest" }), CueError);
  });
  it("health: healthy only when Kratix reports the Promise Available", async () => {
    assert.equal((await evalStatus(deployer, { metadata: { name: "p" }, status: { status: "Available" } })).healthy, true);
    assert.equal((await evalStatus(deployer, { metadata: { name: "p" }, status: { status: "Unavailable" } })).healthy, false);
    assert.equal((await evalStatus(deployer, { metadata: { name: "p" } })).healthy, false);
  });
});
