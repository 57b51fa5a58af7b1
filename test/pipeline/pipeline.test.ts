/** The pipeline as Kratix runs it: a process, real files in, real files out, against a fake API server. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "mocha";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { RawYaml, runPipeline, type PipelineRun } from "../helpers/pipeline-process.ts";
import { startFakeApiServer, type FakeApiServer } from "../helpers/fake-apiserver.ts";
import { BAD, DESIGN_USER_DATA, DESIGN_USER_SESSIONS, EVERYTHING, GOOD, requestObject } from "../fixtures/corpus.ts";
import { TABLE_OUTPUT_FILE } from "../../pipeline/main.ts";
import { ATTEMPTS, LIST_PAGE_SIZE } from "../../pipeline/cluster.ts";
import { ACCESS_DENIED, ACCESS_DENIED_SETTLE, configureRequest, RETRY } from "../../core/kratix/steps.ts";
import { ACK_TABLE_FINALIZER } from "../../core/kratix/ack-managed.ts";
import { SPEC_DIGEST_ANNOTATION } from "../../core/api/spec-digest.ts";
import { RELEASE_FIELD_MANAGER, RELEASED_ANNOTATION } from "../../core/kratix/release.ts";
import { REQUEST_UID_ANNOTATION } from "../../core/render/ack-table.ts";

let api: FakeApiServer;
before(async () => (api = await startFakeApiServer()));
after(async () => api.close());
beforeEach(() => api.reset());
/** The pipeline against the fake API server (render-table reads the cluster before it writes anything). */
const withApi = (env: Record<string, string> = {}) => ({ KUBECONFIG: api.kubeconfig, ...env });
const status = (run: PipelineRun) => run.metadata["status.yaml"] as Record<string, unknown>;
const retryAfter = (run: PipelineRun) => (run.metadata["workflow-control.yaml"] as Record<string, unknown> | undefined)?.retryAfter;
const arn = "arn:aws:dynamodb:us-west-2:111122223333:table/user-data";
const synced = [{ type: "ACK.ResourceSynced", status: "True" }];

/** A request object as the API server serves it: with creationTimestamp (and, given, generation and status). */
const stored = (spec: object, name: string, namespace: string, createdAt: string, extra: Record<string, unknown> = {}) => {
  const r = requestObject(spec as never, name, namespace);
  return { ...r, metadata: { ...r.metadata, creationTimestamp: createdAt, generation: 1 }, ...extra };
};

/** The Table configure renders for this request, as the API server has it once Flux applied it and ACK reconciled it. */
const liveAck = (spec: object, name: string, namespace: string, o: { managed: boolean; status?: Record<string, unknown> }) => {
  const configured = configureRequest(requestObject(spec as never, name, namespace), {});
  assert.ok(configured.ok);
  const t = configured.table;
  return {
    apiVersion: t.apiVersion,
    kind: t.kind,
    metadata: {
      name,
      namespace,
      uid: "0000-1111",
      resourceVersion: "42",
      generation: 2,
      creationTimestamp: "2026-01-01T00:00:00Z",
      managedFields: [{ manager: "kustomize-controller" }],
      ...(o.managed ? { finalizers: [ACK_TABLE_FINALIZER] } : {}),
      labels: t.metadata.labels,
      annotations: { ...t.metadata.annotations, "kubectl.kubernetes.io/last-applied-configuration": "{}" },
    },
    // ACK late-initialises fields the request never set.
    spec: { ...t.spec, tableClass: "STANDARD", deletionProtectionEnabled: false },
    status: o.status ?? { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: o.managed ? synced : [] },
  };
};

/** A kubeconfig whose server refuses every connection. */
async function unreachableKubeconfig(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "kubeconfig-")), "config");
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "gone", cluster: { server: "http://127.0.0.1:1" } }],
      users: [{ name: "gone", user: { token: "t" } }],
      contexts: [{ name: "gone", context: { cluster: "gone", user: "gone" } }],
      "current-context": "gone",
    }),
  );
  return file;
}

