/** The pipeline as Kratix runs it: a process, real files in, real files out. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "mocha";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { RawYaml, runPipeline } from "../helpers/pipeline-process.ts";
import { startFakeApiServer, type FakeApiServer } from "../helpers/fake-apiserver.ts";
import { BAD, DESIGN_USER_DATA, DESIGN_USER_SESSIONS, EVERYTHING, GOOD, requestObject } from "../fixtures/corpus.ts";
import { TABLE_OUTPUT_FILE } from "../../pipeline/main.ts";
import { configureRequest } from "../../core/kratix/steps.ts";
import { SPEC_DIGEST_ANNOTATION } from "../../core/api/spec-digest.ts";

describe("pipeline configure", () => {
  for (const c of GOOD) {
    it(`writes a valid ACK Table and status: ${c.name}`, async () => {
      const run = await runPipeline("configure", requestObject(c.spec, "req", "team-a"), { DEFAULT_REGION: "us-east-1" });
      assert.equal(run.code, 0, run.stderr);
      const table = run.output[TABLE_OUTPUT_FILE] as Record<string, unknown>;
      assert.deepEqual(validateAgainstUpstream(table), []);
      const status = run.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.tableName, (table.spec as Record<string, unknown>).tableName);
      assert.ok(status.region);
    });
  }
  for (const c of BAD) {
    it(`renders nothing and says why in the request's status, naming ${c.path}: ${c.name}`, async () => {
      const run = await runPipeline("configure", requestObject(c.spec), { DEFAULT_REGION: "us-east-1" });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.stderr.includes(`${c.path}: `), run.stderr);
      assert.deepEqual(run.output, {});
      assert.deepEqual(Object.keys(run.metadata), ["status.yaml"]);
      const status = run.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.reason, "InvalidRequest");
      assert.ok(String(status.message).includes(`${c.path}: `), String(status.message));
    });
  }
  it("uses DEFAULT_REGION and TABLE_NAME_PREFIX from the Promise", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline("configure", requestObject(spec as never), {
      DEFAULT_REGION: "ap-southeast-2",
      TABLE_NAME_PREFIX: "dev-",
    });
    assert.equal(run.code, 0, run.stderr);
    const status = run.metadata["status.yaml"] as Record<string, unknown>;
    assert.equal(status.region, "ap-southeast-2");
    assert.equal(status.tableName, "dev-user-data");
  });
  for (const [variable, value, step] of [
    ["DEFAULT_REGION", "Oregon", "configure"],
    ["DEFAULT_REGION", `us-east-${"1".repeat(40)}`, "configure"],
    ["TABLE_NAME_PREFIX", "team a/", "configure"],
    ["DEFAULT_REGION", "Oregon", "status"],
  ] as const) {
    it(`${step} refuses a bad ${variable} from the Promise, naming the variable, and writes nothing (${value.slice(0, 12)})`, async () => {
      // The request names its own region, so only the platform's setting is wrong.
      const run = await runPipeline(step, requestObject(DESIGN_USER_DATA as never), {
        DEFAULT_REGION: "us-east-1",
        [variable]: value,
        KUBECONFIG: "/nonexistent/kubeconfig",
      });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`${variable}: "${value}"`));
      assert.match(run.stderr, /environment/);
      assert.deepEqual(run.output, {});
      assert.deepEqual(run.metadata, {});
    });
  }
  it("delete still reports with a bad DEFAULT_REGION, warning about it (a failing delete would keep the request forever)", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline("delete", requestObject(spec as never, "keep"), { DEFAULT_REGION: "Oregon" });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: .*settings[^]*DEFAULT_REGION: "Oregon"/);
    assert.doesNotMatch(run.stderr, /in Oregon/);
  });
  it("fails on spec.region when the platform has no default either", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline("configure", requestObject(spec as never));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /spec\.region: is required: the platform has no default region/);
    assert.match(String((run.metadata["status.yaml"] as Record<string, unknown>).message), /spec\.region: is required/);
    assert.deepEqual(run.output, {});
  });
  it("reports unused attributes in status and on stderr", async () => {
    const run = await runPipeline("configure", requestObject(DESIGN_USER_SESSIONS as never));
    assert.equal(run.code, 0, run.stderr);
    const status = run.metadata["status.yaml"] as Record<string, unknown>;
    assert.deepEqual(status.droppedAttributes, ["userId", "expiresAt"]);
    assert.match(String(status.message), /left out of the table.*userId, expiresAt/);
    assert.match(run.stderr, /warning: attributes not used/);
  });
  it("rejects a request that is not YAML of a DynamoDBRequest", async () => {
    const run = await runPipeline("configure", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /apiVersion: must be dynamodb.kratix.io\/v1alpha1/);
  });
  it("fails clearly when object.yaml is missing", async () => {
    const run = await runPipeline("configure", undefined);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot read .*object\.yaml/);
  });
  it("exits 2 on an unknown step", async () => {
    const run = await runPipeline("render", requestObject(DESIGN_USER_DATA as never));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: pipeline <configure\|status\|delete>/);
  });
});

describe("pipeline on hostile files", () => {
  const file = /input\/object\.yaml/;
  it("refuses a YAML alias bomb quickly instead of expanding it", async () => {
    // 9 levels of 9 aliases: ~387 million values once expanded, 600 bytes of YAML.
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const text = [
      "apiVersion: dynamodb.kratix.io/v1alpha1",
      "kind: DynamoDBRequest",
      "metadata: {name: bomb, namespace: default}",
      "x-bomb:",
      ...levels.map((l) => `  ${l}`),
      "spec:",
      "  name: bomb",
      "  attributeDefinitions: [{name: id, type: S}]",
      "  keySchema: [{attributeName: id, keyType: HASH}]",
      "  pointInTimeRecovery: *i",
    ].join("\n");
    const started = Date.now();
    const run = await runPipeline("configure", new RawYaml(text), { DEFAULT_REGION: "us-east-1" }, undefined, 30_000);
    assert.equal(run.code, 1, `${run.code}: ${run.stderr.slice(0, 500)}`);
    assert.match(run.stderr, file);
    assert.match(run.stderr, /aliases/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(run.output, {});
  });
  it("refuses a file larger than any Kubernetes object, naming it", async () => {
    const run = await runPipeline("configure", new RawYaml(`# ${"x".repeat(4 * 1024 * 1024)}\n`), { DEFAULT_REGION: "us-east-1" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, file);
    assert.match(run.stderr, /bytes/);
  });
  it("names the file when it is not YAML", async () => {
    const run = await runPipeline("configure", new RawYaml("spec: [unclosed\n  name: x\n"), { DEFAULT_REGION: "us-east-1" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, file);
    assert.match(run.stderr, /not valid YAML/);
  });
  for (const [what, text] of [
    ["empty", ""],
    ["a string", "table please\n"],
    ["a list", "- a\n- b\n"],
  ] as const) {
    it(`says what it expected when the document is ${what}`, async () => {
      const run = await runPipeline("configure", new RawYaml(text), { DEFAULT_REGION: "us-east-1" });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /DynamoDBRequest object with apiVersion, kind, metadata and spec/);
    });
  }
  it("says what it expected when spec is not an object", async () => {
    const run = await runPipeline("configure", requestObject("table please" as never), { DEFAULT_REGION: "us-east-1" });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /spec: must be object/);
    assert.match(String((run.metadata["status.yaml"] as Record<string, unknown>).message), /spec: must be object/);
  });
  it("caps the errors it prints, saying how many more there are, all of it flushed before exit", async () => {
    const tags = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, `bad;${i}`]));
    const run = await runPipeline("configure", requestObject({ ...DESIGN_USER_DATA, tags } as never), { DEFAULT_REGION: "us-east-1" });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert.ok(lines.length <= 25, `${lines.length} lines`);
    assert.match(lines.at(-1)!, /^… and \d+ more$/);
    // The status holds fewer still: it is shown by kubectl and KubeVela.
    const message = String((run.metadata["status.yaml"] as Record<string, unknown>).message).split("\n");
    assert.ok(message.length <= 12, `${message.length} lines`);
    assert.match(message.at(-1)!, /^… and \d+ more$/);
  });
});

describe("pipeline status", () => {
  let api: FakeApiServer;
  before(async () => (api = await startFakeApiServer()));
  after(async () => api.close());
  const arn = "arn:aws:dynamodb:us-west-2:111122223333:table/user-data";

  it("asks Kratix to retry while the ACK Table does not exist yet", async () => {
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never, "missing", "team-a"), { KUBECONFIG: api.kubeconfig });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "30s");
    const status = run.metadata["status.yaml"] as Record<string, unknown>;
    assert.match(String(status.message), /waiting for ACK Table team-a\/missing/);
    assert.ok(api.requests.some((r) => r.includes("/namespaces/team-a/tables/missing")));
  });

  /** The Table configure renders for this request, as ACK would show it: spec plus the given status. */
  const liveTable = (spec: unknown, name: string, namespace: string, status: Record<string, unknown>) => {
    const configured = configureRequest(requestObject(spec as never, name, namespace), {});
    assert.ok(configured.ok);
    return { spec: configured.table.spec, status };
  };
  const synced = [{ type: "ACK.ResourceSynced", status: "True" }];

  it("writes the ARN, the ready generation and spec digest, and no retry once the table carrying the spec is ACTIVE and synced", async () => {
    api.tables.set(
      "team-a/active",
      liveTable(DESIGN_USER_DATA, "active", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const plain = requestObject(DESIGN_USER_DATA as never, "active", "team-a");
    const request = {
      ...plain,
      metadata: { ...plain.metadata, generation: 3, annotations: { [SPEC_DIGEST_ANNOTATION]: "0123456789abcdef" } },
    };
    const run = await runPipeline("status", request, { KUBECONFIG: api.kubeconfig });
    assert.equal(run.code, 0, run.stderr);
    const status = run.metadata["status.yaml"] as Record<string, unknown> & { conditions: Record<string, unknown>[] };
    assert.equal(status.tableArn, arn);
    assert.equal(status.tableStatus, "ACTIVE");
    assert.equal(status.readyGeneration, 3);
    assert.equal(status.readySpecDigest, "0123456789abcdef");
    assert.equal(status.conditions[0]!.type, "TableReady");
    assert.equal(status.conditions[0]!.status, "True");
    assert.equal(run.metadata["workflow-control.yaml"], undefined);
  });

  it("is not ready while the live Table still carries the previous spec (an update on its way through the state store)", async () => {
    const older = { ...DESIGN_USER_DATA, tags: { team: "before" } };
    api.tables.set(
      "team-a/updating",
      liveTable(older, "updating", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const run = await runPipeline(
      "status",
      requestObject({ ...DESIGN_USER_DATA, tags: { team: "after" } } as never, "updating", "team-a"),
      {
        KUBECONFIG: api.kubeconfig,
      },
    );
    const status = run.metadata["status.yaml"] as Record<string, unknown>;
    assert.match(String(status.message), /does not carry this request's spec yet/);
    assert.equal(status.readyGeneration, undefined);
    assert.equal((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "15s");
  });

  it("is not ready while ACK has not synced the spec", async () => {
    api.tables.set(
      "team-a/syncing",
      liveTable(DESIGN_USER_DATA, "syncing", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn } }),
    );
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never, "syncing", "team-a"), { KUBECONFIG: api.kubeconfig });
    assert.match(String((run.metadata["status.yaml"] as Record<string, unknown>).message), /ACK is syncing/);
    assert.equal((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "15s");
  });

  it("retries quickly while AWS is CREATING", async () => {
    api.tables.set("team-a/creating", { status: { tableStatus: "CREATING", ackResourceMetadata: { arn } } });
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never, "creating", "team-a"), { KUBECONFIG: api.kubeconfig });
    assert.equal((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "15s");
    assert.equal((run.metadata["status.yaml"] as Record<string, unknown>).tableArn, arn);
  });

  it("surfaces ACK's terminal error and slows down", async () => {
    api.tables.set("team-a/broken", {
      status: {
        conditions: [{ type: "ACK.Terminal", status: "True", message: "ValidationException: one or more parameter values were invalid" }],
      },
    });
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never, "broken", "team-a"), { KUBECONFIG: api.kubeconfig });
    assert.match(
      String((run.metadata["status.yaml"] as Record<string, unknown>).message),
      /ACK cannot reconcile the table: ValidationException/,
    );
    assert.equal((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "5m");
  });

  it("keeps the unused-attribute note in the message", async () => {
    api.tables.set(
      "default/sessions",
      liveTable(DESIGN_USER_SESSIONS, "sessions", "default", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const run = await runPipeline("status", requestObject(DESIGN_USER_SESSIONS as never, "sessions"), { KUBECONFIG: api.kubeconfig });
    assert.match(String((run.metadata["status.yaml"] as Record<string, unknown>).message), /ACTIVE.*left out of the table/);
  });

  describe("a refused request keeps the Table applied now, and renders no other", () => {
    const liveAck = (name: string, namespace: string) => ({
      apiVersion: "dynamodb.services.k8s.aws/v1alpha1",
      kind: "Table",
      ...liveTable(DESIGN_USER_DATA, name, namespace, { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
      metadata: {
        name,
        namespace,
        uid: "0000-1111",
        resourceVersion: "42",
        managedFields: [{ manager: "kustomize-controller" }],
        labels: { "app.kubernetes.io/managed-by": "kratix" },
        annotations: { "services.k8s.aws/region": "us-west-2", "kubectl.kubernetes.io/last-applied-configuration": "{}" },
      },
    });
    const invalidEdit = { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" }; // no provisionedThroughput

    it("an invalid edit: the live Table goes back out unchanged (no prune, no delete), the reasons go to status", async () => {
      api.tables.set("team-a/edited", liveAck("edited", "team-a"));
      const request = requestObject(invalidEdit as never, "edited", "team-a");
      const run = await runPipeline(
        "status",
        { ...request, metadata: { ...request.metadata, generation: 4 } },
        { KUBECONFIG: api.kubeconfig },
      );
      assert.equal(run.code, 0, run.stderr);
      const held = run.output[TABLE_OUTPUT_FILE] as Record<string, Record<string, unknown>>;
      assert.deepEqual(held.spec, liveAck("edited", "team-a").spec);
      assert.deepEqual(Object.keys(held.metadata!).sort(), ["annotations", "labels", "name", "namespace"]);
      assert.deepEqual(held.metadata!.annotations, { "services.k8s.aws/region": "us-west-2" });
      assert.deepEqual(validateAgainstUpstream(held), []);
      const status = run.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.reason, "InvalidRequest");
      assert.equal(status.observedGeneration, 4);
      assert.match(String(status.message), /spec\.provisioned: required when billingMode is PROVISIONED/);
      assert.equal(run.metadata["workflow-control.yaml"], undefined, "rerunning the same invalid spec cannot help");
    });

    it("an invalid request that never had a Table: nothing in output (configure's file is taken back)", async () => {
      const run = await runPipeline("status", requestObject(invalidEdit as never, "never-valid", "team-a"), { KUBECONFIG: api.kubeconfig });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.output, {});
      assert.equal((run.metadata["status.yaml"] as Record<string, unknown>).reason, "InvalidRequest");
    });

    const other = (name: string, namespace: string, createdAt: string, status?: Record<string, unknown>) => ({
      ...requestObject(DESIGN_USER_DATA as never, name, namespace),
      metadata: { name, namespace, creationTimestamp: createdAt },
      ...(status ? { status } : {}),
    });

    it("a table name an older request in another namespace asked for first: refused, naming the owner, checked again later", async () => {
      api.dynamoDBRequests.splice(0, Infinity, other("first", "team-z", "2026-01-01T00:00:00Z"));
      const mine = { ...requestObject(DESIGN_USER_DATA as never, "second", "team-a") };
      const run = await runPipeline(
        "status",
        { ...mine, metadata: { ...mine.metadata, creationTimestamp: "2026-02-01T00:00:00Z" } },
        { KUBECONFIG: api.kubeconfig },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.output, {});
      const status = run.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.reason, "TableNameTaken", run.stderr);
      assert.match(String(status.message), /table name user-data in us-west-2 belongs to DynamoDBRequest team-z\/first/);
      assert.equal((run.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "5m");
      assert.ok(api.requests.some((r) => r.startsWith("/apis/dynamodb.kratix.io/v1alpha1/dynamodbrequests")));
    });

    it("adopting a table without the platform team's approval: refused, naming the annotation; with it, reconciled as usual", async () => {
      api.dynamoDBRequests.splice(0, Infinity);
      const request = requestObject({ ...DESIGN_USER_DATA, adopt: true } as never, "taking-back", "team-q");
      api.namespaces.set("team-q", {});
      const refused = await runPipeline("status", request, { KUBECONFIG: api.kubeconfig });
      assert.equal(refused.code, 0, refused.stderr);
      assert.deepEqual(refused.output, {});
      const status = refused.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.reason, "AdoptionNotApproved");
      assert.match(String(status.message), /dynamodb\.kratix\.io\/adoptable-tables of namespace team-q/);
      assert.equal((refused.metadata["workflow-control.yaml"] as Record<string, unknown>).retryAfter, "5m");
      assert.ok(api.requests.includes("/api/v1/namespaces/team-q"));

      api.namespaces.set("team-q", { "dynamodb.kratix.io/adoptable-tables": "user-data" });
      const approved = await runPipeline("status", request, { KUBECONFIG: api.kubeconfig });
      assert.equal((approved.metadata["status.yaml"] as Record<string, unknown>).reason, "TableNotFound", approved.stderr);
    });

    it("the request that holds the table keeps it, even against an older request asking later", async () => {
      api.dynamoDBRequests.splice(0, Infinity, other("older", "team-z", "2025-01-01T00:00:00Z"));
      api.tables.set("team-a/holder", liveAck("holder", "team-a"));
      const mine = requestObject(DESIGN_USER_DATA as never, "holder", "team-a");
      const run = await runPipeline(
        "status",
        { ...mine, metadata: { ...mine.metadata, creationTimestamp: "2026-02-01T00:00:00Z" }, status: { tableArn: arn } },
        { KUBECONFIG: api.kubeconfig },
      );
      assert.equal(run.code, 0, run.stderr);
      const status = run.metadata["status.yaml"] as Record<string, unknown>;
      assert.equal(status.reason, "Active", String(status.message));
      assert.equal(status.tableArn, arn);
    });
  });

  it("exits 1 when the API server cannot be reached", async () => {
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never), { KUBECONFIG: "/nonexistent/kubeconfig" });
    assert.equal(run.code, 1);
    assert.deepEqual(run.metadata, {});
  });
});

describe("pipeline delete", () => {
  it("says the table is retained by default", async () => {
    const run = await runPipeline("delete", requestObject(DESIGN_USER_DATA as never, "keep"));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /ACK keeps the AWS table user-data in us-west-2 \(deletionPolicy Retain\)/);
    assert.deepEqual(run.output, {});
  });
  it("warns when Delete meets deletion protection", async () => {
    const run = await runPipeline("delete", requestObject(EVERYTHING as never, "gone"));
    assert.match(run.stderr, /ACK deletes the AWS table orders-full.*deletionProtection is on/);
  });
  it("does not fail on a request that was never valid", async () => {
    const run = await runPipeline("delete", requestObject({ name: "x" }, "never"));
    assert.equal(run.code, 0);
    assert.match(run.stderr, /never valid/);
  });
});
