/**
 * The platform's admission guards: two ValidatingAdmissionPolicies (each with its Deny
 * binding) that hold even if a pipeline, a controller or an admin gets it wrong. They are
 * the API server's half of the platform's promise that one team cannot take, change or
 * delete another team's table, or the platform's.
 *
 * `kratix-dynamodb-table-writers` (tableGuard), on ACK Tables (dynamodb.services.k8s.aws)
 * and their status:
 * - who: only the service account Flux applies Kratix's output as (FLUX_APPLIER) and the ACK
 *   controller create, update and delete Tables; the kube-controller-manager's identities
 *   that delete objects (namespace deletion, garbage collection; `system:kube-controller-manager`
 *   itself, or its per-controller service accounts with `--use-service-account-credentials`,
 *   as on EKS) only delete them. Everyone else, cluster admins included, is refused.
 * - status (`tables/status`): written only by the ACK controller, which reads a Table's region
 *   and account back from `status.ackResourceMetadata` (runtime v0.61.0 getRegion).
 * - ACK's marks of management, its finalizer and `services.k8s.aws/adopted`, are added only by
 *   the ACK controller: with its finalizer on a Table that names an existing AWS table, ACK
 *   manages (and may delete) that table without any adoption annotation.
 * - adoption annotations (`services.k8s.aws/adoption-policy`, `services.k8s.aws/adoption-fields`):
 *   only `adopt` with fields naming exactly the Table's own `spec.tableName`, and only for a
 *   table name the namespace's ADOPTABLE_TABLES_ANNOTATION lists (`namespaceObject`).
 * - the Table lives in the namespace its request label names, and its `spec.tableName` starts
 *   with the platform's table name prefix.
 * - `spec.tableName` and the region annotation never change, whoever asks (ACK never changes them).
 * - release: Flux's applier (the pruners) deletes a Table ACK manages (its finalizer) only once
 *   the Table carries the release mark RELEASED_ANNOTATION equal to its REQUEST_UID_ANNOTATION (or
 *   any mark, on a Table from before that annotation), and only the delete pipeline of the Table's
 *   own namespace (the Promise's report-delete, as Kratix names its service account, with a token
 *   bound to a Kratix pipeline pod) adds, changes or removes the mark, changing nothing else in
 *   the same write; extraReleasers (break glass) may too. So a Flux folder that suddenly holds none of the live Tables fails Flux's
 *   prune instead of deleting them (core/kratix/release.ts). A Table ACK does not manage is
 *   pruned as before: deleting it touches nothing in AWS.
 *
 * `kratix-dynamodb-api-deleters` (apiGuard): deleting the Promise, Kratix's Promise CRD, the
 * DynamoDBRequest CRD or ACK's Table CRD is refused except to the break-glass users (and the
 * request CRD to Kratix, which deletes it while its Promise is deleted).
 *
 * Rules about a Table's content ratchet: an update that leaves the field a rule is about as it
 * was is allowed, so a Table made before a rule existed (or before the prefix changed) can still
 * be updated, and ACK can still remove its finalizer. Every rule has its own message, naming what
 * was refused and why. Expressions cost O(1) except the approval list's split (linear in the
 * namespace's annotation, at most 256 KiB), well within the API server's CEL cost limits.
 */
import { ACK_SERVICE_ACCOUNT, NAMESPACES } from "./namespaces.ts";
import { FLUX_APPLIER, STATE_STORE_READERS } from "./kratix-objects.ts";
import { ADOPTABLE_TABLES_ANNOTATION } from "../kratix/adoption.ts";
import { DEFAULT_PROMISE_NAME } from "../kratix/steps.ts";
import { RELEASED_ANNOTATION } from "../kratix/release.ts";
import { PIPELINES, resourcePipelineName } from "../render/promise.ts";
import { CRD_NAME as REQUEST_CRD_NAME } from "../api/rules.ts";
import {
  ACK_ADOPTION_FIELDS_ANNOTATION,
  ACK_ADOPTION_POLICY_ANNOTATION,
  ACK_REGION_ANNOTATION,
  REQUEST_LABELS,
  REQUEST_UID_ANNOTATION,
} from "../render/ack-table.ts";

/** The Table policy's and its binding's name. */
export const TABLE_GUARD_NAME = "kratix-dynamodb-table-writers";
/** The policy (and binding) that keeps the Promise and the two CRDs from deletion. */
export const API_GUARD_NAME = "kratix-dynamodb-api-deleters";

