/**
 * Whether ACK manages a Table, as ACK v1.9.2 itself decides it (its runtime v0.61.0). The
 * platform's ownership of a table name, and whether a refused request's Table must stay in
 * its Work, both rest on this.
 *
 * ACK's own test is its finalizer (`resourceDescriptor.IsManaged`,
 * pkg/resource/table/descriptor.go): it adds it before it creates a table
 * (`createResource` -> `setResourceManaged`) or when it adopts one
 * (`setResourceManagedAndAdopted`, which also sets `services.k8s.aws/adopted`), removes it
 * once the table is deleted or left alone under Retain, and deletes nothing in AWS for a
 * Table without it (`reconcile`: being deleted and not managed -> nothing to do).
 *
 * An ARN in the Table's status is no proof: for a Table naming a table that already
 * exists, without adoption annotations, ACK's `Sync` reads the existing table
 * (`sdkFind` copies its ARN into `status.ackResourceMetadata`), refuses it in
 * `updateResource` -> `failOnResourceUnmanaged` (ACK.Terminal "Resource already exists",
 * no finalizer), and `HandleReconcileError` still writes that status back. So a squatter's
 * Table carries the owner's ARN; only the finalizer tells them apart.
 */

export const ACK_TABLE_FINALIZER = "finalizers.dynamodb.services.k8s.aws/Table";
/** Set by ACK beside its finalizer when it adopts an existing table. */
export const ACK_ADOPTED_ANNOTATION = "services.k8s.aws/adopted";

/** An ACK Table as the API server returns it: the parts the pipeline reads. */
export interface LiveTable {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: unknown;
  };
  spec?: Record<string, unknown>;
  status?: {
    tableStatus?: string;
    ackResourceMetadata?: { arn?: string; region?: string };
    /** The ARN of the table's latest stream (DynamoDB keeps it after the stream is turned off). */
    latestStreamARN?: string;
    conditions?: { type: string; status: string; message?: string; reason?: string }[];
  };
}

/**
 * ACK manages this Table: it carries ACK's finalizer and is not being deleted (a Table on
 * its way out holds nothing: ACK is already deleting the AWS table or letting it go).
 */
export function ackManages(table: LiveTable | undefined): boolean {
  const m = table?.metadata;
  return !!m?.finalizers?.includes(ACK_TABLE_FINALIZER) && !m.deletionTimestamp;
}

/** Whether `arn` (arn:<partition>:dynamodb:<region>:<account>:table/<name>) names this table in this region. */
export function arnNamesTable(arn: unknown, tableName: string, region: string): boolean {
  if (typeof arn !== "string") return false;
  const [prefix, , service, arnRegion, , resource] = arn.split(":");
  return prefix === "arn" && service === "dynamodb" && arnRegion === region && resource === `table/${tableName}`;
}

/** The Table gives its request the table `tableName` in `region`: ACK manages it, and it is that AWS table. */
export function holdsTable(table: LiveTable | undefined, tableName: string, region: string): boolean {
  return ackManages(table) && arnNamesTable(table?.status?.ackResourceMetadata?.arn, tableName, region);
}
