/**
 * The platform's admission guards (core/install/table-guard.ts), case by case: who sends
 * what, to which object, and which rule (if any) refuses it. One list for two tests:
 * test/render/table-guard.test.ts evaluates the rendered policies' CEL on each case (fast, no
 * server), and test/admission/table-guard.test.ts sends each case to a real kube-apiserver
 * as the identity it names. So the simulation and the API server are held to one answer.
 *
 * The world: namespaces team-a (approves adopting three table names) and team-b (approves
 * none); Tables made before the guard existed (EXISTING); the platform's prefix `platform-`.
 */
import { planTable } from "../../core/api/plan.ts";
import type { Identity } from "../helpers/admission-server.ts";

import type { DynamoDBRequestSpec } from "../../core/api/types.ts";
import { ADOPTABLE_TABLES_ANNOTATION } from "../../core/kratix/adoption.ts";
import { DEFAULT_PROMISE_NAME } from "../../core/kratix/steps.ts";
import { RELEASED_ANNOTATION } from "../../core/kratix/release.ts";
import { PIPELINES, resourcePipelineName } from "../../core/render/promise.ts";
import { FLUX_APPLIER } from "../../core/install/kratix-objects.ts";
import { ACK_SERVICE_ACCOUNT, NAMESPACES } from "../../core/install/namespaces.ts";
import {
  ACK_ADOPTED_ANNOTATION,
  ACK_TABLE_CRD_NAME,
  PROMISE_CRD_NAME,
  ACK_TABLE_FINALIZER,
  API_RULE_MESSAGES,
  DEFAULT_REQUEST_CRD_DELETERS,
  DEFAULT_TABLE_CONTROLLERS,
  DEFAULT_TABLE_DELETERS,
  DEFAULT_TABLE_PRUNERS,
  DEFAULT_TABLE_WRITERS,
  REQUEST_CRD_NAME,
  TABLE_RULE_MESSAGES,
  apiGuard,
  kratixPipelinePodPrefix,
  POD_NAME_EXTRA,
  releasePipelineServiceAccount,
  releaserDescription,
  serviceAccountUser,
  tableGuard,
  tableGuardMessage,
} from "../../core/install/table-guard.ts";
import {
  ACK_ADOPTION_FIELDS_ANNOTATION,
  ACK_ADOPTION_POLICY_ANNOTATION,
  ACK_DELETION_POLICY_ANNOTATION,
  ACK_REGION_ANNOTATION,
  REQUEST_LABELS,
  renderAckTable,
  type AckTable,
} from "../../core/render/ack-table.ts";

export const PREFIX = "platform-";
export const REGION = "us-west-2";
export const BREAK_GLASS_USER = "break-glass-ops";

/** The guards as the test installs them: the platform's defaults, the prefix and one break-glass user. */
export const GUARDS = {
  table: tableGuard({ tableNamePrefix: PREFIX }),
  api: apiGuard({ breakGlassUsers: [BREAK_GLASS_USER] }),
};

/** Who a request is sent as: the kubeconfig's admin token itself (username `admin`, group system:masters), or a user it impersonates. */
export type { Identity };

const serviceAccount = (namespace: string, name: string, pod?: string): Identity => ({
  label: `${namespace}/${name}${pod ? ` (token bound to pod ${pod})` : ""}`,
  user: serviceAccountUser(namespace, name),
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  ...(pod ? { extra: { [POD_NAME_EXTRA]: [pod] } } : {}),
});
const user = (name: string, groups: string[] = []): Identity => ({ label: name, user: name, groups: [...groups, "system:authenticated"] });

