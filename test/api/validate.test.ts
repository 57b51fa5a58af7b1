import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { formatErrors, validateRequestObject, validateSpec } from "../../core/api/validate.ts";
import { planTable, validatePlatformDefaults } from "../../core/api/plan.ts";
import { BAD, DESIGN_USER_DATA, DESIGN_USER_SESSIONS, EVERYTHING, GOOD, requestObject } from "../fixtures/corpus.ts";

describe("validateSpec", () => {
  for (const c of GOOD) {
    it(`accepts: ${c.name}`, () => assert.deepEqual(validateSpec(c.spec), []));
  }
  for (const c of BAD) {
    it(`rejects with one error naming the field: ${c.name}`, () => {
      const errors = validateSpec(c.spec);
      assert.equal(errors.length, 1, `expected one error, got:\n${formatErrors(errors)}`);
      assert.equal(errors[0]!.path, c.path);
      assert.match(errors[0]!.message, new RegExp(c.message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    });
  }
  it("quotes the offending value in the message of the issue's example", () => {
    const spec = { ...DESIGN_USER_DATA, keySchema: [...DESIGN_USER_DATA.keySchema, { attributeName: "orderId", keyType: "RANGE" }] };
    assert.equal(formatErrors(validateSpec(spec)), 'spec.keySchema[1].attributeName: "orderId" is not in attributeDefinitions');
  });
  it("reports every shape error at once, not only the first", () => {
    const errors = validateSpec({ ...DESIGN_USER_DATA, name: "x", region: "mars", billingMode: "FREE" });
    assert.deepEqual(errors.map((e) => e.path).sort(), ["spec.billingMode", "spec.name", "spec.region"]);
  });
  it("rejects what is not an object at all", () => {
    assert.equal(validateSpec("table please")[0]!.path, "spec");
    assert.equal(validateSpec(null)[0]!.path, "spec");
  });
});

describe("validateRequestObject", () => {
  it("accepts the design's request", () => assert.deepEqual(validateRequestObject(requestObject(DESIGN_USER_DATA as never)), []));
  it("names apiVersion, kind and metadata.name", () => {
    const errors = validateRequestObject({ apiVersion: "v1", kind: "Table", metadata: {}, spec: DESIGN_USER_DATA });
    assert.deepEqual(
      errors.map((e) => e.path),
      ["apiVersion", "kind", "metadata.name"],
    );
  });
  it("requires a spec", () => {
    const errors = validateRequestObject({ apiVersion: "dynamodb.kratix.io/v1alpha1", kind: "DynamoDBRequest", metadata: { name: "x" } });
    assert.deepEqual(errors, [{ path: "spec", message: "is required" }]);
  });
});

describe("planTable", () => {
  it("uses the platform's default region when the request has none", () => {
    const { region: _drop, ...spec } = DESIGN_USER_DATA;
    assert.equal(planTable(spec, { defaultRegion: "eu-west-1" }).plan?.region, "eu-west-1");
  });
  it("prefers the request's region to the default", () => {
    assert.equal(planTable(DESIGN_USER_DATA, { defaultRegion: "eu-west-1" }).plan?.region, "us-west-2");
  });
  it("fails on spec.region when neither request nor platform has a region", () => {
    const { region: _drop, ...spec } = DESIGN_USER_DATA;
    assert.deepEqual(
      planTable(spec, {}).errors.map((e) => e.path),
      ["spec.region"],
    );
  });
  it("counts the platform prefix in the 255-character limit", () => {
    const spec = { ...DESIGN_USER_DATA, name: "n".repeat(250) };
    const errors = planTable(spec, { tableNamePrefix: "team-a-" }).errors;
    assert.equal(errors[0]?.path, "spec.name");
    assert.match(errors[0]!.message, /257 characters/);
  });
  it("prefixes the table name", () =>
    assert.equal(planTable(DESIGN_USER_DATA, { tableNamePrefix: "dev-" }).plan?.tableName, "dev-user-data"));
  it("keeps only attributes some key uses and lists the others", () => {
    const plan = planTable(DESIGN_USER_SESSIONS).plan!;
    assert.deepEqual(
      plan.attributeDefinitions.map((a) => a.name),
      ["sessionId"],
    );
    assert.deepEqual(plan.droppedAttributes, ["userId", "expiresAt"]);
  });
  it("keeps attributes used only by indexes", () => {
    assert.deepEqual(planTable(EVERYTHING).plan!.droppedAttributes, []);
  });
  it("defaults billing to PAY_PER_REQUEST, deletion to Retain, projections to ALL", () => {
    const spec = {
      ...DESIGN_USER_SESSIONS,
      billingMode: undefined,
      globalSecondaryIndexes: [{ name: "by-user", keySchema: [{ attributeName: "userId", keyType: "HASH" as const }] }],
    };
    const plan = planTable(spec).plan!;
    assert.equal(plan.billingMode, "PAY_PER_REQUEST");
    assert.equal(plan.deletionPolicy, "Retain");
    assert.deepEqual(plan.globalSecondaryIndexes[0]!.projection, { type: "ALL" });
  });
  it("orders keys HASH first", () => {
    const plan = planTable(EVERYTHING).plan!;
    assert.deepEqual(
      plan.localSecondaryIndexes[0]!.keySchema.map((k) => k.keyType),
      ["HASH", "RANGE"],
    );
  });
});

describe("validatePlatformDefaults", () => {
  it("accepts good settings", () =>
    assert.deepEqual(validatePlatformDefaults({ defaultRegion: "us-east-1", tableNamePrefix: "team_a." }), []));
  it("holds them to spec.region's and spec.name's limits too", () => {
    const errors = validatePlatformDefaults({ defaultRegion: `us-east-${"1".repeat(30)}`, tableNamePrefix: "p".repeat(253) }, "config");
    assert.deepEqual(
      errors.map((e) => e.path),
      ["config.defaultRegion", "config.tableNamePrefix"],
    );
    assert.deepEqual(validatePlatformDefaults({ tableNamePrefix: "p".repeat(252) }), []);
  });
  it("names bad ones", () => {
    const errors = validatePlatformDefaults({ defaultRegion: "Oregon", tableNamePrefix: "team a" }, "config");
    assert.deepEqual(
      errors.map((e) => e.path),
      ["config.defaultRegion", "config.tableNamePrefix"],
    );
  });
});

describe("the platform's allowed regions (decision 106)", () => {
  it("a request for another region is refused, naming spec.region and the allowed values", () => {
    const errors = planTable({ ...DESIGN_USER_DATA, region: "eu-west-1" }, { allowedRegions: ["us-west-2", "us-east-1"] }).errors;
    assert.deepEqual(errors, [{ path: "spec.region", message: `"eu-west-1" is not one of the platform's regions: us-west-2, us-east-1` }]);
    assert.equal(planTable(DESIGN_USER_DATA, { allowedRegions: ["us-west-2"] }).plan?.region, "us-west-2");
  });
  it("so is a request that names none, where the default region is not allowed (a setting the platform refuses too)", () => {
    const spec = { ...DESIGN_USER_DATA, region: undefined };
    assert.deepEqual(
      planTable(spec, { defaultRegion: "eu-west-1", allowedRegions: ["us-west-2"] }).errors.map((e) => e.path),
      ["spec.region"],
    );
    assert.deepEqual(
      validatePlatformDefaults({ defaultRegion: "eu-west-1", allowedRegions: ["us-west-2"] }, "config").map((e) => e.path),
      ["config.defaultRegion"],
    );
  });
  it("the list itself: not empty, each an AWS region name", () => {
    assert.deepEqual(
      validatePlatformDefaults({ allowedRegions: ["us-west-2", "Oregon"] }, "config").map((e) => e.path),
      ["config.allowedRegions[1]"],
    );
    assert.deepEqual(
      validatePlatformDefaults({ allowedRegions: [] }, "config").map((e) => e.path),
      ["config.allowedRegions"],
    );
  });
});
