/**
 * The aws-dynamodb-kratix Promise pipeline: one program, three steps.
 *
 *   configure  validate the request, write its ACK Table to output/, status to metadata/
 *              (an invalid request: the reasons, naming each field, to status only)
 *   status     check the request owns its table name (core/kratix/table-claims.ts), read
 *              the Table back from the cluster, write ARN and state to status, ask Kratix
 *              to retry while the table is not ACTIVE; a refused request keeps the Table
 *              applied now and renders no other
 *   delete     say what happens to the AWS table (removing the Work is Kratix's job)
 *
 * Usage: node pipeline/main.ts <configure|status|delete>  (npm run --silent pipeline -- <step>)
 * Exit codes: 0 done (an invalid request too: its status says why), 1 invalid platform
 * settings, an unreadable input file or a failed read of the cluster, 2 bad usage.
 */
import { formatErrors, type FieldError } from "../core/api/validate.ts";
import {
  configureRequest,
  deleteRequestMessage,
  droppedAttributesNote,
  heldTable,
  invalidRequestStatus,
  tableStatusToRequestStatus,
  type ConfigureResult,
  type StatusResult,
} from "../core/kratix/steps.ts";
import { API_GROUP, API_KIND, API_VERSION } from "../core/api/rules.ts";
import { adoptingNamespaces, ownershipRefusal } from "../core/kratix/table-claims.ts";
import type { DynamoDBRequest } from "../core/api/types.ts";
import { SPEC_DIGEST_ANNOTATION } from "../core/api/spec-digest.ts";
import { kratixDirs, readObject, removeOutput, writeOutput, writeRetry, writeStatus, type KratixDirs } from "./kratix-files.ts";
import { platformSettingsFromEnv } from "./platform-env.ts";

export const TABLE_OUTPUT_FILE = "dynamodb-table.yaml";
const STEPS = ["configure", "status", "delete"] as const;
type Step = (typeof STEPS)[number];

const log = (line: string) => process.stderr.write(`${line}\n`);
/** Error lines printed at most; a hostile request can break a rule hundreds of times. */
export const MAX_ERROR_LINES = 20;
const invalid = (errors: FieldError[]) => log(`invalid DynamoDBRequest:\n${formatErrors(errors, MAX_ERROR_LINES)}`);

const SETTINGS_SOURCE = "the Promise's environment variables for the pipeline container";

/** An object Kratix could have sent for this Promise: the right kind, with a name. */
const isRequestShaped = (input: unknown): boolean => {
  const o = input as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
  return (
    typeof o === "object" &&
    o !== null &&
    o.apiVersion === `${API_GROUP}/${API_VERSION}` &&
    o.kind === API_KIND &&
    typeof o.metadata?.name === "string"
  );
};

type Checked =
  | { ok: true; configured: Extract<ConfigureResult, { ok: true }> }
  /** An invalid request: its status says why, and it renders no Table. */
  | { ok: false; request: { namespace: string; name: string; generation?: number }; refusal: StatusResult };

/**
 * The request, checked and planned with the platform's settings, which are checked
 * first, before anything is read or written: a bad one would otherwise render a Table
 * for region "Oregon" in every request that names none. Bad platform settings are the
 * platform team's to fix: the step fails (exit 1), Kratix keeps the request's Work as it
 * was, and the Job's failure is what their monitoring sees. An invalid request is its
 * author's to fix: the step succeeds with the reason in the request's status.
 */
async function checkedRequest(dirs: KratixDirs): Promise<Checked | undefined> {
  const { defaults, errors } = platformSettingsFromEnv();
  if (errors.length) {
    log(`invalid platform settings (${SETTINGS_SOURCE}):\n${formatErrors(errors)}`);
    return undefined;
  }
  const input = await readObject(dirs);
  const result = configureRequest(input, defaults);
  if (result.ok) return { ok: true, configured: result };
  invalid(result.errors);
  // Not a DynamoDBRequest at all (Kratix never sends one): there is no request to tell.
  if (!isRequestShaped(input)) return undefined;
  const meta = (input as { metadata?: { name?: unknown; namespace?: unknown; generation?: unknown } } | null)?.metadata ?? {};
  const generation = typeof meta.generation === "number" ? meta.generation : undefined;
  return {
    ok: false,
    request: {
      name: typeof meta.name === "string" ? meta.name : "",
      namespace: typeof meta.namespace === "string" ? meta.namespace : "default",
      ...(generation !== undefined ? { generation } : {}),
    },
    refusal: invalidRequestStatus(result.errors, new Date(), generation),
  };
}