export const ADMIN: Identity = {
  label: "admin (system:masters)",
  user: "admin",
  groups: ["system:masters", "system:authenticated"],
  admin: true,
};
export const FLUX = serviceAccount(NAMESPACES.flux, FLUX_APPLIER);
export const ACK = serviceAccount(NAMESPACES.ack, ACK_SERVICE_ACCOUNT);
/** A person on team-a with the built-in `edit` role in team-a. */
export const TEAM_USER = user("team-a-dev", ["team-a"]);
/** A team's workload: its namespace's default service account. */
export const TEAM_SA = serviceAccount("team-a", "default");
export const CONTROLLER_MANAGER = [
  user("system:kube-controller-manager"),
  serviceAccount("kube-system", "namespace-controller"),
  serviceAccount("kube-system", "generic-garbage-collector"),
];
export const KRATIX = serviceAccount(NAMESPACES.kratix, "kratix-platform-controller-manager");
export const BREAK_GLASS = user(BREAK_GLASS_USER);
/** A Kratix pipeline pod's name (its Job `kratix-<promise>-<request>-<namespace>-<pipeline>-<5>`, then `-<5>`). */
const kratixPod = (request: string, namespace: string, pipeline: string) =>
  `${kratixPipelinePodPrefix()}${request}-${namespace}-${pipeline}-a1b2c-x9y8z`;
/** The Promise's delete pipeline (report-delete) as Kratix runs it for a request in team-a (its pod's token), and in team-b. */
export const DELETE_PIPELINE_A = serviceAccount("team-a", releasePipelineServiceAccount(), kratixPod("orders", "team-a", PIPELINES.delete));
export const DELETE_PIPELINE_B = serviceAccount("team-b", releasePipelineServiceAccount(), kratixPod("orders", "team-b", PIPELINES.delete));
/** team-a's delete pipeline service account impersonated (no extras: what `edit`'s impersonation gives a team), or in a pod not Kratix's. */
export const DELETE_PIPELINE_A_IMPERSONATED = serviceAccount("team-a", releasePipelineServiceAccount());
export const DELETE_PIPELINE_A_OTHER_POD = serviceAccount("team-a", releasePipelineServiceAccount(), "debug-shell");
/** The Promise's render-table pipeline, for a request in team-a (its pod's token). */
export const RENDER_PIPELINE_A = serviceAccount(
  "team-a",
  resourcePipelineName(DEFAULT_PROMISE_NAME, "configure", PIPELINES.render),
  kratixPod("orders", "team-a", PIPELINES.render),
);
/** Every identity the test impersonates (the admin is the token itself). */
export const IMPERSONATED = [
  FLUX,
  ACK,
  TEAM_USER,
  TEAM_SA,
  ...CONTROLLER_MANAGER,
  KRATIX,
  BREAK_GLASS,
  DELETE_PIPELINE_A,
  DELETE_PIPELINE_B,
  DELETE_PIPELINE_A_IMPERSONATED,
  DELETE_PIPELINE_A_OTHER_POD,
  RENDER_PIPELINE_A,
];

// The fixture's identities are the guard's defaults: a change to either shows here.
for (const [what, ours, theirs] of [
  ["writers", [FLUX.user, ACK.user], DEFAULT_TABLE_WRITERS],
  ["controllers", [ACK.user], DEFAULT_TABLE_CONTROLLERS],
  ["pruners", [FLUX.user], DEFAULT_TABLE_PRUNERS],
  ["deleters", CONTROLLER_MANAGER.map((c) => c.user), DEFAULT_TABLE_DELETERS],
  ["request CRD deleters", [KRATIX.user], DEFAULT_REQUEST_CRD_DELETERS],
] as const)
  if (JSON.stringify(ours) !== JSON.stringify(theirs))
    throw new Error(`cases.ts: the guard's default ${what} changed: ${theirs.join(", ")}`);

/** How many names the biggest approval lists (about 200 KB). */
export const BIG_APPROVAL_NAMES = 11_000;

