/**
 * What each step of the Promise's workflows decides, as pure functions. The
 * pipeline program (pipeline/) only reads Kratix's files, calls these, and
 * writes the results back; tests and the Pulumi components call them directly.
 */
import { planTable, type TablePlan } from "../api/plan.ts";
import type { DynamoDBRequest, DynamoDBRequestStatus, PlatformDefaults } from "../api/types.ts";
import { formatErrors, validateRequestObject, type FieldError } from "../api/validate.ts";
import { REQUEST_UID_ANNOTATION, renderAckTable, type AckTable } from "../render/ack-table.ts";
import { ackManages, type LiveTable } from "./ack-managed.ts";
import { ADOPTABLE_TABLES_ANNOTATION } from "./adoption.ts";
import { RELEASED_ANNOTATION } from "./release.ts";

export const DEFAULT_PROMISE_NAME = "aws-dynamodb-kratix";

/** Why some declared attributes are not on the table. */
export function droppedAttributesNote(dropped: string[]): string | undefined {
  if (dropped.length === 0) return undefined;
  return `attributes not used by any key or index were left out of the table (DynamoDB rejects them): ${dropped.join(", ")}`;
}

export type ConfigureResult =
  | { ok: false; errors: FieldError[] }
  | {
      ok: true;
      request: DynamoDBRequest;
      plan: TablePlan;
      table: AckTable;
      status: DynamoDBRequestStatus;
      warnings: string[];
    };

/**
 * The request alone, as the `configure` step (render-table) first judges it: validate, plan
 * and render its ACK Table, and the status that says so. Whether the Table may go out also
 * depends on the rest of the cluster (core/kratix/render-decision.ts).
 */
export function configureRequest(input: unknown, defaults: PlatformDefaults = {}): ConfigureResult {
  const errors = validateRequestObject(input);
  if (errors.length > 0) return { ok: false, errors };
  const request = input as DynamoDBRequest;
  const planned = planTable(request.spec, defaults);
  if (!planned.plan) return { ok: false, errors: planned.errors };
  const plan = planned.plan;
  const table = renderAckTable(plan, {
    name: request.metadata.name,
    namespace: request.metadata.namespace ?? "default",
    promiseName: defaults.promiseName ?? DEFAULT_PROMISE_NAME,
    ...(typeof request.metadata.uid === "string" && request.metadata.uid ? { uid: request.metadata.uid } : {}),
  });
  const note = droppedAttributesNote(plan.droppedAttributes);
  const warnings = note ? [note] : [];
  return {
    ok: true,
    request,
    plan,
    table,
    warnings,
    status: {
      message: [`table ${plan.tableName} in ${plan.region} handed to ACK`, ...warnings].join("; "),
      reason: "Rendered",
      tableName: plan.tableName,
      region: plan.region,
      deletionPolicy: plan.deletionPolicy,
      droppedAttributes: plan.droppedAttributes,
    },
  };
}

/** A Kubernetes condition as Kratix merges it into the request's status (by type). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** This project's own condition, kept for those who read it. */
export const TABLE_READY_CONDITION = "TableReady";
/**
 * What generic tooling reads (decision 104): `Ready` (kubectl wait --for=condition=Ready, Flux's
 * and Argo CD's health checks through kstatus) and `Stalled`, True when nothing but a change to
 * the request or to the cluster can help (kstatus then reports the request Failed instead of
 * InProgress, so a Flux health check fails at once rather than at its timeout).
 */
export const READY_CONDITION = "Ready";
export const STALLED_CONDITION = "Stalled";

/**
 * The status with `settledSpecDigest` set to `digest` when it is a final verdict (Ready True or
 * Stalled True), and as it is otherwise: what a Pulumi wait on the request ends on.
 */
export function settle<S extends object>(status: S, digest: string | undefined): S & { settledSpecDigest?: string } {
  const conditions = (status as { conditions?: Condition[] }).conditions ?? [];
  const final = conditions.some((c) => (c.type === READY_CONDITION || c.type === STALLED_CONDITION) && c.status === "True");
  return final && digest ? { ...status, settledSpecDigest: digest } : status;
}