describe("pipeline configure: the request alone", () => {
  for (const c of GOOD) {
    it(`writes a valid ACK Table and status: ${c.name}`, async () => {
      const run = await runPipeline("configure", requestObject(c.spec, "req", "team-a"), withApi({ DEFAULT_REGION: "us-east-1" }));
      assert.equal(run.code, 0, run.stderr);
      const table = run.output[TABLE_OUTPUT_FILE] as Record<string, unknown>;
      assert.deepEqual(validateAgainstUpstream(table), []);
      assert.equal(status(run).tableName, (table.spec as Record<string, unknown>).tableName);
      assert.ok(status(run).region);
      assert.equal(retryAfter(run), undefined);
    });
  }
  for (const c of BAD) {
    it(`renders nothing and says why in the request's status, naming ${c.path}: ${c.name}`, async () => {
      const run = await runPipeline("configure", requestObject(c.spec), withApi({ DEFAULT_REGION: "us-east-1" }));
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.stderr.includes(`${c.path}: `), run.stderr);
      assert.deepEqual(run.output, {});
      assert.deepEqual(Object.keys(run.metadata), ["status.yaml"]);
      assert.equal(status(run).reason, "InvalidRequest");
      assert.ok(String(status(run).message).includes(`${c.path}: `), String(status(run).message));
    });
  }
  it("uses DEFAULT_REGION and TABLE_NAME_PREFIX from the Promise", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline(
      "configure",
      requestObject(spec as never),
      withApi({ DEFAULT_REGION: "ap-southeast-2", TABLE_NAME_PREFIX: "dev-" }),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(status(run).region, "ap-southeast-2");
    assert.equal(status(run).tableName, "dev-user-data");
  });
  it("refuses a request outside ALLOWED_REGIONS from the Promise, naming spec.region, and publishes nothing", async () => {
    const run = await runPipeline(
      "configure",
      requestObject({ ...DESIGN_USER_DATA, region: "eu-west-1" } as never),
      withApi({ DEFAULT_REGION: "us-west-2", ALLOWED_REGIONS: "us-west-2, us-east-1" }),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.output, {});
    assert.equal(status(run).reason, "InvalidRequest");
    assert.match(String(status(run).message), /spec\.region: "eu-west-1" is not one of the platform's regions: us-west-2, us-east-1/);
  });
  for (const [variable, value, step] of [
    ["ALLOWED_REGIONS", "Oregon", "configure"],
    ["DEFAULT_REGION", "Oregon", "configure"],
    ["DEFAULT_REGION", `us-east-${"1".repeat(40)}`, "configure"],
    ["TABLE_NAME_PREFIX", "team a/", "configure"],
    ["DEFAULT_REGION", "Oregon", "status"],
  ] as const) {
    it(`${step} refuses a bad ${variable} from the Promise, naming the variable, and reads and writes nothing (${value.slice(0, 12)})`, async () => {
      // The request names its own region, so only the platform's setting is wrong.
      const run = await runPipeline(
        step,
        requestObject(DESIGN_USER_DATA as never),
        withApi({ DEFAULT_REGION: "us-east-1", [variable]: value }),
      );
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`${variable}: "${value}"`));
      assert.match(run.stderr, /environment/);
      assert.deepEqual(run.output, {});
      assert.deepEqual(run.metadata, {});
      assert.deepEqual(api.requests, []);
    });
  }
  it("delete still reports with a bad DEFAULT_REGION, warning about it (a failing delete would keep the request forever)", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline("delete", requestObject(spec as never, "keep"), withApi({ DEFAULT_REGION: "Oregon" }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: .*settings[^]*DEFAULT_REGION: "Oregon"/);
    assert.doesNotMatch(run.stderr, /in Oregon/);
  });
  it("fails on spec.region when the platform has no default either", async () => {
    const { region: _r, ...spec } = DESIGN_USER_DATA;
    const run = await runPipeline("configure", requestObject(spec as never), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /spec\.region: is required: the platform has no default region/);
    assert.match(String(status(run).message), /spec\.region: is required/);
    assert.deepEqual(run.output, {});
  });
  it("reports unused attributes in status and on stderr", async () => {
    const run = await runPipeline("configure", requestObject(DESIGN_USER_SESSIONS as never), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(status(run).droppedAttributes, ["userId", "expiresAt"]);
    assert.match(String(status(run).message), /left out of the table.*userId, expiresAt/);
    assert.match(run.stderr, /warning: attributes not used/);
  });
  it("rejects a request that is not YAML of a DynamoDBRequest", async () => {
    const run = await runPipeline("configure", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, withApi());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /apiVersion: must be dynamodb.kratix.io\/v1alpha1/);
    assert.deepEqual(api.requests, []);
  });
  it("fails clearly when object.yaml is missing", async () => {
    const run = await runPipeline("configure", undefined, withApi());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot read .*object\.yaml/);
  });
  it("exits 2 on an unknown step", async () => {
    const run = await runPipeline("render", requestObject(DESIGN_USER_DATA as never));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: pipeline <configure\|status\|delete>/);
  });
});