/** The namespaces, as made before the guard. */
export const NAMESPACE_OBJECTS: Record<string, { metadata: { name: string; annotations?: Record<string, string> } }> = {
  "team-a": {
    metadata: {
      name: "team-a",
      // Commas, spaces and a tab: the separators core/kratix/adoption.ts reads.
      annotations: { [ADOPTABLE_TABLES_ANNOTATION]: `${PREFIX}kept, ${PREFIX}other ${PREFIX}third\t${PREFIX}fourth` },
    },
  },
  "team-b": { metadata: { name: "team-b" } },
  // The approval list near the API server's 256 KiB limit on a namespace's annotations: its
  // split stays within the CEL runtime cost budget.
  "team-big": {
    metadata: {
      name: "team-big",
      annotations: {
        [ADOPTABLE_TABLES_ANNOTATION]: [
          ...Array.from({ length: BIG_APPROVAL_NAMES }, (_, i) => `${PREFIX}t${String(i).padStart(6, "0")}`),
          `${PREFIX}last`,
        ].join(", "),
      },
    },
  },
};

const SPEC: DynamoDBRequestSpec = {
  name: "orders",
  region: REGION,
  billingMode: "PAY_PER_REQUEST",
  attributeDefinitions: [{ name: "id", type: "S" }],
  keySchema: [{ attributeName: "id", keyType: "HASH" }],
};

/** The Table the pipeline renders (core/render/ack-table.ts) for a request `name` in `namespace` (of metadata.uid `uid`). */
export function rendered(name: string, namespace: string, spec: Partial<DynamoDBRequestSpec> = {}, uid?: string): AckTable {
  const planned = planTable({ ...SPEC, name, ...spec }, { tableNamePrefix: PREFIX, defaultRegion: REGION });
  if (!planned.plan) throw new Error(`cases.ts: ${JSON.stringify(planned.errors)}`);
  return renderAckTable(planned.plan, { name, namespace, promiseName: DEFAULT_PROMISE_NAME, ...(uid ? { uid } : {}) });
}

const withMeta = (
  t: AckTable,
  meta: { labels?: Record<string, string | null>; annotations?: Record<string, string | null>; finalizers?: string[] },
) => {
  const apply = (into: Record<string, string>, from: Record<string, string | null> = {}) => {
    const out = { ...into };
    for (const [k, v] of Object.entries(from))
      if (v === null) delete out[k];
      else out[k] = v;
    return out;
  };
  return {
    ...t,
    metadata: {
      ...t.metadata,
      labels: apply(t.metadata.labels, meta.labels),
      annotations: apply(t.metadata.annotations, meta.annotations),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
    },
  };
};

/** Tables made before the guard: the updates and deletes aim at these (namespace/name). */
export const EXISTING = {
  /** Managed by ACK (its finalizer), its request live: not released. */
  orders: withMeta(rendered("orders", "team-a", {}, "uid-orders"), { finalizers: [ACK_TABLE_FINALIZER] }),
  /** Managed, and released by its deleted request's delete pipeline. */
  released: withMeta(rendered("released", "team-a", {}, "uid-released"), {
    finalizers: [ACK_TABLE_FINALIZER],
    annotations: { [RELEASED_ANNOTATION]: "uid-released" },
  }),
  /** Managed, released by a deleted request, then published again for the next request of its name. */
  staleRelease: withMeta(rendered("stale-release", "team-a", {}, "uid-next"), {
    finalizers: [ACK_TABLE_FINALIZER],
    annotations: { [RELEASED_ANNOTATION]: "uid-deleted" },
  }),
  /** Managed, from before the request-uid annotation, released. */
  releasedOld: withMeta(rendered("released-old", "team-a"), {
    finalizers: [ACK_TABLE_FINALIZER],
    annotations: { [RELEASED_ANNOTATION]: "uid-old" },
  }),
  /** Not yet managed. */
  fresh: rendered("fresh", "team-a"),
  /** From before the rules: no request labels, no region annotation, a name outside the prefix. */
  legacy: {
    apiVersion: "dynamodb.services.k8s.aws/v1alpha1",
    kind: "Table",
    metadata: { name: "legacy", namespace: "team-a", finalizers: [ACK_TABLE_FINALIZER] },
    spec: {
      tableName: "legacy-table",
      attributeDefinitions: [{ attributeName: "id", attributeType: "S" }],
      keySchema: [{ attributeName: "id", keyType: "HASH" }],
      billingMode: "PAY_PER_REQUEST",
    },
  },
  /** Adopted with an approval team-b no longer gives. */
  keptB: rendered("kept-b", "team-b", { adopt: true }),
};
export type ExistingName = keyof typeof EXISTING;