/**
 * The conditions every status the steps write carries: TableReady and Ready alike, and Stalled.
 * All three are written each time (Kratix merges conditions by type, so one left out would keep
 * its old value).
 */
export function requestConditions(
  ready: Condition["status"],
  reason: string,
  message: string,
  at: string,
  o: { stalled?: boolean } = {},
): Condition[] {
  // No observedGeneration: Kratix's status schema keeps only these five fields of a condition (promise_controller.go
  // setStatusFieldsOnCRD); the generation a verdict is about is status.readyGeneration or status.observedGeneration.
  return [
    { type: TABLE_READY_CONDITION, status: ready, reason, message, lastTransitionTime: at },
    { type: READY_CONDITION, status: ready, reason, message, lastTransitionTime: at },
    {
      type: STALLED_CONDITION,
      status: o.stalled ? "True" : "False",
      reason: o.stalled ? reason : "NotStalled",
      message: o.stalled ? message : "",
      lastTransitionTime: at,
    },
  ];
}

/**
 * The ARN of the table's stream while the Table asks for one: ACK reports DynamoDB's
 * LatestStreamArn, which DynamoDB keeps for a stream turned off (readable for 24 hours), and a
 * workload must not start reading a stream that no longer gets records.
 */
export function streamArnOf(table: ObservedTable): string | undefined {
  const wanted = (table.spec?.streamSpecification as { streamEnabled?: unknown } | undefined)?.streamEnabled === true;
  return wanted ? table.status?.latestStreamARN || undefined : undefined;
}

/** The reason of an IAM refusal that persisted (ACCESS_DENIED_SETTLE). */
export const ACCESS_DENIED = "AccessDenied";

/** The parts of an ACK Table the status step reads. */
export type ObservedTable = Pick<LiveTable, "spec" | "status">;

export interface StatusResult {
  status: DynamoDBRequestStatus & { conditions: Condition[] };
  /** A Go duration for workflow-control.yaml's retryAfter; absent once the table is ready. */
  retryAfter?: string;
  ready: boolean;
}

/**
 * Retry intervals: quick while AWS is creating, slower when a human must act. `clusterRead`:
 * a step could not read the API server, even after retrying in the step itself.
 */
export const RETRY = { missing: "30s", creating: "15s", recoverable: "1m", terminal: "5m", clusterRead: "1m" } as const;

/**
 * An IAM refusal that persists is a refusal (issue 18). ACK treats AccessDenied as recoverable and
 * retries it for ever (controller-runtime's backoff, up to about 17 minutes apart), so a wait on
 * the request would run to its timeout. The status step counts the runs in a row that saw an IAM
 * refusal on the same spec (status.accessDenied) and settles it as the refusal AccessDenied
 * (Stalled) once it has lasted `afterMs` over at least `runs` runs: longer than an IAM change
 * takes to reach every region. ACK keeps retrying, and the status step keeps running (every
 * RETRY.terminal), so a fixed policy makes the request Ready again.
 */
export const ACCESS_DENIED_SETTLE = { runs: 3, afterMs: 5 * 60_000 } as const;
/** What an IAM refusal looks like in ACK's message: AWS's code and text, or (moto) the bare HTTP 403. */
const IAM_REFUSAL = /AccessDenied|not authorized to perform|StatusCode: 403/;

/** What the request asks for now: the table is ready only once the live Table carries it. */
export interface ReadinessExpectation {
  /** The Table spec the configure step renders for the request as it is now. */
  spec: Record<string, unknown>;
  /** The request's metadata.generation, written to status.readyGeneration once ready. */
  generation?: number;
  /** The request's spec-digest annotation (SPEC_DIGEST_ANNOTATION), written to status.readySpecDigest once ready. */
  digest?: string;
}

/**
 * True when every field of `want` is in `live` with the same value (objects
 * recursively, arrays element by element): ACK may add late-initialised fields
 * to the live spec, but must not lack or change any field we render.
 */
export function specCarries(live: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(live) && live.length === want.length && want.every((w, i) => specCarries(live[i], w));
  if (want !== null && typeof want === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(want as Record<string, unknown>).every(
      ([k, v]) => v === undefined || specCarries((live as Record<string, unknown>)[k], v),
    );
  }
  return live === want;
}