/** ACK's Table CRD (its chart's crds/). */
export const ACK_TABLE_CRD_NAME = "tables.dynamodb.services.k8s.aws";
/**
 * Kratix's Promise CRD. Deleting a CRD deletes its objects without admission (the CRD finalizer's
 * DeleteCollection validates nothing: apiextensions-apiserver pkg/controller/finalizer), so the
 * Promise rule alone would not keep the Promise from a deletion of this CRD.
 */
export const PROMISE_CRD_NAME = "promises.platform.kratix.io";
export { REQUEST_CRD_NAME };
/** The finalizer ACK puts on a Table it manages (dynamodb-controller v1.9.2 pkg/resource/table/descriptor.go). */
export const ACK_TABLE_FINALIZER = "finalizers.dynamodb.services.k8s.aws/Table";
/** ACK's mark of an adopted resource (runtime v0.61.0 apis/core/v1alpha1/annotations.go AnnotationAdopted). */
export const ACK_ADOPTED_ANNOTATION = "services.k8s.aws/adopted";
/** The only adoption policy the platform renders ("adopt-or-create" would also create). */
export const ACK_ADOPTION_POLICY = "adopt";

/** The username the API server gives a service account. */
export const serviceAccountUser = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** The ACK controller in `ackNamespace`: the only writer of Tables' status and of ACK's marks. */
export const tableControllers = (ackNamespace: string = NAMESPACES.ack): string[] => [
  serviceAccountUser(ackNamespace, ACK_SERVICE_ACCOUNT),
];
/** The service account Flux applies Kratix's output as, and the ACK controller in `ackNamespace`. */
export const tableWriters = (ackNamespace: string = NAMESPACES.ack): string[] => [
  serviceAccountUser(NAMESPACES.flux, FLUX_APPLIER),
  ...tableControllers(ackNamespace),
];
/** tableWriters() in the platform's namespaces. */
export const DEFAULT_TABLE_WRITERS: readonly string[] = tableWriters();
/** tableControllers() in the platform's namespace. */
export const DEFAULT_TABLE_CONTROLLERS: readonly string[] = tableControllers();
/** The service account Flux applies as: its deletions are prunes, of released Tables (and of Tables ACK does not manage) only. */
export const DEFAULT_TABLE_PRUNERS: readonly string[] = [serviceAccountUser(NAMESPACES.flux, FLUX_APPLIER)];
/** The delete pipeline's service account name: the only identity that releases a Table, in its own namespace. */
export const releasePipelineServiceAccount = (promiseName: string = DEFAULT_PROMISE_NAME) =>
  resourcePipelineName(promiseName, "delete", PIPELINES.delete);
/** The kube-controller-manager, as itself or as its namespace and garbage-collector controllers. */
export const DEFAULT_TABLE_DELETERS: readonly string[] = [
  "system:kube-controller-manager",
  serviceAccountUser("kube-system", "namespace-controller"),
  serviceAccountUser("kube-system", "generic-garbage-collector"),
];
/** Kratix's controller, which deletes its Promise's API CRD while the Promise is deleted (Kratix 224e148 deleteCRDs). */
export const DEFAULT_REQUEST_CRD_DELETERS: readonly string[] = [
  serviceAccountUser(STATE_STORE_READERS.kratix.namespace, STATE_STORE_READERS.kratix.serviceAccount),
];

export interface TableGuardArgs {
  /** Usernames that may create, update and delete Tables. Default DEFAULT_TABLE_WRITERS. */
  writers?: readonly string[];
  /** Usernames that may only delete Tables. Default DEFAULT_TABLE_DELETERS. */
  deleters?: readonly string[];
  /** Usernames that may write Tables' status and add ACK's marks (finalizer, adopted). Default DEFAULT_TABLE_CONTROLLERS. */
  controllers?: readonly string[];
  /** Every Table's spec.tableName starts with this (the platform's tableNamePrefix). Default "" (any name). */
  tableNamePrefix?: string;
  /** Usernames whose deletions are prunes: of a Table ACK manages, only once it is released. Default DEFAULT_TABLE_PRUNERS (Flux's applier). */
  pruners?: readonly string[];
  /** The Promise whose delete pipeline releases Tables (its service account's name). Default DEFAULT_PROMISE_NAME. */
  promiseName?: string;
  /**
   * The Promise's workflows.config.pipelineNamespace, when set: the delete pipeline then runs there,
   * for every namespace's requests. Default none: it runs in each request's namespace, and releases
   * only that namespace's Tables.
   */
  pipelineNamespace?: string;
  /** Further usernames that may add or remove the release mark (break glass: the extraTableWriters). Default none. */
  extraReleasers?: readonly string[];
  /** Name of the policy and its binding. Default TABLE_GUARD_NAME. */
  name?: string;
}

