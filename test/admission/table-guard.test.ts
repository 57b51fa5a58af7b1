/**
 * The platform's admission guards (core/install/table-guard.ts) on a real kube-apiserver:
 * ACK's Table CRD, Kratix's Promise CRD and the DynamoDBRequest CRD, the namespaces and
 * Tables of test/admission/cases.ts, then both ValidatingAdmissionPolicies and their
 * bindings; then every case, sent as its identity (impersonated by the admin token) as a
 * server-side dry run. Every identity is first granted RBAC on all of it, so each request
 * reaches admission and the guards are the only thing that can refuse it. The same cases
 * run through the policies' CEL in test/render/table-guard.test.ts.
 *
 * Needs only a control plane (etcd, kube-apiserver; local-env's startCluster also starts
 * kube-controller-manager): no node, no controllers. Skipped with KDDB_SKIP_E2E=1, like the
 * other tests that need the local tools.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { KubernetesObject } from "@kubernetes/client-node";
import { LOCAL_DIR, applyCrds, rawRequest, readManifests, waitUntil } from "../../local-env/index.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { ACK_TABLE_CRD_NAME, API_GUARD_NAME, TABLE_GUARD_NAME } from "../../core/install/table-guard.ts";
import { DEFAULT_PROMISE_NAME } from "../../core/kratix/steps.ts";
import { API_GROUP, API_PLURAL, API_VERSION } from "../../core/api/rules.ts";
import { teamRoles } from "../../core/install/team-roles.ts";
import { DESIGN_USER_SESSIONS, requestObject } from "../fixtures/corpus.ts";
import { BINDINGS, POLICIES, startAdmissionServer, type AdmissionServer, type Identity, type Result } from "../helpers/admission-server.ts";
import { requireCrds } from "../helpers/crd-validator.ts";
import {
  ADMIN,
  API_CASES,
  EXISTING,
  GUARDS,
  IMPERSONATED,
  NAMESPACE_OBJECTS,
  OTHER_CRD,
  OTHER_PROMISE,
  TABLE_CASES,
  TEAM_USER,
  TEAM_SA,
  rendered,
  ruleMessage,
  type Case,
} from "./cases.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const dir = join(LOCAL_DIR, "table-guard");
const TABLES = "/apis/dynamodb.services.k8s.aws/v1alpha1";
const PROMISES = "/apis/platform.kratix.io/v1alpha1/promises";
const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
/** A label on ACK's Table CRD and a scratch CRD, for one deletecollection over both. */
const COLLECTION_LABEL = "guard-test.kratix.io/collection";

let server: AdmissionServer;
let kubeconfig: string;
const send = (as: Identity, method: string, path: string, body?: unknown, contentType?: string): Promise<Result> =>
  server.send(as, method, path, body, contentType);

const tablePath = (namespace: string, name?: string, sub = "") =>
  `${TABLES}/namespaces/${namespace}/tables${name ? `/${name}` : ""}${sub}?dryRun=All`;

/** The case's request, as a server-side dry run. */
function request(c: Case): Promise<Result> {
  const op = c.op;
  const merge = "application/merge-patch+json";
  switch (op.kind) {
    case "create": {
      const t = op.table as { metadata: { namespace: string } };
      return send(c.as, "POST", tablePath(t.metadata.namespace), op.table);
    }
    case "patch":
      return send(c.as, "PATCH", tablePath(EXISTING[op.target].metadata.namespace, EXISTING[op.target].metadata.name), op.patch, merge);
    case "patchStatus":
      return send(
        c.as,
        "PATCH",
        tablePath(EXISTING[op.target].metadata.namespace, EXISTING[op.target].metadata.name, "/status"),
        op.patch,
        merge,
      );
    case "delete":
      return send(c.as, "DELETE", tablePath(EXISTING[op.target].metadata.namespace, EXISTING[op.target].metadata.name));
    case "deletePromise":
      return send(c.as, "DELETE", `${PROMISES}/${op.name}?dryRun=All`);
    case "deleteCrd":
      return send(c.as, "DELETE", `${CRDS}/${op.name}?dryRun=All`);
  }
}