/** Which rule refuses: a key of TABLE_RULE_MESSAGES, "writers" (the identity rule), or an API guard rule. */
export type TableRule = "writers" | keyof typeof TABLE_RULE_MESSAGES;
export type ApiRule = keyof typeof API_RULE_MESSAGES;

/** The message the installed guards give for a rule. */
export function ruleMessage(rule: TableRule | ApiRule): string {
  const t = GUARDS.table.policy.spec.validations;
  const a = GUARDS.api.policy.spec.validations;
  const table: Record<TableRule, string> = {
    writers: tableGuardMessage(DEFAULT_TABLE_WRITERS, DEFAULT_TABLE_DELETERS, releaserDescription()),
    status: TABLE_RULE_MESSAGES.status(DEFAULT_TABLE_CONTROLLERS),
    marks: TABLE_RULE_MESSAGES.marks(DEFAULT_TABLE_CONTROLLERS),
    release: TABLE_RULE_MESSAGES.release(releaserDescription(), []),
    prune: TABLE_RULE_MESSAGES.prune(DEFAULT_TABLE_PRUNERS),
    namespace: TABLE_RULE_MESSAGES.namespace,
    prefix: TABLE_RULE_MESSAGES.prefix(PREFIX),
    tableNameImmutable: TABLE_RULE_MESSAGES.tableNameImmutable,
    regionImmutable: TABLE_RULE_MESSAGES.regionImmutable,
    adoptionForm: TABLE_RULE_MESSAGES.adoptionForm,
    adoptionApproval: TABLE_RULE_MESSAGES.adoptionApproval,
  };
  const api: Record<ApiRule, string> = {
    promise: API_RULE_MESSAGES.promise(DEFAULT_PROMISE_NAME, [BREAK_GLASS_USER]),
    promiseCrd: API_RULE_MESSAGES.promiseCrd(DEFAULT_PROMISE_NAME, [BREAK_GLASS_USER]),
    requestCrd: API_RULE_MESSAGES.requestCrd([BREAK_GLASS_USER], DEFAULT_REQUEST_CRD_DELETERS),
    tableCrd: API_RULE_MESSAGES.tableCrd([BREAK_GLASS_USER]),
  };
  const m = rule in table ? table[rule as TableRule] : api[rule as ApiRule];
  if (![...t, ...a].some((v) => v.message === m)) throw new Error(`cases.ts: no validation has the message of ${rule}`);
  return m;
}

/** What is sent. Patches are JSON merge patches (RFC 7386) of an EXISTING Table. */
export type Operation =
  | { kind: "create"; table: ReturnType<typeof withMeta> | AckTable | Record<string, unknown> }
  | { kind: "patch"; target: ExistingName; patch: Record<string, unknown> }
  | { kind: "patchStatus"; target: ExistingName; patch: Record<string, unknown> }
  | { kind: "delete"; target: ExistingName }
  | { kind: "deletePromise"; name: string }
  | { kind: "deleteCrd"; name: string };

export interface Case {
  name: string;
  as: Identity;
  op: Operation;
  /** "allowed", or the rule that refuses first (the API server reports the first failed validation). */
  expect: "allowed" | TableRule | ApiRule;
}

