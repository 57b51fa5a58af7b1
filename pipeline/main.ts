/**
 * The aws-dynamodb-kratix Promise pipeline: one program, three steps.
 *
 *   configure  (render-table) judge the request, read what the cluster says about its table
 *              name (every request asking for it, adoption approvals, the live ACK Tables),
 *              and publish exactly one of: the new Table, the Table ACK manages now held
 *              unchanged, or nothing (core/kratix/render-decision.ts); status says why
 *   status     (table-status) read the request's Table back, write ARN and state to status,
 *              ask Kratix to retry while the table is not ACTIVE, and keep the request's
 *              connection ConfigMap current once it is ready; never writes output, and
 *              for a request render-table refused only restates the refusal's message
 *   delete     (report-delete) mark the request's Table released, so that Flux may prune it
 *              once Kratix removes the request's Works (core/kratix/release.ts), and say what
 *              happens to the AWS table (removing the Works is Kratix's job)
 *
 * Usage: node pipeline/main.ts <configure|status|delete>  (npm run --silent pipeline -- <step>)
 * Exit codes: 0 done (an invalid or refused request too, and a cluster that could not be
 * read or written: the status says so and asks Kratix to run the step again), 1 invalid
 * platform settings (configure and status), an unreadable input file or no way to reach a
 * cluster at all, 2 bad usage.
 */
import { formatErrors, type FieldError } from "../core/api/validate.ts";
import {
  DEFAULT_PROMISE_NAME,
  clusterReadFailedStatus,
  deleteRequestMessage,
  droppedAttributesNote,
  refusedByRenderTable,
  refusalRestated,
  RETRY,
  tableStatusToRequestStatus,
  type StatusResult,
} from "../core/kratix/steps.ts";
import { decideRenderTable, judgeRequest, requestRef, type ClusterView, type JudgedRequest } from "../core/kratix/render-decision.ts";
import { connectionConfigMap, connectionWrite } from "../core/kratix/connection.ts";
import { competingRequests, ownershipReads, ref } from "../core/kratix/table-claims.ts";
import type { LiveTable } from "../core/kratix/ack-managed.ts";
import { releaseDecision, requestIdentity } from "../core/kratix/release.ts";
import { ENV_CONNECTION_CONFIGMAP, ENV_DRY_RUN } from "../core/kratix/env.ts";
import type { DynamoDBRequest, PlatformDefaults } from "../core/api/types.ts";
import { SPEC_DIGEST_ANNOTATION } from "../core/api/spec-digest.ts";
import { kratixDirs, readObject, writeOutput, writeRetry, writeStatus, type KratixDirs } from "./kratix-files.ts";
import { platformSettingsFromEnv } from "./platform-env.ts";

export const TABLE_OUTPUT_FILE = "dynamodb-table.yaml";
const STEPS = ["configure", "status", "delete"] as const;
type Step = (typeof STEPS)[number];

const log = (line: string) => process.stderr.write(`${line}\n`);
/** Error lines printed at most; a hostile request can break a rule hundreds of times. */
export const MAX_ERROR_LINES = 20;
const invalid = (errors: FieldError[]) => log(`invalid DynamoDBRequest:\n${formatErrors(errors, MAX_ERROR_LINES)}`);

const SETTINGS_SOURCE = "the Promise's environment variables for the pipeline container";

/**
 * The request, judged with the platform's settings, which are checked first, before
 * anything is read or written: a bad one would otherwise render a Table for region
 * "Oregon" in every request that names none. Bad platform settings are the platform
 * team's to fix: the step fails (exit 1), Kratix keeps the request's Work as it was, and
 * the Job's failure is what their monitoring sees. An invalid request is its author's to
 * fix: it is judged, and its status says why. Undefined: exit 1.
 */
async function judgedRequest(
  dirs: KratixDirs,
): Promise<{ judged: JudgedRequest; defaults: PlatformDefaults; input: { status?: { conditions?: unknown } } } | undefined> {
  const { defaults, errors } = platformSettingsFromEnv();
  if (errors.length) {
    log(`invalid platform settings (${SETTINGS_SOURCE}):\n${formatErrors(errors)}`);
    return undefined;
  }
  const input = (await readObject(dirs)) as { status?: { conditions?: unknown } };
  const { judged, errors: requestErrors } = judgeRequest(input, defaults);
  if (requestErrors.length) invalid(requestErrors);
  return judged ? { judged, defaults, input } : undefined;
}

/** A status that asks Kratix to run the step again: written as any other, with workflow-control.yaml. */
async function writeStatusResult(dirs: KratixDirs, result: StatusResult): Promise<void> {
  await writeStatus(dirs, result.status);
  if (result.retryAfter) await writeRetry(dirs, result.retryAfter, result.status.message ?? "");
  log(result.status.message ?? "");
}

/**
 * What render-table needs from the cluster: for a valid request, every request competing
 * for its table name (the cluster-wide list, a page at a time, keeping only those), the
 * adopting namespaces' approvals and the rivals' Tables; always, the request's own Table.
 */