/**
 * The `status` step: turn what ACK reports about the Table into the request's
 * status (ARN, table status, a readable message, a TableReady condition), and
 * decide whether Kratix should run the step again later. With an expectation,
 * "ready" means ACTIVE, synced by ACK, and carrying the spec rendered now, and
 * only then are readyGeneration and readySpecDigest written (a status from the
 * previous spec never passes for the new one).
 */
export function tableStatusToRequestStatus(
  table: ObservedTable | undefined,
  ref: { namespace: string; name: string },
  now: Date,
  expect?: ReadinessExpectation,
  /** The request's status before this run: where an IAM refusal's count is kept. */
  previous?: DynamoDBRequestStatus,
): StatusResult {
  const at = now.toISOString();
  // A count of an earlier IAM refusal is reset by any other verdict (Kratix merges the status, so a
  // field left out would keep its old value).
  const reset = previous?.accessDenied?.runs ? { accessDenied: { since: "", runs: 0 } } : {};
  const result = (
    ready: boolean,
    reason: string,
    message: string,
    retryAfter?: string,
    extra: DynamoDBRequestStatus = {},
  ): StatusResult => ({
    ready,
    ...(retryAfter ? { retryAfter } : {}),
    status: settle(
      {
        ...reset,
        ...extra,
        message,
        reason,
        conditions: requestConditions(ready ? "True" : "False", reason, message, at, {
          stalled: reason === "Terminal" || reason === ACCESS_DENIED,
        }),
      },
      expect?.digest,
    ),
  });
  if (!table) {
    return result(
      false,
      "TableNotFound",
      `waiting for ACK Table ${ref.namespace}/${ref.name} to be applied from the state store`,
      RETRY.missing,
    );
  }
  const s = table.status ?? {};
  const streamArn = streamArnOf(table);
  const observed: DynamoDBRequestStatus = {
    ...(s.ackResourceMetadata?.arn ? { tableArn: s.ackResourceMetadata.arn } : {}),
    ...(s.tableStatus ? { tableStatus: s.tableStatus } : {}),
    // Cleared explicitly once the stream is off: Kratix merges the status, so a field left out would stay.
    ...(streamArn ? { streamArn } : previous?.streamArn ? { streamArn: "" } : {}),
  };
  const condition = (type: string) => s.conditions?.find((c) => c.type === type && c.status === "True");
  const terminal = condition("ACK.Terminal");
  if (terminal) {
    return result(
      false,
      "Terminal",
      `ACK cannot reconcile the table: ${terminal.message ?? terminal.reason ?? "no detail"}`,
      RETRY.terminal,
      observed,
    );
  }
  const recoverable = condition("ACK.Recoverable");
  if (recoverable) {
    const detail = recoverable.message ?? recoverable.reason ?? "no detail";
    if (IAM_REFUSAL.test(detail)) {
      const before = previous?.accessDenied;
      const same = before !== undefined && before.runs > 0 && before.specDigest === expect?.digest;
      const accessDenied = {
        since: same ? before.since : at,
        runs: same ? before.runs + 1 : 1,
        ...(expect?.digest ? { specDigest: expect.digest } : {}),
      };
      const lasted = now.getTime() - Date.parse(accessDenied.since);
      if (accessDenied.runs >= ACCESS_DENIED_SETTLE.runs && lasted >= ACCESS_DENIED_SETTLE.afterMs)
        return result(
          false,
          ACCESS_DENIED,
          `AWS has refused ACK for ${Math.round(lasted / 60_000)} minutes (${accessDenied.runs} checks): the platform's IAM policy for its controller does not cover this table (its region, name prefix or KMS key); ask the platform team. ACK keeps retrying: ${detail}`,
          RETRY.terminal,
          { ...observed, accessDenied },
        );
      return result(false, "Recoverable", `ACK is retrying: ${detail}`, RETRY.recoverable, { ...observed, accessDenied });
    }
    return result(false, "Recoverable", `ACK is retrying: ${detail}`, RETRY.recoverable, observed);
  }
  if (s.tableStatus === "ACTIVE" && s.ackResourceMetadata?.arn) {
    if (expect && !specCarries(table.spec, expect.spec)) {
      return result(
        false,
        "Updating",
        `table is ACTIVE, but ACK Table ${ref.namespace}/${ref.name} does not carry this request's spec yet (Flux applies it from the state store)`,
        RETRY.creating,
        observed,
      );
    }
    if (expect && !condition("ACK.ResourceSynced")) {
      return result(false, "Syncing", `table is ACTIVE; ACK is syncing this request's spec to AWS`, RETRY.creating, observed);
    }
    const ready: DynamoDBRequestStatus = {
      ...observed,
      ...(expect?.generation !== undefined ? { readyGeneration: expect.generation } : {}),
      ...(expect?.digest ? { readySpecDigest: expect.digest } : {}),
    };
    return result(true, "Active", `table is ACTIVE: ${s.ackResourceMetadata.arn}`, undefined, ready);
  }
  return result(false, "Creating", `table is ${s.tableStatus ?? "not yet created"} in AWS`, RETRY.creating, observed);
}