const ann = (a: Record<string, string | null>) => ({ metadata: { annotations: a } });
const adoption = (tableName: string, policy = "adopt") => ({
  [ACK_ADOPTION_POLICY_ANNOTATION]: policy,
  [ACK_ADOPTION_FIELDS_ANNOTATION]: JSON.stringify({ tableName }),
});
const good = (name: string, namespace = "team-a") => rendered(name, namespace);
const adopting = (name: string, namespace = "team-a") => rendered(name, namespace, { adopt: true });

const RETAIN_TO_DELETE = ann({ [ACK_DELETION_POLICY_ANNOTATION]: "delete" });

/** The case builders: one per kind of operation, so each case reads as who, what and the answer. */
type Expect = Case["expect"];
const make = (name: string, as: Identity, op: Operation, expect: Expect): Case => ({ name, as, op, expect });
type Patch = Record<string, unknown>;
const create = (name: string, as: Identity, table: Extract<Operation, { kind: "create" }>["table"], expect: Expect): Case =>
  make(name, as, { kind: "create", table }, expect);
const patch = (name: string, as: Identity, target: ExistingName, patch: Patch, expect: Expect): Case =>
  make(name, as, { kind: "patch", target, patch }, expect);
const patchStatus = (name: string, as: Identity, target: ExistingName, patch: Patch, expect: Expect): Case =>
  make(name, as, { kind: "patchStatus", target, patch }, expect);
const remove = (name: string, as: Identity, target: ExistingName, expect: Expect): Case =>
  make(name, as, { kind: "delete", target }, expect);
const deletePromise = (name: string, as: Identity, promise: string, expect: Expect): Case =>
  make(name, as, { kind: "deletePromise", name: promise }, expect);
const deleteCrd = (name: string, as: Identity, crd: string, expect: Expect): Case =>
  make(name, as, { kind: "deleteCrd", name: crd }, expect);

