/**
 * The aws-dynamodb-kratix Promise pipeline: one program, three steps.
 *
 *   configure  validate the request, write its ACK Table to output/, status to metadata/
 *   status     read the Table back from the cluster, write ARN and state to status,
 *              ask Kratix to retry while the table is not ACTIVE
 *   delete     say what happens to the AWS table (removing the Work is Kratix's job)
 *
 * Usage: node pipeline/main.ts <configure|status|delete>  (npm run --silent pipeline -- <step>)
 * Exit codes: 0 done, 1 invalid request, invalid platform settings or failed read, 2 bad usage.
 */
import { formatErrors, type FieldError } from "../core/api/validate.ts";
import {
  configureRequest,
  deleteRequestMessage,
  droppedAttributesNote,
  tableStatusToRequestStatus,
  type ConfigureResult,
} from "../core/kratix/steps.ts";
import type { DynamoDBRequest } from "../core/api/types.ts";
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
 * The request, checked and planned with the platform's settings, which are checked
 * first, before anything is read or written: a bad one would otherwise render a Table
 * for region "Oregon" in every request that names none. Undefined (after logging why)
 * when either is invalid.
 */
async function checkedRequest(dirs: KratixDirs): Promise<Extract<ConfigureResult, { ok: true }> | undefined> {
  const { defaults, errors } = platformSettingsFromEnv();
  if (errors.length) {
    log(`invalid platform settings (${SETTINGS_SOURCE}):\n${formatErrors(errors)}`);
    return undefined;
  }
  const result = configureRequest(await readObject(dirs), defaults);
  if (result.ok) return result;
  invalid(result.errors);
  return undefined;
}

async function configure(dirs: KratixDirs): Promise<number> {
  const result = await checkedRequest(dirs);
  if (!result) return 1;
  await writeOutput(dirs, TABLE_OUTPUT_FILE, result.table);
  await writeStatus(dirs, result.status);
  for (const w of result.warnings) log(`warning: ${w}`);
  log(
    `rendered ACK Table ${result.table.metadata.namespace}/${result.table.metadata.name} for ${result.plan.tableName} in ${result.plan.region}`,
  );
  return 0;
}

async function status(dirs: KratixDirs): Promise<number> {
  const configured = await checkedRequest(dirs);
  if (!configured) return 1;
  const { name, namespace } = configured.table.metadata;
  // Loaded here, not at the top: only this step needs the Kubernetes client (4 MB of code).
  const { readAckTable } = await import("./read-table.ts");
  const table = await readAckTable(namespace, name);
  const meta = configured.request.metadata;
  const result = tableStatusToRequestStatus(table, { namespace, name }, new Date(), {
    spec: configured.table.spec,
    ...(typeof meta.generation === "number" ? { generation: meta.generation } : {}),
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