/** The user extra only a pod-bound service account token carries (k8s.io/apiserver pkg/authentication/serviceaccount/util.go PodNameKey). */
export const POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";
/**
 * What the name of every Kratix pipeline pod of the Promise starts with: Kratix 224e148 names a
 * resource pipeline's Job `kratix-<promise>-<request>-...` (api/v1alpha1/pipeline_factory.go
 * pipelineJobName, cut to 56 characters plus a suffix), and the job controller names its pods
 * after the Job.
 */
export const kratixPipelinePodPrefix = (promiseName: string = DEFAULT_PROMISE_NAME) => `kratix-${promiseName}-`;

/** Who releases Tables: the delete pipeline's service account, in the Table's namespace or in the pipeline namespace, from its pod. */
export function releaserDescription(promiseName: string = DEFAULT_PROMISE_NAME, pipelineNamespace?: string): string {
  return (
    `${serviceAccountUser(pipelineNamespace ?? "<the Table's namespace>", releasePipelineServiceAccount(promiseName))} ` +
    `with a token bound to a Kratix pipeline pod (user extra ${POD_NAME_EXTRA}: ${kratixPipelinePodPrefix(promiseName)}*)`
  );
}

/** A CEL list literal of strings (JSON's string escapes are valid CEL). */
const celList = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(", ")}]`;
/** A CEL string literal. */
const cel = (s: string) => JSON.stringify(s);
/** Whether map expressions `a` and `b` agree on `key`: both lack it, or both have it with one value. */
const sameKey = (a: string, b: string, key: string) =>
  `((${cel(key)} in ${a}) == (${cel(key)} in ${b}) && (!(${cel(key)} in ${a}) || ${a}[${cel(key)}] == ${b}[${cel(key)}]))`;
const listed = (users: readonly string[]) => (users.length ? users.join(", ") : "nobody");

/** The policy's denial message: who may write Tables, and what application teams use instead. */
export function tableGuardMessage(writers: readonly string[], deleters: readonly string[], releaser?: string): string {
  return (
    `ACK Tables (dynamodb.services.k8s.aws) are written only by the DynamoDB platform: ` +
    `create, update and delete by ${writers.join(", ")}` +
    (deleters.length ? `; delete also by ${deleters.join(", ")}` : "") +
    (releaser ? `; an update that changes only the release mark ${RELEASED_ANNOTATION} also by ${releaser}` : "") +
    `. Application teams: ask for a table with a DynamoDBRequest (dynamodb.kratix.io/v1alpha1).`
  );
}

/** Each rule's message, for the policy and for tests that check what was refused. */
export const TABLE_RULE_MESSAGES = {
  status: (controllers: readonly string[]) =>
    `The status of an ACK Table (tables/status) is written only by the ACK controller (${listed(controllers)}): ` +
    `ACK reads a Table's AWS region and account back from status.ackResourceMetadata, ` +
    `so a status written by anyone else could point the controller at another table.`,
  marks: (controllers: readonly string[]) =>
    `Only the ACK controller (${listed(controllers)}) marks a Table as managed: ` +
    `its finalizer ${ACK_TABLE_FINALIZER} or the annotation ${ACK_ADOPTED_ANNOTATION}, added by anyone else, ` +
    `would make ACK take over (and possibly delete) an existing AWS table of that name.`,
  namespace:
    `A Table must live in the namespace of the request it was made for: its label ${REQUEST_LABELS.namespace} ` +
    `must be present and equal its namespace, so that no Table serves another namespace's request.`,
  prefix: (prefix: string) =>
    `A Table's spec.tableName must start with the platform's table name prefix ${JSON.stringify(prefix)}: ` +
    `the platform makes and manages only tables of that prefix (the controller's IAM policy covers no others).`,
  tableNameImmutable:
    `A Table's spec.tableName cannot change, whoever asks (ACK included): the Table would then manage ` +
    `another AWS table. Ask for a new table with a new DynamoDBRequest instead.`,
  regionImmutable:
    `A Table's region annotation ${ACK_REGION_ANNOTATION} cannot be added, changed or removed, whoever asks ` +
    `(ACK included): the Table would then manage a table in another region.`,
  adoptionForm:
    `A Table that adopts carries exactly ${ACK_ADOPTION_POLICY_ANNOTATION}: ${ACK_ADOPTION_POLICY} and ` +
    `${ACK_ADOPTION_FIELDS_ANNOTATION}: {"tableName":"<its spec.tableName>"}: any other policy or fields ` +
    `would adopt (or create) a table other than the one the Table names.`,
  release: (releaser: string, extra: readonly string[]) =>
    `The release mark ${RELEASED_ANNOTATION}, which lets Flux prune a Table ACK manages, is added, changed or removed ` +
    `only by the delete pipeline of the Table's namespace (${releaser}` +
    (extra.length ? `, or ${extra.join(", ")}` : "") +
    `), as it runs for the deleted request: a Table created with it, or marked by anyone else, ` +
    `would be deleted (with its AWS table under deletionPolicy Delete) by a Flux folder that lost it by mistake.`,
  prune: (pruners: readonly string[]) =>
    `${listed(pruners)} deletes (prunes) a Table ACK manages only once the delete pipeline of its request has released it ` +
    `(annotation ${RELEASED_ANNOTATION} equal to ${REQUEST_UID_ANNOTATION}): this Table left the state store while its ` +
    `request was not deleted (a wiped or wrong folder, a lost Work), so it stays, and its AWS table with it. ` +
    `Restore the folder and Flux heals; to remove the table, delete its DynamoDBRequest.`,
  adoptionApproval:
    `Adopting an existing AWS table needs the platform team's approval: the Table's namespace must list its ` +
    `spec.tableName in the namespace annotation ${ADOPTABLE_TABLES_ANNOTATION} (names separated by commas or spaces), ` +
    `so that no team takes over another team's retained table.`,
} as const;