/**
 * Why a request renders no Table, as a plain status field as well as the TableReady
 * condition's reason: Kratix v0.125.0 drops the conditions a pipeline writes, and
 * `kubectl get` and KubeVela show a field. Every status the steps write sets `reason`
 * (Kratix merges status.yaml into the status, so a stale reason would otherwise stay).
 */
export const REFUSAL = {
  invalidRequest: "InvalidRequest",
  tableNameTaken: "TableNameTaken",
  adoptionNotApproved: "AdoptionNotApproved",
} as const;

/**
 * Whether render-table refused this request in the run now going on: the status step then
 * has nothing to report (no Table of this request's went out) and leaves render-table's
 * status as it is. Kratix 224e148 runs each configure pipeline as its own Job, whose
 * status-writer merges status.yaml into the request before the next pipeline's Job is made
 * (api/v1alpha1/pipeline_factory.go pipelineJob, lib/workflow/reconciler.go), and
 * render-table always writes a reason, so the reason the status step reads is
 * render-table's of this run. (A rerun of the status step alone, after its own retryAfter,
 * reads its own earlier reason, never a refusal: it asks for no retry after one.)
 */
export function refusedByRenderTable(request: { status?: { reason?: unknown } }): boolean {
  return (Object.values(REFUSAL) as unknown[]).includes(request.status?.reason);
}

/**
 * What the status step writes for a request render-table refused in this run: the refusal's
 * message once more, from its Ready condition, and nothing else. Kratix 224e148 sets
 * status.message to "Pending" as each pipeline's Job starts (lib/workflow/reconciler.go
 * setPipelineStartingStatus), and once the last pipeline ends turns a "Pending" it finds into
 * "Resource requested" (work-creator/lib/status_updater.go MarkAsCompleted): a status step that
 * wrote nothing would leave `kubectl get` saying a refused request was requested. Undefined when
 * there is no Ready message to restate (nothing better to say than Kratix's own words).
 */
export function refusalRestated(status: { conditions?: unknown } | undefined): { message: string } | undefined {
  const conditions = Array.isArray(status?.conditions) ? (status.conditions as Partial<Condition>[]) : [];
  const message = conditions.find((c) => c?.type === READY_CONDITION)?.message;
  return typeof message === "string" && message ? { message } : undefined;
}

/** The status of a step that could not read the cluster, even after retrying in the step: Kratix is asked to run it again. */
export const CLUSTER_READ_FAILED = "ClusterReadFailed";

/** Error lines a status message holds at most (the Job log has them all, up to its own cap). */
export const MAX_STATUS_ERRORS = 10;

/**
 * The status of a request that renders no new Table, and why. `generation` is the request's
 * metadata.generation the verdict is about (status.observedGeneration). It asks for no
 * retry: Kratix publishes no Work for a run that asks for one, and render-table's refusal
 * must be published (an unapproved adopter's Table taken out of the Work, for one). The
 * request is judged again at the next run of its workflow: when it changes, when it is
 * labelled kratix.io/manual-reconciliation=true, or at Kratix's periodic reconciliation.
 */
export function refusedStatus(
  reason: (typeof REFUSAL)[keyof typeof REFUSAL],
  message: string,
  now: Date,
  generation?: number,
): StatusResult {
  return {
    ready: false,
    status: {
      message,
      reason,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: requestConditions("False", reason, message, now.toISOString(), { stalled: true }),
    },
  };
}