export const TABLE_CASES: Case[] = [
  // Who writes Tables.
  create("the admin's create", ADMIN, good("new"), "writers"),

  patch("the admin's update", ADMIN, "orders", RETAIN_TO_DELETE, "writers"),

  remove("the admin's delete", ADMIN, "orders", "writers"),

  ...[TEAM_USER, TEAM_SA].flatMap((team) => [
    create(`${team.label}'s create`, team, good("new"), "writers"),
    patch(`${team.label}'s update`, team, "orders", RETAIN_TO_DELETE, "writers"),
    remove(`${team.label}'s delete`, team, "orders", "writers"),
  ]),

  create("the break-glass user's create (break glass is for the Promise and CRDs)", BREAK_GLASS, good("new"), "writers"),

  remove("the break-glass user's delete", BREAK_GLASS, "orders", "writers"),

  create("Flux's create of what the pipeline renders", FLUX, good("new"), "allowed"),

  patch("Flux's update of a managed Table", FLUX, "orders", RETAIN_TO_DELETE, "allowed"),

  remove("Flux's delete (prune) of a Table ACK does not manage", FLUX, "fresh", "allowed"),

  patch("ACK's update of a Table's metadata", ACK, "orders", ann({ "services.k8s.aws/late-initialization-attempts": "1" }), "allowed"),

  ...CONTROLLER_MANAGER.flatMap((kcm) => [
    // A Table not released: namespace deletion and garbage collection are not prunes.
    remove(`${kcm.label}'s delete`, kcm, "orders", "allowed"),
    create(`${kcm.label}'s create`, kcm, good("new"), "writers"),
    patch(`${kcm.label}'s update`, kcm, "orders", RETAIN_TO_DELETE, "writers"),
  ]),

  // Release: Flux prunes a Table ACK manages only once its request's delete pipeline released it.
  remove("Flux's delete (prune) of a Table ACK manages whose request was not deleted (a wiped folder)", FLUX, "orders", "prune"),

  remove("Flux's delete (prune) of a released Table", FLUX, "released", "allowed"),

  remove(
    "Flux's delete (prune) of a Table released by a deleted request, now published for the next request of its name",
    FLUX,
    "staleRelease",
    "prune",
  ),

  remove("Flux's delete (prune) of a released Table from before the request-uid annotation", FLUX, "releasedOld", "allowed"),

  patch(
    "the delete pipeline of the Table's namespace marking it released",
    DELETE_PIPELINE_A,
    "orders",
    ann({ [RELEASED_ANNOTATION]: "uid-orders" }),
    "allowed",
  ),

  ...[DELETE_PIPELINE_A_IMPERSONATED, DELETE_PIPELINE_A_OTHER_POD].map((as) =>
    patch(
      `the delete pipeline's service account marking a Table released, not from a Kratix pipeline pod: ${as.label}`,
      as,
      "orders",
      ann({ [RELEASED_ANNOTATION]: "uid-orders" }),
      "writers",
    ),
  ),

  patch(
    "another namespace's delete pipeline marking a Table released",
    DELETE_PIPELINE_B,
    "orders",
    ann({ [RELEASED_ANNOTATION]: "uid-orders" }),
    "writers",
  ),

  patch(
    "the render-table pipeline of the Table's namespace marking it released",
    RENDER_PIPELINE_A,
    "orders",
    ann({ [RELEASED_ANNOTATION]: "uid-orders" }),
    "writers",
  ),

  ...[TEAM_USER, TEAM_SA, ADMIN].map((as) =>
    patch(`${as.label} marking a Table released`, as, "orders", ann({ [RELEASED_ANNOTATION]: "uid-orders" }), "writers"),
  ),

  ...[FLUX, ACK].map((as) =>
    patch(`${as.label} marking a Table released`, as, "orders", ann({ [RELEASED_ANNOTATION]: "uid-orders" }), "release"),
  ),

  create(
    "Flux's create of a Table already marked released",
    FLUX,
    withMeta(good("new"), { annotations: { [RELEASED_ANNOTATION]: "uid-new" } }),
    "release",
  ),

  patch("Flux removing the release mark", FLUX, "released", ann({ [RELEASED_ANNOTATION]: null }), "release"),

  patch("Flux updating a released Table, leaving the mark", FLUX, "released", RETAIN_TO_DELETE, "allowed"),

  patch(
    "the delete pipeline marking a Table released and turning its deletion policy to delete",
    DELETE_PIPELINE_A,
    "orders",
    ann({ [RELEASED_ANNOTATION]: "uid-orders", ...RETAIN_TO_DELETE.metadata.annotations }),
    "writers",
  ),

  patch(
    "the delete pipeline changing a Table's spec",
    DELETE_PIPELINE_A,
    "orders",
    { spec: { deletionProtectionEnabled: true } },
    "writers",
  ),

  patch(
    "the delete pipeline giving a Table an owner (whose deletion would collect it)",
    DELETE_PIPELINE_A,
    "orders",
    { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "bait", uid: "0000" }] } },
    "writers",
  ),

  remove("the delete pipeline deleting a Table", DELETE_PIPELINE_A, "orders", "writers"),

  // Status: ACK's alone.
  patchStatus("ACK's status write", ACK, "orders", { status: { tableStatus: "ACTIVE" } }, "allowed"),

  ...[FLUX, ADMIN, TEAM_USER, BREAK_GLASS].map((as) =>
    patchStatus(
      `${as.label}'s status write`,
      as,
      "orders",
      { status: { ackResourceMetadata: { region: "eu-west-1", ownerAccountID: "999999999999" } } },
      "status",
    ),
  ),

  // ACK's marks of management.
  create("Flux's create of a Table carrying ACK's finalizer", FLUX, withMeta(good("new"), { finalizers: [ACK_TABLE_FINALIZER] }), "marks"),

  patch("Flux adding ACK's finalizer", FLUX, "fresh", { metadata: { finalizers: [ACK_TABLE_FINALIZER] } }, "marks"),

  patch("Flux adding services.k8s.aws/adopted", FLUX, "fresh", ann({ [ACK_ADOPTED_ANNOTATION]: "true" }), "marks"),

  patch(
    "ACK adding its finalizer and services.k8s.aws/adopted",
    ACK,
    "fresh",
    { metadata: { finalizers: [ACK_TABLE_FINALIZER], annotations: { [ACK_ADOPTED_ANNOTATION]: "true" } } },
    "allowed",
  ),

  // The request's namespace.
  create(
    "Flux's create of a Table labelled for another namespace",
    FLUX,
    withMeta(good("new"), { labels: { [REQUEST_LABELS.namespace]: "team-b" } }),
    "namespace",
  ),

  create(
    "Flux's create of a Table without the request-namespace label",
    FLUX,
    withMeta(good("new"), { labels: { [REQUEST_LABELS.namespace]: null } }),
    "namespace",
  ),

  patch(
    "Flux relabelling a Table for another namespace",
    FLUX,
    "orders",
    { metadata: { labels: { [REQUEST_LABELS.namespace]: "team-b" } } },
    "namespace",
  ),

  // The prefix.
  create(
    "Flux's create of a table name outside the prefix",
    FLUX,
    { ...good("new"), spec: { ...good("new").spec, tableName: "new" } },
    "prefix",
  ),

  // Rules ratchet: a Table from before them stays updatable.
  patch("ACK removing its finalizer from a Table from before the rules", ACK, "legacy", { metadata: { finalizers: null } }, "allowed"),

  patch("Flux updating a Table from before the rules", FLUX, "legacy", RETAIN_TO_DELETE, "allowed"),

  patch(
    "Flux labelling a Table from before the rules for another namespace",
    FLUX,
    "legacy",
    { metadata: { labels: { [REQUEST_LABELS.namespace]: "team-b" } } },
    "namespace",
  ),

  patch(
    "Flux labelling a Table from before the rules with its own namespace",
    FLUX,
    "legacy",
    { metadata: { labels: { [REQUEST_LABELS.namespace]: "team-a" } } },
    "allowed",
  ),

  // Table name and region never change.
  patch("Flux renaming the table", FLUX, "orders", { spec: { tableName: `${PREFIX}orders-2` } }, "tableNameImmutable"),

  patch("ACK renaming the table", ACK, "orders", { spec: { tableName: `${PREFIX}orders-2` } }, "tableNameImmutable"),

  patch("Flux moving the table to another region", FLUX, "orders", ann({ [ACK_REGION_ANNOTATION]: "eu-west-1" }), "regionImmutable"),

  patch("ACK moving the table to another region", ACK, "orders", ann({ [ACK_REGION_ANNOTATION]: "eu-west-1" }), "regionImmutable"),

  patch("Flux removing the region annotation", FLUX, "orders", ann({ [ACK_REGION_ANNOTATION]: null }), "regionImmutable"),

  patch(
    "Flux adding a region annotation to a Table that had none",
    FLUX,
    "legacy",
    ann({ [ACK_REGION_ANNOTATION]: REGION }),
    "regionImmutable",
  ),

  // Adoption: only what the namespace approves, only in the platform's form.
  create("Flux's create of an approved adoption (the pipeline's rendering)", FLUX, adopting("kept"), "allowed"),

  create("Flux's create of an adoption approved after a tab", FLUX, adopting("fourth"), "allowed"),

  create("Flux's create of an adoption the namespace does not list", FLUX, adopting("unlisted"), "adoptionApproval"),

  create("Flux's create of an adoption another namespace approved", FLUX, adopting("kept", "team-b"), "adoptionApproval"),

  create(
    "Flux's create of an approved adoption with adopt-or-create",
    FLUX,
    withMeta(adopting("kept"), { annotations: adoption(`${PREFIX}kept`, "adopt-or-create") }),
    "adoptionForm",
  ),

  create(
    "Flux's create whose adoption fields name another approved table",
    FLUX,
    withMeta(adopting("kept"), { annotations: adoption(`${PREFIX}other`) }),
    "adoptionForm",
  ),

  create(
    "Flux's create with adoption fields and no adoption policy",
    FLUX,
    withMeta(adopting("kept"), { annotations: { [ACK_ADOPTION_POLICY_ANNOTATION]: null } }),
    "adoptionForm",
  ),

  create("Flux's create of the last of 11,000 approved adoptions", FLUX, adopting("last", "team-big"), "allowed"),

  create("Flux's create of an adoption 11,000 approvals do not list", FLUX, adopting("absent", "team-big"), "adoptionApproval"),

  patch("Flux adding an unapproved adoption to a Table", FLUX, "orders", ann(adoption(`${PREFIX}orders`)), "adoptionApproval"),

  patch(
    "ACK marking adopted a Table whose approval was withdrawn since",
    ACK,
    "keptB",
    { metadata: { finalizers: [ACK_TABLE_FINALIZER], annotations: { [ACK_ADOPTED_ANNOTATION]: "true" } } },
    "allowed",
  ),

  patch("Flux updating a Table whose approval was withdrawn since", FLUX, "keptB", RETAIN_TO_DELETE, "allowed"),

  patch(
    "Flux pointing a Table's adoption at another table",
    FLUX,
    "keptB",
    ann({ [ACK_ADOPTION_FIELDS_ANNOTATION]: JSON.stringify({ tableName: `${PREFIX}kept` }) }),
    "adoptionForm",
  ),
];

