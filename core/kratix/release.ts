/**
 * The release mark: what lets Flux prune a request's ACK Table. The table guard
 * (core/install/table-guard.ts, rule `prune`) refuses Flux's deletion of a Table ACK manages
 * unless the Table carries RELEASED_ANNOTATION with the uid of the request it was rendered for
 * (REQUEST_UID_ANNOTATION); and only the delete pipeline of the Table's own namespace adds the
 * mark (rule `release`). So a Flux folder that suddenly holds none of the live Tables (a wiped
 * or mistyped state store folder, a Work lost) makes Flux's prune fail, which keeps every Table,
 * and with it every AWS table, Retain or Delete; restoring the folder heals it.
 *
 * The mark is added by the `delete` step (report-delete), which Kratix 224e148 runs, and
 * requires to succeed, before it deletes the request's Works (dynamic_resource_request_controller.go
 * deleteResources: the finalizer kratix.io/delete-workflows first, then kratix.io/work-cleanup).
 * It is an annotation the Table Flux applies never has, so Flux's server-side apply leaves it
 * alone (a field another manager owns that the applied object does not name), provided that
 * manager is none Flux takes fields over from (kustomize-controller's cleanup takes over
 * `kubectl`, `before-first-apply` and its own Update entries): the step patches as
 * RELEASE_FIELD_MANAGER.
 *
 * Its value is the request's uid, and the guard lets Flux prune only while it equals the Table's
 * REQUEST_UID_ANNOTATION: should a request of the same name be made again before Flux pruned the
 * released Table, its render-table publishes the Table with the new uid, and the stale mark
 * releases nothing.
 */
import type { LiveTable } from "./ack-managed.ts";
import { REQUEST_LABELS, REQUEST_NAME_ANNOTATION, REQUEST_UID_ANNOTATION } from "../render/ack-table.ts";
import { labelValue } from "../k8s/metadata.ts";

/** The release mark: its value is the uid of the deleted request whose Table Flux may now prune. */
export const RELEASED_ANNOTATION = "dynamodb.kratix.io/released";
/** The field manager the delete step patches as: none whose fields Flux's apply takes over and removes. */
export const RELEASE_FIELD_MANAGER = "kratix-dynamodb-release";

/** The request a delete step runs for, from its object as Kratix hands it over (valid or not). */
export interface RequestIdentity {
  name: string;
  namespace: string;
  uid?: string;
}

/** Who the request is: name, namespace and uid from its metadata, whatever its spec; undefined without a name. */
export function requestIdentity(input: unknown): RequestIdentity | undefined {
  const meta = (input as { metadata?: { name?: unknown; namespace?: unknown; uid?: unknown } } | null)?.metadata;
  if (typeof meta?.name !== "string" || meta.name === "") return undefined;
  return {
    name: meta.name,
    namespace: typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default",
    ...(typeof meta.uid === "string" && meta.uid ? { uid: meta.uid } : {}),
  };
}

/** The merge patch that releases a Table: the mark, on exactly the version of the Table that was judged. */
export interface ReleasePatch {
  metadata: { uid?: string; resourceVersion?: string; annotations: Record<string, string> };
}

export type ReleaseDecision =
  | { release: true; patch: ReleasePatch; message: string }
  | { release: false; reason: "NoTable" | "NotThisRequest" | "AlreadyReleased" | "NoRequestUid"; message: string };

/**
 * Whether the delete step marks `live` (the Table of the request's namespace and name, as the
 * API server has it) released, and the patch that does. render-table publishes a request's
 * Table only under the request's own namespace and name, with REQUEST_LABELS (name, namespace,
 * Promise), REQUEST_NAME_ANNOTATION and REQUEST_UID_ANNOTATION: a Table there that says it is
 * someone else's is left alone. `promiseName` is the Promise's (KRATIX_PROMISE_NAME), as
 * render-table labelled the Table with it.
 */
export function releaseDecision(request: RequestIdentity, live: LiveTable | undefined, promiseName: string): ReleaseDecision {
  const where = `ACK Table ${request.namespace}/${request.name}`;
  if (!live?.metadata) return { release: false, reason: "NoTable", message: `no ${where}: nothing to release` };
  const labels = live.metadata.labels ?? {};
  const annotations = live.metadata.annotations ?? {};
  const expected: [string, string | undefined, string][] = [
    [`label ${REQUEST_LABELS.name}`, labels[REQUEST_LABELS.name], labelValue(request.name)],
    [`label ${REQUEST_LABELS.namespace}`, labels[REQUEST_LABELS.namespace], labelValue(request.namespace)],
    [`label ${REQUEST_LABELS.promise}`, labels[REQUEST_LABELS.promise], labelValue(promiseName)],
    ...(REQUEST_NAME_ANNOTATION in annotations
      ? [[`annotation ${REQUEST_NAME_ANNOTATION}`, annotations[REQUEST_NAME_ANNOTATION], request.name] as [string, string, string]]
      : []),
    ...(REQUEST_UID_ANNOTATION in annotations && request.uid
      ? [[`annotation ${REQUEST_UID_ANNOTATION}`, annotations[REQUEST_UID_ANNOTATION], request.uid] as [string, string, string]]
      : []),
  ];
  const wrong = expected.filter(([, got, want]) => got !== want);
  if (wrong.length)
    return {
      release: false,
      reason: "NotThisRequest",
      message:
        `${where} is not this request's (${wrong.map(([what, got, want]) => `${what} is ${JSON.stringify(got ?? null)}, not ${JSON.stringify(want)}`).join("; ")}): ` +
        `left as it is`,
    };
  if (!request.uid)
    return {
      release: false,
      reason: "NoRequestUid",
      message: `the request has no metadata.uid, so ${where} cannot be marked released for it; Flux will not prune it`,
    };
  if (annotations[RELEASED_ANNOTATION] === request.uid)
    return { release: false, reason: "AlreadyReleased", message: `${where} is already released for this request` };
  return {
    release: true,
    patch: {
      metadata: {
        ...(live.metadata.uid ? { uid: live.metadata.uid } : {}),
        ...(live.metadata.resourceVersion ? { resourceVersion: live.metadata.resourceVersion } : {}),
        annotations: { [RELEASED_ANNOTATION]: request.uid },
      },
    },
    message: `${where} marked ${RELEASED_ANNOTATION}=${request.uid}: Flux may prune it once Kratix removes the request's Works`,
  };
}
