/**
 * TEST DOUBLE, never shipped: plays two documented behaviours of current Kratix that
 * v0.125.0 (the only Kratix the Go module proxy serves, so the one the local
 * environment runs) does not have (docs/decisions.md, decision 23):
 *
 * 1. Pipeline permissions. Current Kratix grants a pipeline's service account the
 *    `rbac.permissions` its Promise declares; v0.125.0 ignores them, so our status
 *    step could not read the ACK Table. The double gives each Promise's resource
 *    pipeline service account (`<promise>-resource-pipeline`, in every namespace
 *    Kratix made one) exactly those permissions: a ClusterRole with the declared
 *    rules, bound by a RoleBinding in that namespace (namespace-scoped, as Kratix does),
 *    and the rules with `resourceNamespace: "*"` in a second ClusterRole bound by a
 *    ClusterRoleBinding (cluster-wide, as Kratix does).
 *
 * 2. retryAfter. Current Kratix reruns a resource's workflow after the `retryAfter`
 *    its pipeline writes to /kratix/metadata/workflow-control.yaml; our status step
 *    writes one while the table is not yet ACTIVE and synced. v0.125.0 ignores the
 *    file, so the status step would run once (before Flux has even applied the Table)
 *    and the ARN would never come back. The double reruns the workflow the way
 *    v0.125.0 offers: the `kratix.io/manual-reconciliation` label, which Kratix
 *    removes when it starts the run. It acts only on requests whose last run
 *    completed (PipelineCompleted True: a failed run of an invalid request is not
 *    retried) and whose status is not ready for the current generation
 *    (status.readyGeneration, written by the status step), backing off per request
 *    and generation from 2 s to 10 s instead of the step's own intervals, so the
 *    local loop closes in seconds; but when ACK has given up on the Table
 *    (ACK.Terminal) or another request owns the table name (status.reason
 *    TableNameTaken) it waits as long as the status step asks (RETRY.terminal, 5 min),
 *    so a refused table is not retried in a loop, and an invalid request (status.reason
 *    InvalidRequest for this generation, where the step asks for no retry) is left alone.
 *
 *   node test/doubles/kratix-skew-double.ts --kubeconfig FILE
 */
import { rawRequest, sleep } from "../../local-env/kube.ts";
import { API_GROUP, API_PLURAL, API_VERSION } from "../../core/api/rules.ts";
import { RETRY } from "../../core/kratix/steps.ts";

export const MANUAL_RECONCILIATION_LABEL = "kratix.io/manual-reconciliation";
const FIELD_MANAGER = "kratix-skew-double";
const FIRST_DELAY_MS = 2_000;
const MAX_DELAY_MS = 10_000;

