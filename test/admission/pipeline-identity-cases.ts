/**
 * The pipeline identity guard (core/install/pipeline-identity-guard.ts), case by case: who
 * sends what, to which object, and which rule (if any) refuses it first. One list for two
 * evaluators, as test/admission/cases.ts is for the table guard (decision 90):
 * test/render/pipeline-identity-guard.test.ts evaluates the rendered CEL on each case, and
 * test/admission/pipeline-identity-guard.test.ts sends each to a real kube-apiserver as the
 * identity it names.
 *
 * The world, in team-a: the Promise's three pipeline service accounts, a pod Kratix's Job made
 * for render-table (PIPELINE_POD), the team's own pod and CronJob, an honest Work and one
 * from before the shape rules (EXISTING).
 */
import {
  KRATIX_MANAGER,
  JOB_CONTROLLERS,
  kratixPipelinePodPrefix,
  pipelineIdentityGuards,
  pipelineIdentityMessages,
  pipelineServiceAccounts,
  POD_NAME_EXTRA,
  type PipelineIdentityRule,
} from "../../core/install/pipeline-identity-guard.ts";
import { NAMESPACES } from "../../core/install/namespaces.ts";
import { serviceAccountUser } from "../../core/install/table-guard.ts";
import { DEFAULT_PROMISE_NAME } from "../../core/kratix/steps.ts";
import { PIPELINES } from "../../core/render/promise.ts";
import type { Identity } from "../helpers/admission-server.ts";

export type { Identity };
export const BREAK_GLASS_USER = "break-glass-ops";
export const NAMESPACE = "team-a";

/** The guards as the test installs them: the platform's defaults and one break-glass user. */
export const GUARDS = pipelineIdentityGuards({ breakGlassUsers: [BREAK_GLASS_USER] });
const MESSAGES = pipelineIdentityMessages({ breakGlassUsers: [BREAK_GLASS_USER] });

/** The installed guard's message for a rule (and a check that some validation has it). */
export function ruleMessage(rule: PipelineIdentityRule): string {
  const m = MESSAGES[rule];
  if (!Object.values(GUARDS).some((g) => g.policy.spec.validations.some((v) => v.message === m)))
    throw new Error(`pipeline-identity-cases.ts: no validation has the message of ${rule}`);
  return m;
}

/** Kratix's names for the Promise's pipelines' service accounts, as Kratix 224e148 makes them (research, section 1.1). */
export const SA = {
  render: `${DEFAULT_PROMISE_NAME}-resource-configure-${PIPELINES.render}`,
  status: `${DEFAULT_PROMISE_NAME}-resource-configure-${PIPELINES.status}`,
  delete: `${DEFAULT_PROMISE_NAME}-resource-delete-${PIPELINES.delete}`,
};

const serviceAccount = (namespace: string, name: string, extra?: Record<string, string[]>): Identity => ({
  label: `${namespace}/${name}${extra ? ` (token bound to pod ${extra[POD_NAME_EXTRA]?.join(",")})` : ""}`,
  user: serviceAccountUser(namespace, name),
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  ...(extra ? { extra } : {}),
});
const user = (name: string, groups: string[] = []): Identity => ({ label: name, user: name, groups: [...groups, "system:authenticated"] });

/** A pod Kratix's Job made for render-table of request `orders` (GenerateObjectName, then the job controller's suffix). */
export const PIPELINE_POD_NAME = `${kratixPipelinePodPrefix()}orders-${PIPELINES.render}-3f2a1-x7k2p`;
export const TEAM_POD_NAME = "app";
const podToken = (pod: string) => ({
  [POD_NAME_EXTRA]: [pod],
  "authentication.kubernetes.io/pod-uid": ["8c4f2b1e-0d7a-4c8e-9f3b-2a6d5e1c7b90"],
});

