/**
 * The pipeline identity guard (core/install/pipeline-identity-guard.ts) on a real
 * kube-apiserver: Kratix's Work CRD and the DynamoDBRequest CRD, team-a with the Promise's
 * pipeline service accounts as Kratix makes them, the objects of EXISTING, then the five
 * policies and their bindings; then every case of pipeline-identity-cases.ts, sent as its
 * identity (impersonated by the admin token, extras included) as a server-side dry run where
 * the API has one. The team user has only the built-in `edit` in team-a; every other identity
 * is granted RBAC on everything the cases do, so only the guard can refuse. The same cases run
 * through the policies' CEL in test/render/pipeline-identity-guard.test.ts.
 *
 * Beyond the cases, with real credentials: a team member's own token (a service account with
 * `edit`) impersonating render-table, and render-table's tokens minted before the guard
 * existed (one bound to Kratix's pipeline pod, as the kubelet's is, one unbound). And the
 * residual the guard cannot close: reads never reach admission.
 *
 * Needs only a control plane, on free ports (tools/local-cluster.sh; not the local
 * environment's fixed 19000/9443). Skipped with KDDB_SKIP_E2E=1, like the other tests that
 * need the local tools.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { KubernetesObject } from "@kubernetes/client-node";
import { LOCAL_DIR, applyCrds, rawRequest, readManifests, waitUntil } from "../../local-env/index.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { API_GROUP, API_PLURAL } from "../../core/api/rules.ts";
import {
  PIPELINE_IDENTITY_GUARD_NAMES,
  PIPELINE_IDENTITY_RULE_GUARD,
  type PipelineIdentityRule,
} from "../../core/install/pipeline-identity-guard.ts";
import { pipelinePermissions } from "../../core/render/promise.ts";
import { requireCrds } from "../helpers/crd-validator.ts";
import {
  BINDINGS,
  POLICIES,
  startAdmissionServer,
  tokenKubeconfig,
  type AdmissionServer,
  type Result,
} from "../helpers/admission-server.ts";
import {
  CASES,
  EPHEMERAL_CONTAINER,
  EXISTING,
  GUARDS,
  IMPERSONATED,
  NAMESPACE,
  PIPELINE_POD_NAME,
  RENDER,
  RESOURCES,
  SA,
  TEAM_USER,
  resourceOf,
  ruleMessage,
  type Case,
} from "./pipeline-identity-cases.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const dir = join(LOCAL_DIR, "pipeline-identity-guard");
const DRY = "dryRun=All";
const MERGE = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";
/** The team member with a credential of its own (a service account bound to `edit` in team-a). */
const DEV = "dev";

let server: AdmissionServer;

type Meta = { metadata: { name: string; namespace: string }; kind: string };
const pathOf = (o: Meta, sub = "") => {
  const r = resourceOf(o.kind);
  return `${RESOURCES[r].path}/namespaces/${o.metadata.namespace}/${r}/${o.metadata.name}${sub}`;
};
const existing = (target: keyof typeof EXISTING) => EXISTING[target] as unknown as Meta;

/** The case's request. CONNECT has no dry run: admitted, it fails on the pod having no node. */
function request(c: Case): Promise<Result> {
  const op = c.op;
  const send = (method: string, path: string, body?: unknown, type?: string) => server.send(c.as, method, path, body, type);
  switch (op.kind) {
    case "create": {
      const o = op.object as unknown as Meta;
      const r = resourceOf(o.kind);
      return send("POST", `${RESOURCES[r].path}/namespaces/${o.metadata.namespace}/${r}?${DRY}`, op.object);
    }
    case "merge":
      return send("PATCH", `${pathOf(existing(op.target))}?${DRY}`, op.patch, MERGE);
    case "image":
      return send(
        "PATCH",
        `${pathOf(existing(op.target))}?${DRY}`,
        { spec: { [op.list]: [{ name: op.container, image: op.image }] } },
        STRATEGIC,
      );
    case "ephemeral":
      return send(
        "PATCH",
        `${pathOf(existing(op.target), "/ephemeralcontainers")}?${DRY}`,
        { spec: { ephemeralContainers: [EPHEMERAL_CONTAINER] } },
        STRATEGIC,
      );
    case "delete":
      return send("DELETE", `${pathOf(existing(op.target))}?${DRY}`);
    case "connect":
      return send(
        "POST",
        `/api/v1/namespaces/${NAMESPACE}/pods/${op.pod}/${op.sub}?${op.sub === "exec" ? "command=true&" : ""}stdout=true`,
      );
    case "token":
      return send("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${op.serviceAccount}/token?${DRY}`, tokenRequest(op.boundPod));
  }
}

const tokenRequest = (boundPod?: string) => ({
  apiVersion: "authentication.k8s.io/v1",
  kind: "TokenRequest",
  spec: { audiences: [], ...(boundPod ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: boundPod } } : {}) },
});