/** The Table guard: the ValidatingAdmissionPolicy and its ValidatingAdmissionPolicyBinding (validationActions Deny). */
export function tableGuard(args: TableGuardArgs = {}) {
  const writers = [...(args.writers ?? DEFAULT_TABLE_WRITERS)];
  const deleters = [...(args.deleters ?? DEFAULT_TABLE_DELETERS)];
  const controllers = [...(args.controllers ?? DEFAULT_TABLE_CONTROLLERS)];
  const pruners = [...(args.pruners ?? DEFAULT_TABLE_PRUNERS)];
  const extraReleasers = [...(args.extraReleasers ?? [])];
  const promiseName = args.promiseName ?? DEFAULT_PROMISE_NAME;
  const releaser = releaserDescription(promiseName, args.pipelineNamespace);
  const prefix = args.tableNamePrefix ?? "";
  const name = args.name ?? TABLE_GUARD_NAME;
  if (writers.length === 0) throw new Error("tableGuard: writers is empty: nobody could create a Table");
  if (controllers.length === 0) throw new Error("tableGuard: controllers is empty: nobody could write a Table's status");
  for (const u of [...writers, ...deleters, ...controllers, ...pruners, ...extraReleasers])
    if (!u.trim()) throw new Error("tableGuard: an empty username");
  if (!promiseName.trim() || args.pipelineNamespace?.trim() === "") throw new Error("tableGuard: an empty Promise or pipeline namespace");

  const ann = "variables.annotations";
  const oldAnn = "variables.oldAnnotations";
  const labels = "variables.labels";
  const policyKey = cel(ACK_ADOPTION_POLICY_ANNOTATION);
  const fieldsKey = cel(ACK_ADOPTION_FIELDS_ANNOTATION);
  const approvalKey = cel(ADOPTABLE_TABLES_ANNOTATION);
  /** Content rules are about the object written: not about deletions. */
  const notWrite = `request.operation == "DELETE"`;
  const sameTableName = `(variables.isUpdate && object.spec.tableName == oldObject.spec.tableName)`;
  /** An update that leaves both adoption annotations as they were (approved, or not asked for, when they were set). */
  const sameAdoption = `(variables.isUpdate && ${sameKey(ann, oldAnn, ACK_ADOPTION_POLICY_ANNOTATION)} && ${sameKey(ann, oldAnn, ACK_ADOPTION_FIELDS_ANNOTATION)})`;
  const noAdoption = `(!(${policyKey} in ${ann}) && !(${fieldsKey} in ${ann}))`;
  const released = cel(RELEASED_ANNOTATION);
  const requestUid = cel(REQUEST_UID_ANNOTATION);
  /** A field of the object the update leaves as it was (absent before and after, or equal). */
  const same = (field: string) =>
    `(has(object.${field}) == has(oldObject.${field}) && (!has(object.${field}) || object.${field} == oldObject.${field}))`;
  /** An update that changes nothing but the release mark (metadata the server keeps aside). */
  const onlyTheMark =
    `${same("spec")} && ${same("metadata.labels")} && ${same("metadata.finalizers")} && ${same("metadata.ownerReferences")} && ` +
    `${ann}.all(k, k == ${released} || (k in ${oldAnn} && ${oldAnn}[k] == ${ann}[k])) && ` +
    `${oldAnn}.all(k, k == ${released} || k in ${ann})`;

  const validations = [
    {
      expression:
        `variables.isStatus || variables.user in variables.writers || ` +
        `(request.operation == "DELETE" && variables.user in variables.deleters) || ` +
        `(variables.isUpdate && variables.isReleaser && ${onlyTheMark})`,
      message: tableGuardMessage(writers, deleters, releaser),
    },
    {
      expression: `!variables.isStatus || variables.user in variables.controllers`,
      message: TABLE_RULE_MESSAGES.status(controllers),
    },
    {
      expression:
        `${notWrite} || variables.user in variables.controllers || (` +
        `(!(has(object.metadata.finalizers) && ${cel(ACK_TABLE_FINALIZER)} in object.metadata.finalizers) || ` +
        `(variables.isUpdate && has(oldObject.metadata.finalizers) && ${cel(ACK_TABLE_FINALIZER)} in oldObject.metadata.finalizers)) && ` +
        `(!(${cel(ACK_ADOPTED_ANNOTATION)} in ${ann}) || (variables.isUpdate && ${sameKey(ann, oldAnn, ACK_ADOPTED_ANNOTATION)})))`,
      message: TABLE_RULE_MESSAGES.marks(controllers),
    },
    {
      expression:
        `${notWrite} || (variables.isUpdate && ${sameKey(ann, oldAnn, RELEASED_ANNOTATION)}) || ` +
        `(variables.isUpdate ? variables.isReleaser : !(${released} in ${ann}))`,
      message: TABLE_RULE_MESSAGES.release(releaser, extraReleasers),
    },
    {
      expression:
        `request.operation != "DELETE" || !(variables.user in variables.pruners) || ` +
        `!(has(oldObject.metadata.finalizers) && ${cel(ACK_TABLE_FINALIZER)} in oldObject.metadata.finalizers) || (` +
        `${released} in ${oldAnn} && ${oldAnn}[${released}] != "" && ` +
        `(!(${requestUid} in ${oldAnn}) || ${oldAnn}[${requestUid}] == ${oldAnn}[${released}]))`,
      message: TABLE_RULE_MESSAGES.prune(pruners),
    },
    {
      expression:
        `${notWrite} || (variables.isUpdate && ${sameKey(labels, "variables.oldLabels", REQUEST_LABELS.namespace)}) || ` +
        `(${cel(REQUEST_LABELS.namespace)} in ${labels} && ${labels}[${cel(REQUEST_LABELS.namespace)}] == object.metadata.namespace)`,
      message: TABLE_RULE_MESSAGES.namespace,
    },
    ...(prefix
      ? [
          {
            expression: `${notWrite} || ${sameTableName} || object.spec.tableName.startsWith(${cel(prefix)})`,
            message: TABLE_RULE_MESSAGES.prefix(prefix),
          },
        ]
      : []),
    {
      expression: `!variables.isUpdate || object.spec.tableName == oldObject.spec.tableName`,
      message: TABLE_RULE_MESSAGES.tableNameImmutable,
    },
    {
      expression: `!variables.isUpdate || ${sameKey(ann, oldAnn, ACK_REGION_ANNOTATION)}`,
      message: TABLE_RULE_MESSAGES.regionImmutable,
    },
    {
      expression:
        `${notWrite} || ${sameAdoption} || ${noAdoption} || (` +
        `${policyKey} in ${ann} && ${ann}[${policyKey}] == ${cel(ACK_ADOPTION_POLICY)} && ` +
        `${fieldsKey} in ${ann} && ${ann}[${fieldsKey}] == '{"tableName":"' + object.spec.tableName + '"}')`,
      message: TABLE_RULE_MESSAGES.adoptionForm,
    },
    {
      expression:
        `${notWrite} || ${sameAdoption} || ${noAdoption} || (` +
        `namespaceObject != null && has(namespaceObject.metadata.annotations) && ` +
        `${approvalKey} in namespaceObject.metadata.annotations && ` +
        `object.spec.tableName in namespaceObject.metadata.annotations[${approvalKey}].findAll(r'[^\\s,]+'))`,
      message: TABLE_RULE_MESSAGES.adoptionApproval,
    },
  ].map((v) => ({ ...v, reason: "Forbidden" }));

  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["dynamodb.services.k8s.aws"],
            // Named, not "*": the API server type-checks a policy's expressions only against the
            // versions its rules name (typesToCheck); matchPolicy Equivalent still covers others.
            apiVersions: ["v1alpha1"],
            resources: ["tables", "tables/status"],
            operations: ["CREATE", "UPDATE", "DELETE"],
          },
        ],
      },
      // Variables are evaluated when a validation first reads them: the object's maps only for
      // writes (object is null on DELETE), the old object's only for updates.
      variables: [
        { name: "user", expression: "request.userInfo.username" },
        { name: "writers", expression: celList(writers) },
        { name: "deleters", expression: celList(deleters) },
        { name: "controllers", expression: celList(controllers) },
        { name: "pruners", expression: celList(pruners) },
        // The delete pipeline's service account: in the Table's own namespace (request.namespace),
        // or the pipeline namespace's, for every namespace; with a token bound to a Kratix pipeline
        // pod, which impersonation cannot claim (`edit` may impersonate service accounts, not add
        // user extras); and the break-glass releasers.
        {
          name: "isReleaser",
          expression:
            `(variables.user == ` +
            (args.pipelineNamespace
              ? cel(serviceAccountUser(args.pipelineNamespace, releasePipelineServiceAccount(promiseName)))
              : `"system:serviceaccount:" + request.namespace + ${cel(`:${releasePipelineServiceAccount(promiseName)}`)}`) +
            ` && has(request.userInfo.extra) && ${cel(POD_NAME_EXTRA)} in request.userInfo.extra && ` +
            `size(request.userInfo.extra[${cel(POD_NAME_EXTRA)}]) > 0 && ` +
            `request.userInfo.extra[${cel(POD_NAME_EXTRA)}].all(n, n.startsWith(${cel(kratixPipelinePodPrefix(promiseName))}))) || ` +
            `variables.user in ${celList(extraReleasers)}`,
        },
        // An empty subResource is left out of the request, as every empty field is.
        { name: "isStatus", expression: `has(request.subResource) && request.subResource == "status"` },
        { name: "isUpdate", expression: `request.operation == "UPDATE"` },
        { name: "annotations", expression: "has(object.metadata.annotations) ? object.metadata.annotations : {}" },
        { name: "oldAnnotations", expression: "has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}" },
        { name: "labels", expression: "has(object.metadata.labels) ? object.metadata.labels : {}" },
        { name: "oldLabels", expression: "has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}" },
      ],
      validations,
    },
  };
  return { policy, binding: denyBinding(name) };
}