export const ADMIN: Identity = {
  label: "admin (system:masters)",
  user: "admin",
  groups: ["system:masters", "system:authenticated"],
  admin: true,
};
/** A person on team-a with the built-in `edit` role in team-a. */
export const TEAM_USER = user("team-a-dev", ["team-a"]);
/** The pipeline service accounts impersonated: no extras, as `edit`'s impersonation gives them. */
export const RENDER = serviceAccount(NAMESPACE, SA.render);
export const DELETE = serviceAccount(NAMESPACE, SA.delete);
/** render-table with the extras of a token bound to Kratix's pipeline pod: what the kubelet mounts there. */
export const RENDER_IN_KRATIX_POD = serviceAccount(NAMESPACE, SA.render, podToken(PIPELINE_POD_NAME));
/** render-table with the extras of a token bound to a pod not named as Kratix's. */
export const RENDER_IN_OTHER_POD = serviceAccount(NAMESPACE, SA.render, podToken(TEAM_POD_NAME));
/** table-status with the extras of a token bound to its own Kratix pipeline pod. */
export const TABLE_STATUS_IN_KRATIX_POD = serviceAccount(
  NAMESPACE,
  SA.status,
  podToken(`${kratixPipelinePodPrefix()}orders-${PIPELINES.status}-9c1d4-m2n8q`),
);
/** The job controller: the kube-controller-manager itself, and its own service account (--use-service-account-credentials). */
export const JOB_CONTROLLER = user("system:kube-controller-manager");
export const JOB_CONTROLLER_SA = serviceAccount("kube-system", "job-controller");
export const CRONJOB_CONTROLLER = serviceAccount("kube-system", "cronjob-controller");
export const REPLICASET_CONTROLLER = serviceAccount("kube-system", "replicaset-controller");
export const KRATIX = serviceAccount(NAMESPACES.kratix, "kratix-platform-controller-manager");
/** A kubelet. */
export const NODE = user("system:node:n1", ["system:nodes"]);
export const BREAK_GLASS = user(BREAK_GLASS_USER);
/** Every identity impersonated and granted RBAC on everything the cases do (the team user has only `edit`). */
export const IMPERSONATED = [
  RENDER,
  TABLE_STATUS_IN_KRATIX_POD,
  DELETE,
  JOB_CONTROLLER,
  JOB_CONTROLLER_SA,
  CRONJOB_CONTROLLER,
  REPLICASET_CONTROLLER,
  KRATIX,
  NODE,
  BREAK_GLASS,
];

// The fixture's names are the guard's: a change to either shows here.
for (const [what, ours, theirs] of [
  ["service accounts", Object.values(SA), pipelineServiceAccounts()],
  ["job controllers", [JOB_CONTROLLER.user, JOB_CONTROLLER_SA.user], JOB_CONTROLLERS],
  ["Kratix's manager", [KRATIX.user], [KRATIX_MANAGER]],
] as const)
  if (JSON.stringify(ours) !== JSON.stringify(theirs))
    throw new Error(`pipeline-identity-cases.ts: the guard's ${what} changed: ${theirs.join(", ")}`);

const KRATIX_IMAGE = "registry.example/syntasso/kratix-platform-pipeline-adapter:224e148";
const PIPELINE_IMAGE = "registry.example/kratix-dynamodb-pipeline:1";
const c = (name: string, image: string) => ({ name, image });
const podSpec = (serviceAccountName: string | undefined) => ({
  ...(serviceAccountName ? { serviceAccountName } : {}),
  restartPolicy: "Never",
  containers: [c("main", "busybox:1.36")],
});
/** A pod, with `owner` as its controlling ownerReference. */
function pod(name: string, sa: string | undefined, owner?: { kind: string; apiVersion: string; controller?: boolean }) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: NAMESPACE,
      ...(owner
        ? {
            ownerReferences: [
              { ...owner, name: "owner", uid: "6a1f0c52-7d1e-4f0b-8a55-0c2b9e6d4f11", controller: owner.controller ?? true },
            ],
          }
        : {}),
    },
    spec: podSpec(sa),
  };
}
const JOB_OWNER = { kind: "Job", apiVersion: "batch/v1" };
const job = (name: string, sa: string) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, namespace: NAMESPACE },
  spec: { template: { spec: podSpec(sa) } },
});
const cronJob = (name: string, sa: string) => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name, namespace: NAMESPACE },
  spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: podSpec(sa) } } } },
});
const secret = (name: string, sa: string, type = "kubernetes.io/service-account-token") => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: NAMESPACE, annotations: { "kubernetes.io/service-account.name": sa } },
  type,
});
/** md5(".") (Kratix's default workload group's id, work_creator.go). */
const DEFAULT_GROUP_ID = "5058f1af8388633f609cadb75a75dc9d";
/** gzip+base64 of a small YAML document: the content is opaque to the guard. */
const CONTENT =
  "H4sIAAAAAAAAAxWMSwqEMBAF9zlFH2CMuJOcQ9y/2A0GzYd0UIbBu5tZVkEVSlilasjJEX8TYmZvVeoVNlF7zGpx63hNOMuOyRwhsaMF/hQTpYHR4OjXO3GUK/fVh/6kBVtXTRAH/5gXLZaypmcAAAA=";
