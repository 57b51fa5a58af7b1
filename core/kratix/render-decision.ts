/**
 * What render-table publishes for a request: the one decision, made before anything is
 * written. Kratix 224e148 publishes one Work per pipeline from what that pipeline wrote
 * to /kratix/output (work-creator/lib/work_creator.go, WorkCreator.Execute): an empty
 * folder empties the Work, and Flux prunes what left it. So the pipeline that writes
 * the Table must also be the one that decides whether it may go out; a later pipeline
 * cannot take back what an earlier one published.
 *
 * Exactly one of:
 *   new      the request's Table as rendered now: valid, owns its table name, adoption
 *            approved if it asks to adopt;
 *   held     the Table ACK manages now, unchanged: an invalid or refused edit of a request
 *            that has a table (dropping it would have ACK delete it under Delete);
 *   nothing  the request owns nothing: refused, and no Table of its is managed by ACK.
 * Each comes with the status that says why.
 */
import type { DynamoDBRequestStatus, PlatformDefaults } from "../api/types.ts";
import { API_GROUP, API_KIND, API_VERSION } from "../api/rules.ts";
import type { FieldError } from "../api/validate.ts";
import { REQUEST_UID_ANNOTATION, type AckTable } from "../render/ack-table.ts";
import { SPEC_DIGEST_ANNOTATION } from "../api/spec-digest.ts";
import {
  configureRequest,
  heldTable,
  invalidRequestStatus,
  requestConditions,
  settle,
  type ConfigureResult,
  type HeldTable,
  type StatusResult,
} from "./steps.ts";
import { ownershipRefusal, ref, type LiveTables } from "./table-claims.ts";

/** The request alone, judged: planned and rendered, or invalid (who it is, and why). */
export type JudgedRequest =
  | { ok: true; configured: Extract<ConfigureResult, { ok: true }> }
  | { ok: false; request: { namespace: string; name: string; generation?: number; uid?: string; digest?: string }; errors: FieldError[] };

/** An object Kratix could have sent for this Promise: the right kind, with a name. */
function isRequestShaped(input: unknown): boolean {
  const o = input as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
  return (
    typeof o === "object" &&
    o !== null &&
    o.apiVersion === `${API_GROUP}/${API_VERSION}` &&
    o.kind === API_KIND &&
    typeof o.metadata?.name === "string"
  );
}

/**
 * The request alone, with the platform's settings. `errors` is set whenever it is invalid;
 * `judged` is undefined for an input that is no DynamoDBRequest at all (Kratix never sends
 * one, and there is no request to tell).
 */
export function judgeRequest(input: unknown, defaults: PlatformDefaults): { judged?: JudgedRequest; errors: FieldError[] } {
  const result = configureRequest(input, defaults);
  if (result.ok) return { judged: { ok: true, configured: result }, errors: [] };
  if (!isRequestShaped(input)) return { errors: result.errors };
  const meta = (input as { metadata: { name: string; namespace?: unknown; generation?: unknown; uid?: unknown; annotations?: unknown } })
    .metadata;
  const generation = typeof meta.generation === "number" ? meta.generation : undefined;
  const digest = (meta.annotations as Record<string, unknown> | undefined)?.[SPEC_DIGEST_ANNOTATION];
  return {
    errors: result.errors,
    judged: {
      ok: false,
      request: {
        name: meta.name,
        namespace: typeof meta.namespace === "string" ? meta.namespace : "default",
        ...(generation !== undefined ? { generation } : {}),
        ...(typeof meta.uid === "string" && meta.uid ? { uid: meta.uid } : {}),
        ...(typeof digest === "string" && digest ? { digest } : {}),
      },
      errors: result.errors,
    },
  };
}

/** The request whose Table render-table publishes. */
export const requestRef = (judged: JudgedRequest): { namespace: string; name: string } =>
  judged.ok ? { namespace: judged.configured.table.metadata.namespace, name: judged.configured.table.metadata.name } : judged.request;

/** What render-table read from the cluster (core/kratix/table-claims.ts competingRequests, ownershipReads). */
export interface ClusterView {
  /** The requests competing for the request's table name (none for an invalid request). */
  rivals: unknown[];
  /** Annotations of the namespaces whose requests ask to adopt (undefined: no such namespace). */
  namespaces: ReadonlyMap<string, Record<string, string> | undefined>;
  /** The live ACK Tables of the request and of its rivals, by "namespace/name" (undefined: none). */
  tables: LiveTables;
}

export type RenderDecision =
  | { publish: "new"; table: AckTable; status: DynamoDBRequestStatus; warnings: string[] }
  | { publish: "held"; table: HeldTable; status: StatusResult["status"] }
  | { publish: "nothing"; status: StatusResult["status"] };

/** Said in the status of a request whose managed Table is held. */
export const HELD_NOTE = "the Table ACK manages now stays as it is (nothing changes in AWS until this is resolved)";

/** A refused request publishes the Table ACK manages now, unchanged, or nothing when ACK manages none. */
function refused(refusal: StatusResult, live: Parameters<typeof heldTable>[0], requestUid: string | undefined): RenderDecision {
  const held = heldTable(live, requestUid);
  if (!held) return { publish: "nothing", status: refusal.status };
  const message = `${refusal.status.message ?? ""}; ${HELD_NOTE}`;
  return {
    publish: "held",
    table: held,
    status: { ...refusal.status, message, conditions: refusal.status.conditions.map((c) => ({ ...c, message })) },
  };
}

/** render-table's one decision (see the top of this file), its status settled on the request's spec digest when final. */
export function decideRenderTable(judged: JudgedRequest, cluster: ClusterView, defaults: PlatformDefaults, now: Date): RenderDecision {
  const decision = decide(judged, cluster, defaults, now);
  const digest = judged.ok ? judged.configured.request.metadata.annotations?.[SPEC_DIGEST_ANNOTATION] : judged.request.digest;
  return { ...decision, status: settle(decision.status, digest) } as RenderDecision;
}

function decide(judged: JudgedRequest, cluster: ClusterView, defaults: PlatformDefaults, now: Date): RenderDecision {
  const live = cluster.tables.get(ref(requestRef(judged)));
  if (!judged.ok) return refused(invalidRequestStatus(judged.errors, now, judged.request.generation), live, judged.request.uid);
  const { request, plan, table, status, warnings } = judged.configured;
  const refusal = ownershipRefusal(request, plan, cluster.rivals, cluster.namespaces, cluster.tables, defaults, now);
  if (refusal) return refused(refusal, live, table.metadata.annotations[REQUEST_UID_ANNOTATION]);
  // Not ready until the status step says so: a Ready=True of the request's earlier spec must not stand for this one.
  const conditions = requestConditions("False", String(status.reason), String(status.message), now.toISOString());
  return { publish: "new", table, status: { ...status, conditions }, warnings };
}