export interface ApiGuardArgs {
  /** Usernames that may delete the Promise and the three CRDs (config breakGlassUsers). Default none. */
  breakGlassUsers?: readonly string[];
  /** The platform's Promise. Default DEFAULT_PROMISE_NAME. */
  promiseName?: string;
  /** Usernames that may also delete the DynamoDBRequest CRD. Default DEFAULT_REQUEST_CRD_DELETERS (Kratix). */
  requestCrdDeleters?: readonly string[];
  /** Name of the policy and its binding. Default API_GUARD_NAME. */
  name?: string;
}

const breakGlassNote = (users: readonly string[]) =>
  users.length
    ? `Only the break-glass users (the platform's config breakGlassUsers: ${users.join(", ")}) may delete it`
    : `Nobody may delete it: the platform names no break-glass users (its config breakGlassUsers)`;

/** Each refusal of the API guard, naming the object and what its deletion would take with it. */
export const API_RULE_MESSAGES = {
  promise: (promise: string, users: readonly string[]) =>
    `Deleting the Promise ${promise} is refused: it would delete every DynamoDBRequest in every namespace, and with ` +
    `them their ACK Tables (and the AWS tables of those with deletionPolicy Delete). ${breakGlassNote(users)}.`,
  requestCrd: (users: readonly string[], kratix: readonly string[]) =>
    `Deleting the CustomResourceDefinition ${REQUEST_CRD_NAME} is refused: it would delete every DynamoDBRequest in ` +
    `every namespace, and with them their ACK Tables (and the AWS tables of those with deletionPolicy Delete). ${breakGlassNote(users)}` +
    (kratix.length ? ` (and ${kratix.join(", ")}, which deletes it while its Promise is deleted)` : "") +
    `.`,
  promiseCrd: (promise: string, users: readonly string[]) =>
    `Deleting the CustomResourceDefinition ${PROMISE_CRD_NAME} is refused: it would delete every Promise, ${promise} ` +
    `among them, with no admission check, and with it every DynamoDBRequest and their ACK Tables (and the AWS tables of ` +
    `those with deletionPolicy Delete). ${breakGlassNote(users)}.`,
  tableCrd: (users: readonly string[]) =>
    `Deleting the CustomResourceDefinition ${ACK_TABLE_CRD_NAME} is refused: it would delete every team's ACK Table ` +
    `(and the AWS tables of those with deletionPolicy Delete). ${breakGlassNote(users)}.`,
} as const;