/** A Work as Kratix's work-creator writes it for render-table of request `orders` (fields overridable). */
function work(
  name: string,
  o: { namespace?: string; resourceName?: string; promiseName?: string; id?: string; filepath?: string } = {},
): Record<string, unknown> {
  return {
    apiVersion: "platform.kratix.io/v1alpha1",
    kind: "Work",
    metadata: {
      name,
      namespace: o.namespace ?? NAMESPACE,
      labels: {
        "kratix.io/pipeline-name": PIPELINES.render,
        "kratix.io/promise-name": DEFAULT_PROMISE_NAME,
        "kratix.io/work-type": "resource",
      },
    },
    spec: {
      promiseName: o.promiseName ?? DEFAULT_PROMISE_NAME,
      resourceName: o.resourceName ?? "orders",
      workloadGroups: [
        { directory: ".", id: o.id ?? DEFAULT_GROUP_ID, workloads: [{ content: CONTENT, filepath: o.filepath ?? "dynamodb-table.yaml" }] },
      ],
    },
  };
}

/** Objects made before the guards: updates, deletes, exec and tokens aim at these. */
export const EXISTING = {
  /** The pod Kratix's render-table Job made (created here by the admin, before the guards; no node runs it). */
  pipelinePod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: PIPELINE_POD_NAME, namespace: NAMESPACE, labels: { "kratix.io/promise-name": DEFAULT_PROMISE_NAME } },
    spec: {
      serviceAccountName: SA.render,
      restartPolicy: "OnFailure",
      initContainers: [c("reader", KRATIX_IMAGE), c(PIPELINES.render, PIPELINE_IMAGE), c("work-writer", KRATIX_IMAGE)],
      containers: [c("status-writer", KRATIX_IMAGE)],
    },
  },
  /** The team's own pod, as its namespace's default service account. */
  teamPod: pod(TEAM_POD_NAME, undefined),
  /** The team's own CronJob. */
  nightly: cronJob("nightly", "default"),
  /** The Work Kratix's render-table pod wrote. */
  honestWork: work(`${DEFAULT_PROMISE_NAME}-orders-${PIPELINES.render}-8d2c1`),
  /** A Work from before the shape rules, with an id Kratix never makes. */
  legacyWork: work(`${DEFAULT_PROMISE_NAME}-legacy-${PIPELINES.render}-1b9e4`, { id: "legacy" }),
};
export type ExistingName = keyof typeof EXISTING;

/** The resources the cases touch: their API group, version, plural and collection path in team-a. */
export const RESOURCES = {
  pods: { group: "", version: "v1", path: "/api/v1" },
  jobs: { group: "batch", version: "v1", path: "/apis/batch/v1" },
  cronjobs: { group: "batch", version: "v1", path: "/apis/batch/v1" },
  secrets: { group: "", version: "v1", path: "/api/v1" },
  works: { group: "platform.kratix.io", version: "v1alpha1", path: "/apis/platform.kratix.io/v1alpha1" },
} as const;
export type Resource = keyof typeof RESOURCES;
export const resourceOf = (kind: string): Resource =>
  ({ Pod: "pods", Job: "jobs", CronJob: "cronjobs", Secret: "secrets", Work: "works" })[kind] as Resource;

/**
 * What is sent. Patches: "merge" is a JSON merge patch (RFC 7386); "images" and "ephemeral" are
 * strategic merge patches of containers by name, so the server keeps what it added (the token
 * volume's mounts), and the simulation applies them to the existing pod the same way.
 */
