/**
 * The CUE in definitions/ tested for real: evaluated with a CUE evaluator on
 * the design's properties and on the shared corpus, and compared with what the
 * TypeScript core renders.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  DYNAMODB_DEFINITION,
  PROMISE_DEPLOYER_DEFINITION,
  componentDefinitions,
  definitionFile,
  loadDefinition,
} from "../../core/kubevela/definitions.ts";
import { propertiesFromSpec, renderDynamoDBRequest } from "../../core/render/dynamodb-request.ts";
import { renderPromise } from "../../core/render/promise.ts";
import { promiseDeployerProperties } from "../../core/render/application.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { shapeErrors } from "../../core/api/validate.ts";
import { CrdValidator, validateAgainstUpstream, type Crd } from "../helpers/crd-validator.ts";
import { CueError, evalCue, evalStatusPolicy, renderTemplate } from "../helpers/cue.ts";
import { BAD, GOOD } from "../fixtures/corpus.ts";
import type { DynamoDBRequestSpec } from "../../core/api/types.ts";

const context = { name: "example-dynamodb-table", namespace: "team-a", appName: "kratix-platform" };
const table = loadDefinition(DYNAMODB_DEFINITION);
const deployer = loadDefinition(PROMISE_DEPLOYER_DEFINITION);
const requestCrd = new CrdValidator(dynamoDBRequestCRD() as unknown as Crd);

/** The properties a KubeVela user writes for a spec of the corpus. */
const props = (spec: Record<string, unknown>) => propertiesFromSpec(spec as unknown as DynamoDBRequestSpec);

describe("definition files", () => {
  for (const name of [DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION]) {
    it(`${name}: the TypeScript reading of the header matches CUE's evaluation of it`, async () => {
      const source = readFileSync(definitionFile(name), "utf8");
      const header = source.slice(0, source.search(/^template:/m)).replace(/^import\s+(\([\s\S]*?\)|"[^"]+")/m, "");
      const evaluated = (await evalCue(header))[name] as {
        description: string;
        type: string;
        attributes: { workload: { type: string }; status: Record<string, string> };
      };
      const parsed = loadDefinition(name);
      assert.equal(parsed.description, evaluated.description);
      assert.equal(parsed.type, evaluated.type);
      assert.equal(parsed.workloadType, evaluated.attributes.workload.type);
      assert.equal(parsed.healthPolicy, evaluated.attributes.status.healthPolicy);
      assert.equal(parsed.customStatus, evaluated.attributes.status.customStatus);
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
    const properties = {
      tableName: "user-sessions",
      region: "us-west-2",
      billingMode: "PAY_PER_REQUEST",
      attributeDefinitions: [{ name: "sessionId", type: "S" }],
      keySchema: [{ attributeName: "sessionId", keyType: "HASH" }],
    } as const;
    const out = await renderTemplate(table.template, context, properties);
    assert.deepEqual(out, renderDynamoDBRequest({ name: context.name, namespace: context.namespace }, properties as never));
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
  it("rejects an unknown property, as the API does", async () => {
    await assert.rejects(renderTemplate(table.template, context, { ...props(GOOD[0]!.spec), billingmode: "PROVISIONED" }), CueError);
  });
  it("health: healthy only when the request reports an ACTIVE table", async () => {
    const policy = table.healthPolicy!;
    assert.equal(
      (await evalStatusPolicy(policy, { status: { tableStatus: "ACTIVE", tableArn: "arn:aws:dynamodb:us-west-2:1:table/x" } })).isHealth,
      true,
    );
    assert.equal((await evalStatusPolicy(policy, { status: { tableStatus: "CREATING" } })).isHealth, false);
    assert.equal((await evalStatusPolicy(policy, { metadata: { name: "x" } })).isHealth, false);
  });
  it("status message: the pipeline's message, or a wait note before there is one", async () => {
    assert.equal(
      (await evalStatusPolicy(table.customStatus!, { status: { message: "table is ACTIVE: arn" } })).message,
      "table is ACTIVE: arn",
    );
    assert.equal((await evalStatusPolicy(table.customStatus!, { metadata: {} })).message, "waiting for the aws-dynamodb-kratix pipeline");
  });
});

describe("kratix-promise-deployer template", () => {
  const promise = renderPromise({
    pipelineImage: "registry.example/kratix-dynamodb-pipeline:0.1.0",
    defaults: { defaultRegion: "us-west-2" },
  });
  it("renders exactly the Promise the TypeScript core renders", async () => {
    const out = await renderTemplate(
      deployer.template,
      { name: "dynamodb-promise", namespace: "default" },
      promiseDeployerProperties(promise),
    );
    assert.deepEqual(out, promise);
  });
  it("renders a valid, cluster-scoped Promise (no namespace)", async () => {
    const out = await renderTemplate(
      deployer.template,
      { name: "dynamodb-promise", namespace: "default" },
      promiseDeployerProperties(promise),
    );
    assert.deepEqual(validateAgainstUpstream(out), []);
    assert.equal((out.metadata as Record<string, unknown>).namespace, undefined);
  });
  it("defaults the promise name to the component name", async () => {
    const { name: _n, ...rest } = promiseDeployerProperties(promise);
    const out = await renderTemplate(deployer.template, { name: "dynamodb-promise", namespace: "default" }, rest);
    assert.equal((out.metadata as Record<string, unknown>).name, "dynamodb-promise");
  });
  it("rejects a version that is not semver", async () => {
    await assert.rejects(
      renderTemplate(deployer.template, { name: "p", namespace: "d" }, { ...promiseDeployerProperties(promise), version: "latest" }),
      CueError,
    );
  });
  it("health: healthy only when Kratix reports the Promise Available", async () => {
    assert.equal(
      (await evalStatusPolicy(deployer.healthPolicy!, { metadata: { name: "p" }, status: { status: "Available" } })).isHealth,
      true,
    );
    assert.equal(
      (await evalStatusPolicy(deployer.healthPolicy!, { metadata: { name: "p" }, status: { status: "Unavailable" } })).isHealth,
      false,
    );
    assert.equal((await evalStatusPolicy(deployer.healthPolicy!, { metadata: { name: "p" } })).isHealth, false);
  });
});
