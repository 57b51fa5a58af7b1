/**
 * What each step of the Promise's workflows decides, as pure functions. The
 * pipeline program (pipeline/) only reads Kratix's files, calls these, and
 * writes the results back; tests and the Pulumi components call them directly.
 */
import { planTable, type TablePlan } from "../api/plan.ts";
import type { DynamoDBRequest, DynamoDBRequestStatus, PlatformDefaults } from "../api/types.ts";
import { formatErrors, validateRequestObject, type FieldError } from "../api/validate.ts";
import { renderAckTable, type AckTable } from "../render/ack-table.ts";
import { ADOPTABLE_TABLES_ANNOTATION } from "./adoption.ts";

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

/** The `configure` step: validate the request, plan and render its ACK Table, and say so in status. */
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

/** The parts of an ACK Table's status the status step reads. */
export interface ObservedTable {
  spec?: Record<string, unknown>;
  status?: {
    tableStatus?: string;
    ackResourceMetadata?: { arn?: string; region?: string };
    conditions?: { type: string; status: string; message?: string; reason?: string }[];
  };
}

export interface StatusResult {
  status: DynamoDBRequestStatus & { conditions: Condition[] };
  /** A Go duration for workflow-control.yaml's retryAfter; absent once the table is ready. */
  retryAfter?: string;
  ready: boolean;
}

export const TABLE_READY_CONDITION = "TableReady";

/** Retry intervals: quick while AWS is creating, slower when a human must act. */
export const RETRY = { missing: "30s", creating: "15s", recoverable: "1m", terminal: "5m" } as const;

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
): StatusResult {
  const at = now.toISOString();
  const result = (
    ready: boolean,
    reason: string,
    message: string,
    retryAfter?: string,
    extra: DynamoDBRequestStatus = {},
  ): StatusResult => ({
    ready,
    ...(retryAfter ? { retryAfter } : {}),
    status: {
      ...extra,
      message,
      reason,
      conditions: [{ type: TABLE_READY_CONDITION, status: ready ? "True" : "False", reason, message, lastTransitionTime: at }],
    },
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
  const observed: DynamoDBRequestStatus = {
    ...(s.ackResourceMetadata?.arn ? { tableArn: s.ackResourceMetadata.arn } : {}),
    ...(s.tableStatus ? { tableStatus: s.tableStatus } : {}),
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
    return result(
      false,
      "Recoverable",
      `ACK is retrying: ${recoverable.message ?? recoverable.reason ?? "no detail"}`,
      RETRY.recoverable,
      observed,
    );
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

/** Error lines a status message holds at most (the Job log has them all, up to its own cap). */
export const MAX_STATUS_ERRORS = 10;

/**
 * The status of a request that renders no Table, and why. `generation` is the request's
 * metadata.generation the verdict is about (status.observedGeneration): a rerun of the
 * same generation cannot change an invalid request's verdict.
 */
export function refusedStatus(
  reason: (typeof REFUSAL)[keyof typeof REFUSAL],
  message: string,
  now: Date,
  generation?: number,
  retryAfter?: string,
): StatusResult {
  return {
    ready: false,
    ...(retryAfter ? { retryAfter } : {}),
    status: {
      message,
      reason,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: [{ type: TABLE_READY_CONDITION, status: "False", reason, message, lastTransitionTime: now.toISOString() }],
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

/**
 * The Table a refused request keeps in the state store: the one applied now, as it is.
 * A pipeline run that outputs nothing would remove the request's Table from its Work, and
 * Flux would prune it, and with deletionPolicy Delete ACK would delete the AWS table:
 * an invalid edit must never cost data. Undefined when the request has no Table.
 */
export function heldTable(live: (ObservedTable & { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> }) | undefined) {
  if (!live?.metadata || !live.spec) return undefined;
  const m = live.metadata as { name?: string; namespace?: string; labels?: unknown; annotations?: Record<string, string> };
  // Only what the pipeline itself rendered: the server's bookkeeping (uid, resourceVersion,
  // managedFields) and annotations ACK adds would make Flux fight over them.
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => !k.startsWith("kubectl.kubernetes.io/")));
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