async function readClusterView(judged: JudgedRequest, defaults: PlatformDefaults): Promise<ClusterView> {
  const cluster = await import("./cluster.ts");
  const rivals: unknown[] = [];
  if (judged.ok) {
    const { request, plan } = judged.configured;
    await cluster.forEachDynamoDBRequestPage(
      (page) => rivals.push(...competingRequests(request, plan, page, defaults)),
      () => rivals.splice(0),
    );
  }
  const reads = judged.ok ? ownershipReads(judged.configured.request, rivals) : { namespaces: [], tables: [requestRef(judged)] };
  // A nameless object has no Table (and an empty name would turn the get into a list).
  reads.tables = reads.tables.filter((t) => t.name);
  const [namespaces, tables] = await Promise.all([
    Promise.all(reads.namespaces.map(async (ns) => [ns, await cluster.readNamespaceAnnotations(ns)] as const)),
    Promise.all(reads.tables.map(async (t) => [ref(t), await cluster.readAckTable(t.namespace, t.name)] as const)),
  ]);
  return { rivals, namespaces: new Map(namespaces), tables: new Map<string, LiveTable | undefined>(tables) };
}

/**
 * render-table: the one pipeline that decides and publishes (core/kratix/render-decision.ts).
 * Whatever it writes to output/ becomes its Work, so nothing is written before the decision.
 * When the cluster cannot be read it publishes nothing new: it asks Kratix to run it again,
 * and Kratix leaves its Work as it was for a run that asks (work_creator.go Execute), so the
 * Table published before stays.
 */
async function configure(dirs: KratixDirs): Promise<number> {
  const judgedWith = await judgedRequest(dirs);
  if (!judgedWith) return 1;
  const { judged, defaults } = judgedWith;
  const { ClusterReadError } = await import("./cluster.ts");
  let view: ClusterView;
  try {
    view = await readClusterView(judged, defaults);
  } catch (e) {
    if (!(e instanceof ClusterReadError)) throw e;
    const generation = judged.ok ? judged.configured.request.metadata.generation : judged.request.generation;
    const known = typeof generation === "number" ? generation : undefined;
    await writeStatusResult(dirs, clusterReadFailedStatus("decide what this request may publish", e.message, new Date(), known));
    return 0;
  }
  const decision = decideRenderTable(judged, view, defaults, new Date());
  const { namespace, name } = requestRef(judged);
  if (decision.publish !== "nothing") await writeOutput(dirs, TABLE_OUTPUT_FILE, decision.table);
  await writeStatus(dirs, decision.status);
  if (decision.publish === "new") {
    for (const w of decision.warnings) log(`warning: ${w}`);
    const { spec } = decision.table;
    log(`rendered ACK Table ${namespace}/${name} for ${String(spec.tableName)} in ${decision.status.region ?? "?"}`);
  } else {
    // An invalid request's errors are in the log already (judgedRequest).
    if (judged.ok) log(decision.status.message ?? "");
    log(
      decision.publish === "held"
        ? `refused: ACK Table ${namespace}/${name} published again as ACK manages it now`
        : `refused: no Table published for ${namespace}/${name}`,
    );
  }
  return 0;
}

/**
 * table-status: reads the request's Table back and reports; never writes output (its Work
 * stays empty: only render-table publishes the Table). For a request render-table refused in
 * this run it reads nothing and only writes the refusal's message back (refusalRestated: Kratix
 * overwrote it when this Job started).
 */
async function status(dirs: KratixDirs): Promise<number> {
  const judgedWith = await judgedRequest(dirs);
  if (!judgedWith) return 1;
  const { judged, input } = judgedWith;
  if (!judged.ok || refusedByRenderTable(judged.configured.request)) {
    log("render-table refused this request: its status says why, and there is nothing to report");
    const restated = refusalRestated(input.status);
    if (restated) await writeStatus(dirs, restated);
    return 0;
  }
  const configured = judged.configured;
  const { name, namespace } = configured.table.metadata;
  const meta = configured.request.metadata;
  const generation = typeof meta.generation === "number" ? meta.generation : undefined;
  const { readAckTable, ClusterReadError } = await import("./cluster.ts");
  let table: LiveTable | undefined;
  try {
    table = await readAckTable(namespace, name);
  } catch (e) {
    if (!(e instanceof ClusterReadError)) throw e;
    await writeStatusResult(dirs, clusterReadFailedStatus("read the request's ACK Table", e.message, new Date(), generation));
    return 0;
  }
  const result = tableStatusToRequestStatus(
    table,
    { namespace, name },
    new Date(),
    {
      spec: configured.table.spec,
      ...(generation !== undefined ? { generation } : {}),
      ...(meta.annotations?.[SPEC_DIGEST_ANNOTATION] ? { digest: meta.annotations[SPEC_DIGEST_ANNOTATION] } : {}),
    },
    configured.request.status,
  );
  const note = droppedAttributesNote(configured.plan.droppedAttributes);
  if (note) result.status.message = `${result.status.message}; ${note}`;
  // Not in a dry run (the reader hands over the real request: nothing may change), nor where the
  // Promise runs its pipelines in a namespace of their own (ENV_CONNECTION_CONFIGMAP).
  const connection = process.env[ENV_DRY_RUN] !== "true" && process.env[ENV_CONNECTION_CONFIGMAP] !== "off";
  if (result.ready && table && connection)
    await publishConnection(configured, result, judgedWith.defaults.promiseName ?? DEFAULT_PROMISE_NAME);
  await writeStatusResult(dirs, result);
  return 0;
}