async function configure(dirs: KratixDirs): Promise<number> {
  const checked = await checkedRequest(dirs);
  if (!checked) return 1;
  if (!checked.ok) {
    // No Table output here; the status step, which reads the cluster, keeps the one applied now.
    await writeStatus(dirs, checked.refusal.status);
    return 0;
  }
  const result = checked.configured;
  await writeOutput(dirs, TABLE_OUTPUT_FILE, result.table);
  await writeStatus(dirs, result.status);
  for (const w of result.warnings) log(`warning: ${w}`);
  log(
    `rendered ACK Table ${result.table.metadata.namespace}/${result.table.metadata.name} for ${result.plan.tableName} in ${result.plan.region}`,
  );
  return 0;
}

/**
 * A refused request (invalid, or asking for a table name another request owns) renders
 * no new Table, but keeps the one applied now in its Work (core/kratix/steps.ts heldTable):
 * an output without it would have Flux prune it, and ACK delete the table if the request
 * said deletionPolicy Delete.
 */
async function refuse(dirs: KratixDirs, request: { namespace: string; name: string }, refusal: StatusResult): Promise<number> {
  const { readAckTable } = await import("./cluster.ts");
  const held = request.name ? heldTable(await readAckTable(request.namespace, request.name)) : undefined;
  if (held) await writeOutput(dirs, TABLE_OUTPUT_FILE, held);
  else await removeOutput(dirs, TABLE_OUTPUT_FILE);
  await writeStatus(dirs, refusal.status);
  if (refusal.retryAfter) await writeRetry(dirs, refusal.retryAfter, refusal.status.message ?? "");
  log(`${refusal.status.message ?? ""}${held ? " (the Table applied now is kept as it is)" : ""}`);
  return 0;
}

async function status(dirs: KratixDirs): Promise<number> {
  const checked = await checkedRequest(dirs);
  if (!checked) return 1;
  if (!checked.ok) return refuse(dirs, checked.request, checked.refusal);
  const configured = checked.configured;
  const { name, namespace } = configured.table.metadata;
  const meta = configured.request.metadata;
  const generation = typeof meta.generation === "number" ? meta.generation : undefined;
  // Loaded here, not at the top: only this step needs the Kubernetes client (4 MB of code).
  const { listDynamoDBRequests, readAckTable, readNamespaceAnnotations } = await import("./cluster.ts");
  // Does this request own its table name (and, adopting, has the platform team approved it)?
  const requests = await listDynamoDBRequests();
  const namespaces = adoptingNamespaces([configured.request, ...requests]);
  const annotations = new Map(await Promise.all(namespaces.map(async (ns) => [ns, await readNamespaceAnnotations(ns)] as const)));
  const { defaults } = platformSettingsFromEnv();
  const refusal = ownershipRefusal(configured.request, configured.plan, requests, annotations, defaults, new Date());
  if (refusal) return refuse(dirs, { namespace, name }, refusal);
  const table = await readAckTable(namespace, name);
  const result = tableStatusToRequestStatus(table, { namespace, name }, new Date(), {
    spec: configured.table.spec,
    ...(generation !== undefined ? { generation } : {}),
    ...(meta.annotations?.[SPEC_DIGEST_ANNOTATION] ? { digest: meta.annotations[SPEC_DIGEST_ANNOTATION] } : {}),
  });
  const note = droppedAttributesNote(configured.plan.droppedAttributes);
  if (note) result.status.message = `${result.status.message}; ${note}`;
  await writeStatus(dirs, result.status);
  if (result.retryAfter) await writeRetry(dirs, result.retryAfter, result.status.message ?? "");
  log(result.status.message ?? "");
  return 0;
}

/** Never fails on bad settings: a failing delete pipeline would keep the request (and its namespace) forever. */
async function remove(dirs: KratixDirs): Promise<number> {
  const { valid, errors } = platformSettingsFromEnv();
  if (errors.length) log(`warning: ignoring invalid platform settings (${SETTINGS_SOURCE}):\n${formatErrors(errors)}`);
  const input = (await readObject(dirs)) as DynamoDBRequest;
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