export type Operation =
  | { kind: "create"; object: Record<string, unknown> }
  | { kind: "merge"; target: ExistingName; patch: Record<string, unknown> }
  | { kind: "image"; target: ExistingName; list: "containers" | "initContainers"; container: string; image: string }
  | { kind: "ephemeral"; target: ExistingName }
  | { kind: "delete"; target: ExistingName }
  | { kind: "connect"; pod: string; sub: "exec" | "attach" }
  | { kind: "token"; serviceAccount: string; boundPod?: string };

export interface Case {
  name: string;
  as: Identity;
  op: Operation;
  /** "allowed", or the rule that refuses first. */
  expect: "allowed" | PipelineIdentityRule;
}

export const EPHEMERAL_CONTAINER = { name: "debugger", image: "busybox:1.36" };

/** The case builders: one per kind of operation, so each case reads as who, what and the answer. */
type Expect = Case["expect"];
const make = (name: string, as: Identity, op: Operation, expect: Expect): Case => ({ name, as, op, expect });
const create = (name: string, as: Identity, object: Record<string, unknown>, expect: Expect): Case =>
  make(name, as, { kind: "create", object }, expect);
const merge = (name: string, as: Identity, target: ExistingName, patch: Record<string, unknown>, expect: Expect): Case =>
  make(name, as, { kind: "merge", target, patch }, expect);
const ephemeral = (name: string, as: Identity, target: ExistingName, expect: Expect): Case =>
  make(name, as, { kind: "ephemeral", target }, expect);
const remove = (name: string, as: Identity, target: ExistingName, expect: Expect): Case =>
  make(name, as, { kind: "delete", target }, expect);
const image = (name: string, as: Identity, swap: Omit<Extract<Operation, { kind: "image" }>, "kind">, expect: Expect): Case =>
  make(name, as, { kind: "image", ...swap }, expect);
const connect = (name: string, as: Identity, pod: string, sub: "exec" | "attach", expect: Expect): Case =>
  make(name, as, { kind: "connect", pod, sub }, expect);
const token = (name: string, as: Identity, serviceAccount: string, expect: Expect, boundPod?: string): Case =>
  make(name, as, { kind: "token", serviceAccount, ...(boundPod ? { boundPod } : {}) }, expect);