describe("render-table decides before it publishes", () => {
  it("an adoption the platform team has not approved: no Table, AdoptionNotApproved naming spec.adopt; approved, the Table", async () => {
    const request = stored({ ...DESIGN_USER_DATA, adopt: true, deletionPolicy: "Delete" }, "grab", "team-e", "2026-02-01T00:00:00Z");
    api.dynamoDBRequests.push(request);
    api.namespaces.set("team-e", {});
    const refused = await runPipeline("configure", request, withApi());
    assert.equal(refused.code, 0, refused.stderr);
    assert.deepEqual(refused.output, {}, "an unapproved adopter's Table must never reach the Work");
    assert.equal(status(refused).reason, "AdoptionNotApproved");
    assert.match(String(status(refused).message), /^spec\.adopt: .*dynamodb\.kratix\.io\/adoptable-tables of namespace team-e/);
    assert.equal(status(refused).observedGeneration, 1);
    assert.equal(retryAfter(refused), undefined, "a retry would publish nothing and leave the Work as it was");
    assert.ok(api.requests.includes("/api/v1/namespaces/team-e"));

    api.namespaces.set("team-e", { "dynamodb.kratix.io/adoptable-tables": "user-data" });
    const approved = await runPipeline("configure", request, withApi());
    const table = approved.output[TABLE_OUTPUT_FILE] as { metadata: { annotations: Record<string, string> } };
    assert.equal(table.metadata.annotations["services.k8s.aws/adoption-policy"], "adopt");
    assert.equal(status(approved).reason, "Rendered");
  });

  it("a squatter whose status and Table carry the owner's ARN, but whose Table ACK refused, owns nothing; the owner keeps its name", async () => {
    const squatter = stored(DESIGN_USER_DATA, "squat", "team-z", "2025-01-01T00:00:00Z", { status: { tableArn: arn, reason: "Active" } });
    const owner = stored(DESIGN_USER_DATA, "owner", "team-a", "2026-01-01T00:00:00Z", { status: { tableArn: arn } });
    api.dynamoDBRequests.push(squatter, owner);
    // ACK read the existing table into the squatter's Table, then refused to manage it (no finalizer).
    api.tables.set(
      "team-z/squat",
      liveAck(DESIGN_USER_DATA, "squat", "team-z", {
        managed: false,
        status: {
          ackResourceMetadata: { arn },
          conditions: [{ type: "ACK.Terminal", status: "True", message: "Resource already exists" }],
        },
      }),
    );
    api.tables.set("team-a/owner", liveAck(DESIGN_USER_DATA, "owner", "team-a", { managed: true }));
    const squat = await runPipeline("configure", squatter, withApi());
    assert.equal(squat.code, 0, squat.stderr);
    assert.deepEqual(squat.output, {}, "its refused Table leaves the Work: pruning a Table ACK does not manage touches nothing in AWS");
    assert.equal(status(squat).reason, "TableNameTaken");
    assert.match(
      String(status(squat).message),
      /^table name user-data in us-west-2 belongs to DynamoDBRequest team-a\/owner: .*spec\.name$/,
    );
    // A refusal only a change can resolve: Ready False and Stalled True.
    const stalled = (run: typeof squat) =>
      (status(run) as { conditions: { type: string; status: string }[] }).conditions.map((c) => `${c.type}=${c.status}`);
    assert.deepEqual(stalled(squat), ["TableReady=False", "Ready=False", "Stalled=True"]);
    const own = await runPipeline("configure", owner, withApi());
    assert.ok(own.output[TABLE_OUTPUT_FILE], own.stderr);
    assert.equal(status(own).reason, "Rendered");
    // Published, not ready yet: an earlier Ready=True must not stand for this spec.
    assert.deepEqual(stalled(own), ["TableReady=False", "Ready=False", "Stalled=False"]);
  });

  it("two requests for one name, made in the same second: exactly one publishes a Table, and both runs name the same owner", async () => {
    const second = "2026-03-01T12:00:00Z";
    const a = stored(DESIGN_USER_DATA, "x", "team-b", second);
    const b = stored(DESIGN_USER_DATA, "y", "team-a", second);
    api.dynamoDBRequests.push(a, b);
    const runs = await Promise.all([a, b].map((r) => runPipeline("configure", r, withApi())));
    assert.deepEqual(
      runs.map((r) => Boolean(r.output[TABLE_OUTPUT_FILE])),
      [false, true],
      runs.map((r) => r.stderr).join("\n"),
    );
    assert.equal(status(runs[0]!).reason, "TableNameTaken");
    assert.match(String(status(runs[0]!).message), /belongs to DynamoDBRequest team-a\/y/);
    assert.equal(status(runs[1]!).reason, "Rendered");
  });

  it("an invalid edit of a request whose Table ACK manages: that Table published again, spec, labels and annotations as they are", async () => {
    const live = liveAck({ ...DESIGN_USER_DATA, deletionPolicy: "Delete" }, "edited", "team-a", { managed: true });
    api.tables.set("team-a/edited", live);
    const edit = {
      ...stored({ ...DESIGN_USER_DATA, deletionPolicy: "Delete", billingMode: "PROVISIONED" }, "edited", "team-a", "2026-01-01T00:00:00Z"),
    };
    edit.metadata.generation = 4;
    const run = await runPipeline("configure", edit, withApi());
    assert.equal(run.code, 0, run.stderr);
    const held = run.output[TABLE_OUTPUT_FILE] as typeof live;
    // Byte for byte what Flux applied (key order included): no change can reach AWS through it.
    assert.equal(JSON.stringify(held.spec), JSON.stringify(live.spec));
    assert.equal(JSON.stringify(held.metadata.labels), JSON.stringify(live.metadata.labels));
    const { "kubectl.kubernetes.io/last-applied-configuration": _k, ...annotations } = live.metadata.annotations;
    assert.equal(JSON.stringify(held.metadata.annotations), JSON.stringify(annotations));
    assert.deepEqual(Object.keys(held.metadata).sort(), ["annotations", "labels", "name", "namespace"], "no finalizer, uid or version");
    assert.deepEqual(validateAgainstUpstream(held as never), []);
    assert.equal(status(run).reason, "InvalidRequest");
    assert.equal(status(run).observedGeneration, 4);
    assert.match(String(status(run).message), /spec\.provisioned: required when billingMode is PROVISIONED/);
    assert.match(String(status(run).message), /the Table ACK manages now stays as it is/);
    assert.equal(retryAfter(run), undefined, "rerunning the same invalid spec cannot help");
    // An invalid request reads only its own Table: it claims nothing, so the others do not matter.
    assert.deepEqual(api.requests, ["/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/team-a/tables/edited"]);
  });

  it("a refused request that owns nothing publishes nothing: invalid, or its name taken, with a Table ACK does not manage or none", async () => {
    api.dynamoDBRequests.push(stored(DESIGN_USER_DATA, "first", "team-z", "2025-01-01T00:00:00Z"));
    api.tables.set("team-a/unmanaged", liveAck(DESIGN_USER_DATA, "unmanaged", "team-a", { managed: false }));
    for (const [name, spec, reason] of [
      ["unmanaged", { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" }, "InvalidRequest"],
      ["never-valid", { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" }, "InvalidRequest"],
      ["unmanaged", DESIGN_USER_DATA, "TableNameTaken"],
      ["second", DESIGN_USER_DATA, "TableNameTaken"],
    ] as const) {
      const run = await runPipeline("configure", stored(spec, name, "team-a", "2026-02-01T00:00:00Z"), withApi());
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.output, {}, `${name}: ${reason}`);
      assert.equal(status(run).reason, reason);
    }
  });

  it("lists every request a page at a time (limit, continue), the owner on the last page", async () => {
    api.pageSize = 2;
    for (let i = 0; i < 6; i++)
      api.dynamoDBRequests.push(stored({ ...DESIGN_USER_DATA, name: `other-${i}` }, `r${i}`, "team-x", "2025-01-01T00:00:00Z"));
    api.dynamoDBRequests.push(stored(DESIGN_USER_DATA, "first", "team-z", "2025-01-01T00:00:00Z"));
    const run = await runPipeline("configure", stored(DESIGN_USER_DATA, "late", "team-a", "2026-02-01T00:00:00Z"), withApi());
    assert.equal(status(run).reason, "TableNameTaken", run.stderr);
    assert.match(String(status(run).message), /team-z\/first/);
    const lists = api.requests.filter((r) => r.startsWith("/apis/dynamodb.kratix.io/v1alpha1/dynamodbrequests"));
    assert.equal(lists.length, 4);
    assert.ok(
      lists.every((l) => l.includes(`limit=${LIST_PAGE_SIZE}`)),
      lists.join("\n"),
    );
    assert.deepEqual(
      lists.map((l) => new URL(l, "http://x").searchParams.get("continue")),
      [null, "2", "4", "6"],
    );
  });

  it("starts the list again when a continue token has expired (HTTP 410)", async () => {
    api.pageSize = 1;
    api.dynamoDBRequests.push(stored({ ...DESIGN_USER_DATA, name: "other" }, "o", "team-x", "2025-01-01T00:00:00Z"));
    api.dynamoDBRequests.push(stored(DESIGN_USER_DATA, "first", "team-z", "2025-01-01T00:00:00Z"));
    api.fail(/continue=1/, 1, 410);
    const run = await runPipeline("configure", stored(DESIGN_USER_DATA, "late", "team-a", "2026-02-01T00:00:00Z"), withApi());
    assert.equal(status(run).reason, "TableNameTaken", run.stderr);
    const firstPages = api.requests.filter((r) => r.startsWith("/apis/dynamodb.kratix.io/") && !r.includes("continue="));
    assert.equal(firstPages.length, 2);
  });

  it("retries a failing API server in the step, then decides as usual", async () => {
    api.fail(/dynamodbrequests/, ATTEMPTS - 1, 503);
    api.fail(/\/tables\//, ATTEMPTS - 1, 500);
    const run = await runPipeline("configure", stored(DESIGN_USER_DATA, "mine", "team-a", "2026-02-01T00:00:00Z"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.output[TABLE_OUTPUT_FILE], run.stderr);
    assert.equal(status(run).reason, "Rendered");
  });

  for (const [what, failing] of [
    ["the list of requests", /dynamodbrequests/],
    ["a namespace's approvals", /\/api\/v1\/namespaces\//],
    ["a rival's Table", /\/tables\/rival/],
  ] as const) {
    it(`when ${what} cannot be read even after retries: publishes nothing new, asks Kratix to run it again (its Work stays as it was)`, async () => {
      api.dynamoDBRequests.push(stored({ ...DESIGN_USER_DATA, adopt: true }, "rival", "team-b", "2025-01-01T00:00:00Z"));
      api.namespaces.set("team-b", {});
      api.fail(failing, Infinity, 503);
      const run = await runPipeline("configure", stored(DESIGN_USER_DATA, "mine", "team-a", "2026-02-01T00:00:00Z"), withApi());
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.output, {});
      assert.equal(status(run).reason, "ClusterReadFailed");
      assert.match(String(status(run).message), /HTTP 503 \(4 attempts\)/);
      assert.equal(retryAfter(run), RETRY.clusterRead);
      assert.equal(api.requests.filter((r) => failing.test(r)).length, ATTEMPTS);
    });
  }

  it("an API server that cannot be reached at all: the same, a status and a retry, not a failed workflow", async () => {
    const run = await runPipeline("configure", requestObject(DESIGN_USER_DATA as never), { KUBECONFIG: await unreachableKubeconfig() });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.output, {});
    assert.equal(status(run).reason, "ClusterReadFailed");
    assert.equal(retryAfter(run), RETRY.clusterRead);
  });

  it("no cluster configured at all (no service account, no kubeconfig): the step fails, naming why", async () => {
    const run = await runPipeline("configure", requestObject(DESIGN_USER_DATA as never), { KUBECONFIG: "/nonexistent/kubeconfig" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /nonexistent\/kubeconfig/);
    assert.deepEqual(run.output, {});
    assert.deepEqual(run.metadata, {});
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
    const run = await runPipeline("configure", requestObject("table please" as never), withApi({ DEFAULT_REGION: "us-east-1" }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /spec: must be object/);
    assert.match(String((run.metadata["status.yaml"] as Record<string, unknown>).message), /spec: must be object/);
  });
  it("caps the errors it prints, saying how many more there are, all of it flushed before exit", async () => {
    const tags = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, `bad;${i}`]));
    const run = await runPipeline(
      "configure",
      requestObject({ ...DESIGN_USER_DATA, tags } as never),
      withApi({ DEFAULT_REGION: "us-east-1" }),
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert.ok(lines.length <= 25, `${lines.length} lines`);
    assert.match(lines.at(-2)!, /^… and \d+ more$/);
    // The last line written (what was published) is there: nothing was lost at exit.
    assert.match(lines.at(-1)!, /^refused: no Table published for default\/example$/);
    // The status holds fewer still: it is shown by kubectl and KubeVela.
    const message = String((run.metadata["status.yaml"] as Record<string, unknown>).message).split("\n");
    assert.ok(message.length <= 12, `${message.length} lines`);
    assert.match(message.at(-1)!, /^… and \d+ more$/);
  });
});

describe("pipeline status (table-status): reads the Table back, never publishes", () => {
  /** Every run of the status step, checked for what it must never do: write to output/. */
  const runStatus = async (request: unknown, env: Record<string, string> = withApi()) => {
    const run = await runPipeline("status", request, env);
    assert.deepEqual(run.output, {}, "the status step wrote to output/: only render-table publishes");
    return run;
  };
  /** The Table configure renders for this request, as ACK would show it: spec plus the given status. */
  const liveTable = (spec: unknown, name: string, namespace: string, tableStatus: Record<string, unknown>) => {
    const configured = configureRequest(requestObject(spec as never, name, namespace), {});
    assert.ok(configured.ok);
    return { metadata: { finalizers: [ACK_TABLE_FINALIZER] }, spec: configured.table.spec, status: tableStatus };
  };

  it("asks Kratix to retry while the ACK Table does not exist yet", async () => {
    const run = await runStatus(requestObject(DESIGN_USER_DATA as never, "missing", "team-a"));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(retryAfter(run), "30s");
    assert.match(String(status(run).message), /waiting for ACK Table team-a\/missing/);
    assert.deepEqual(api.requests, ["/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/team-a/tables/missing"]);
  });

  it("writes the ARN, the ready generation and spec digest, and no retry once the table carrying the spec is ACTIVE and synced", async () => {
    api.tables.set(
      "team-a/active",
      liveTable(DESIGN_USER_DATA, "active", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const plain = requestObject(DESIGN_USER_DATA as never, "active", "team-a");
    const request = {
      ...plain,
      metadata: { ...plain.metadata, generation: 3, annotations: { [SPEC_DIGEST_ANNOTATION]: "0123456789abcdef" } },
      status: { reason: "Rendered" },
    };
    const run = await runStatus(request);
    assert.equal(run.code, 0, run.stderr);
    const s = status(run) as Record<string, unknown> & { conditions: Record<string, unknown>[] };
    assert.equal(s.tableArn, arn);
    assert.equal(s.tableStatus, "ACTIVE");
    assert.equal(s.readyGeneration, 3);
    assert.equal(s.readySpecDigest, "0123456789abcdef");
    assert.equal(s.settledSpecDigest, "0123456789abcdef", "settled: what Pulumi's wait ends on");
    // TableReady, and what generic tooling reads: Ready True, not Stalled (the generation is readyGeneration).
    assert.deepEqual(
      s.conditions.map((c) => [c.type, c.status]),
      [
        ["TableReady", "True"],
        ["Ready", "True"],
        ["Stalled", "False"],
      ],
    );
    assert.equal(run.metadata["workflow-control.yaml"], undefined);
  });

  describe("the connection ConfigMap of a ready table", () => {
    const streamArn = `${arn}/stream/2026-12-07T00:00:00.000`;
    const STREAMED = { ...DESIGN_USER_DATA, stream: { enabled: true, viewType: "NEW_IMAGE" } };
    const uid = "5f0c6f0e-0000-4000-8000-000000000001";
    /** A request as the API server has it (a uid), and its ready Table. */
    const readyRequest = (spec: unknown, name: string, tableStatus: Record<string, unknown> = {}, status: Record<string, unknown> = {}) => {
      api.tables.set(
        `team-a/${name}`,
        liveTable(spec, name, "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced, ...tableStatus }),
      );
      const plain = requestObject(spec as never, name, "team-a");
      return { ...plain, metadata: { ...plain.metadata, uid }, status: { reason: "Rendered", ...status } };
    };
    const planned = (spec: unknown) => {
      const c = configureRequest(requestObject(spec as never, "x", "team-a"), {});
      assert.ok(c.ok);
      return c.plan;
    };

    it("is made in the request's namespace, named after it, owned by it, with TABLE_NAME, TABLE_ARN and TABLE_REGION", async () => {
      const run = await runStatus(readyRequest(DESIGN_USER_DATA, "orders"));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(status(run).connectionConfigMap, "orders-connection");
      const cm = api.configMaps.get("team-a/orders-connection") as unknown as {
        metadata: { labels: Record<string, string>; ownerReferences: unknown[] };
        data: Record<string, string>;
      };
      const plan = planned(DESIGN_USER_DATA);
      assert.deepEqual(cm.data, { TABLE_NAME: plan.tableName, TABLE_ARN: arn, TABLE_REGION: plan.region });
      assert.deepEqual(cm.metadata.ownerReferences, [
        { apiVersion: "dynamodb.kratix.io/v1alpha1", kind: "DynamoDBRequest", name: "orders", uid },
      ]);
      assert.equal(cm.metadata.labels["dynamodb.kratix.io/request-name"], "orders");
      assert.equal(status(run).streamArn, undefined, "no stream, no stream ARN");
    });

    it("is not made in a dry run, nor where the Promise runs its pipelines in a namespace of their own", async () => {
      for (const env of [{ KRATIX_DRY_RUN: "true" }, { CONNECTION_CONFIGMAP: "off" }] as Record<string, string>[]) {
        const run = await runStatus(readyRequest(DESIGN_USER_DATA, "quiet"), withApi(env));
        assert.equal(status(run).reason, "Active", JSON.stringify(env));
        assert.equal(status(run).connectionConfigMap, undefined);
        assert.deepEqual(
          api.requests.filter((r) => r.includes("/configmaps")),
          [],
          JSON.stringify(env),
        );
      }
    });

    it("is not made before the table is ready", async () => {
      const request = readyRequest(DESIGN_USER_DATA, "syncing-cm", { conditions: [] });
      const run = await runStatus(request);
      assert.match(String(status(run).message), /ACK is syncing/);
      assert.equal(api.configMaps.size, 0);
      assert.equal(status(run).connectionConfigMap, undefined);
    });

    it("carries the stream's ARN while the request asks for a stream, in the status too; drops it once it does not", async () => {
      const on = await runStatus(readyRequest(STREAMED, "streamed", { latestStreamARN: streamArn }));
      assert.equal(status(on).streamArn, streamArn);
      assert.equal((api.configMaps.get("team-a/streamed-connection")?.data as Record<string, string>).TABLE_STREAM_ARN, streamArn);
      // Stream turned off: DynamoDB (and so ACK) still reports the last stream's ARN.
      const off = await runStatus(
        readyRequest(
          DESIGN_USER_DATA,
          "streamed",
          { latestStreamARN: streamArn },
          { streamArn, connectionConfigMap: "streamed-connection" },
        ),
      );
      assert.equal(status(off).streamArn, "", "cleared: Kratix merges the status");
      const cm = api.configMaps.get("team-a/streamed-connection")!;
      assert.equal((cm.data as Record<string, string>).TABLE_STREAM_ARN, undefined);
      assert.equal(cm.metadata.resourceVersion, "2", "replaced on the version read");
    });

    it("is not written again when it holds the same details", async () => {
      await runStatus(readyRequest(DESIGN_USER_DATA, "steady"));
      api.requests.splice(0);
      await runStatus(readyRequest(DESIGN_USER_DATA, "steady"));
      assert.deepEqual(
        api.requests.filter((r) => r.includes("/configmaps")),
        ["/api/v1/namespaces/team-a/configmaps/steady-connection"],
        "read only",
      );
      assert.equal(api.configMaps.get("team-a/steady-connection")?.metadata.resourceVersion, "1");
    });

    it("leaves a ConfigMap of that name that is not the request's alone, and says so", async () => {
      const teams = { metadata: { name: "mine-connection", namespace: "team-a", resourceVersion: "7" }, data: { a: "b" } };
      api.configMaps.set("team-a/mine-connection", teams);
      const run = await runStatus(readyRequest(DESIGN_USER_DATA, "mine"));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(api.configMaps.get("team-a/mine-connection"), teams);
      assert.match(String(status(run).message), /ConfigMap team-a\/mine-connection exists and is not this request's/);
      assert.equal(status(run).connectionConfigMap, undefined);
      assert.equal(status(run).reason, "Active", "the table is ready all the same");
    });

    it("a write the cluster refuses: the table stays ready, the status says so, and Kratix runs the step again", async () => {
      api.fail(/\/configmaps/, Infinity, 403, "configmaps is forbidden");
      const run = await runStatus(readyRequest(DESIGN_USER_DATA, "refused-cm"));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(status(run).reason, "Active");
      assert.match(String(status(run).message), /connection ConfigMap could not be written: .*HTTP 403 \(configmaps is forbidden\)/);
      assert.equal(retryAfter(run), RETRY.clusterRead);
    });
  });

  it("is not ready while the live Table still carries the previous spec (an update on its way through the state store)", async () => {
    const older = { ...DESIGN_USER_DATA, tags: { team: "before" } };
    api.tables.set(
      "team-a/updating",
      liveTable(older, "updating", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const run = await runStatus(requestObject({ ...DESIGN_USER_DATA, tags: { team: "after" } } as never, "updating", "team-a"));
    assert.match(String(status(run).message), /does not carry this request's spec yet/);
    assert.equal(status(run).readyGeneration, undefined);
    assert.equal(retryAfter(run), "15s");
  });

  it("is not ready while ACK has not synced the spec", async () => {
    api.tables.set(
      "team-a/syncing",
      liveTable(DESIGN_USER_DATA, "syncing", "team-a", { tableStatus: "ACTIVE", ackResourceMetadata: { arn } }),
    );
    const run = await runStatus(requestObject(DESIGN_USER_DATA as never, "syncing", "team-a"));
    assert.match(String(status(run).message), /ACK is syncing/);
    assert.equal(retryAfter(run), "15s");
  });

  it("retries quickly while AWS is CREATING", async () => {
    api.tables.set("team-a/creating", { status: { tableStatus: "CREATING", ackResourceMetadata: { arn } } });
    const run = await runStatus(requestObject(DESIGN_USER_DATA as never, "creating", "team-a"));
    assert.equal(retryAfter(run), "15s");
    assert.equal(status(run).tableArn, arn);
  });

  it("surfaces ACK's terminal error and slows down", async () => {
    api.tables.set("team-a/broken", {
      status: {
        conditions: [{ type: "ACK.Terminal", status: "True", message: "ValidationException: one or more parameter values were invalid" }],
      },
    });
    const run = await runStatus(requestObject(DESIGN_USER_DATA as never, "broken", "team-a"));
    assert.match(String(status(run).message), /ACK cannot reconcile the table: ValidationException/);
    assert.equal(retryAfter(run), "5m");
    // Stalled: kstatus (Flux's and Argo CD's health checks) reports it Failed instead of waiting.
    const conditions = (status(run) as { conditions: { type: string; status: string; reason: string }[] }).conditions;
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["TableReady", "False", "Terminal"],
        ["Ready", "False", "Terminal"],
        ["Stalled", "True", "Terminal"],
      ],
    );
  });

  it("an IAM refusal ACK keeps retrying is counted run by run, and settles as AccessDenied once it persists (runs and minutes)", async () => {
    const denied =
      "operation error DynamoDB: CreateTable, https response error StatusCode: 403, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ack is not authorized to perform: dynamodb:CreateTable";
    api.tables.set("team-a/denied", { status: { conditions: [{ type: "ACK.Recoverable", status: "True", message: denied }] } });
    const plain = requestObject(DESIGN_USER_DATA as never, "denied", "team-a");
    const digest = "00112233445566aa";
    const request = (status: Record<string, unknown>) => ({
      ...plain,
      metadata: { ...plain.metadata, generation: 1, annotations: { [SPEC_DIGEST_ANNOTATION]: digest } },
      status,
    });
    const stalled = (s: Record<string, unknown>) =>
      (s.conditions as { type: string; status: string }[]).find((c) => c.type === "Stalled")?.status;
    // First sight: still recoverable (an IAM change may be on its way), counted.
    const first = status(await runStatus(request({ reason: "Rendered" })));
    assert.equal(first.reason, "Recoverable");
    assert.equal((first.accessDenied as { runs: number }).runs, 1);
    assert.equal(first.settledSpecDigest, undefined);
    // Seen in enough runs, but not for long enough: still waiting.
    const soon = { since: new Date(Date.now() - 60_000).toISOString(), runs: ACCESS_DENIED_SETTLE.runs, specDigest: digest };
    const notYet = status(await runStatus(request({ reason: "Recoverable", accessDenied: soon })));
    assert.equal(notYet.reason, "Recoverable");
    assert.equal(stalled(notYet), "False");
    // Persisted (runs and minutes) on this spec: a refusal, settled, naming the platform's policy and keeping ACK's words.
    const long = { ...soon, since: new Date(Date.now() - ACCESS_DENIED_SETTLE.afterMs - 1_000).toISOString() };
    const run = await runStatus(request({ reason: "Recoverable", accessDenied: long }));
    const settled = status(run);
    assert.equal(settled.reason, ACCESS_DENIED);
    assert.equal(stalled(settled), "True");
    assert.equal(settled.settledSpecDigest, digest, "what Pulumi's wait ends on: the refusal fails pulumi up");
    assert.match(String(settled.message), /IAM policy for its controller does not cover this table[\s\S]*dynamodb:CreateTable/);
    assert.equal(retryAfter(run), "5m", "ACK keeps retrying, and so does the status step: a fixed policy makes it Ready");
    // A count from an earlier spec starts again.
    const other = status(await runStatus(request({ reason: "Recoverable", accessDenied: { ...long, specDigest: "ffffffffffffffff" } })));
    assert.equal(other.reason, "Recoverable");
    assert.equal((other.accessDenied as { runs: number }).runs, 1);
    // Any other verdict resets the count (Kratix merges the status: a field left out would stay).
    api.tables.set("team-a/denied", { status: { tableStatus: "CREATING", ackResourceMetadata: { arn } } });
    const cleared = status(await runStatus(request({ reason: "Recoverable", accessDenied: long })));
    assert.deepEqual(cleared.accessDenied, { since: "", runs: 0 });
  });

  it("keeps the unused-attribute note in the message", async () => {
    api.tables.set(
      "default/sessions",
      liveTable(DESIGN_USER_SESSIONS, "sessions", "default", { tableStatus: "ACTIVE", ackResourceMetadata: { arn }, conditions: synced }),
    );
    const run = await runStatus(requestObject(DESIGN_USER_SESSIONS as never, "sessions"));
    assert.match(String(status(run).message), /ACTIVE.*left out of the table/);
  });

  it("never publishes, even where it once put the held Table back: an invalid edit of a request whose Table ACK manages", async () => {
    // The status step used to write this Table to output/ (so its Work held it too); the held Table is render-table's alone now.
    api.tables.set("team-a/edited", liveAck(DESIGN_USER_DATA, "edited", "team-a", { managed: true }));
    const request = requestObject({ ...DESIGN_USER_DATA, billingMode: "PROVISIONED" } as never, "edited", "team-a");
    const run = await runStatus({ ...request, status: { reason: "InvalidRequest" } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.metadata, {}, "render-table's status stays as it is");
    assert.deepEqual(api.requests, []);
  });

  /** A refused request as the status step's Job reads it: Kratix set message to "Pending" when the Job started. */
  const refusedAsKratixHandsIt = (reason: string, message: string) => ({
    message: "Pending",
    reason,
    conditions: [
      { type: "TableReady", status: "False", reason, message, lastTransitionTime: "2026-12-07T00:00:00Z" },
      { type: "Ready", status: "False", reason, message, lastTransitionTime: "2026-12-07T00:00:00Z" },
      { type: "Stalled", status: "True", reason, message, lastTransitionTime: "2026-12-07T00:00:00Z" },
    ],
  });

  for (const reason of ["TableNameTaken", "AdoptionNotApproved", "InvalidRequest"]) {
    it(`reads nothing for a request render-table refused in this run (${reason}), and writes back only the refusal's message`, async () => {
      api.tables.set("team-a/refused", liveAck(DESIGN_USER_DATA, "refused", "team-a", { managed: true }));
      const message = `refused for ${reason}: see the spec`;
      const request = { ...requestObject(DESIGN_USER_DATA as never, "refused", "team-a"), status: refusedAsKratixHandsIt(reason, message) };
      const run = await runStatus(request);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.metadata, { "status.yaml": { message } }, "Kratix's Pending would become 'Resource requested'");
      assert.deepEqual(api.requests, []);
    });
  }

  it("writes nothing for a refusal without a Ready message to restate", async () => {
    const run = await runStatus({ ...requestObject(DESIGN_USER_DATA as never, "bare", "team-a"), status: { reason: "TableNameTaken" } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.metadata, {});
  });

  it("restates an invalid request's refusal too (one render-table judged invalid)", async () => {
    const request = requestObject({ ...DESIGN_USER_DATA, billingMode: "PROVISIONED" } as never, "broken", "team-a");
    const run = await runStatus({ ...request, status: refusedAsKratixHandsIt("InvalidRequest", "spec.provisionedThroughput: required") });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.metadata, { "status.yaml": { message: "spec.provisionedThroughput: required" } });
  });

  it("reads the Table of a request render-table published (its own earlier reasons are no refusal)", async () => {
    for (const reason of ["Rendered", "Creating", "ClusterReadFailed"]) {
      const run = await runStatus({ ...requestObject(DESIGN_USER_DATA as never, "rendered", "team-a"), status: { reason } });
      assert.equal(status(run).reason, "TableNotFound", reason);
    }
  });

  it("retries a failing API server in the step; still failing, asks Kratix to run it again rather than failing the workflow", async () => {
    api.tables.set(
      "team-a/flaky",
      liveTable(DESIGN_USER_DATA, "flaky", "team-a", { tableStatus: "CREATING", ackResourceMetadata: { arn } }),
    );
    api.fail(/\/tables\/flaky/, ATTEMPTS - 1, 503);
    const recovered = await runStatus(requestObject(DESIGN_USER_DATA as never, "flaky", "team-a"));
    assert.equal(status(recovered).tableArn, arn, recovered.stderr);
    api.fail(/\/tables\/flaky/, Infinity, 429);
    const failed = await runStatus(requestObject(DESIGN_USER_DATA as never, "flaky", "team-a"));
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal(status(failed).reason, "ClusterReadFailed");
    assert.match(String(status(failed).message), /read the request's ACK Table .*HTTP 429/);
    assert.equal(retryAfter(failed), RETRY.clusterRead);
  });

  it("an API server that cannot be reached: a status and a retry; no cluster configured at all: exit 1", async () => {
    const unreachable = await runStatus(requestObject(DESIGN_USER_DATA as never), { KUBECONFIG: await unreachableKubeconfig() });
    assert.equal(unreachable.code, 0, unreachable.stderr);
    assert.equal(status(unreachable).reason, "ClusterReadFailed");
    const none = await runStatus(requestObject(DESIGN_USER_DATA as never), { KUBECONFIG: "/nonexistent/kubeconfig" });
    assert.equal(none.code, 1);
    assert.deepEqual(none.metadata, {});
  });
});

describe("pipeline delete (report-delete): releases its request's Table for Flux to prune, and says what happens", () => {
  const UID = "4b1c8a5e-0000-4000-8000-000000000001";
  /** The request as Kratix hands it to the delete pipeline: as the API server has it, uid included. */
  const deleted = (spec: object, name: string, namespace: string, uid = UID) => {
    const r = requestObject(spec as never, name, namespace);
    return { ...r, metadata: { ...r.metadata, uid, creationTimestamp: "2026-01-01T00:00:00Z", generation: 1 } };
  };
  /** The request's Table as render-table published it for the request of `uid`, once Flux applied it and ACK manages it. */
  const published = (spec: object, name: string, namespace: string, uid = UID) => {
    const t = liveAck(spec, name, namespace, { managed: true });
    return { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata.annotations, [REQUEST_UID_ANNOTATION]: uid } } };
  };
  const annotationsOf = (key: string) =>
    (api.tables.get(key) as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
  const TABLE_PATH = (namespace: string, name: string) => `/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/${namespace}/tables/${name}`;

  it("marks its request's Table released (the request's uid, a merge patch as kratix-dynamodb-release on the version it read), and no other Table", async () => {
    api.tables.set("team-a/gone", published(DESIGN_USER_DATA, "gone", "team-a"));
    api.tables.set("team-a/other", published({ ...DESIGN_USER_DATA, name: "other-data" }, "other", "team-a", "uid-other"));
    api.tables.set("team-b/gone", published(DESIGN_USER_DATA, "gone", "team-b", "uid-team-b"));
    const before = JSON.stringify([api.tables.get("team-a/other"), api.tables.get("team-b/gone")]);
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "gone", "team-a"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.output, {});
    assert.equal(retryAfter(run), undefined);
    assert.deepEqual(api.patches, [
      {
        path: TABLE_PATH("team-a", "gone"),
        contentType: "application/merge-patch+json",
        fieldManager: RELEASE_FIELD_MANAGER,
        body: { metadata: { uid: "0000-1111", resourceVersion: "42", annotations: { [RELEASED_ANNOTATION]: UID } } },
      },
    ]);
    assert.equal(annotationsOf("team-a/gone")[RELEASED_ANNOTATION], UID);
    assert.equal(JSON.stringify([api.tables.get("team-a/other"), api.tables.get("team-b/gone")]), before);
    assert.match(run.stderr, /ACK Table team-a\/gone marked dynamodb\.kratix\.io\/released=/);
    assert.match(run.stderr, /ACK keeps the AWS table user-data in us-west-2 \(deletionPolicy Retain\)/);
  });

  it("a request without a Table (refused, nothing held): nothing to release, and done", async () => {
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "refused", "team-a"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(api.patches, []);
    assert.deepEqual(run.metadata, {});
    assert.match(run.stderr, /no ACK Table team-a\/refused: nothing to release/);
  });

  it("a request made invalid by an edit still releases the Table held in its Work", async () => {
    api.tables.set("team-a/held", published(DESIGN_USER_DATA, "held", "team-a"));
    const run = await runPipeline("delete", deleted({ name: "x" }, "held", "team-a"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.equal(annotationsOf("team-a/held")[RELEASED_ANNOTATION], UID);
    assert.match(run.stderr, /never valid/);
  });

  for (const [what, table] of [
    ["another request's uid (a request of this name made again)", () => published(DESIGN_USER_DATA, "mine", "team-a", "uid-of-another")],
    [
      "another Promise's label",
      () => {
        const t = published(DESIGN_USER_DATA, "mine", "team-a");
        return { ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, "kratix.io/promise-name": "another-promise" } } };
      },
    ],
    [
      "no request labels",
      () => {
        const t = published(DESIGN_USER_DATA, "mine", "team-a");
        return { ...t, metadata: { ...t.metadata, labels: {} } };
      },
    ],
  ] as const) {
    it(`a Table at the request's name that says it is not the request's (${what}): left alone`, async () => {
      api.tables.set("team-a/mine", table());
      const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "mine", "team-a"), withApi());
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(api.patches, []);
      assert.match(run.stderr, /ACK Table team-a\/mine is not this request's \(.*\): left as it is/);
    });
  }

  it("a dry run (KRATIX_DRY_RUN, whose reader hands over the real request) releases nothing", async () => {
    api.tables.set("team-a/real", published(DESIGN_USER_DATA, "real", "team-a"));
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "real", "team-a"), withApi({ KRATIX_DRY_RUN: "true" }));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(api.patches, []);
    assert.equal(annotationsOf("team-a/real")[RELEASED_ANNOTATION], undefined);
    assert.match(run.stderr, /dry run \(KRATIX_DRY_RUN\): ACK Table team-a\/real is not released/);
  });

  it("a Table already released for this request (a rerun): not patched again", async () => {
    const t = published(DESIGN_USER_DATA, "again", "team-a");
    api.tables.set("team-a/again", {
      ...t,
      metadata: { ...t.metadata, annotations: { ...t.metadata.annotations, [RELEASED_ANNOTATION]: UID } },
    });
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "again", "team-a"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(api.patches, []);
    assert.match(run.stderr, /already released/);
  });

  it("uses the Promise's name Kratix gives it (KRATIX_PROMISE_NAME) to recognise the Table", async () => {
    const t = published(DESIGN_USER_DATA, "named", "team-a");
    api.tables.set("team-a/named", {
      ...t,
      metadata: { ...t.metadata, labels: { ...t.metadata.labels, "kratix.io/promise-name": "ddb" } },
    });
    const other = await runPipeline("delete", deleted(DESIGN_USER_DATA, "named", "team-a"), withApi());
    assert.deepEqual(api.patches, [], other.stderr);
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "named", "team-a"), withApi({ KRATIX_PROMISE_NAME: "ddb" }));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(annotationsOf("team-a/named")[RELEASED_ANNOTATION], UID);
  });

  it("a Table changed between its read and the patch (HTTP 409): read and judged again, then marked", async () => {
    api.tables.set("team-a/busy", published(DESIGN_USER_DATA, "busy", "team-a"));
    let changes = 1;
    api.onPatch = (key) => {
      if (changes-- > 0) {
        const t = api.tables.get(key) as { metadata: Record<string, unknown> };
        api.tables.set(key, { ...t, metadata: { ...t.metadata, resourceVersion: "43" } });
      }
    };
    const run = await runPipeline("delete", deleted(DESIGN_USER_DATA, "busy", "team-a"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      api.patches.map((p) => (p.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion),
      ["42", "43"],
    );
    assert.equal(annotationsOf("team-a/busy")[RELEASED_ANNOTATION], UID);
  });

  it("retries a failing API server in the step; still failing (the guard refusing the mark), marks nothing and asks Kratix to run it again", async () => {
    api.tables.set("team-a/flaky", published(DESIGN_USER_DATA, "flaky", "team-a"));
    api.fail(/fieldManager=/, ATTEMPTS - 1, 503);
    const recovered = await runPipeline("delete", deleted(DESIGN_USER_DATA, "flaky", "team-a"), withApi());
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal(retryAfter(recovered), undefined);
    assert.equal(annotationsOf("team-a/flaky")[RELEASED_ANNOTATION], UID);

    api.reset();
    api.tables.set("team-a/flaky", published(DESIGN_USER_DATA, "flaky", "team-a"));
    api.fail(/fieldManager=/, Infinity, 403, "ValidatingAdmissionPolicy 'kratix-dynamodb-table-writers' denied request: the release mark");
    const failed = await runPipeline("delete", deleted(DESIGN_USER_DATA, "flaky", "team-a"), withApi());
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal(api.patches.length, ATTEMPTS);
    assert.equal(annotationsOf("team-a/flaky")[RELEASED_ANNOTATION], undefined);
    assert.equal(status(failed).reason, "ClusterReadFailed");
    assert.match(
      String(status(failed).message),
      /release the request's ACK Table team-a\/flaky for Flux to prune .*HTTP 403 \(ValidatingAdmissionPolicy 'kratix-dynamodb-table-writers' denied request: the release mark\)/,
    );
    assert.equal(retryAfter(failed), RETRY.clusterRead);
    assert.doesNotMatch(failed.stderr, /ACK keeps the AWS table/, "it says what happens only once the Table is released");
  });

  it("an API server that cannot be reached: a status and a retry; no cluster configured at all: exit 1", async () => {
    const unreachable = await runPipeline("delete", deleted(DESIGN_USER_DATA, "x", "team-a"), {
      KUBECONFIG: await unreachableKubeconfig(),
    });
    assert.equal(unreachable.code, 0, unreachable.stderr);
    assert.equal(status(unreachable).reason, "ClusterReadFailed");
    assert.equal(retryAfter(unreachable), RETRY.clusterRead);
    const none = await runPipeline("delete", deleted(DESIGN_USER_DATA, "x", "team-a"), { KUBECONFIG: "/nonexistent/kubeconfig" });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nonexistent\/kubeconfig/);
    assert.deepEqual(none.metadata, {});
  });

  it("says the table is retained by default", async () => {
    const run = await runPipeline("delete", requestObject(DESIGN_USER_DATA as never, "keep"), withApi());
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /ACK keeps the AWS table user-data in us-west-2 \(deletionPolicy Retain\)/);
    assert.deepEqual(run.output, {});
  });
  it("warns when Delete meets deletion protection", async () => {
    const run = await runPipeline("delete", requestObject(EVERYTHING as never, "gone"), withApi());
    assert.match(run.stderr, /ACK deletes the AWS table orders-full.*deletionProtection is on/);
  });
  it("does not fail on a request that was never valid", async () => {
    const run = await runPipeline("delete", requestObject({ name: "x" }, "never"), withApi());
    assert.equal(run.code, 0);
    assert.match(run.stderr, /never valid/);
  });
});
