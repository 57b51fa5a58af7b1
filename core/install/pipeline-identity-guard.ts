/**
 * The pipeline identity guard: ValidatingAdmissionPolicies (each with its Deny binding) under
 * which the Promise's pipeline service accounts act only from the pods Kratix runs. Kratix
 * 224e148 makes those service accounts in each request's namespace, where a team with the
 * built-in `edit` could otherwise become them (research, issue 16): run a pod, Job or CronJob
 * as them, mint a token or a token Secret for them, exec or attach into Kratix's pipeline
 * pods, swap a pipeline pod's image, or impersonate them. As them it may write Works, which
 * Flux applies as Tables, and list every namespace's DynamoDBRequests.
 *
 * One policy per kind, because the API server type-checks every expression against every
 * kind its policy matches (k8s.io/apiserver validating/typechecking.go CheckExpression): a
 * policy on Pods and Secrets could not read `object.spec` without a warning. Every rule names
 * its apiVersions: a rule with `apiVersions: ["*"]` is not type-checked at all (typesToCheck
 * skips it), and matchPolicy Equivalent (the default) still matches every served version.
 *
 * - `kratix-dynamodb-pipeline-pods`: a pod as a pipeline service account is created only by
 *   the job controller (`system:kube-controller-manager`, or its own service account with
 *   `--use-service-account-credentials`, as on EKS) for a Job that controls it; its images
 *   never change; no ephemeral containers in it, and no exec or attach into Kratix's pipeline
 *   pods (by name: a CONNECT carries only the pod's name), except to the break-glass users.
 * - `kratix-dynamodb-pipeline-jobs`: a Job whose pod template runs as a pipeline service account
 *   is created only by Kratix's manager. Only creation: a Job's pod template is immutable
 *   (batch validation validatePodTemplateUpdate allows only scheduling directives and, on a
 *   suspended Job, resources), so an update cannot make a Job run as them.
 * - `kratix-dynamodb-pipeline-cronjobs`: no CronJob runs as a pipeline service account (Kratix
 *   makes none); its template is mutable, so creation and update.
 * - `kratix-dynamodb-pipeline-tokens`: `serviceaccounts/token` for a pipeline service account
 *   only by a kubelet (group system:nodes); no `kubernetes.io/service-account-token` Secret for one.
 * - `kratix-dynamodb-works`: a pipeline service account writes (creates, updates, deletes) Works
 *   only with a token bound to a Kratix pipeline pod (the user extra
 *   `authentication.kubernetes.io/pod-name`, which only a pod-bound token carries and
 *   impersonation cannot add without `impersonate` on `userextras`, which `edit` lacks); and
 *   every Work outside Kratix's own namespace has the shape Kratix's work-creator gives it,
 *   since Kratix builds state store paths from those fields with filepath.Join (`..` climbs).
 *   Shape rules ratchet: an update that leaves `spec` as it was passes.
 *
 * Break glass: the break-glass users (config breakGlassUsers) may exec, attach and add
 * ephemeral containers, to debug a live pipeline; nothing else. Minting a token, a token
 * Secret, a pod or a Job as the pipeline would leave a credential or a workload behind after
 * the incident, and Kratix re-runs a pipeline itself (`kratix.io/manual-reconciliation`).
 * Impersonating a pipeline replaces the user, so no exemption could apply to the Works rule.
 * Deleting a binding is the break glass for the rest, as for the table guard.
 *
 * Not closed (admission never sees reads): a team with `edit` may impersonate a pipeline
 * service account and `get`/`list` what it may read (render-table: every namespace's
 * DynamoDBRequests, any Namespace, Tables by name).
 */
import { NAMESPACES } from "./namespaces.ts";
import { STATE_STORE_READERS } from "./kratix-objects.ts";
import { serviceAccountUser } from "./table-guard.ts";
import { DEFAULT_PROMISE_NAME } from "../kratix/steps.ts";
import { renderPromise, resourcePipelineName } from "../render/promise.ts";