/** An invalid request's status: every field error (up to MAX_STATUS_ERRORS), each naming its field. */
export function invalidRequestStatus(errors: FieldError[], now: Date, generation?: number): StatusResult {
  return refusedStatus(
    REFUSAL.invalidRequest,
    `invalid DynamoDBRequest, no table rendered:\n${formatErrors(errors, MAX_STATUS_ERRORS)}`,
    now,
    generation,
  );
}

/** A step could not read the API server: say so, and ask Kratix to run the step again (nothing it publishes changes meanwhile). */
export function clusterReadFailedStatus(what: string, error: string, now: Date, generation?: number): StatusResult {
  const message = `could not read the cluster to ${what} (${error}); Kratix runs this step again in ${RETRY.clusterRead}`;
  return {
    ready: false,
    retryAfter: RETRY.clusterRead,
    status: {
      message,
      reason: CLUSTER_READ_FAILED,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: requestConditions("Unknown", CLUSTER_READ_FAILED, message, now.toISOString()),
    },
  };
}

/** The Table render-table publishes again, unchanged, for a refused request (heldTable). */
export interface HeldTable {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

/**
 * The Table a refused request keeps in its Work: the one ACK manages now, as it is.
 * render-table publishes one Work per run; an output without this Table would remove it
 * from the Work, Flux would prune it, and ACK, which manages it, would delete the AWS table
 * under deletionPolicy Delete: an invalid or refused edit must never cost data, and a
 * Table ACK manages is never dropped. A Table ACK does not manage (none, a squatter's
 * that ACK refused, one not yet reconciled) is not held: pruning it touches nothing in AWS.
 */
export function heldTable(live: LiveTable | undefined, requestUid?: string): HeldTable | undefined {
  if (!ackManages(live) || !live?.metadata || !live.spec) return undefined;
  const m = live.metadata;
  // Only what Flux applied: the server's bookkeeping (uid, resourceVersion, managedFields,
  // finalizers) stays out, or Flux would take ownership of ACK's finalizer; kubectl's
  // last-applied copy is not ours either, nor the delete step's release mark (Flux would
  // co-own it). The Table now answers to this request: its uid (a stale release mark of a
  // deleted request of the same name then releases nothing, core/kratix/release.ts).
  const annotations = Object.fromEntries(
    Object.entries(m.annotations ?? {}).filter(([k]) => !k.startsWith("kubectl.kubernetes.io/") && k !== RELEASED_ANNOTATION),
  );
  if (requestUid) annotations[REQUEST_UID_ANNOTATION] = requestUid;
  return {
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: m.labels } : {}), annotations },
    spec: live.spec,
  };
}

/** The `delete` step: say plainly what happens to the AWS table. Nothing else is Kratix's to do. */
export function deleteRequestMessage(input: unknown, defaults: PlatformDefaults = {}): string {
  const errors = validateRequestObject(input);
  const request = input as DynamoDBRequest;
  const where = `${request?.metadata?.namespace ?? "default"}/${request?.metadata?.name ?? "?"}`;
  if (errors.length > 0) return `request ${where} was never valid, so no table was rendered for it; nothing to clean up`;
  const planned = planTable(request.spec, defaults);
  if (!planned.plan) return `request ${where} never had a table (${planned.errors.map((e) => e.message).join("; ")})`;
  const { tableName, region, deletionPolicy } = planned.plan;
  if (deletionPolicy === "Retain") {
    return (
      `request ${where} deleted: its ACK Table is removed from the state store, and ACK keeps the AWS table ${tableName} in ${region} (deletionPolicy Retain); ` +
      `to take it back, a request with adopt: true, once the platform team lists ${tableName} in the namespace's ${ADOPTABLE_TABLES_ANNOTATION}`
    );
  }
  const guard = request.spec.deletionProtection ? "; deletionProtection is on, so AWS will refuse the delete until it is turned off" : "";
  return `request ${where} deleted: its ACK Table is removed from the state store, and ACK deletes the AWS table ${tableName} in ${region} (deletionPolicy Delete)${guard}`;
}