function allowed(c: Case, r: Result) {
  if (c.op.kind === "connect") {
    // Past admission, the API server looks for the pod's node (there is none).
    assert.equal(r.status, 400, `${c.as.label} should be admitted: ${c.name}; got ${r.status}: ${r.body}`);
    assert.match(r.body, /does not have a host assigned/, r.body);
  } else assert.ok(r.status >= 200 && r.status < 300, `${c.as.label} should be allowed: ${c.name}; got ${r.status}: ${r.body}`);
}
/** Refused by the guard itself, with the rule's message: not RBAC, not an evaluation error. */
function refusedBy(rule: PipelineIdentityRule, r: Result, what = "") {
  assert.equal(r.status, 403, `${what} should be refused by ${rule}; got ${r.status}: ${r.body}`);
  const message = (JSON.parse(r.body) as { message: string }).message;
  const policy = PIPELINE_IDENTITY_GUARD_NAMES[PIPELINE_IDENTITY_RULE_GUARD[rule]];
  assert.ok(
    message.includes(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: `),
    `not the guard: ${message}`,
  );
  assert.ok(message.includes(ruleMessage(rule)), `not the ${rule} rule's message: ${message}`);
}

/** A token for a service account in team-a (as the admin, before the guard), optionally bound to a pod. */
async function mint(serviceAccount: string, boundPod?: string): Promise<string> {
  const r = await rawRequest(
    server.kubeconfig,
    "POST",
    `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${serviceAccount}/token`,
    tokenRequest(boundPod),
  );
  assert.equal(r.status, 201, r.body);
  return (JSON.parse(r.body) as { status: { token: string } }).status.token;
}
/** A raw request with a bearer token of its own (its kubeconfig file), optionally impersonating a user. */
const withToken = (kubeconfig: string, method: string, path: string, body?: unknown, impersonate?: string) =>
  rawRequest(kubeconfig, method, path, body, impersonate ? { headers: { "Impersonate-User": impersonate } } : {});

const kubeconfigs: Record<"dev" | "podBound" | "unbound", string> = { dev: "", podBound: "", unbound: "" };
const WORKS = `${RESOURCES.works.path}/namespaces/${NAMESPACE}/works`;
const honestWork = (name: string) => ({
  ...(EXISTING.honestWork as Record<string, unknown>),
  metadata: { ...(EXISTING.honestWork.metadata as Record<string, unknown>), name },
});

(SKIP ? describe.skip : describe)("the pipeline identity guard on a real API server", () => {
  before(async function () {
    const [kratixCrds] = requireCrds(this, "kratix");
    server = await startAdmissionServer(dir);
    const { post } = server;
    await applyCrds(server.kubeconfig, [
      ...readManifests([join(kratixCrds!, "platform.kratix.io_works.yaml")]),
      dynamoDBRequestCRD() as unknown as KubernetesObject,
    ]);
    for (const ns of [NAMESPACE, "team-b", "kratix-platform-system"])
      await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // What Kratix makes in team-a for the Promise's pipelines, and the team member's own service account.
    for (const name of [...Object.values(SA), DEV])
      await post(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name, namespace: NAMESPACE },
      });
    await waitUntil(
      "team-a's default service account",
      async () =>
        (await rawRequest(server.kubeconfig, "GET", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/default`)).status === 200
          ? true
          : undefined,
      60_000,
    );

    // RBAC: every identity but the team's may do everything the cases do, so only the guard refuses them.
    const rbac = "/apis/rbac.authorization.k8s.io/v1";
    await post(`${rbac}/clusterroles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "identity-guard-test-everything" },
      rules: [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "create", "update", "patch"] },
        { apiGroups: [""], resources: ["pods/exec", "pods/attach"], verbs: ["get", "create"] },
        { apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["update", "patch"] },
        { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["create", "update", "patch"] },
        { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ["create", "update", "patch"] },
        { apiGroups: ["platform.kratix.io"], resources: ["works", "works/status"], verbs: ["get", "create", "update", "patch", "delete"] },
      ],
    });
    await post(`${rbac}/clusterrolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "identity-guard-test-everything" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "identity-guard-test-everything" },
      subjects: IMPERSONATED.map((i) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: i.user })),
    });
    // The team: `edit` in team-a, for a person and for the member's own service account.
    await post(`${rbac}/namespaces/${NAMESPACE}/rolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "team-a-edit", namespace: NAMESPACE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [
        { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: TEAM_USER.user },
        { kind: "ServiceAccount", name: DEV, namespace: NAMESPACE },
      ],
    });
    // render-table's cluster-wide reads, as Kratix binds the Promise's permissions with resourceNamespace "*".
    await post(`${rbac}/clusterroles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "render-table-reads" },
      rules: pipelinePermissions({}).render.map((p) => ({ apiGroups: p.apiGroups, resources: p.resources, verbs: p.verbs })),
    });
    await post(`${rbac}/clusterrolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "render-table-reads-team-a" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "render-table-reads" },
      subjects: [{ kind: "ServiceAccount", name: SA.render, namespace: NAMESPACE }],
    });
    // `edit` is aggregated by the controller manager: wait until it holds pods.
    await waitUntil(
      "the aggregated edit role",
      async () => {
        const r = JSON.parse((await rawRequest(server.kubeconfig, "GET", `${rbac}/clusterroles/edit`)).body) as {
          rules?: { resources?: string[] }[];
        };
        return r.rules?.some((x) => x.resources?.includes("pods/exec")) ? true : undefined;
      },
      60_000,
    );

    // What the cases update, exec into and bind tokens to, made before the guard exists; and another team's request.
    for (const o of Object.values(EXISTING)) {
      const m = o as unknown as Meta;
      const r = resourceOf(m.kind);
      await post(`${RESOURCES[r].path}/namespaces/${m.metadata.namespace}/${r}`, o);
    }
    await post(`/apis/${API_GROUP}/v1alpha1/namespaces/team-b/${API_PLURAL}`, {
      apiVersion: `${API_GROUP}/v1alpha1`,
      kind: "DynamoDBRequest",
      metadata: { name: "orders", namespace: "team-b" },
      spec: {
        name: "orders",
        region: "us-west-2",
        billingMode: "PAY_PER_REQUEST",
        attributeDefinitions: [{ name: "id", type: "S" }],
        keySchema: [{ attributeName: "id", keyType: "HASH" }],
      },
    });
    // Credentials of their own, minted before the guard: the team member's, and render-table's (as the kubelet's, and unbound).
    kubeconfigs.dev = tokenKubeconfig(server.kubeconfig, await mint(DEV), join(dir, "dev.kubeconfig"));
    kubeconfigs.podBound = tokenKubeconfig(server.kubeconfig, await mint(SA.render, PIPELINE_POD_NAME), join(dir, "pod-bound.kubeconfig"));
    kubeconfigs.unbound = tokenKubeconfig(server.kubeconfig, await mint(SA.render), join(dir, "unbound.kubeconfig"));

    for (const g of Object.values(GUARDS)) {
      await post(POLICIES, g.policy);
      await post(BINDINGS, g.binding);
    }
    // The API server loads policies asynchronously: wait until each refuses a probe.
    const probes: [string, () => Promise<Result>][] = [
      ["pods", () => request(CASES.find((c) => c.expect === "podCreate")!)],
      ["jobs", () => request(CASES.find((c) => c.expect === "job")!)],
      ["cronjobs", () => request(CASES.find((c) => c.expect === "cronJob")!)],
      ["tokens", () => request(CASES.find((c) => c.expect === "tokenSecret")!)],
      ["works", () => request(CASES.find((c) => c.expect === "workIdentity")!)],
    ];
    for (const [what, probe] of probes)
      await waitUntil(`the ${what} guard to refuse its probe`, async () => ((await probe()).status === 403 ? true : undefined), 60_000);
  });
  after(async () => {
    if (server) await server.stop();
  });

  describe("type checking", () => {
    const misspelt = (name: string, resourceRules: unknown[]) => ({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: { matchConstraints: { resourceRules }, validations: [{ expression: `object.nmae == ""` }] },
    });
    it("the API server's type checking warns about none of the five policies (built-in kinds, and Kratix's Work CRD through discovery)", async () => {
      for (const g of Object.values(GUARDS))
        assert.deepEqual((await server.typeChecking(g.policy.metadata.name))?.expressionWarnings ?? [], [], g.policy.metadata.name);
    });
    it("it checks them: the same kinds with a misspelt field are warned about, per policy (unbound probes, enforcing nothing)", async () => {
      for (const g of Object.values(GUARDS)) {
        const name = `${g.policy.metadata.name}-probe`;
        await server.post(POLICIES, misspelt(name, g.policy.spec.matchConstraints.resourceRules));
        const warnings = (await server.typeChecking(name))?.expressionWarnings ?? [];
        assert.equal(warnings.length, 1, `${name}: ${JSON.stringify(warnings)}`);
      }
    });
    it('a policy matching apiVersions "*" is not type-checked at all (why these name their versions)', async () => {
      await server.post(
        POLICIES,
        misspelt("any-version-probe", [{ apiGroups: [""], apiVersions: ["*"], resources: ["pods"], operations: ["CREATE"] }]),
      );
      assert.deepEqual((await server.typeChecking("any-version-probe"))?.expressionWarnings ?? [], []);
    });
  });

  describe("every case", () => {
    for (const c of CASES)
      it(`${c.expect === "allowed" ? "allows" : `refuses (${c.expect})`}: ${c.name}`, async () => {
        const r = await request(c);
        if (c.expect === "allowed") allowed(c, r);
        else refusedBy(c.expect, r, `${c.as.label}: ${c.name}`);
      });
  });

  describe("with credentials of their own", () => {
    it("a token bound to Kratix's pipeline pod (what the kubelet mounts there, minted before the guard) writes an honest Work", async () => {
      const r = await withToken(kubeconfigs.podBound, "POST", `${WORKS}?${DRY}`, honestWork("pod-bound"));
      assert.equal(r.status, 201, r.body);
    });
    it("an unbound token of render-table (minted before the guard) writes no Work", async () => {
      refusedBy("workIdentity", await withToken(kubeconfigs.unbound, "POST", `${WORKS}?${DRY}`, honestWork("unbound")));
    });
    it("a team member with edit, impersonating render-table with its own token, writes no Work", async () => {
      refusedBy("workIdentity", await withToken(kubeconfigs.dev, "POST", `${WORKS}?${DRY}`, honestWork("impersonated"), RENDER.user));
    });
    it("a team member with edit mints no token for render-table with its own token", async () => {
      const r = await withToken(
        kubeconfigs.dev,
        "POST",
        `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${SA.render}/token?${DRY}`,
        tokenRequest(),
      );
      refusedBy("token", r);
    });
    it("residual (reads never reach admission): a team member with edit impersonates render-table and lists every namespace's DynamoDBRequests, team-b's included", async () => {
      const r = await withToken(kubeconfigs.dev, "GET", `/apis/${API_GROUP}/v1alpha1/${API_PLURAL}`, undefined, RENDER.user);
      assert.equal(r.status, 200, r.body);
      const items = (JSON.parse(r.body) as { items: { metadata: { namespace: string; name: string } }[] }).items;
      assert.ok(
        items.some((i) => i.metadata.namespace === "team-b" && i.metadata.name === "orders"),
        r.body,
      );
      // Without the impersonation, `edit` in team-a reads nothing across namespaces.
      assert.equal((await withToken(kubeconfigs.dev, "GET", `/apis/${API_GROUP}/v1alpha1/${API_PLURAL}`)).status, 403);
    });
  });

  // Last: nested suites run in order.
  describe("the binding", () => {
    it("without its binding the pods guard refuses nothing: the binding (Deny) enforces it, and `edit` allowed the team all along", async () => {
      const del = await rawRequest(server.kubeconfig, "DELETE", `${BINDINGS}/${PIPELINE_IDENTITY_GUARD_NAMES.pods}`);
      assert.equal(del.status, 200, del.body);
      const steal = CASES.find((c) => c.expect === "podCreate" && c.as === TEAM_USER)!;
      await waitUntil(
        "the team's pod as render-table to be admitted without the binding",
        async () => ((await request(steal)).status === 201 ? true : undefined),
        60_000,
      );
    });
  });
});