/**
 * A ready table's connection ConfigMap (core/kratix/connection.ts), written or kept current;
 * the status names it, or says why it is not written. A cluster that refuses the write leaves
 * the table ready and asks Kratix to run the step again.
 */
async function publishConnection(
  configured: Extract<JudgedRequest, { ok: true }>["configured"],
  result: StatusResult,
  promiseName: string,
): Promise<void> {
  const { request, plan } = configured;
  const { namespace, name, uid } = request.metadata;
  const tableArn = result.status.tableArn;
  // Objects the API server made carry a uid and a namespace; without them there is no owner to name.
  if (!uid || !namespace || !tableArn) return;
  const details = { tableName: plan.tableName, tableArn, region: plan.region, streamArn: result.status.streamArn || undefined };
  const desired = connectionConfigMap({ namespace, name, uid, promiseName }, details);
  const { writeConnectionConfigMap, ClusterReadError } = await import("./cluster.ts");
  try {
    const done = await writeConnectionConfigMap(namespace, desired.metadata.name, (live) => connectionWrite(live, desired));
    if (done.write === "foreign") result.status.message = `${result.status.message}; ${done.note}`;
    else result.status.connectionConfigMap = desired.metadata.name;
  } catch (e) {
    if (!(e instanceof ClusterReadError)) throw e;
    result.status.message = `${result.status.message}; the connection ConfigMap could not be written: ${e.message}`;
    result.retryAfter = RETRY.clusterRead;
  }
}

/**
 * report-delete: release the request's Table for Flux to prune, then say what happens to the AWS
 * table. Kratix 224e148 runs this before it deletes the request's Works, and deletes them only
 * once it succeeded (dynamic_resource_request_controller.go deleteResources): until the Table
 * carries the release mark, the table guard refuses Flux's prune. Whether the request is valid
 * does not matter: an invalid edit may have left a held Table in its Work (core/kratix/release.ts
 * finds it by name, labels and uid). A cluster that cannot be read or written (or refuses the
 * mark): a status and a retryAfter, and Kratix runs this step again, keeping the Works, so
 * nothing is pruned meanwhile. Never fails on bad settings: a failing delete pipeline keeps the
 * request (and its namespace) until someone asks Kratix to run it again.
 */
async function remove(dirs: KratixDirs): Promise<number> {
  const { valid, errors } = platformSettingsFromEnv();
  if (errors.length) log(`warning: ignoring invalid platform settings (${SETTINGS_SOURCE}):\n${formatErrors(errors)}`);
  const input = (await readObject(dirs)) as DynamoDBRequest;
  const request = requestIdentity(input);
  if (request && process.env[ENV_DRY_RUN] === "true")
    // A dry-run request's delete would otherwise release the real request's Table (same name and uid).
    log(`dry run (${ENV_DRY_RUN}): ACK Table ${request.namespace}/${request.name} is not released`);
  else if (request) {
    const { releaseAckTable, ClusterReadError } = await import("./cluster.ts");
    const promiseName = valid.promiseName ?? DEFAULT_PROMISE_NAME;
    try {
      log((await releaseAckTable(request.namespace, request.name, (live) => releaseDecision(request, live, promiseName))).message);
    } catch (e) {
      if (!(e instanceof ClusterReadError)) throw e;
      const what = `release the request's ACK Table ${request.namespace}/${request.name} for Flux to prune (its Works stay until then)`;
      await writeStatusResult(dirs, clusterReadFailedStatus(what, e.message, new Date()));
      return 0;
    }
  } else log("the object has no metadata.name: no Table to release");
  log(deleteRequestMessage(input, valid));
  return 0;
}

export async function runStep(step: string, dirs: KratixDirs = kratixDirs()): Promise<number> {
  if (!STEPS.includes(step as Step)) {
    log(`usage: pipeline <${STEPS.join("|")}> (got ${JSON.stringify(step)})`);
    return 2;
  }
  const run = { configure, status, delete: remove }[step as Step];
  return run(dirs);
}

/** Exits once everything written to stderr has reached it (process.exit does not wait for a pending write). */
const exitAfterStderr = (code: number) => process.stderr.write("", () => process.exit(code));

if (import.meta.main) {
  runStep(process.argv[2] ?? "").then(exitAfterStderr, (e: unknown) => {
    log(`pipeline failed: ${(e as Error).message}`);
    exitAfterStderr(1);
  });
}