interface Request {
  metadata: { name: string; namespace: string; uid: string; generation?: number; labels?: Record<string, string> };
  status?: {
    readyGeneration?: number;
    reason?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}
/** A Kratix pipeline permission: a rule, bound in the request's namespace or, with "*", cluster-wide. */
type Permission = PolicyRule & { resourceNamespace?: string };

interface Promise_ {
  metadata: { name: string };
  spec?: { workflows?: { resource?: Record<string, { spec?: { rbac?: { permissions?: Permission[] } } }[]> } };
}

/** A Go duration of whole units ("15s", "5m") in milliseconds. */
const durationMs = (d: string) => Number(d.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000 }[d.slice(-1) as "s" | "m" | "h"];

/** How long the status step asks Kratix to wait when ACK has given up on the Table (ACK.Terminal). */
export const TERMINAL_DELAY_MS = durationMs(RETRY.terminal);

/**
 * Whether a request's workflow should run again now (pure: the tests call it); `floorMs`
 * is the least wait, TERMINAL_DELAY_MS when ACK has given up on its Table, as the status
 * step's own retryAfter says.
 */
export function rerunDue(r: Request, attempts: number, now: number, floorMs = 0): boolean {
  if (r.metadata.labels?.[MANUAL_RECONCILIATION_LABEL]) return false; // already asked
  if (r.status?.readyGeneration !== undefined && r.status.readyGeneration === r.metadata.generation) return false;
  // The step asked for no retry: this generation of the request is invalid, and stays so.
  if (r.status?.reason === "InvalidRequest" && r.status.observedGeneration === r.metadata.generation) return false;
  if (r.status?.reason === "TableNameTaken" || r.status?.reason === "AdoptionNotApproved") floorMs = Math.max(floorMs, TERMINAL_DELAY_MS);
  if (!r.status?.conditions?.some((c) => c.type === "PipelineCompleted" && c.status === "True")) return false;
  return now - completedAt(r) >= Math.max(floorMs, Math.min(FIRST_DELAY_MS * 2 ** attempts, MAX_DELAY_MS));
}

/** The rules a Promise's resource pipelines declare (pure): those bound per namespace, and those bound cluster-wide ("*"). */
export function declaredPermissions(p: Promise_): { namespaced: PolicyRule[]; clusterWide: PolicyRule[] } {
  const all = Object.values(p.spec?.workflows?.resource ?? {})
    .flat()
    .flatMap((pipeline) => pipeline.spec?.rbac?.permissions ?? []);
  const rule = (r: Permission): PolicyRule => ({ apiGroups: r.apiGroups ?? [""], resources: r.resources ?? [], verbs: r.verbs });
  return {
    namespaced: all.filter((r) => r.resourceNamespace === undefined).map(rule),
    clusterWide: all.filter((r) => r.resourceNamespace === "*").map(rule),
  };
}

const apply = (kubeconfig: string, path: string, body: unknown) =>
  rawRequest(kubeconfig, "PATCH", `${path}?fieldManager=${FIELD_MANAGER}&force=true`, body, {
    contentType: "application/apply-patch+yaml",
  });
/** The name the API server records as this double's manager (managedFields) for merge patches. */
const AS_DOUBLE = { "user-agent": FIELD_MANAGER };

async function list<T>(kubeconfig: string, path: string): Promise<T[]> {
  const res = await rawRequest(kubeconfig, "GET", path).catch(() => undefined);
  return res?.status === 200 ? (JSON.parse(res.body) as { items: T[] }).items : [];
}

/** Applies one RBAC object; true when the API server took it. */
async function applied(kubeconfig: string, path: string, body: unknown): Promise<boolean> {
  const res = await apply(kubeconfig, path, body).catch(() => undefined);
  return res?.status === 200 || res?.status === 201;
}

/** Grants each Promise's resource pipeline service accounts the permissions the Promise declares. */
async function grantPipelinePermissions(kubeconfig: string, granted: Set<string>, log: (line: string) => void): Promise<void> {
  const RBAC = "/apis/rbac.authorization.k8s.io/v1";
  const promises = await list<Promise_>(kubeconfig, "/apis/platform.kratix.io/v1alpha1/promises");
  for (const p of promises) {
    const { namespaced, clusterWide } = declaredPermissions(p);
    const sa = `${p.metadata.name}-resource-pipeline`;
    const roles = [
      { role: `${FIELD_MANAGER}-${p.metadata.name}`, rules: namespaced, cluster: false },
      { role: `${FIELD_MANAGER}-${p.metadata.name}-cluster`, rules: clusterWide, cluster: true },
    ].filter((r) => r.rules.length > 0);
    const accounts = await list<{ metadata: { namespace: string } }>(
      kubeconfig,
      `/api/v1/serviceaccounts?fieldSelector=metadata.name=${sa}`,
    );
    for (const { role, rules, cluster } of roles) {
      const key = `${role}:${JSON.stringify(rules)}`;
      if (!granted.has(key)) {
        if (
          !(await applied(kubeconfig, `${RBAC}/clusterroles/${role}`, {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: role },
            rules,
          }))
        )
          continue;
        granted.add(key);
      }
      const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role };
      const subjects = accounts.map(({ metadata }) => ({ kind: "ServiceAccount", name: sa, namespace: metadata.namespace }));
      if (cluster) {
        // One ClusterRoleBinding naming every namespace's pipeline service account.
        const bindingKey = `cluster/${role}:${JSON.stringify(subjects)}`;
        if (subjects.length === 0 || granted.has(bindingKey)) continue;
        const body = {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: role },
          roleRef,
          subjects,
        };
        if (await applied(kubeconfig, `${RBAC}/clusterrolebindings/${role}`, body)) {
          granted.add(bindingKey);
          log(
            `granted ${subjects.map((s) => `${s.namespace}/${sa}`).join(", ")} cluster-wide the permissions Promise ${p.metadata.name} declares with resourceNamespace "*"`,
          );
        }
        continue;
      }
      for (const subject of subjects) {
        const bindingKey = `${subject.namespace}/${role}`;
        if (granted.has(bindingKey)) continue;
        const body = {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: role, namespace: subject.namespace },
          roleRef,
          subjects: [subject],
        };
        if (await applied(kubeconfig, `${RBAC}/namespaces/${subject.namespace}/rolebindings/${role}`, body)) {
          granted.add(bindingKey);
          log(`granted ${subject.namespace}/${sa} the permissions Promise ${p.metadata.name} declares`);
        }
      }
    }
  }
}

