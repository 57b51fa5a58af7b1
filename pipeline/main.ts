/**
 * The aws-dynamodb-kratix Promise pipeline: one program, three steps.
 *
 *   configure  validate the request, write its ACK Table to output/, status to metadata/
 *   status     read the Table back from the cluster, write ARN and state to status,
 *              ask Kratix to retry while the table is not ACTIVE
 *   delete     say what happens to the AWS table (removing the Work is Kratix's job)
 *
 * Usage: node pipeline/main.ts <configure|status|delete>  (npm run --silent pipeline -- <step>)
 * Exit codes: 0 done, 1 invalid request or failed read, 2 bad usage.
 */
import { formatErrors } from "../core/api/validate.ts";
import { configureRequest, deleteRequestMessage, droppedAttributesNote, tableStatusToRequestStatus } from "../core/kratix/steps.ts";
import type { DynamoDBRequest } from "../core/api/types.ts";
import { kratixDirs, readObject, writeOutput, writeRetry, writeStatus, type KratixDirs } from "./kratix-files.ts";
import { platformDefaultsFromEnv } from "./platform-env.ts";

export const TABLE_OUTPUT_FILE = "dynamodb-table.yaml";
const STEPS = ["configure", "status", "delete"] as const;
type Step = (typeof STEPS)[number];

const log = (line: string) => process.stderr.write(`${line}\n`);

async function configure(dirs: KratixDirs): Promise<number> {
  const result = configureRequest(await readObject(dirs), platformDefaultsFromEnv());
  if (!result.ok) {
    log(`invalid DynamoDBRequest:\n${formatErrors(result.errors)}`);
    return 1;
  }
  await writeOutput(dirs, TABLE_OUTPUT_FILE, result.table);
  await writeStatus(dirs, result.status);
  for (const w of result.warnings) log(`warning: ${w}`);
  log(
    `rendered ACK Table ${result.table.metadata.namespace}/${result.table.metadata.name} for ${result.plan.tableName} in ${result.plan.region}`,
  );
  return 0;
}

async function status(dirs: KratixDirs): Promise<number> {
  const input = await readObject(dirs);
  const configured = configureRequest(input, platformDefaultsFromEnv());
  if (!configured.ok) {
    log(`invalid DynamoDBRequest:\n${formatErrors(configured.errors)}`);
    return 1;
  }
  const { name, namespace } = configured.table.metadata;
  // Loaded here, not at the top: only this step needs the Kubernetes client (4 MB of code).
  const { readAckTable } = await import("./read-table.ts");
  const table = await readAckTable(namespace, name);
  const result = tableStatusToRequestStatus(table, { namespace, name }, new Date());
  const note = droppedAttributesNote(configured.plan.droppedAttributes);
  if (note) result.status.message = `${result.status.message}; ${note}`;
  await writeStatus(dirs, result.status);
  if (result.retryAfter) await writeRetry(dirs, result.retryAfter, result.status.message ?? "");
  log(result.status.message ?? "");
  return 0;
}

async function remove(dirs: KratixDirs): Promise<number> {
  const input = (await readObject(dirs)) as DynamoDBRequest;
  log(deleteRequestMessage(input, platformDefaultsFromEnv()));
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

if (import.meta.main) {
  runStep(process.argv[2] ?? "").then(
    (code) => process.exit(code),
    (e: unknown) => {
      log(`pipeline failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