/** The API guard: the ValidatingAdmissionPolicy and its binding that keep the Promise and the three CRDs. */
export function apiGuard(args: ApiGuardArgs = {}) {
  const users = [...(args.breakGlassUsers ?? [])];
  const kratix = [...(args.requestCrdDeleters ?? DEFAULT_REQUEST_CRD_DELETERS)];
  const promise = args.promiseName ?? DEFAULT_PROMISE_NAME;
  const name = args.name ?? API_GUARD_NAME;
  for (const u of [...users, ...kratix]) if (!u.trim()) throw new Error("apiGuard: an empty username");
  const isPromise = `(request.resource.group == "platform.kratix.io" && oldObject.metadata.name == ${cel(promise)})`;
  const isCrd = (crd: string) => `(request.resource.group == "apiextensions.k8s.io" && oldObject.metadata.name == ${cel(crd)})`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        // By name in CEL, not resourceNames: a deletecollection is admitted per object under the
        // collection's empty name, which resourceNames would never match.
        resourceRules: [
          { apiGroups: ["platform.kratix.io"], apiVersions: ["v1alpha1"], resources: ["promises"], operations: ["DELETE"] },
          { apiGroups: ["apiextensions.k8s.io"], apiVersions: ["v1"], resources: ["customresourcedefinitions"], operations: ["DELETE"] },
        ],
      },
      // Every other Promise and CRD is none of this policy's business.
      matchConditions: [
        {
          name: "platform-objects",
          expression: [isPromise, ...[PROMISE_CRD_NAME, REQUEST_CRD_NAME, ACK_TABLE_CRD_NAME].map(isCrd)].join(" || "),
        },
      ],
      variables: [
        { name: "user", expression: "request.userInfo.username" },
        { name: "breakGlass", expression: celList(users) },
        { name: "requestCrdDeleters", expression: celList(kratix) },
      ],
      validations: [
        {
          expression: `!${isPromise} || variables.user in variables.breakGlass`,
          message: API_RULE_MESSAGES.promise(promise, users),
        },
        {
          expression: `!${isCrd(PROMISE_CRD_NAME)} || variables.user in variables.breakGlass`,
          message: API_RULE_MESSAGES.promiseCrd(promise, users),
        },
        {
          expression: `!${isCrd(REQUEST_CRD_NAME)} || variables.user in variables.breakGlass || variables.user in variables.requestCrdDeleters`,
          message: API_RULE_MESSAGES.requestCrd(users, kratix),
        },
        {
          expression: `!${isCrd(ACK_TABLE_CRD_NAME)} || variables.user in variables.breakGlass`,
          message: API_RULE_MESSAGES.tableCrd(users),
        },
      ].map((v) => ({ ...v, reason: "Forbidden" })),
    },
  };
  return { policy, binding: denyBinding(name) };
}

const denyBinding = (name: string) => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicyBinding",
  metadata: { name },
  spec: { policyName: name, validationActions: ["Deny"] },
});
