/**
 * The table guard (core/install/table-guard.ts) on a real kube-apiserver: ACK's
 * Table CRD and the guard's ValidatingAdmissionPolicy and binding, then
 * server-side dry runs sent as each identity (impersonated by the admin token).
 * Every identity is first granted RBAC on Tables, so authorization lets each
 * request reach admission and the policy is the only thing that can refuse it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import {
  LOCAL_DIR,
  ackCrdFile,
  applyCrds,
  ensureNamespace,
  rawRequest,
  readManifests,
  startCluster,
  stopCluster,
  toolsPath,
  waitUntil,
} from "../../local-env/index.ts";
import {
  DEFAULT_TABLE_DELETERS,
  DEFAULT_TABLE_WRITERS,
  TABLE_GUARD_NAME,
  serviceAccountUser,
  tableGuard,
  tableGuardMessage,
} from "../../core/install/table-guard.ts";
import { ACK_SERVICE_ACCOUNT, NAMESPACES } from "../../core/install/namespaces.ts";
import { FLUX_APPLIER } from "../../core/install/kratix-objects.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const dir = join(LOCAL_DIR, "table-guard");
const TOOLS = ["etcd", "kube-apiserver", "kube-controller-manager"];
const TABLES = "/apis/dynamodb.services.k8s.aws/v1alpha1";
const NS = "team-a";
/** A Table made before the guard, for the updates and deletes. */
const EXISTING = "platform-orders";
const MESSAGE = tableGuardMessage(DEFAULT_TABLE_WRITERS, DEFAULT_TABLE_DELETERS);

let env: NodeJS.ProcessEnv;
let kubeconfig: string;

/** Who a request is sent as: the kubeconfig's admin token itself, or a user it impersonates. */
interface Identity {
  label: string;
  user?: string;
  groups?: string[];
}
const ADMIN: Identity = { label: "admin (system:masters)" };
const serviceAccount = (namespace: string, name: string): Identity => ({
  label: `${namespace}/${name}`,
  user: serviceAccountUser(namespace, name),
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
});
const user = (name: string): Identity => ({ label: name, user: name, groups: ["system:authenticated"] });

const FLUX = serviceAccount(NAMESPACES.flux, FLUX_APPLIER);
const ACK = serviceAccount(NAMESPACES.ack, ACK_SERVICE_ACCOUNT);
const TEAM = serviceAccount(NS, "default");
const CONTROLLER_MANAGER = [
  user("system:kube-controller-manager"),
  serviceAccount("kube-system", "namespace-controller"),
  serviceAccount("kube-system", "generic-garbage-collector"),
];
const IMPERSONATED = [FLUX, ACK, TEAM, ...CONTROLLER_MANAGER];

/** One raw JSON request as `as`: rawRequest with the Impersonate-User and Impersonate-Group headers. */
const send = (as: Identity, method: string, path: string, body?: unknown, contentType?: string) =>
  rawRequest(kubeconfig, method, path, body, {
    ...(contentType ? { contentType } : {}),
    ...(as.user ? { headers: { "Impersonate-User": as.user, "Impersonate-Group": as.groups ?? [] } } : {}),
  });

const table = (name: string) => ({
  apiVersion: "dynamodb.services.k8s.aws/v1alpha1",
  kind: "Table",
  metadata: { name, namespace: NS },
  spec: {
    tableName: name,
    attributeDefinitions: [{ attributeName: "id", attributeType: "S" }],
    keySchema: [{ attributeName: "id", keyType: "HASH" }],
    billingMode: "PAY_PER_REQUEST",
  },
});

/** The three writes, each a server-side dry run. */
const create = (as: Identity) => send(as, "POST", `${TABLES}/namespaces/${NS}/tables?dryRun=All`, table("adopted-orders"));
const update = (as: Identity) =>
  send(
    as,
    "PATCH",
    `${TABLES}/namespaces/${NS}/tables/${EXISTING}?dryRun=All`,
    {
      metadata: {
        annotations: { "services.k8s.aws/deletion-policy": "delete" },
        finalizers: ["finalizers.dynamodb.services.k8s.aws/Table"],
      },
    },
    "application/merge-patch+json",
  );
const remove = (as: Identity) => send(as, "DELETE", `${TABLES}/namespaces/${NS}/tables/${EXISTING}?dryRun=All`);

type Result = { status: number; body: string };
const ok = (as: Identity, what: string, r: Result) =>
  assert.ok(r.status >= 200 && r.status < 300, `${as.label} should be allowed to ${what}, got ${r.status}: ${r.body}`);