/** The policies' (and their bindings') names. */
export const PIPELINE_IDENTITY_GUARD_NAMES = {
  pods: "kratix-dynamodb-pipeline-pods",
  jobs: "kratix-dynamodb-pipeline-jobs",
  cronJobs: "kratix-dynamodb-pipeline-cronjobs",
  tokens: "kratix-dynamodb-pipeline-tokens",
  works: "kratix-dynamodb-works",
} as const;
export type PipelineIdentityGuardKey = keyof typeof PIPELINE_IDENTITY_GUARD_NAMES;

/**
 * The job controller: `system:kube-controller-manager` itself, or its own service account
 * with `--use-service-account-credentials` (EKS). The only creator of a pipeline's pods.
 */
export const JOB_CONTROLLERS: readonly string[] = ["system:kube-controller-manager", serviceAccountUser("kube-system", "job-controller")];
/** Kratix's manager, which creates the pipelines' Jobs (Kratix 224e148 lib/workflow/reconciler.go). */
export const KRATIX_MANAGER = serviceAccountUser(STATE_STORE_READERS.kratix.namespace, STATE_STORE_READERS.kratix.serviceAccount);
/** The kubelets' group: they request the projected service account tokens of the pods they run. */
export const NODES_GROUP = "system:nodes";
/** The user extra only a pod-bound service account token carries (k8s.io/apiserver serviceaccount/util.go). */
export const POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";
/** The Secret type the token controller fills with a service account's long-lived token. */
export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
/** The annotation naming the service account of such a Secret. */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name";

/** Kratix 224e148 cuts a Job's base name to this many characters (lib/objectutil/name.go, maxNameLength - 1). */
const KRATIX_NAME_CUT = 56;

/**
 * The Promise's resource pipelines' service accounts: `<promise>-resource-<action>-<pipeline>`
 * for every pipeline of the rendered Promise's workflows (resourcePipelineName). Rendered
 * from the Promise itself, so a pipeline added there is guarded here; the image does not
 * take part in any name.
 */
export function pipelineServiceAccounts(promiseName: string = DEFAULT_PROMISE_NAME): string[] {
  const { resource } = renderPromise({ name: promiseName, pipelineImage: "unused-for-names" }).spec.workflows;
  return (Object.entries(resource) as ["configure" | "delete", { metadata: { name: string } }[]][]).flatMap(([action, pipelines]) =>
    pipelines.map((p) => resourcePipelineName(promiseName, action, p.metadata.name)),
  );
}

/**
 * What every name of a Kratix pipeline pod of the Promise starts with. Kratix 224e148 names a
 * resource pipeline's Job GenerateObjectName(`kratix-<promise>-<request>[-<namespace>]-<pipeline>`)
 * (api/v1alpha1/pipeline_factory.go pipelineJobName), which cuts the base to 56 characters
 * and appends `-<5>`; the job controller names its pods `<job>-<5>`, cutting `<job>-` to 58
 * (k8s.io/apiserver storage/names SimpleNameGenerator). So the prefix survives while it is at
 * most 56 characters (renderPromise keeps Promise names far shorter).
 */
export function kratixPipelinePodPrefix(promiseName: string = DEFAULT_PROMISE_NAME): string {
  const prefix = `kratix-${promiseName}-`;
  if (prefix.length > KRATIX_NAME_CUT)
    throw new Error(
      `pipelineIdentityGuards: Kratix would cut "${prefix}" out of its pipeline pods' names (over ${KRATIX_NAME_CUT} characters)`,
    );
  return prefix;
}

export interface PipelineIdentityGuardArgs {
  /** The Promise whose pipelines are guarded. Default DEFAULT_PROMISE_NAME. */
  promiseName?: string;
  /** Usernames that may exec, attach and add ephemeral containers into pipeline pods (config breakGlassUsers). Default none. */
  breakGlassUsers?: readonly string[];
  /**
   * Usernames the job controller creates pods as. Default JOB_CONTROLLERS. A control plane whose
   * kube-controller-manager authenticates otherwise must name it here, or Kratix's pipeline pods
   * are refused.
   */
  jobControllers?: readonly string[];
  /** Usernames that create the pipelines' Jobs. Default [KRATIX_MANAGER]. */
  jobCreators?: readonly string[];
}

