/**
 * One DynamoDB table, one request. A table name is unique per AWS account and region,
 * but requests live in many namespaces (and tenants) that cannot see each other: two
 * could ask for the same name and both render a Table for one AWS table. The status
 * step reads every DynamoDBRequest in the cluster and lets only the owner of a name
 * through; the others are told who owns it, in their own status, and render nothing.
 *
 * Who owns a name, in order:
 *   1. a request whose status already carries that table's ARN (it has the table now;
 *      a newer or an older request asking later never takes it away),
 *   2. a request the platform team approved to adopt that table (core/kratix/adoption.ts):
 *      the team's explicit decision wins over whoever asked first,
 *   3. else the oldest request (creationTimestamp), then namespace/name, so every
 *      pipeline run, in any namespace, picks the same owner.
 * Requests being deleted, requests that are not valid and adoptions not approved claim
 * nothing (an unapproved adopter cannot squat on a retained table's name).
 */
import { planTable, type TablePlan } from "../api/plan.ts";
import type { DynamoDBRequest, PlatformDefaults } from "../api/types.ts";
import { validateRequestObject } from "../api/validate.ts";
import { adoptionApproved, adoptionRefusal } from "./adoption.ts";
import { REFUSAL, RETRY, refusedStatus, type StatusResult } from "./steps.ts";

/** A request's claim on a table name, as the ownership rule needs it. */
export interface TableClaim {
  namespace: string;
  name: string;
  tableName: string;
  region: string;
  /** creationTimestamp in ms since the epoch; a missing one sorts last. */
  createdAt: number;
  /** The request's status carries this table's ARN: it has the table today. */
  holds: boolean;
  /** The request adopts the table, approved by the platform team. */
  approvedAdoption: boolean;
}

/** Whether the platform team approved adopting `tableName` in `namespace` (core/kratix/adoption.ts). */
export type AdoptionApproval = (namespace: string, tableName: string) => boolean;

/** A claim's key: DynamoDB names are unique per account and region (the platform runs in one account). */
const key = (c: { tableName: string; region: string }) => `${c.region}/${c.tableName}`;
const ref = (c: { namespace: string; name: string }) => `${c.namespace}/${c.name}`;

/** The claim a request makes, or undefined when it makes none (invalid, being deleted). */
export function claimOf(request: unknown, defaults: PlatformDefaults, approved: AdoptionApproval = () => false): TableClaim | undefined {
  if (validateRequestObject(request).length > 0) return undefined;
  const r = request as DynamoDBRequest & { metadata: { deletionTimestamp?: unknown; creationTimestamp?: unknown } };
  if (r.metadata.deletionTimestamp) return undefined;
  const { plan } = planTable(r.spec, defaults);
  if (!plan) return undefined;
  const arn = typeof r.status?.tableArn === "string" ? r.status.tableArn : "";
  const namespace = r.metadata.namespace ?? "default";
  const approvedAdoption = plan.adopt && approved(namespace, plan.tableName);
  if (plan.adopt && !approvedAdoption) return undefined;
  return {
    namespace,
    name: r.metadata.name,
    tableName: plan.tableName,
    region: plan.region,
    createdAt: epochMs(r.metadata.creationTimestamp),
    holds: arn.endsWith(`:table/${plan.tableName}`) && arn.split(":")[3] === plan.region,
    approvedAdoption,
  };
}

/**
 * A timestamp as the API server's JSON gives it (a string) or as a YAML 1.1 reader of
 * Kratix's input file gives it (a Date: js-yaml reads unquoted timestamps as dates).
 */
function epochMs(t: unknown): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** Ownership order: holders first, then approved adopters, then oldest, then namespace/name. */
function compareClaims(a: TableClaim, b: TableClaim): number {
  if (a.holds !== b.holds) return a.holds ? -1 : 1;
  if (a.approvedAdoption !== b.approvedAdoption) return a.approvedAdoption ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return ref(a).localeCompare(ref(b));
}

/**
 * The request that owns `mine`'s table name among `others` (every request in the
 * cluster, `mine` included or not). `mine` itself when it owns it.
 */
export function tableNameOwner(mine: TableClaim, others: TableClaim[]): TableClaim {
  const rivals = others.filter((o) => key(o) === key(mine) && ref(o) !== ref(mine));
  return [mine, ...rivals].sort(compareClaims)[0]!;
}

/** What the refused request's status says. */
export function tableNameTakenMessage(mine: TableClaim, owner: TableClaim): string {
  return (
    `table name ${mine.tableName} in ${mine.region} belongs to DynamoDBRequest ${ref(owner)}: ` +
    `each DynamoDB table belongs to one request, so this one renders no Table; choose another spec.name`
  );
}

/** The namespaces whose annotations the ownership check needs: those of requests asking to adopt. */
export function adoptingNamespaces(requests: unknown[]): string[] {
  const asksToAdopt = (r: unknown) => (r as { spec?: { adopt?: unknown } } | null)?.spec?.adopt === true;
  return [
    ...new Set(requests.filter(asksToAdopt).map((r) => (r as { metadata?: { namespace?: string } }).metadata?.namespace ?? "default")),
  ];
}

/**
 * Whether a valid request may have its table, against every request in the cluster: the
 * refusal to write (adoption not approved, or the name owned by another request), or
 * undefined when it may. `annotations` holds the adopting namespaces' annotations.
 */
export function ownershipRefusal(
  request: unknown,
  plan: Pick<TablePlan, "adopt" | "tableName" | "region">,
  others: unknown[],
  annotations: ReadonlyMap<string, Record<string, string> | undefined>,
  defaults: PlatformDefaults,
  now: Date,
): StatusResult | undefined {
  const r = request as { metadata: { namespace?: string; generation?: unknown } };
  const namespace = r.metadata.namespace ?? "default";
  const generation = typeof r.metadata.generation === "number" ? r.metadata.generation : undefined;
  const notApproved = adoptionRefusal(plan, namespace, annotations.get(namespace));
  if (notApproved) return refusedStatus(REFUSAL.adoptionNotApproved, notApproved, now, generation, RETRY.terminal);
  const approved: AdoptionApproval = (ns, tableName) => adoptionApproved(tableName, annotations.get(ns));
  const mine = claimOf(request, defaults, approved);
  if (!mine) return undefined;
  const owner = tableNameOwner(
    mine,
    others.flatMap((o) => claimOf(o, defaults, approved) ?? []),
  );
  if (ref(owner) === ref(mine)) return undefined;
  return refusedStatus(REFUSAL.tableNameTaken, tableNameTakenMessage(mine, owner), now, generation, RETRY.terminal);
}