/** Since when the request's ACK Table (same namespace and name) carries ACK.Terminal True, if it does. */
async function terminalSince(kubeconfig: string, namespace: string, name: string): Promise<number | undefined> {
  const res = await rawRequest(kubeconfig, "GET", `/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/${namespace}/tables/${name}`).catch(
    () => undefined,
  );
  if (res?.status !== 200) return undefined;
  const table = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } };
  const c = table.status?.conditions?.find((x) => x.type === "ACK.Terminal" && x.status === "True");
  return c ? Date.parse(c.lastTransitionTime ?? "1970-01-01T00:00:00Z") : undefined;
}

/** When the request's last workflow run completed (0 if none has). */
function completedAt(r: Request): number {
  const done = r.status?.conditions?.find((c) => c.type === "PipelineCompleted" && c.status === "True");
  return done?.lastTransitionTime ? Date.parse(done.lastTransitionTime) : 0;
}

/** Marks for a rerun the requests whose status is not ready for their generation. */
async function rerunUnready(kubeconfig: string, attempts: Map<string, number>, log: (line: string) => void): Promise<void> {
  for (const r of await list<Request>(kubeconfig, `/apis/${API_GROUP}/${API_VERSION}/${API_PLURAL}`)) {
    const key = `${r.metadata.uid}/${r.metadata.generation}`;
    const n = attempts.get(key) ?? 0;
    if (!rerunDue(r, n, Date.now())) continue;
    // ACK gave up on the Table and the last run (after that) has reported it: the status step
    // then asks for 5 minutes, so no quick reruns.
    const gaveUp = await terminalSince(kubeconfig, r.metadata.namespace, r.metadata.name);
    if (gaveUp !== undefined && completedAt(r) > gaveUp && !rerunDue(r, n, Date.now(), TERMINAL_DELAY_MS)) continue;
    const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${r.metadata.namespace}/${API_PLURAL}/${r.metadata.name}`;
    const patch = { metadata: { labels: { [MANUAL_RECONCILIATION_LABEL]: "true" } } };
    const res = await rawRequest(kubeconfig, "PATCH", path, patch, {
      contentType: "application/merge-patch+json",
      headers: AS_DOUBLE,
    }).catch(() => undefined);
    if (res?.status === 200) {
      attempts.set(key, n + 1);
      log(`rerun ${r.metadata.namespace}/${r.metadata.name} (generation ${r.metadata.generation}, attempt ${n + 1})`);
    }
  }
}

export function runKratixSkewDouble(kubeconfig: string, log: (line: string) => void = () => undefined): { stop: () => Promise<void> } {
  const attempts = new Map<string, number>();
  const granted = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await grantPipelinePermissions(kubeconfig, granted, log);
      await rerunUnready(kubeconfig, attempts, log);
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf("--kubeconfig");
  const kubeconfig = i > 0 ? process.argv[i + 1] : undefined;
  if (!kubeconfig) {
    console.error("usage: node test/doubles/kratix-skew-double.ts --kubeconfig FILE");
    process.exit(2);
  }
  const double = runKratixSkewDouble(kubeconfig, (line) => console.log(`[kratix-skew-double] ${new Date().toISOString()} ${line}`));
  const stop = () => void double.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