const policyOf = (c: Case) => (c.op.kind === "deletePromise" || c.op.kind === "deleteCrd" ? API_GUARD_NAME : TABLE_GUARD_NAME);

function allowed(c: Case, r: Result) {
  assert.ok(r.status >= 200 && r.status < 300, `${c.as.label} should be allowed: ${c.name}; got ${r.status}: ${r.body}`);
}
/** Refused by the guard itself, with the rule's message: not RBAC, not an evaluation error. */
function refused(c: Case, r: Result) {
  assert.equal(r.status, 403, `${c.as.label} should be refused: ${c.name}; got ${r.status}: ${r.body}`);
  const message = (JSON.parse(r.body) as { message: string }).message;
  const policy = policyOf(c);
  assert.ok(
    message.includes(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: `),
    `not the guard: ${message}`,
  );
  assert.ok(message.includes(ruleMessage(c.expect as Parameters<typeof ruleMessage>[0])), `not the ${c.expect} rule's message: ${message}`);
}

const post = (path: string, body: unknown): Promise<void> => server.post(path, body);

const labelled = (o: KubernetesObject): KubernetesObject => ({
  ...o,
  metadata: { ...o.metadata, labels: { ...o.metadata?.labels, [COLLECTION_LABEL]: "yes" } },
});

(SKIP ? describe.skip : describe)("the admission guards on a real API server", () => {
  // Inside the suite, so a failed start is reported against it (a top-level hook's failure is not shown).
  before(async function () {
    // ACK's and Kratix's CRDs as the versions that run have them (ACK v1.9.2's helm/crds, Kratix 224e148's
    // config/crd/bases); the suite is skipped, naming what is missing, without them.
    const [ackCrds, kratixCrds] = requireCrds(this, "ack", "kratix");
    server = await startAdmissionServer(dir);
    kubeconfig = server.kubeconfig;
    // ACK's and Kratix's CRDs as their charts install them (ACK 1.9.2's helm/crds; see PROVENANCE.md there).
    const [ackCrd] = readManifests([join(ackCrds!, "dynamodb.services.k8s.aws_tables.yaml")]);
    const promiseCrd = readManifests([join(kratixCrds!, "platform.kratix.io_promises.yaml")]);
    const scratch = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: OTHER_CRD },
      spec: {
        group: OTHER_CRD.split(".").slice(1).join("."),
        names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    };
    await applyCrds(kubeconfig, [labelled(ackCrd!), labelled(scratch), ...promiseCrd, dynamoDBRequestCRD() as unknown as KubernetesObject]);
    for (const ns of Object.values(NAMESPACE_OBJECTS)) await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", ...ns });

    // RBAC lets every test identity do everything the cases do, so only the guards can refuse them.
    await post("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "guard-test-everything" },
      rules: [
        {
          apiGroups: ["dynamodb.services.k8s.aws"],
          resources: ["tables", "tables/status"],
          verbs: ["get", "list", "create", "update", "patch", "delete"],
        },
        { apiGroups: ["platform.kratix.io"], resources: ["promises"], verbs: ["get", "list", "delete"] },
        {
          apiGroups: ["apiextensions.k8s.io"],
          resources: ["customresourcedefinitions"],
          verbs: ["get", "list", "delete", "deletecollection"],
        },
      ],
    });
    await post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "guard-test-everything" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "guard-test-everything" },
      subjects: [...new Set(IMPERSONATED.map((i) => i.user))].map((name) => ({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "User",
        name,
      })),
    });
    // The team's person has what a team normally has: `edit` in its namespace.
    await post("/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "team-a-edit", namespace: "team-a" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: TEAM_USER.user }],
    });

    // What the cases update and delete, made before the guards exist.
    for (const t of Object.values(EXISTING)) await post(`${TABLES}/namespaces/${t.metadata.namespace}/tables`, t);
    for (const name of [DEFAULT_PROMISE_NAME, OTHER_PROMISE])
      await post(PROMISES, { apiVersion: "platform.kratix.io/v1alpha1", kind: "Promise", metadata: { name }, spec: {} });

    for (const g of [GUARDS.table, GUARDS.api]) {
      await post(POLICIES, g.policy);
      await post(BINDINGS, g.binding);
    }
    // The API server loads policies asynchronously: wait until both refuse the admin.
    await waitUntil(
      "the table guard to refuse the admin's create",
      async () => ((await send(ADMIN, "POST", tablePath("team-a"), rendered("probe", "team-a"))).status === 403 ? true : undefined),
      60_000,
    );
    await waitUntil(
      "the API guard to refuse the admin's deletion of ACK's Table CRD",
      async () => ((await send(ADMIN, "DELETE", `${CRDS}/${ACK_TABLE_CRD_NAME}?dryRun=All`)).status === 403 ? true : undefined),
      60_000,
    );
  });
  after(async () => {
    await server?.stop();
  });

  it("the API server's type checking warns about neither policy (each rule names its versions, so Tables, Promises and CRDs are typed)", async () => {
    const checked = async (name: string) => ({ typeChecking: await server.typeChecking(name) });
    // The checker runs: a misspelt field of a built-in kind is reported (a policy without a binding, enforcing nothing).
    await post(POLICIES, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "guard-test-misspelt" },
      spec: {
        matchConstraints: {
          resourceRules: [
            { apiGroups: ["apiextensions.k8s.io"], apiVersions: ["v1"], resources: ["customresourcedefinitions"], operations: ["CREATE"] },
          ],
        },
        validations: [{ expression: `object.metadata.nmae != ""` }],
      },
    });
    const misspelt = await checked("guard-test-misspelt");
    assert.equal(misspelt.typeChecking?.expressionWarnings?.length, 1, JSON.stringify(misspelt));
    // ... and so is a misspelt field of ACK's Table, typed from its CRD, as the guard's rule names it.
    await post(POLICIES, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: "guard-test-misspelt-table" },
      spec: {
        matchConstraints: {
          resourceRules: [
            { apiGroups: ["dynamodb.services.k8s.aws"], apiVersions: ["v1alpha1"], resources: ["tables"], operations: ["CREATE"] },
          ],
        },
        validations: [{ expression: `object.spec.tabelName != ""` }],
      },
    });
    const misspeltTable = await checked("guard-test-misspelt-table");
    assert.equal(misspeltTable.typeChecking?.expressionWarnings?.length, 1, JSON.stringify(misspeltTable));
    for (const name of [TABLE_GUARD_NAME, API_GUARD_NAME])
      assert.deepEqual((await checked(name)).typeChecking?.expressionWarnings ?? [], [], name);
  });

  describe("Tables and their status", () => {
    for (const c of TABLE_CASES)
      it(`${c.expect === "allowed" ? "allows" : `refuses (${c.expect})`}: ${c.name}`, async () =>
        (c.expect === "allowed" ? allowed : refused)(c, await request(c)));
  });

  describe("the Promise and the CRDs", () => {
    for (const c of API_CASES)
      it(`${c.expect === "allowed" ? "allows" : `refuses (${c.expect})`}: ${c.name}`, async () =>
        (c.expect === "allowed" ? allowed : refused)(c, await request(c)));

    it("refuses a deletecollection of CRDs that takes ACK's Table CRD along (each object is admitted by name)", async () => {
      const c: Case = { name: "deletecollection", as: ADMIN, op: { kind: "deleteCrd", name: ACK_TABLE_CRD_NAME }, expect: "tableCrd" };
      refused(c, await send(ADMIN, "DELETE", `${CRDS}?dryRun=All&labelSelector=${encodeURIComponent(`${COLLECTION_LABEL}=yes`)}`));
    });
    it("nothing was deleted: every request above was a dry run", async () => {
      for (const path of [
        `${CRDS}/${ACK_TABLE_CRD_NAME}`,
        `${PROMISES}/${DEFAULT_PROMISE_NAME}`,
        `${TABLES}/namespaces/team-a/tables/orders`,
      ])
        assert.equal((await rawRequest(kubeconfig, "GET", path)).status, 200, path);
    });
  });

  describe("DynamoDBRequests and the built-in roles (core/install/team-roles.ts)", () => {
    const REQUESTS = (ns: string) => `/apis/${API_GROUP}/${API_VERSION}/namespaces/${ns}/${API_PLURAL}`;
    const member: Identity = { label: "team-a-member (edit in team-a)", user: "team-a-member", groups: ["system:authenticated"] };
    const viewer: Identity = { label: "team-a-viewer (view in team-a)", user: "team-a-viewer", groups: ["system:authenticated"] };
    const request = (name: string, ns = "team-a") => requestObject(DESIGN_USER_SESSIONS as never, name, ns);
    const create = (as: Identity, ns: string) => send(as, "POST", `${REQUESTS(ns)}?dryRun=All`, request("probe", ns));
    before(async () => {
      for (const [who, role] of [
        [member, "edit"],
        [viewer, "view"],
      ] as const)
        await post("/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings", {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: `${who.user}-${role}`, namespace: "team-a" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: who.user }],
        });
      await post(REQUESTS("team-a"), request("existing"));
    });

    it("without the roles, edit grants nothing of DynamoDBRequests (Kratix grants its kinds to no one)", async () => {
      assert.equal((await create(member, "team-a")).status, 403);
      assert.equal((await send(viewer, "GET", REQUESTS("team-a"))).status, 403);
    });
    it("with them, edit makes, changes and deletes requests in its namespace, and nowhere else", async () => {
      const roles = teamRoles();
      for (const role of [roles.edit, roles.view]) await post("/apis/rbac.authorization.k8s.io/v1/clusterroles", role);
      // The controller manager's clusterrole-aggregation controller folds them into edit and view.
      await waitUntil(
        "edit to include DynamoDBRequests",
        async () => ((await create(member, "team-a")).status === 201 ? true : undefined),
        60_000,
      );
      const merge = "application/merge-patch+json";
      const labels = { metadata: { labels: { team: "a" } } };
      assert.equal((await send(member, "PATCH", `${REQUESTS("team-a")}/existing?dryRun=All`, labels, merge)).status, 200);
      assert.equal((await send(member, "DELETE", `${REQUESTS("team-a")}/existing?dryRun=All`)).status, 200);
      assert.equal((await create(member, "team-b")).status, 403);
    });
    it("no built-in role writes a request's status (Kratix's status step does)", async () => {
      const status = { status: { message: "forged" } };
      for (const who of [member, viewer])
        assert.equal(
          (await send(who, "PATCH", `${REQUESTS("team-a")}/existing/status?dryRun=All`, status, "application/merge-patch+json")).status,
          403,
          who.label,
        );
    });
    it("view reads requests and their status, and writes none", async () => {
      await waitUntil(
        "view to include DynamoDBRequests",
        async () => ((await send(viewer, "GET", REQUESTS("team-a"))).status === 200 ? true : undefined),
        60_000,
      );
      assert.equal((await send(viewer, "GET", `${REQUESTS("team-a")}/existing/status`)).status, 200);
      assert.equal((await create(viewer, "team-a")).status, 403);
    });
  });

  // Last, in a suite of its own: mocha runs a suite's own tests before its nested suites.
  describe("the binding", () => {
    it("without its binding the table guard refuses nothing: the binding (Deny) enforces it, and RBAC allowed the team all along", async () => {
      const del = await rawRequest(kubeconfig, "DELETE", `${BINDINGS}/${TABLE_GUARD_NAME}`);
      assert.equal(del.status, 200, del.body);
      await waitUntil(
        "the team's create to be allowed without the binding",
        async () => ((await send(TEAM_SA, "POST", tablePath("team-a"), rendered("unguarded", "team-a"))).status === 201 ? true : undefined),
        60_000,
      );
    });
  });
});
