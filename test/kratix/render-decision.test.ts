/** render-table's one decision (core/kratix/render-decision.ts): a new Table, the managed one held, or nothing. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { decideRenderTable, HELD_NOTE, judgeRequest, type ClusterView, type JudgedRequest } from "../../core/kratix/render-decision.ts";
import { ACK_TABLE_FINALIZER, type LiveTable } from "../../core/kratix/ack-managed.ts";
import { ADOPTABLE_TABLES_ANNOTATION } from "../../core/kratix/adoption.ts";
import { configureRequest } from "../../core/kratix/steps.ts";
import { RELEASED_ANNOTATION } from "../../core/kratix/release.ts";
import { REQUEST_UID_ANNOTATION } from "../../core/render/ack-table.ts";
import { SPEC_DIGEST_ANNOTATION } from "../../core/api/spec-digest.ts";
import { DESIGN_USER_DATA, requestObject } from "../fixtures/corpus.ts";

const now = new Date("2026-12-01T00:00:00Z");
const arn = "arn:aws:dynamodb:us-west-2:111122223333:table/user-data";
const request = (name: string, namespace: string, spec: object = DESIGN_USER_DATA, created = "2026-06-01T00:00:00Z") => {
  const r = requestObject(spec as never, name, namespace);
  return { ...r, metadata: { ...r.metadata, creationTimestamp: created, generation: 3 } };
};
const judged = (input: unknown): JudgedRequest => judgeRequest(input, {}).judged!;
const view = (v: Partial<ClusterView> = {}): ClusterView => ({ rivals: [], namespaces: new Map(), tables: new Map(), ...v });

/** The Table as ACK keeps it: what Flux applied, plus ACK's finalizer and status, and the server's bookkeeping. */
const live = (name: string, namespace: string, managed: boolean, spec: object = DESIGN_USER_DATA): LiveTable => {
  const rendered = configureRequest(request(name, namespace, spec), {});
  assert.ok(rendered.ok);
  return {
    apiVersion: rendered.table.apiVersion,
    kind: rendered.table.kind,
    metadata: {
      ...rendered.table.metadata,
      annotations: { ...rendered.table.metadata.annotations, "kubectl.kubernetes.io/last-applied-configuration": "{}" },
      ...(managed ? { finalizers: [ACK_TABLE_FINALIZER] } : {}),
      uid: "0000-1111",
      resourceVersion: "42",
    } as LiveTable["metadata"],
    spec: { ...rendered.table.spec, tableClass: "STANDARD" }, // ACK late-initialises fields too
    status: { tableStatus: "ACTIVE", ackResourceMetadata: { arn } },
  };
};