/** A CEL list literal of strings (JSON's string escapes are valid CEL). */
const celList = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(", ")}]`;
const cel = (s: string) => JSON.stringify(s);

/** A DNS-1123 subdomain: no '/', no empty or '..' label, at most 253 characters. */
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** Kratix's work-creator: `fmt.Sprintf("%x", md5.Sum(directory))` (work-creator/lib/work_creator.go). */
const MD5_HEX = "^[0-9a-f]{32}$";
/** A '..' path segment anywhere. */
const DOT_DOT_SEGMENT = "(^|/)\\.\\.(/|$)";

const breakGlassNote = (users: readonly string[]) =>
  users.length
    ? `Only the break-glass users (the platform's config breakGlassUsers: ${users.join(", ")}) may, to debug a pipeline.`
    : `Nobody may: the platform names no break-glass users (its config breakGlassUsers).`;

/** Each rule's message, naming what is refused and why. */
export const PIPELINE_IDENTITY_RULE_MESSAGES = {
  podCreate: (sas: readonly string[], jobControllers: readonly string[]) =>
    `A pod running as a DynamoDB pipeline service account (${sas.join(", ")}) is created only by the job controller ` +
    `(${jobControllers.join(", ")}) for the batch/v1 Job that controls it (ownerReferences, controller: true), and only Kratix ` +
    `makes those Jobs: any other pod as that identity holds its token, which writes Works (which Flux applies as Tables) ` +
    `and reads every namespace's DynamoDBRequests.`,
  podImage:
    `The images of a pod running as a DynamoDB pipeline service account (spec.containers[*].image, ` +
    `spec.initContainers[*].image) never change: a new image would run in Kratix's pipeline pod, with the pipeline's token.`,
  ephemeral: (users: readonly string[]) =>
    `No ephemeral containers in a pod running as a DynamoDB pipeline service account: one could mount the pipeline's ` +
    `service account token. ${breakGlassNote(users)}`,
  exec: (prefix: string, users: readonly string[]) =>
    `No exec or attach into the DynamoDB pipelines' pods (named ${prefix}*): the pipeline's service account token is ` +
    `mounted there. ${breakGlassNote(users)}`,
  token: (sas: readonly string[]) =>
    `Tokens of the DynamoDB pipelines' service accounts (${sas.join(", ")}) are issued only to kubelets (group ${NODES_GROUP}), ` +
    `for the pods Kratix runs: a token minted by anyone else is the pipeline's identity outside its pod.`,
  tokenSecret: (sas: readonly string[]) =>
    `No Secret of type ${SERVICE_ACCOUNT_TOKEN_TYPE} for a DynamoDB pipeline service account (${sas.join(", ")}): ` +
    `the token controller would fill it with a long-lived token of the pipeline's identity.`,
  job: (sas: readonly string[], creators: readonly string[]) =>
    `A Job runs as a DynamoDB pipeline service account (${sas.join(", ")}) only when Kratix (${creators.join(", ")}) makes it: ` +
    `a Job made by anyone else runs its own code with the pipeline's token.`,
  cronJob: (sas: readonly string[]) =>
    `No CronJob runs as a DynamoDB pipeline service account (${sas.join(", ")}): Kratix makes none, and its Jobs would run ` +
    `their own code with the pipeline's token.`,
  workIdentity: (sas: readonly string[], prefix: string) =>
    `The DynamoDB pipelines' service accounts (${sas.join(", ")}) write Works only from the pods Kratix runs: with a token ` +
    `bound to a pod named ${prefix}* (user extra ${POD_NAME_EXTRA}), never through impersonation, a minted token or a ` +
    `token Secret. A Work is what Flux applies: from anywhere else it could carry any Table.`,
  workResourceName: (kratixNamespace: string) =>
    `A Work outside ${kratixNamespace} names its request in spec.resourceName, a DNS subdomain (no '/', not empty): Kratix ` +
    `builds its state store folder resources/<namespace>/<promise>/<resourceName>/… from it, and '..' or an empty name ` +
    `would write into another namespace's folder or the dependencies folder.`,
  workPromiseName:
    `A Work's spec.promiseName is a DNS subdomain (no '/', not empty): Kratix builds its state store folder from it, ` +
    `and '..' would write outside the Work's own folder.`,
  workGroupId:
    `Every spec.workloadGroups[].id of a Work is an MD5 hex digest (32 lowercase hex characters), as Kratix's ` +
    `work-creator makes it: Kratix puts its first five characters into the state store path.`,
  workFilepath:
    `Every spec.workloadGroups[].workloads[].filepath of a Work is relative (no leading '/') and has no '..' segment: ` +
    `Kratix joins it to the Work's state store folder, and anything else writes another namespace's files.`,
} as const;
export type PipelineIdentityRule = keyof typeof PIPELINE_IDENTITY_RULE_MESSAGES;

/** Which policy holds each rule. */
export const PIPELINE_IDENTITY_RULE_GUARD: Record<PipelineIdentityRule, PipelineIdentityGuardKey> = {
  podCreate: "pods",
  podImage: "pods",
  ephemeral: "pods",
  exec: "pods",
  job: "jobs",
  cronJob: "cronJobs",
  token: "tokens",
  tokenSecret: "tokens",
  workIdentity: "works",
  workResourceName: "works",
  workPromiseName: "works",
  workGroupId: "works",
  workFilepath: "works",
};

interface Validation {
  expression: string;
  message: string;
  reason: "Forbidden";
}
interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
}