export const OTHER_PROMISE = "another-promise";
export const OTHER_CRD = "widgets.example.kratix.io";

export const API_CASES: Case[] = [
  ...[ADMIN, TEAM_USER, FLUX, ACK].flatMap((as) => [
    deletePromise(`${as.label} deleting the Promise`, as, DEFAULT_PROMISE_NAME, "promise"),
    deleteCrd(`${as.label} deleting Kratix's Promise CRD (its objects go without admission)`, as, PROMISE_CRD_NAME, "promiseCrd"),
    deleteCrd(`${as.label} deleting the DynamoDBRequest CRD`, as, REQUEST_CRD_NAME, "requestCrd"),
    deleteCrd(`${as.label} deleting ACK's Table CRD`, as, ACK_TABLE_CRD_NAME, "tableCrd"),
  ]),

  deletePromise("the break-glass user deleting the Promise", BREAK_GLASS, DEFAULT_PROMISE_NAME, "allowed"),

  deleteCrd("the break-glass user deleting Kratix's Promise CRD", BREAK_GLASS, PROMISE_CRD_NAME, "allowed"),
  deleteCrd("the break-glass user deleting the DynamoDBRequest CRD", BREAK_GLASS, REQUEST_CRD_NAME, "allowed"),

  deleteCrd("the break-glass user deleting ACK's Table CRD", BREAK_GLASS, ACK_TABLE_CRD_NAME, "allowed"),

  deleteCrd("Kratix deleting the DynamoDBRequest CRD (its Promise's deletion)", KRATIX, REQUEST_CRD_NAME, "allowed"),

  deletePromise("Kratix deleting the Promise", KRATIX, DEFAULT_PROMISE_NAME, "promise"),

  deleteCrd("Kratix deleting ACK's Table CRD", KRATIX, ACK_TABLE_CRD_NAME, "tableCrd"),
  deleteCrd("Kratix deleting its own Promise CRD", KRATIX, PROMISE_CRD_NAME, "promiseCrd"),

  deletePromise("the admin deleting another Promise", ADMIN, OTHER_PROMISE, "allowed"),

  deleteCrd("the admin deleting another CRD", ADMIN, OTHER_CRD, "allowed"),
];