describe("render-table's decision", () => {
  it("settles a refusal on the request's spec digest (Pulumi's wait ends there), never a Table it publishes", () => {
    const digested = (r: ReturnType<typeof request>) => ({
      ...r,
      metadata: { ...r.metadata, annotations: { [SPEC_DIGEST_ANNOTATION]: "feedface00000000" } },
    });
    const adopter = digested(request("grab", "team-e", { ...DESIGN_USER_DATA, adopt: true }));
    const refused = decideRenderTable(judged(adopter), view({ namespaces: new Map([["team-e", {}]]) }), {}, now);
    assert.equal(refused.status.settledSpecDigest, "feedface00000000");
    const invalid = digested(request("bad", "team-a", { ...DESIGN_USER_DATA, region: "mars-1" }));
    const invalidDecision = decideRenderTable(judgeRequest(invalid, {}).judged!, view(), {}, now);
    assert.equal(invalidDecision.status.reason, "InvalidRequest");
    assert.equal(invalidDecision.status.settledSpecDigest, "feedface00000000");
    // Published: not settled until the status step finds the table ready.
    const published = decideRenderTable(judged(digested(request("mine", "team-a"))), view(), {}, now);
    assert.equal(published.publish, "new");
    assert.equal(published.status.settledSpecDigest, undefined);
  });

  it("a valid request that owns its name: the Table rendered now", () => {
    const d = decideRenderTable(judged(request("mine", "team-a")), view(), {}, now);
    assert.equal(d.publish, "new");
    const expected = configureRequest(request("mine", "team-a"), {});
    assert.ok(expected.ok && d.publish === "new");
    assert.deepEqual(d.table, expected.table);
    assert.equal(d.status.reason, "Rendered");
  });

  it("an adoption the platform team has not approved: nothing, AdoptionNotApproved naming spec.adopt", () => {
    const adopter = request("grab", "team-e", { ...DESIGN_USER_DATA, adopt: true });
    const d = decideRenderTable(judged(adopter), view({ namespaces: new Map([["team-e", {}]]) }), {}, now);
    assert.equal(d.publish, "nothing");
    assert.equal(d.status.reason, "AdoptionNotApproved");
    assert.match(String(d.status.message), /^spec\.adopt: .*adoptable-tables of namespace team-e/);
    assert.equal(d.status.observedGeneration, 3);
    // Approved: the Table, with ACK's adoption annotations.
    const approved = decideRenderTable(
      judged(adopter),
      view({ namespaces: new Map([["team-e", { [ADOPTABLE_TABLES_ANNOTATION]: "user-data" }]]) }),
      {},
      now,
    );
    assert.ok(approved.publish === "new");
    assert.equal(approved.table.metadata.annotations["services.k8s.aws/adoption-policy"], "adopt");
  });

  it("an approval withdrawn after ACK adopted the table: the managed Table held as it is, never dropped", () => {
    const adopter = request("grab", "team-e", { ...DESIGN_USER_DATA, adopt: true });
    const managed = live("grab", "team-e", true, { ...DESIGN_USER_DATA, adopt: true });
    const d = decideRenderTable(judged(adopter), view({ tables: new Map([["team-e/grab", managed]]) }), {}, now);
    assert.equal(d.publish, "held");
    assert.equal(d.status.reason, "AdoptionNotApproved");
  });

  it("a squatter (its Table carries the owner's ARN, ACK refused it) against the owner: nothing, its Table not held", () => {
    const squatter = request("squat", "team-z", DESIGN_USER_DATA, "2026-01-01T00:00:00Z");
    const owner = request("owner", "team-a", DESIGN_USER_DATA, "2026-06-01T00:00:00Z");
    const tables = new Map([
      ["team-z/squat", live("squat", "team-z", false)],
      ["team-a/owner", live("owner", "team-a", true)],
    ]);
    const d = decideRenderTable(judged({ ...squatter, status: { tableArn: arn } }), view({ rivals: [owner], tables }), {}, now);
    assert.equal(d.publish, "nothing");
    assert.equal(d.status.reason, "TableNameTaken");
    assert.match(String(d.status.message), /belongs to DynamoDBRequest team-a\/owner/);
    // And the owner, deciding from its side, keeps the name against the older squatter.
    const mine = decideRenderTable(judged(owner), view({ rivals: [squatter], tables }), {}, now);
    assert.equal(mine.publish, "new");
  });

  it("an invalid edit of a request whose Table ACK manages: that Table held, spec, labels and annotations unchanged", () => {
    const managed = live("edited", "team-a", true);
    const edit = request("edited", "team-a", { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" });
    const d = decideRenderTable(judged(edit), view({ tables: new Map([["team-a/edited", managed]]) }), {}, now);
    assert.ok(d.publish === "held");
    assert.equal(JSON.stringify(d.table.spec), JSON.stringify(managed.spec));
    assert.deepEqual(d.table.metadata.labels, managed.metadata!.labels);
    const { "kubectl.kubernetes.io/last-applied-configuration": _k, ...annotations } = managed.metadata!.annotations!;
    assert.deepEqual(d.table.metadata.annotations, annotations);
    assert.deepEqual(Object.keys(d.table.metadata).sort(), ["annotations", "labels", "name", "namespace"], "no finalizer, uid or version");
    assert.equal(d.status.reason, "InvalidRequest");
    assert.match(String(d.status.message), /spec\.provisioned: required when billingMode is PROVISIONED/);
    assert.ok(String(d.status.message).endsWith(HELD_NOTE));
  });

  it("a held Table answers to the request holding it now: its uid, and never a release mark (Flux would co-own it)", () => {
    const managed = live("edited", "team-a", true);
    managed.metadata!.annotations = {
      ...managed.metadata!.annotations,
      [REQUEST_UID_ANNOTATION]: "uid-deleted",
      [RELEASED_ANNOTATION]: "uid-deleted",
    };
    const edit = request("edited", "team-a", { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" });
    const again = { ...edit, metadata: { ...edit.metadata, uid: "uid-next" } };
    const tables = new Map([["team-a/edited", managed]]);
    for (const [what, input] of [
      ["invalid", again],
      ["refused", { ...again, spec: { ...DESIGN_USER_DATA, adopt: true } }],
    ] as const) {
      const d = decideRenderTable(judged(input), view({ tables, namespaces: new Map([["team-a", {}]]) }), {}, now);
      assert.ok(d.publish === "held", what);
      assert.equal(d.table.metadata.annotations[REQUEST_UID_ANNOTATION], "uid-next", what);
      assert.equal(RELEASED_ANNOTATION in d.table.metadata.annotations, false, what);
    }
  });

  it("the Table rendered for a request names the request's uid", () => {
    const mine = request("mine", "team-a");
    const d = decideRenderTable(judged({ ...mine, metadata: { ...mine.metadata, uid: "uid-mine" } }), view(), {}, now);
    assert.ok(d.publish === "new");
    assert.equal(d.table.metadata.annotations[REQUEST_UID_ANNOTATION], "uid-mine");
  });

  it("an invalid request whose Table ACK does not manage (or that has none): nothing", () => {
    const edit = request("edited", "team-a", { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" });
    for (const tables of [new Map(), new Map([["team-a/edited", live("edited", "team-a", false)]])]) {
      const d = decideRenderTable(judged(edit), view({ tables }), {}, now);
      assert.equal(d.publish, "nothing");
      assert.equal(d.status.reason, "InvalidRequest");
    }
  });

  it("judges only DynamoDBRequests: anything else has no request to tell", () => {
    assert.equal(judgeRequest({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, {}).judged, undefined);
    const bad = judgeRequest(request("x", "team-a", { name: "a b" }), {});
    assert.ok(bad.judged && !bad.judged.ok);
    assert.deepEqual(bad.judged.request, { name: "x", namespace: "team-a", generation: 3 });
  });
});