const denyBinding = (name: string) => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicyBinding",
  metadata: { name },
  spec: { policyName: name, validationActions: ["Deny"] },
});

function guard(name: string, resourceRules: ResourceRule[], variables: { name: string; expression: string }[], validations: Validation[]) {
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: { failurePolicy: "Fail", matchConstraints: { matchPolicy: "Equivalent", resourceRules }, variables, validations },
  };
  return { policy, binding: denyBinding(name) };
}
export type PipelineIdentityGuard = ReturnType<typeof guard>;

/** The messages the guards give, rule by rule, for these arguments. */
export function pipelineIdentityMessages(args: PipelineIdentityGuardArgs = {}): Record<PipelineIdentityRule, string> {
  const promiseName = args.promiseName ?? DEFAULT_PROMISE_NAME;
  const sas = pipelineServiceAccounts(promiseName);
  const prefix = kratixPipelinePodPrefix(promiseName);
  const users = [...(args.breakGlassUsers ?? [])];
  const m = PIPELINE_IDENTITY_RULE_MESSAGES;
  return {
    podCreate: m.podCreate(sas, args.jobControllers ?? JOB_CONTROLLERS),
    podImage: m.podImage,
    ephemeral: m.ephemeral(users),
    exec: m.exec(prefix, users),
    token: m.token(sas),
    tokenSecret: m.tokenSecret(sas),
    job: m.job(sas, args.jobCreators ?? [KRATIX_MANAGER]),
    cronJob: m.cronJob(sas),
    workIdentity: m.workIdentity(sas, prefix),
    workResourceName: m.workResourceName(NAMESPACES.kratix),
    workPromiseName: m.workPromiseName,
    workGroupId: m.workGroupId,
    workFilepath: m.workFilepath,
  };
}

/**
 * The pipeline identity guard: five ValidatingAdmissionPolicies, each with its binding
 * (validationActions Deny), in the order of PIPELINE_IDENTITY_GUARD_NAMES.
 */
