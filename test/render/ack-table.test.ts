import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { configureRequest } from "../../core/kratix/steps.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { DESIGN_USER_DATA, DESIGN_USER_SESSIONS, EVERYTHING, GOOD, requestObject } from "../fixtures/corpus.ts";

const render = (spec: Record<string, unknown>, defaults = { defaultRegion: "us-east-1" }) => {
  const r = configureRequest(requestObject(spec, "orders", "team-a"), defaults);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.table;
};

describe("ACK Table rendering", () => {
  for (const c of GOOD) {
    it(`validates against the upstream ACK Table CRD, unknown fields as errors: ${c.name}`, () => {
      assert.deepEqual(validateAgainstUpstream(render(c.spec) as never), []);
    });
  }

  it("the upstream check would catch the design's spec.region bug", () => {
    const table = render(GOOD[0]!.spec);
    const buggy = { ...table, spec: { ...table.spec, region: "us-west-2" } };
    assert.deepEqual(
      validateAgainstUpstream(buggy as never).map((e) => e.path),
      ["spec.region"],
    );
  });

  it("puts the region and the deletion policy in ACK's annotations", () => {
    const t = render(EVERYTHING as never);
    assert.equal(t.metadata.annotations["services.k8s.aws/region"], "eu-central-1");
    assert.equal(t.metadata.annotations["services.k8s.aws/deletion-policy"], "delete");
    assert.equal(render(DESIGN_USER_SESSIONS as never).metadata.annotations["services.k8s.aws/deletion-policy"], "retain");
  });

  it("names the request's metadata.uid (what a release mark must match), and nothing when the request has none", () => {
    const r = requestObject(DESIGN_USER_DATA as never, "orders", "team-a");
    const withUid = configureRequest({ ...r, metadata: { ...r.metadata, uid: "8d2e-uid" } });
    assert.ok(withUid.ok);
    assert.equal(withUid.table.metadata.annotations["dynamodb.kratix.io/request-uid"], "8d2e-uid");
    assert.deepEqual(validateAgainstUpstream(withUid.table as never), []);
    assert.equal("dynamodb.kratix.io/request-uid" in render(DESIGN_USER_DATA as never).metadata.annotations, false);
    assert.equal("dynamodb.kratix.io/released" in withUid.table.metadata.annotations, false, "never rendered: only report-delete adds it");
  });

  it("maps every optional feature to its ACK field", () => {
    const s = render(EVERYTHING as never).spec;
    assert.equal(s.tableName, "orders-full");
    assert.equal(s.billingMode, "PROVISIONED");
    assert.deepEqual(s.provisionedThroughput, { readCapacityUnits: 5, writeCapacityUnits: 5 });
    assert.deepEqual(s.globalSecondaryIndexes, [
      {
        indexName: "by-status",
        keySchema: [
          { attributeName: "status", keyType: "HASH" },
          { attributeName: "createdAt", keyType: "RANGE" },
        ],
        projection: { projectionType: "INCLUDE", nonKeyAttributes: ["total", "currency"] },
        provisionedThroughput: { readCapacityUnits: 2, writeCapacityUnits: 1 },
      },
    ]);
    assert.deepEqual(s.localSecondaryIndexes, [
      {
        indexName: "by-created",
        keySchema: [
          { attributeName: "customerId", keyType: "HASH" },
          { attributeName: "createdAt", keyType: "RANGE" },
        ],
        projection: { projectionType: "KEYS_ONLY" },
      },
    ]);
    assert.deepEqual(s.streamSpecification, { streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" });
    assert.deepEqual(s.continuousBackups, { pointInTimeRecoveryEnabled: true });
    assert.deepEqual(s.timeToLive, { attributeName: "expiresAt", enabled: true });
    assert.equal(s.tableClass, "STANDARD_INFREQUENT_ACCESS");
    assert.equal(s.deletionProtectionEnabled, true);
    assert.deepEqual(s.sseSpecification, { enabled: true, sseType: "KMS", kmsMasterKeyID: EVERYTHING.encryption!.kmsKeyId });
  });

  it("maps AWS_MANAGED to KMS without a key and AWS_OWNED to no SSE block", () => {
    assert.deepEqual(render({ ...DESIGN_USER_SESSIONS, encryption: { type: "AWS_MANAGED" } }).spec.sseSpecification, {
      enabled: true,
      sseType: "KMS",
    });
    assert.equal(render({ ...DESIGN_USER_SESSIONS, encryption: { type: "AWS_OWNED" } }).spec.sseSpecification, undefined);
  });

  it("tags the table as the platform's, after the user's sorted tags", () => {
    const tags = render(EVERYTHING as never).spec.tags as { key: string; value: string }[];
    assert.deepEqual(tags, [
      { key: "cost-center", value: "cc-42" },
      { key: "team", value: "payments" },
      { key: "kratix.io/managed-by", value: "kratix" },
      { key: "kratix.io/promise-name", value: "aws-dynamodb-kratix" },
      { key: "dynamodb.kratix.io/request-namespace", value: "team-a" },
      { key: "dynamodb.kratix.io/request-name", value: "orders" },
    ]);
  });

  it("labels lead back to the request", () => {
    const t = render(DESIGN_USER_SESSIONS as never);
    assert.deepEqual(t.metadata, { ...t.metadata, name: "orders", namespace: "team-a" });
    assert.equal(t.metadata.labels["dynamodb.kratix.io/request-name"], "orders");
    assert.equal(t.metadata.labels["dynamodb.kratix.io/request-namespace"], "team-a");
  });

  it("keeps every label value valid for the longest request names Kubernetes allows, with the full name in an annotation", () => {
    const longest = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`; // 253, a DNS subdomain
    const names = ["a".repeat(64), "x".repeat(63), `${"n".repeat(62)}-x`, longest, `${longest.slice(0, 252)}e`];
    const labels = new Set<string>();
    for (const name of names) {
      const r = configureRequest(requestObject(DESIGN_USER_DATA as never, name, "team-a"));
      assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
      assert.deepEqual(validateAgainstUpstream(r.table as never), [], name);
      const value = r.table.metadata.labels["dynamodb.kratix.io/request-name"]!;
      assert.ok(value.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value), value);
      if (name.length <= 63) assert.equal(value, name, "a valid label value is kept as it is");
      assert.equal(r.table.metadata.annotations["dynamodb.kratix.io/request-name"], name);
      assert.equal(r.table.metadata.name, name);
      labels.add(value);
    }
    assert.equal(labels.size, names.length, "names sharing a long prefix get different labels");
    const again = configureRequest(requestObject(DESIGN_USER_DATA as never, longest, "team-a"));
    assert.ok(again.ok);
    assert.equal(again.table.metadata.labels["dynamodb.kratix.io/request-name"], [...labels][3], "deterministic");
  });

  it("keeps the promise label valid whatever the Promise is called", () => {
    const r = configureRequest(requestObject(DESIGN_USER_DATA as never, "orders", "team-a"), { promiseName: `p-${"r".repeat(70)}` });
    assert.ok(r.ok);
    assert.deepEqual(validateAgainstUpstream(r.table as never), []);
  });

  it("leaves unused attribute definitions out of the table", () => {
    const t = render(DESIGN_USER_SESSIONS as never);
    assert.deepEqual(t.spec.attributeDefinitions, [{ attributeName: "sessionId", attributeType: "S" }]);
  });

  it("is deterministic, whatever order tags were written in", () => {
    const a = render({ ...DESIGN_USER_SESSIONS, tags: { b: "2", a: "1" } });
    const b = render({ ...DESIGN_USER_SESSIONS, tags: { a: "1", b: "2" } });
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });

  it("omits capacity on on-demand tables", () => {
    assert.equal(render(DESIGN_USER_SESSIONS as never).spec.provisionedThroughput, undefined);
  });
});