/** Refused by the guard itself: its name and message, not an RBAC refusal. */
function deniedByGuard(as: Identity, what: string, r: Result) {
  assert.equal(r.status, 403, `${as.label} should be refused to ${what}, got ${r.status}: ${r.body}`);
  const message = (JSON.parse(r.body) as { message: string }).message;
  assert.ok(message.includes(`ValidatingAdmissionPolicy '${TABLE_GUARD_NAME}'`), `${as.label} ${what}: not the guard: ${message}`);
  assert.ok(message.includes(MESSAGE), `${as.label} ${what}: not the guard's message: ${message}`);
}

async function post(path: string, body: unknown): Promise<void> {
  const r = await rawRequest(kubeconfig, "POST", path, body);
  assert.equal(r.status, 201, `POST ${path}: ${r.body}`);
}

(SKIP ? describe.skip : describe)("the table guard on a real API server", () => {
  // Inside the suite, so a failed start is reported against it (a top-level hook's failure is not shown).
  before(async () => {
    env = { ...process.env, PATH: await toolsPath(TOOLS) };
    await stopCluster(dir, env);
    kubeconfig = await startCluster(dir, env);
    await applyCrds(kubeconfig, readManifests([ackCrdFile()]));
    await ensureNamespace(kubeconfig, NS);
    // RBAC lets every test identity write Tables, so only the policy can refuse them.
    await post("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "table-guard-test-tables" },
      rules: [
        {
          apiGroups: ["dynamodb.services.k8s.aws"],
          resources: ["tables", "tables/status"],
          verbs: ["get", "list", "create", "update", "patch", "delete"],
        },
      ],
    });
    await post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "table-guard-test-tables" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "table-guard-test-tables" },
      subjects: IMPERSONATED.map((i) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: i.user! })),
    });
    // The Table the updates and deletes aim at, made before the guard exists.
    await post(`${TABLES}/namespaces/${NS}/tables`, table(EXISTING));

    const { policy, binding } = tableGuard();
    await post("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", policy);
    await post("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", binding);
    // The API server loads policies asynchronously: wait until the admin's create is refused.
    await waitUntil(
      "the guard to refuse the admin's create",
      async () => ((await create(ADMIN)).status === 403 ? true : undefined),
      60_000,
    );
  });
  after(async () => {
    if (env) await stopCluster(dir, env);
  });

  it("refuses the cluster admin (system:masters) create, update and delete, with the guard's message", async () => {
    deniedByGuard(ADMIN, "create", await create(ADMIN));
    deniedByGuard(ADMIN, "update", await update(ADMIN));
    deniedByGuard(ADMIN, "delete", await remove(ADMIN));
  });
  it("lets Flux's kustomize-controller create, update and delete (prune) Tables", async () => {
    ok(FLUX, "create", await create(FLUX));
    ok(FLUX, "update", await update(FLUX));
    ok(FLUX, "delete", await remove(FLUX));
  });
  it("lets the ACK controller update a Table's metadata (finalizers, annotations)", async () => {
    ok(ACK, "update", await update(ACK));
  });
  it("refuses an application team's service account create, update and delete", async () => {
    deniedByGuard(TEAM, "create", await create(TEAM));
    deniedByGuard(TEAM, "update", await update(TEAM));
    deniedByGuard(TEAM, "delete", await remove(TEAM));
  });
  it("lets the kube-controller-manager's identities delete Tables, but not create or update them", async () => {
    for (const kcm of CONTROLLER_MANAGER) {
      ok(kcm, "delete", await remove(kcm));
      deniedByGuard(kcm, "create", await create(kcm));
      deniedByGuard(kcm, "update", await update(kcm));
    }
  });
  it("matches tables, not tables/status: status writes (ACK's) are left to RBAC", async () => {
    for (const as of [ACK, TEAM]) {
      const r = await send(
        as,
        "PATCH",
        `${TABLES}/namespaces/${NS}/tables/${EXISTING}/status?dryRun=All`,
        { status: { tableStatus: "ACTIVE" } },
        "application/merge-patch+json",
      );
      ok(as, "patch status", r);
    }
  });
  it("without its binding the policy refuses nothing: the binding (Deny) enforces it, and RBAC allowed the team all along", async () => {
    const del = await rawRequest(
      kubeconfig,
      "DELETE",
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${TABLE_GUARD_NAME}`,
    );
    assert.equal(del.status, 200, del.body);
    await waitUntil(
      "the team's create to be allowed without the binding",
      async () => ((await create(TEAM)).status === 201 ? true : undefined),
      60_000,
    );
  });
});