export function pipelineIdentityGuards(args: PipelineIdentityGuardArgs = {}): Record<PipelineIdentityGuardKey, PipelineIdentityGuard> {
  const promiseName = args.promiseName ?? DEFAULT_PROMISE_NAME;
  const users = [...(args.breakGlassUsers ?? [])];
  const jobControllers = [...(args.jobControllers ?? JOB_CONTROLLERS)];
  const jobCreators = [...(args.jobCreators ?? [KRATIX_MANAGER])];
  if (jobControllers.length === 0 || jobCreators.length === 0)
    throw new Error("pipelineIdentityGuards: no job controller or no Job creator: Kratix's pipelines could never run");
  for (const u of [...users, ...jobControllers, ...jobCreators])
    if (!u.trim()) throw new Error("pipelineIdentityGuards: an empty username");
  const sas = pipelineServiceAccounts(promiseName);
  const prefix = kratixPipelinePodPrefix(promiseName);
  const msg = pipelineIdentityMessages(args);
  const rule = (expression: string, message: string): Validation => ({ expression, message, reason: "Forbidden" });
  const N = PIPELINE_IDENTITY_GUARD_NAMES;
  const user = { name: "user", expression: "request.userInfo.username" };
  const sasVar = { name: "sas", expression: celList(sas) };
  // An empty field is absent from the admission request: the subresource of a write to the object itself.
  const sub = { name: "sub", expression: `has(request.subResource) ? request.subResource : ""` };
  /** The field at `root.steps` names a pipeline service account (each step, optional in the schema, asked for first). */
  const runsAs = (root: string, steps: string[]) => {
    const paths = steps.map((_, i) => `${root}.${steps.slice(0, i + 1).join(".")}`);
    return `(${paths.map((p) => `has(${p})`).join(" && ")} && ${paths.at(-1)} in variables.sas)`;
  };
  /** The images of one list of containers are as they were (absent before and after, or the same in order). */
  const sameImages = (field: string) =>
    `(has(object.spec.${field}) == has(oldObject.spec.${field}) && (!has(object.spec.${field}) || ` +
    `object.spec.${field}.map(c, has(c.image) ? c.image : "") == oldObject.spec.${field}.map(c, has(c.image) ? c.image : "")))`;

  const pods = guard(
    N.pods,
    [
      { apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE", "UPDATE"] },
      { apiGroups: [""], apiVersions: ["v1"], resources: ["pods/ephemeralcontainers"], operations: ["UPDATE"] },
      { apiGroups: [""], apiVersions: ["v1"], resources: ["pods/exec", "pods/attach"], operations: ["CONNECT"] },
    ],
    [
      user,
      sasVar,
      sub,
      { name: "breakGlass", expression: celList(users) },
      { name: "jobControllers", expression: celList(jobControllers) },
      // The pod runs as a pipeline service account (immutable on a pod): the new pod's, or the
      // updated pod's as it was. A CONNECT carries no pod (its object is the exec options).
      {
        name: "pipelinePod",
        expression:
          `request.operation == "CREATE" ? ${runsAs("object", ["spec", "serviceAccountName"])} : ` +
          `(request.operation == "UPDATE" && ${runsAs("oldObject", ["spec", "serviceAccountName"])})`,
      },
    ],
    [
      rule(
        `request.operation != "CREATE" || !variables.pipelinePod || (variables.user in variables.jobControllers && ` +
          `has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, ` +
          `o.apiVersion == "batch/v1" && o.kind == "Job" && has(o.controller) && o.controller))`,
        msg.podCreate,
      ),
      rule(
        `variables.sub != "" || request.operation != "UPDATE" || !variables.pipelinePod || ` +
          `(${sameImages("containers")} && ${sameImages("initContainers")})`,
        msg.podImage,
      ),
      rule(`variables.sub != "ephemeralcontainers" || !variables.pipelinePod || variables.user in variables.breakGlass`, msg.ephemeral),
      rule(
        `!(variables.sub in ["exec", "attach"]) || !request.name.startsWith(${cel(prefix)}) || variables.user in variables.breakGlass`,
        msg.exec,
      ),
    ],
  );

  const jobs = guard(
    N.jobs,
    [{ apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs"], operations: ["CREATE"] }],
    [user, sasVar, { name: "creators", expression: celList(jobCreators) }],
    [rule(`!${runsAs("object", ["spec", "template", "spec", "serviceAccountName"])} || variables.user in variables.creators`, msg.job)],
  );

  const cronJobs = guard(
    N.cronJobs,
    [{ apiGroups: ["batch"], apiVersions: ["v1"], resources: ["cronjobs"], operations: ["CREATE", "UPDATE"] }],
    [sasVar],
    [rule(`!${runsAs("object", ["spec", "jobTemplate", "spec", "template", "spec", "serviceAccountName"])}`, msg.cronJob)],
  );

  const tokens = guard(
    N.tokens,
    [
      { apiGroups: [""], apiVersions: ["v1"], resources: ["serviceaccounts/token"], operations: ["CREATE"] },
      { apiGroups: [""], apiVersions: ["v1"], resources: ["secrets"], operations: ["CREATE", "UPDATE"] },
    ],
    [sasVar, sub],
    [
      rule(
        `variables.sub != "token" || !(request.name in variables.sas) || ` +
          `(has(request.userInfo.groups) && ${cel(NODES_GROUP)} in request.userInfo.groups)`,
        msg.token,
      ),
      rule(
        `variables.sub != "" || !(has(object.type) && object.type == ${cel(SERVICE_ACCOUNT_TOKEN_TYPE)} && ` +
          `has(object.metadata.annotations) && ${cel(SERVICE_ACCOUNT_NAME_ANNOTATION)} in object.metadata.annotations && ` +
          `object.metadata.annotations[${cel(SERVICE_ACCOUNT_NAME_ANNOTATION)}] in variables.sas)`,
        msg.tokenSecret,
      ),
    ],
  );

  const extra = `request.userInfo.extra[${cel(POD_NAME_EXTRA)}]`;
  const spec = "object.spec";
  const works = guard(
    N.works,
    [
      { apiGroups: ["platform.kratix.io"], apiVersions: ["v1alpha1"], resources: ["works"], operations: ["CREATE", "UPDATE", "DELETE"] },
      { apiGroups: ["platform.kratix.io"], apiVersions: ["v1alpha1"], resources: ["works/status"], operations: ["UPDATE"] },
    ],
    [
      user,
      sasVar,
      // A pipeline service account, in whatever namespace it runs (the request's, or pipelineNamespace).
      {
        name: "pipeline",
        expression: `variables.user.startsWith("system:serviceaccount:") && variables.sas.exists(s, variables.user.endsWith(":" + s))`,
      },
      {
        name: "fromKratixPod",
        expression:
          `has(request.userInfo.extra) && ${cel(POD_NAME_EXTRA)} in request.userInfo.extra && size(${extra}) > 0 && ` +
          `${extra}.all(n, n.startsWith(${cel(prefix)}))`,
      },
      // A write of a Work's content outside Kratix's namespace (its Promise-level Works live there);
      // an update that leaves spec as it was is not (the rules ratchet).
      {
        name: "shaped",
        expression:
          `request.operation != "DELETE" && !has(request.subResource) && request.namespace != ${cel(NAMESPACES.kratix)} && ` +
          `!(request.operation == "UPDATE" && has(object.spec) == has(oldObject.spec) && (!has(object.spec) || object.spec == oldObject.spec))`,
      },
    ],
    [
      rule(`!variables.pipeline || variables.fromKratixPod`, msg.workIdentity),
      rule(
        `!variables.shaped || (has(${spec}) && has(${spec}.resourceName) && size(${spec}.resourceName) <= 253 && ` +
          `${spec}.resourceName.matches(${cel(DNS_SUBDOMAIN)}))`,
        msg.workResourceName,
      ),
      rule(
        `!variables.shaped || (has(${spec}) && has(${spec}.promiseName) && size(${spec}.promiseName) <= 253 && ` +
          `${spec}.promiseName.matches(${cel(DNS_SUBDOMAIN)}))`,
        msg.workPromiseName,
      ),
      rule(
        `!variables.shaped || !has(${spec}) || !has(${spec}.workloadGroups) || ` +
          `${spec}.workloadGroups.all(g, has(g.id) && g.id.matches(${cel(MD5_HEX)}))`,
        msg.workGroupId,
      ),
      rule(
        `!variables.shaped || !has(${spec}) || !has(${spec}.workloadGroups) || ${spec}.workloadGroups.all(g, !has(g.workloads) || ` +
          `g.workloads.all(w, has(w.filepath) && w.filepath != "" && !w.filepath.startsWith("/") && !w.filepath.matches(${cel(DOT_DOT_SEGMENT)})))`,
        msg.workFilepath,
      ),
    ],
  );

  return { pods, jobs, cronJobs, tokens, works };
}
