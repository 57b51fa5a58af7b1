/**
 * One DynamoDB table, one request. A table name is unique per AWS account and region,
 * but requests live in many namespaces (and tenants) that cannot see each other: two
 * could ask for the same name and both render a Table for one AWS table. render-table
 * reads every DynamoDBRequest in the cluster and lets only the owner of a name through;
 * the others are told who owns it, in their own status, and render nothing.
 *
 * Who owns a name, in order:
 *   1. a request whose ACK Table ACK manages for that table (core/kratix/ack-managed.ts:
 *      ACK's finalizer, and the table's ARN): it has the table now, and a newer or an
 *      older request asking later never takes it away. An ARN in a request's status, or
 *      in its Table's, proves nothing: ACK writes an existing table's ARN into a
 *      squatter's Table too, while refusing to manage it;
 *   2. a request the platform team approved to adopt that table (core/kratix/adoption.ts):
 *      the team's explicit decision wins over whoever asked first,
 *   3. else the oldest request (creationTimestamp, whole seconds), then namespace/name,
 *      so every pipeline run, in any namespace, picks the same owner, even for two
 *      requests made in the same second.
 * Requests being deleted, requests that are not valid and adoptions not approved claim
 * nothing (an unapproved adopter cannot squat on a retained table's name).
 */
import type { TablePlan } from "../api/plan.ts";
import { planTable } from "../api/plan.ts";
import type { DynamoDBRequest, PlatformDefaults } from "../api/types.ts";
import { validateRequestObject } from "../api/validate.ts";
import { holdsTable, type LiveTable } from "./ack-managed.ts";
import { adoptionApproved, adoptionRefusal } from "./adoption.ts";
import { REFUSAL, refusedStatus, type StatusResult } from "./steps.ts";

/** A request's claim on a table name, as the ownership rule needs it. */
export interface TableClaim {
  namespace: string;
  name: string;
  tableName: string;
  region: string;
  /** creationTimestamp in ms since the epoch; a missing one sorts last. */
  createdAt: number;
  /** ACK manages the request's Table for this table: it has the table today. */
  holds: boolean;
  /** The request adopts the table, approved by the platform team. */
  approvedAdoption: boolean;
}

/** Whether the platform team approved adopting `tableName` in `namespace` (core/kratix/adoption.ts). */
export type AdoptionApproval = (namespace: string, tableName: string) => boolean;

/** The live ACK Tables the rule looked at, by "namespace/name" (a request's Table has the request's name and namespace). */
export type LiveTables = ReadonlyMap<string, LiveTable | undefined>;

/** A claim's key: DynamoDB names are unique per account and region (the platform runs in one account). */
const key = (c: { tableName: string; region: string }) => `${c.region}/${c.tableName}`;
export const ref = (c: { namespace: string; name: string }) => `${c.namespace}/${c.name}`;

type RequestObject = DynamoDBRequest & { metadata: { deletionTimestamp?: unknown; creationTimestamp?: unknown } };

/** The request and its plan when it can claim a name at all (valid, not being deleted). */
function claimant(request: unknown, defaults: PlatformDefaults): { r: RequestObject; plan: TablePlan; namespace: string } | undefined {
  if (validateRequestObject(request).length > 0) return undefined;
  const r = request as RequestObject;
  if (r.metadata.deletionTimestamp) return undefined;
  const { plan } = planTable(r.spec, defaults);
  if (!plan) return undefined;
  return { r, plan, namespace: r.metadata.namespace ?? "default" };
}

/** The claim a request makes, or undefined when it makes none (invalid, being deleted, adopting unapproved). */
export function claimOf(
  request: unknown,
  defaults: PlatformDefaults,
  approved: AdoptionApproval = () => false,
  tables: LiveTables = new Map(),
): TableClaim | undefined {
  const c = claimant(request, defaults);
  if (!c) return undefined;
  const { r, plan, namespace } = c;
  const approvedAdoption = plan.adopt && approved(namespace, plan.tableName);
  if (plan.adopt && !approvedAdoption) return undefined;
  return {
    namespace,
    name: r.metadata.name,
    tableName: plan.tableName,
    region: plan.region,
    createdAt: epochMs(r.metadata.creationTimestamp),
    holds: holdsTable(tables.get(ref({ namespace, name: r.metadata.name })), plan.tableName, plan.region),
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
  // Plain code-unit order, never the locale's: every run everywhere must agree.
  return ref(a) < ref(b) ? -1 : ref(a) > ref(b) ? 1 : 0;
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

/**
 * The requests of `page` (part of the cluster-wide list) that could compete with `request`
 * for its table name: valid, not being deleted, the same table name and region, not
 * `request` itself. render-table keeps only these while it pages through every request, so
 * its memory does not grow with the cluster.
 */
export function competingRequests(
  request: DynamoDBRequest,
  plan: Pick<TablePlan, "tableName" | "region">,
  page: unknown[],
  defaults: PlatformDefaults,
): unknown[] {
  const mine = ref({ namespace: request.metadata.namespace ?? "default", name: request.metadata.name });
  return page.filter((o) => {
    const c = claimant(o, defaults);
    return !!c && key(c.plan) === key(plan) && ref({ namespace: c.namespace, name: c.r.metadata.name }) !== mine;
  });
}

/**
 * What else render-table must read to decide, once it knows the competing requests: the
 * annotations of the namespaces whose requests ask to adopt (the platform team's approvals),
 * and the ACK Table of the request and of each rival (does ACK manage it?).
 */
export function ownershipReads(
  request: DynamoDBRequest,
  rivals: unknown[],
): { namespaces: string[]; tables: { namespace: string; name: string }[] } {
  const all = [request, ...rivals] as DynamoDBRequest[];
  const refOf = (r: DynamoDBRequest) => ({ namespace: r.metadata.namespace ?? "default", name: r.metadata.name });
  return {
    namespaces: [...new Set(all.filter((r) => r.spec.adopt === true).map((r) => refOf(r).namespace))],
    tables: all.map(refOf),
  };
}

/**
 * Whether a valid request may have its table, against every request that competes for
 * it: the refusal (adoption not approved, or the name owned by another request), or
 * undefined when it may. `annotations` holds the adopting namespaces' annotations and
 * `tables` the live ACK Tables of the request and its rivals (ownershipReads).
 */
export function ownershipRefusal(
  request: unknown,
  plan: Pick<TablePlan, "adopt" | "tableName" | "region">,
  others: unknown[],
  annotations: ReadonlyMap<string, Record<string, string> | undefined>,
  tables: LiveTables,
  defaults: PlatformDefaults,
  now: Date,
): StatusResult | undefined {
  const r = request as { metadata: { namespace?: string; generation?: unknown } };
  const namespace = r.metadata.namespace ?? "default";
  const generation = typeof r.metadata.generation === "number" ? r.metadata.generation : undefined;
  const notApproved = adoptionRefusal(plan, namespace, annotations.get(namespace));
  if (notApproved) return refusedStatus(REFUSAL.adoptionNotApproved, notApproved, now, generation);
  const approved: AdoptionApproval = (ns, tableName) => adoptionApproved(tableName, annotations.get(ns));
  const mine = claimOf(request, defaults, approved, tables);
  if (!mine) return undefined;
  const owner = tableNameOwner(
    mine,
    others.flatMap((o) => claimOf(o, defaults, approved, tables) ?? []),
  );
  if (ref(owner) === ref(mine)) return undefined;
  return refusedStatus(REFUSAL.tableNameTaken, tableNameTakenMessage(mine, owner), now, generation);
}