export const CASES: Case[] = [
  // Pods as a pipeline service account.
  create("the team's pod as render-table", TEAM_USER, pod("steal", SA.render), "podCreate"),
  create("the team's pod as report-delete", TEAM_USER, pod("steal", SA.delete), "podCreate"),
  create(
    "the team's pod naming render-table only in the deprecated spec.serviceAccount (the server copies it to serviceAccountName)",
    TEAM_USER,
    { ...pod("steal", undefined), spec: { ...podSpec(undefined), serviceAccount: SA.render } },
    "podCreate",
  ),
  create("the team's pod as render-table, claiming a Job as its controller", TEAM_USER, pod("steal", SA.render, JOB_OWNER), "podCreate"),
  create("the team's pod as its default service account", TEAM_USER, pod("mine", undefined), "allowed"),

  ...[JOB_CONTROLLER, JOB_CONTROLLER_SA].flatMap((jc) => [
    create(`${jc.label}'s pod as render-table for the Job that controls it`, jc, pod("run", SA.render, JOB_OWNER), "allowed"),
    create(`${jc.label}'s pod as render-table with no owner`, jc, pod("run", SA.render), "podCreate"),
    create(
      `${jc.label}'s pod as render-table owned by a Job that does not control it`,
      jc,
      pod("run", SA.render, { ...JOB_OWNER, controller: false }),
      "podCreate",
    ),
  ]),
  create(
    "the replicaset controller's pod as render-table (a team's Deployment)",
    REPLICASET_CONTROLLER,
    pod("rs", SA.render, { kind: "ReplicaSet", apiVersion: "apps/v1" }),
    "podCreate",
  ),
  create("Kratix's own pod as render-table (Kratix makes Jobs, not pods)", KRATIX, pod("k", SA.render, JOB_OWNER), "podCreate"),
  create("the break-glass user's pod as render-table", BREAK_GLASS, pod("bg", SA.render), "podCreate"),
  image(
    "the team swaps the work-writer's image in Kratix's pipeline pod",
    TEAM_USER,
    { target: "pipelinePod", list: "initContainers", container: "work-writer", image: "attacker.example/writer:1" },
    "podImage",
  ),
  image(
    "the team swaps the status-writer's image in Kratix's pipeline pod",
    TEAM_USER,
    { target: "pipelinePod", list: "containers", container: "status-writer", image: "attacker.example/status:1" },
    "podImage",
  ),
  merge(
    "the team labels Kratix's pipeline pod",
    TEAM_USER,
    "pipelinePod",
    { metadata: { labels: { "team.example/seen": "yes" } } },
    "allowed",
  ),
  image(
    "the team changes its own pod's image",
    TEAM_USER,
    { target: "teamPod", list: "containers", container: "main", image: "busybox:1.37" },
    "allowed",
  ),
  ephemeral("the admin adds an ephemeral container to Kratix's pipeline pod", ADMIN, "pipelinePod", "ephemeral"),
  ephemeral("the break-glass user adds an ephemeral container to Kratix's pipeline pod", BREAK_GLASS, "pipelinePod", "allowed"),
  ephemeral("the admin adds an ephemeral container to the team's pod", ADMIN, "teamPod", "allowed"),

  // exec and attach.
  connect("the team execs into Kratix's pipeline pod", TEAM_USER, PIPELINE_POD_NAME, "exec", "exec"),
  connect("the team attaches to Kratix's pipeline pod", TEAM_USER, PIPELINE_POD_NAME, "attach", "exec"),
  connect("the admin execs into Kratix's pipeline pod", ADMIN, PIPELINE_POD_NAME, "exec", "exec"),
  connect("the team execs into its own pod", TEAM_USER, TEAM_POD_NAME, "exec", "allowed"),
  connect("the break-glass user execs into Kratix's pipeline pod", BREAK_GLASS, PIPELINE_POD_NAME, "exec", "allowed"),

  // Tokens.
  token("the team mints a token for render-table", TEAM_USER, SA.render, "token"),
  token(
    "the team mints a token for render-table bound to Kratix's pipeline pod (it would carry the pod's name)",
    TEAM_USER,
    SA.render,
    "token",
    PIPELINE_POD_NAME,
  ),
  token("the team mints a token for table-status", TEAM_USER, SA.status, "token"),
  token("the team mints a token for its default service account", TEAM_USER, "default", "allowed"),
  token("a kubelet (system:nodes) requests render-table's token for Kratix's pipeline pod", NODE, SA.render, "allowed", PIPELINE_POD_NAME),
  token("the break-glass user mints a token for render-table", BREAK_GLASS, SA.render, "token"),
  create("the team's token Secret for render-table", TEAM_USER, secret("steal", SA.render), "tokenSecret"),
  create("the team's token Secret for report-delete", TEAM_USER, secret("steal", SA.delete), "tokenSecret"),
  create("the team's token Secret for its default service account", TEAM_USER, secret("mine", "default"), "allowed"),
  create(
    "the team's Opaque Secret annotated with render-table (no token controller fills it)",
    TEAM_USER,
    secret("note", SA.render, "Opaque"),
    "allowed",
  ),

  // Jobs and CronJobs.
  create("the team's Job as render-table", TEAM_USER, job("steal", SA.render), "job"),
  create("the cronjob controller's Job as render-table", CRONJOB_CONTROLLER, job("cron", SA.render), "job"),
  create(
    "the kube-controller-manager's Job as render-table (its cronjob controller without service account credentials)",
    JOB_CONTROLLER,
    job("cron", SA.render),
    "job",
  ),
  create("Kratix's Job as render-table", KRATIX, job("kratix-run", SA.render), "allowed"),
  create("the team's Job as its default service account", TEAM_USER, job("mine", "default"), "allowed"),
  create("the team's CronJob as render-table", TEAM_USER, cronJob("steal", SA.render), "cronJob"),
  create("Kratix's CronJob as render-table (Kratix makes none)", KRATIX, cronJob("k", SA.render), "cronJob"),
  create("the team's CronJob as its default service account", TEAM_USER, cronJob("mine", "default"), "allowed"),
  merge(
    "the team switches its CronJob to render-table",
    TEAM_USER,
    "nightly",
    { spec: { jobTemplate: { spec: { template: { spec: { serviceAccountName: SA.render } } } } } },
    "cronJob",
  ),

  // Works: who writes them.
  create("render-table impersonated (no pod) writes an honest Work", RENDER, work("imp"), "workIdentity"),
  create("report-delete impersonated writes a Work", DELETE, work("imp"), "workIdentity"),
  merge("render-table impersonated updates the honest Work", RENDER, "honestWork", { metadata: { labels: { x: "y" } } }, "workIdentity"),
  remove("render-table impersonated deletes the honest Work", RENDER, "honestWork", "workIdentity"),
  create(
    "render-table with a token bound to a pod not named as Kratix's writes a Work",
    RENDER_IN_OTHER_POD,
    work("other-pod"),
    "workIdentity",
  ),
  create("render-table in Kratix's pipeline pod writes an honest Work", RENDER_IN_KRATIX_POD, work("honest"), "allowed"),
  merge(
    "render-table in Kratix's pipeline pod updates the honest Work's content",
    RENDER_IN_KRATIX_POD,
    "honestWork",
    { spec: { workloadGroups: [{ directory: ".", id: DEFAULT_GROUP_ID, workloads: [{ content: CONTENT, filepath: "table-v2.yaml" }] }] } },
    "allowed",
  ),
  create("table-status in Kratix's pipeline pod writes an honest Work", TABLE_STATUS_IN_KRATIX_POD, work("status"), "allowed"),
  merge("Kratix's manager labels the honest Work", KRATIX, "honestWork", { metadata: { labels: { "kratix.io/seen": "yes" } } }, "allowed"),

  // Works: their shape (from Kratix's pod identity, so only the shape rule can refuse): what, the Work, the rule.
  ...(
    [
      [
        "a Work whose resourceName climbs into team-b's folder",
        "rn",
        { resourceName: "../../team-b/aws-dynamodb-kratix/orders" },
        "workResourceName",
      ],
      ["a Work with an empty resourceName (the dependencies folder)", "rn-empty", { resourceName: "" }, "workResourceName"],
      ["a Work whose resourceName is '..'", "rn-dots", { resourceName: ".." }, "workResourceName"],
      ["a Work whose promiseName has a '/'", "pn", { promiseName: "../x" }, "workPromiseName"],
      ["a Work whose workload group id is not an MD5 digest", "id", { id: "../..x" }, "workGroupId"],
      [
        "a Work whose filepath climbs out of its folder",
        "fp",
        { filepath: "../../../../../team-b/aws-dynamodb-kratix/evil/render-table/5058f/t.yaml" },
        "workFilepath",
      ],
      ["a Work whose filepath has a '..' segment inside", "fp-mid", { filepath: "a/../../b.yaml" }, "workFilepath"],
      ["a Work whose filepath is absolute", "fp-abs", { filepath: "/etc/t.yaml" }, "workFilepath"],
      ["a Work whose filepath has dots that are no segment", "fp-dots", { filepath: "a..b/t..yaml" }, "allowed"],
    ] as const
  ).map(([name, label, fields, expect]) => create(name, RENDER_IN_KRATIX_POD, work(label, fields), expect)),
  create(
    "Kratix's Promise-level Work in its own namespace, with no resourceName",
    KRATIX,
    work("deps", { namespace: NAMESPACES.kratix, resourceName: "" }),
    "allowed",
  ),
  merge(
    "Kratix's manager labels a Work from before the shape rules (they ratchet)",
    KRATIX,
    "legacyWork",
    { metadata: { labels: { "kratix.io/seen": "yes" } } },
    "allowed",
  ),
  merge(
    "Kratix's manager changes the content of a Work from before the shape rules",
    KRATIX,
    "legacyWork",
    { spec: { resourceName: "legacy" } },
    "workGroupId",
  ),
];
