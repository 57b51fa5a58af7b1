/**
 * TEST DOUBLE, never shipped: a stand-in for the ACK DynamoDB controller (chart
 * dynamodb-chart 1.9.2, runtime v0.61.0), which cannot be built on this machine.
 * It plays the controller's side of the contract on `Table` objects
 * (dynamodb.services.k8s.aws/v1alpha1) against a local DynamoDB emulator.
 *
 *   node test/doubles/ack-dynamodb-controller-double.ts --kubeconfig FILE --port PORT --data-dir DIR \
 *     [--region us-west-2] [--account-id 000000000000] [--deletion-policy delete|retain]
 *
 * runs until SIGTERM, one log line per action on stdout. Tests use startAckDynamoDBDouble(),
 * DynamoDBEmulator, EmulatorClient and TableSync below.
 *
 * The emulator: dynalite 4.0.0 (npm), in this process, listening on 127.0.0.1:PORT and
 * speaking DynamoDB's JSON protocol. The region is the one in the request's SigV4
 * credential scope (as with AWS, where it picks the endpoint), else the default region;
 * each region is its own dynalite store (its own LevelDB) under DIR/regions/<region>,
 * so a table's ARN carries its region and the account id given. Data survives a
 * restart or a SIGKILL of the double: LevelDB on disk, and on start every table left
 * CREATING/UPDATING/DELETING by a killed process is finished (AWS finishes those on
 * its side whatever the client does). dynalite 4.0.0 only implements the data plane
 * and part of the control plane: its CreateTable silently drops StreamSpecification,
 * SSESpecification, TableClass, Tags and DeletionProtectionEnabled, its UpdateTable
 * accepts GlobalSecondaryIndexUpdates Create/Delete and does nothing with them, and it
 * has no UpdateTimeToLive or (Describe|Update)ContinuousBackups. The layer here adds
 * those on dynalite's own store, with the AWS rules each needs (listed in AWS_RULES),
 * and answers EmulatorUnsupportedException (a code AWS never sends) for parameters
 * neither implements.
 *
 * The controller, as ACK v1.9.2 does it (read from its source at that tag):
 * - watches Tables in all namespaces; reconciles on create, on a generation change
 *   (GenerationChangedPredicate), on deletion, on its own requeues, and every Table once
 *   at start; reads the object fresh from the API server for each reconcile;
 * - region: status.ackResourceMetadata.region, else the `services.k8s.aws/region`
 *   annotation, else the namespace's `services.k8s.aws/default-region`, else --region;
 * - adds the finalizer `finalizers.dynamodb.services.k8s.aws/Table` before CreateTable;
 *   an existing table on a Table without the finalizer is refused (ACK.Terminal
 *   "Resource already exists"), as ACK does without adoption;
 * - CreateTable with spec + ACK's default resource tags (chart 1.9.2: controller-version,
 *   namespace, app.kubernetes.io/managed-by from the label, kro version from the label;
 *   empty values skipped), then TTL, PITR and the rest on later passes, in ACK's order;
 *   one GSI create/update/delete per pass;
 * - status: ackResourceMetadata {arn, ownerAccountID, region}, tableStatus, tableID,
 *   creationDateTime, itemCount, tableSizeBytes, latestStreamARN, latestStreamLabel,
 *   globalSecondaryIndexesDescriptions, conditions: only fields the CRD has (it has no
 *   status.tableARN and no observedGeneration anywhere);
 * - conditions, reset every reconcile as ACK does: ACK.ResourceSynced True "Resource
 *   synced successfully" when ACTIVE and nothing differs; False "Resource not synced"
 *   right after CreateTable; Unknown while CREATING/UPDATING or right after an update
 *   call (ACK's requeue errors, reason e.g. "table in 'UPDATING' state, cannot be
 *   modified or deleted"); ACK.Terminal True with "api error ValidationException: ..."
 *   when DynamoDB refuses with ValidationException/InvalidParameter on a call whose
 *   error ACK does not wrap (CreateTable, DeleteTable, TTL, tags, throughput, GSIs), and
 *   then no retry until the generation changes; ACK.Recoverable True otherwise (ACK wraps
 *   UpdateTable errors of SSE, billing/class/deletion protection/stream changes and PITR
 *   in "cannot update table ...", so those are never terminal), retried with backoff;
 *   and Ready, derived from those as runtime v0.61 does. lastTransitionTime is kept while
 *   a condition's status does not change (ACK rewrites it every pass).
 * - deletion: `services.k8s.aws/deletion-policy` annotation, else the namespace's
 *   `dynamodb.services.k8s.aws/deletion-policy`, else --deletion-policy (default
 *   `delete`, the chart's default; this project's chart values set `retain`). Anything
 *   but exactly `delete` keeps the table and removes the finalizer; `delete` calls
 *   DeleteTable and removes the finalizer once the call succeeded (deletion protection
 *   makes it ACK.Terminal and the finalizer stays).
 * Generation marker: none is written (ACK writes none). Like ACK, a Terminal Table is
 * not reconciled again until its generation changes, or once when the double starts.
 * Faster than ACK: requeues after --requeue-ms (default 300 ms) where ACK waits 5-30 s.
 * Not emulated (a Table using them gets ACK.Terminal naming the field): contributorInsights,
 * onDemandThroughput, resourcePolicy, tableReplicas, warm throughput; adoption annotations.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { CHARTS } from "../../core/install/versions.ts";

// ---------------------------------------------------------------------------------------
// The contract's names
// ---------------------------------------------------------------------------------------

export const TABLE_GROUP = "dynamodb.services.k8s.aws";
export const TABLE_VERSION = "v1alpha1";
export const TABLES_PATH = `/apis/${TABLE_GROUP}/${TABLE_VERSION}/tables`;
export const ACK_FINALIZER = "finalizers.dynamodb.services.k8s.aws/Table";
export const REGION_ANNOTATION = "services.k8s.aws/region";
export const DEFAULT_REGION_ANNOTATION = "services.k8s.aws/default-region";
export const DELETION_POLICY_ANNOTATION = "services.k8s.aws/deletion-policy";
export const NAMESPACE_DELETION_POLICY_ANNOTATION = "dynamodb.services.k8s.aws/deletion-policy";
/** ACK runtime's adoption annotations (ResourceAdoption feature gate, on by default in the chart). */
export const ADOPTION_POLICY_ANNOTATION = "services.k8s.aws/adoption-policy";
export const ADOPTION_FIELDS_ANNOTATION = "services.k8s.aws/adoption-fields";
export const CONDITION = {
  synced: "ACK.ResourceSynced",
  terminal: "ACK.Terminal",
  recoverable: "ACK.Recoverable",
  adopted: "ACK.Adopted",
  ready: "Ready",
} as const;
/** ACK runtime v0.61.0, pkg/condition and pkg/errors. */
export const MESSAGES = {
  synced: "Resource synced successfully",
  notSynced: "Resource not synced",
  unknownSynced: "Unable to determine if desired resource state matches latest observed state",
  terminalReason: "resource is in terminal condition",
  notManaged: "Resource already exists",
  notManagedReason:
    "This resource already exists but is not managed by ACK. To bring the resource under ACK management, you should explicitly adopt the resource by enabling the ResourceAdoption feature gate and populating the `services.k8s.aws/adoption-policy` and `services.k8s.aws/adoption-fields` annotations.",
} as const;
/** The requeue errors' texts (dynamodb-controller v1.9.2 pkg/resource/table/hooks.go), used as the Synced reason. */
export const WAITING = {
  creating: "table in 'CREATING' state, cannot be modified or deleted",
  updating: "table in 'UPDATING' state, cannot be modified or deleted",
  deleting: "table in 'DELETING' state, cannot be modified or deleted",
  gsis: "table GSIs in 'CREATING' state, cannot be modified or deleted",
} as const;
/** The chart's (1.9.2) `resourceTags`, expanded per Table like runtime v0.61's GetDefaultTags. */
export const ACK_DEFAULT_RESOURCE_TAGS = [
  "services.k8s.aws/controller-version=%CONTROLLER_SERVICE%-%CONTROLLER_VERSION%",
  "services.k8s.aws/namespace=%K8S_NAMESPACE%",
  "app.kubernetes.io/managed-by=%MANAGED_BY%",
  "kro.run/kro-version=%KRO_VERSION%",
];

// ---------------------------------------------------------------------------------------
// DynamoDB shapes (what the emulator stores and DescribeTable returns)
// ---------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
export interface KeyElement {
  AttributeName: string;
  KeyType: string;
}
export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: string;
}
export interface Throughput {
  ReadCapacityUnits: number;
  WriteCapacityUnits: number;
  NumberOfDecreasesToday?: number;
}
export interface IndexDescription {
  IndexName: string;
  KeySchema: KeyElement[];
  Projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
  ProvisionedThroughput?: Throughput;
  IndexStatus?: string;
  IndexArn?: string;
  Backfilling?: boolean;
  IndexSizeBytes?: number;
  ItemCount?: number;
}
export interface TableDescription {
  TableName: string;
  TableArn: string;
  TableId?: string;
  TableStatus: string;
  KeySchema: KeyElement[];
  AttributeDefinitions: AttributeDefinition[];
  BillingModeSummary?: { BillingMode: string };
  ProvisionedThroughput?: Throughput;
  GlobalSecondaryIndexes?: IndexDescription[];
  LocalSecondaryIndexes?: IndexDescription[];
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: string };
  LatestStreamArn?: string;
  LatestStreamLabel?: string;
  SSEDescription?: { Status: string; SSEType?: string; KMSMasterKeyArn?: string };
  TableClassSummary?: { TableClass: string; LastUpdateDateTime?: number };
  DeletionProtectionEnabled?: boolean;
  CreationDateTime?: number;
  ItemCount?: number;
  TableSizeBytes?: number;
  [field: string]: unknown;
}
export interface Tag {
  Key: string;
  Value: string;
}

/** An error as DynamoDB sends it: `__type` (its code after '#') and message. */
export class DynamoError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: string;
  /** Set by EmulatorClient: the operation and the response's request id. */
  op?: string;
  requestId?: string;
  constructor(code: string, message: string, o: { status?: number; type?: string } = {}) {
    super(message);
    this.name = "DynamoError";
    this.code = code;
    this.status = o.status ?? 400;
    this.type = o.type ?? `com.amazonaws.dynamodb.v20120810#${code}`;
  }
}
const validation = (message: string) =>
  new DynamoError("ValidationException", message, { type: "com.amazon.coral.validate#ValidationException" });
const invalid = (message: string) => validation(`One or more parameter values were invalid: ${message}`);
const notFound = (message: string) => new DynamoError("ResourceNotFoundException", message);
const inUse = (message: string) => new DynamoError("ResourceInUseException", message);
const ONE_INDEX_AT_A_TIME = "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table";
const unsupported = (what: string) =>
  new DynamoError("EmulatorUnsupportedException", `the emulator (dynalite 4.0.0 + the ACK test double) does not implement ${what}`);

/**
 * The AWS rules the emulator layer checks on top of dynalite's own (its messages are
 * AWS's where known, else plainly worded).
 */
export const AWS_RULES = [
  "tags: at most 50 per table, key 1-128 characters, value at most 256, no key starting with aws:",
  "a PROVISIONED table's GSIs need ProvisionedThroughput",
  "at most 100 NonKeyAttributes summed over all of a table's indexes",
  "every attribute definition is used by a key of the table or an index",
  "StreamViewType is needed to enable a stream; a stream is enabled only when none is, disabled only when one is",
  "TimeToLive: enabled only when disabled, disabled only when enabled, one attribute at a time",
  "DeleteTable refuses a table with deletion protection, or one being created, updated or deleted",
  "UpdateTable refuses a table that is not ACTIVE, and does one of: throughput, stream, index create, index delete",
  "one index created or deleted at a time",
];

// ---------------------------------------------------------------------------------------
// The emulator: dynalite's store, per region, plus the control plane dynalite lacks
// ---------------------------------------------------------------------------------------

type Callback<T> = (err: unknown, value?: T) => void;
interface LevelDb {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  iterator(range: { gte: string; lt: string }): AsyncIterable<[string, unknown]>;
  close(): Promise<void>;
}
interface DynaliteStore {
  db: LevelDb;
  tableDb: {
    awsRegion: string;
    awsAccountId: string;
    lock(key: string, exec: (release: (done: Callback<unknown>) => Callback<unknown>) => void): void;
  };
  deleteItemDb(name: string, cb: Callback<void>): void;
  deleteTagDb(name: string, cb: Callback<void>): void;
  deleteIndexDb(indexType: string, table: string, index: string, cb: Callback<void>): void;
}
type DynaliteAction = (store: DynaliteStore, data: Json, cb: Callback<Json>) => void;
interface DynaliteValidation {
  types: Json;
  custom?: unknown;
}

const requireCjs = createRequire(import.meta.url);
const dynaliteDb = requireCjs("dynalite/db") as {
  create(options: Json): DynaliteStore;
  updateIndexes(store: DynaliteStore, table: TableDescription, existing: unknown, item: unknown, cb: Callback<void>): void;
};
const dynaliteValidations = requireCjs("dynalite/validations") as {
  checkTypes(data: Json, types: Json): Json;
  checkValidations(data: Json, types: Json, custom: unknown, store: DynaliteStore): void;
};
/** What dynalite 4.0.0 implements (its index.js validOperations). */
const DYNALITE_OPERATIONS = new Set([
  "BatchGetItem",
  "BatchWriteItem",
  "CreateTable",
  "DeleteItem",
  "DeleteTable",
  "DescribeTable",
  "DescribeTimeToLive",
  "GetItem",
  "ListTables",
  "PutItem",
  "Query",
  "Scan",
  "TagResource",
  "UntagResource",
  "ListTagsOfResource",
  "UpdateItem",
  "UpdateTable",
]);
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** dynalite's errors carry `statusCode` and `body: {__type, message|Message}`. */
function fromDynalite(e: unknown): unknown {
  const body = (e as { body?: { __type?: string; message?: string; Message?: string } })?.body;
  if (!body?.__type) return e;
  const code = body.__type.split("#").pop()!;
  return new DynamoError(code, body.message ?? body.Message ?? "", {
    status: (e as { statusCode?: number }).statusCode ?? 400,
    type: body.__type,
  });
}

/** dynalite's own type checks and validations for `op`; returns the checked (copied) input. */
function dynaliteCheck(store: DynaliteStore, op: string, input: Json): Json {
  const v = requireCjs(`dynalite/validations/${lowerFirst(op)}`) as DynaliteValidation;
  try {
    const data = dynaliteValidations.checkTypes(structuredClone(input), v.types);
    dynaliteValidations.checkValidations(data, v.types, v.custom, store);
    return data;
  } catch (e) {
    throw fromDynalite(e);
  }
}

function dynaliteRun(store: DynaliteStore, op: string, data: Json): Promise<Json> {
  const action = requireCjs(`dynalite/actions/${lowerFirst(op)}`) as DynaliteAction;
  return new Promise((resolve, reject) => {
    try {
      action(store, data, (err, out) => (err ? reject(fromDynalite(err)) : resolve(out ?? {})));
    } catch (e) {
      reject(fromDynalite(e));
    }
  });
}

const dynaliteCall = (store: DynaliteStore, op: string, input: Json) => dynaliteRun(store, op, dynaliteCheck(store, op, input));

const callback = <T>(fn: (cb: Callback<T>) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

const TABLE_KEY = (name: string) => `table~${name}`;
/** Every key starting with `prefix` (which ends in "~", 0x7E): up to the same prefix ending in 0x7F. */
const prefixRange = (prefix: string) => ({ gte: prefix, lt: `${prefix.slice(0, -1)}\x7f` });
const TTL_KEY = (name: string) => `x-ack-double-ttl~${name}`;
const PITR_KEY = (name: string) => `x-ack-double-pitr~${name}`;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const isoSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const nowSeconds = () => Date.now() / 1000;

export interface EmulatorOptions {
  port: number;
  host?: string;
  /** Holds regions/<region>/ (one LevelDB each). */
  dataDir: string;
  accountId: string;
  /** For requests whose credential scope names no region. */
  defaultRegion: string;
  /** How long a table stays CREATING / UPDATING / DELETING. */
  createTableMs?: number;
  updateTableMs?: number;
  deleteTableMs?: number;
  log?: (line: string) => void;
}

export class DynamoDBEmulator {
  readonly #o: Required<EmulatorOptions>;
  readonly #stores = new Map<string, Promise<DynaliteStore>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #server: http.Server | undefined;

  constructor(o: EmulatorOptions) {
    this.#o = { host: "127.0.0.1", createTableMs: 300, updateTableMs: 300, deleteTableMs: 300, log: () => undefined, ...o };
  }

  get endpoint(): string {
    const address = this.#server?.address();
    const port = address && typeof address === "object" ? address.port : this.#o.port;
    return `http://${this.#o.host}:${port}`;
  }

  /** Opens every region already on disk (finishing what a killed process left half done), then listens. */
  async start(): Promise<void> {
    const regions = join(this.#o.dataDir, "regions");
    mkdirSync(regions, { recursive: true });
    for (const region of readdirSync(regions)) if (REGION_PATTERN.test(region)) await this.#store(region);
    const server = http.createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#o.port, this.#o.host, () => resolve());
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    for (const store of this.#stores.values()) await (await store.catch(() => undefined))?.db.close();
    this.#stores.clear();
  }

  /** One DynamoDB operation in `region`, as the HTTP endpoint runs it. */
  async call(region: string, op: string, input: Json): Promise<Json> {
    if (!REGION_PATTERN.test(region)) throw new DynamoError("UnrecognizedClientException", `no such region: ${region}`);
    const store = await this.#store(region);
    switch (op) {
      case "CreateTable":
        return this.#createTable(store, region, input);
      case "UpdateTable":
        return this.#updateTable(store, region, input);
      case "DeleteTable":
        return this.#deleteTable(store, input);
      case "TagResource":
        return this.#tagResource(store, input);
      case "ListTagsOfResource":
        return this.#listTags(store, input);
      case "UpdateTimeToLive":
        return this.#updateTimeToLive(store, input);
      case "DescribeTimeToLive":
        return this.#describeTimeToLive(store, input);
      case "UpdateContinuousBackups":
        return this.#updateContinuousBackups(store, input);
      case "DescribeContinuousBackups":
        return this.#describeContinuousBackups(store, input);
      default:
        if (DYNALITE_OPERATIONS.has(op)) return dynaliteCall(store, op, input);
        throw new DynamoError("UnknownOperationException", `unknown operation ${op}`, {
          type: "com.amazon.coral.service#UnknownOperationException",
        });
    }
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const requestId = randomUUID();
    let status = 200;
    let body: unknown;
    try {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "text/plain" }).end("healthy: dynamodb emulator (dynalite 4.0.0)\n");
        return;
      }
      const [api, op] = String(req.headers["x-amz-target"] ?? "").split(".");
      if (api !== "DynamoDB_20120810" || !op) {
        throw new DynamoError("UnknownOperationException", "", { type: "com.amazon.coral.service#UnknownOperationException" });
      }
      let input: Json;
      try {
        input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json) : {};
      } catch {
        throw new DynamoError("SerializationException", "the body is not JSON", {
          type: "com.amazon.coral.service#SerializationException",
        });
      }
      const scope = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/dynamodb\//.exec(String(req.headers.authorization ?? ""));
      body = await this.call(scope?.[1] ?? this.#o.defaultRegion, op, input);
    } catch (e) {
      const err = e instanceof DynamoError ? e : undefined;
      if (!err) this.#o.log(`emulator: internal error: ${(e as Error)?.stack ?? String(e)}`);
      status = err?.status ?? 500;
      body = { __type: err?.type ?? "com.amazonaws.dynamodb.v20120810#InternalServerError", message: err?.message ?? String(e) };
    }
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId }).end(JSON.stringify(body));
  }

  #store(region: string): Promise<DynaliteStore> {
    let store = this.#stores.get(region);
    if (!store) {
      store = this.#open(region);
      this.#stores.set(region, store);
    }
    return store;
  }

  async #open(region: string): Promise<DynaliteStore> {
    const path = join(this.#o.dataDir, "regions", region);
    mkdirSync(path, { recursive: true });
    const store = dynaliteDb.create({
      path,
      createTableMs: this.#o.createTableMs,
      updateTableMs: this.#o.updateTableMs,
      deleteTableMs: this.#o.deleteTableMs,
    });
    // dynalite reads these from AWS_REGION/AWS_ACCOUNT_ID once per store; each store is one region.
    store.tableDb.awsRegion = region;
    store.tableDb.awsAccountId = this.#o.accountId;
    await this.#repair(store, region);
    return store;
  }

  /** Finishes the transitions a killed process left in the store (their timers died with it). */
  async #repair(store: DynaliteStore, region: string): Promise<void> {
    const tables: TableDescription[] = [];
    for await (const [, value] of store.db.iterator(prefixRange("table~"))) tables.push(value as TableDescription);
    for (const t of tables) {
      const name = t.TableName;
      if (t.TableStatus === "DELETING") {
        await callback<void>((cb) => store.deleteItemDb(name, cb));
        await callback<void>((cb) => store.deleteTagDb(name, cb));
        await this.#deleteExtras(store, name);
        await store.db.del(TABLE_KEY(name));
        this.#o.log(`emulator: repair ${region}/${name}: was DELETING when the emulator stopped; deleted`);
        continue;
      }
      const was = [t.TableStatus, ...(t.GlobalSecondaryIndexes ?? []).map((g) => g.IndexStatus)].join("/");
      if (await this.#finishTransitions(store, t)) {
        await store.db.put(TABLE_KEY(name), t);
        this.#o.log(`emulator: repair ${region}/${name}: was ${was} when the emulator stopped; now ${t.TableStatus}`);
      }
    }
  }

  /** UPDATING/CREATING become ACTIVE, DELETING indexes go (with their data). True when something changed. */
  async #finishTransitions(store: DynaliteStore, t: TableDescription): Promise<boolean> {
    let changed = false;
    if (t.TableStatus === "CREATING" || t.TableStatus === "UPDATING") {
      t.TableStatus = "ACTIVE";
      changed = true;
    }
    const kept: IndexDescription[] = [];
    for (const g of t.GlobalSecondaryIndexes ?? []) {
      if (g.IndexStatus === "DELETING") {
        await callback<void>((cb) => store.deleteIndexDb("Global", t.TableName, g.IndexName, cb));
        changed = true;
        continue;
      }
      if (g.IndexStatus !== "ACTIVE" || g.Backfilling !== undefined) {
        g.IndexStatus = "ACTIVE";
        delete g.Backfilling;
        changed = true;
      }
      kept.push(g);
    }
    if (t.GlobalSecondaryIndexes && kept.length !== t.GlobalSecondaryIndexes.length) {
      if (kept.length) t.GlobalSecondaryIndexes = kept;
      else delete t.GlobalSecondaryIndexes;
      // DescribeTable lists the attributes the keys use; a deleted index's go with it.
      t.AttributeDefinitions = t.AttributeDefinitions.filter((a) => usedAttributes(t).has(a.AttributeName));
    }
    return changed;
  }

  #later(ms: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn().catch((e: unknown) => this.#o.log(`emulator: ${(e as Error)?.message ?? String(e)}`));
    }, ms);
    this.#timers.add(timer);
  }

  async #getTable(store: DynaliteStore, name: unknown): Promise<TableDescription> {
    if (typeof name !== "string" || !name) throw validation("The parameter 'TableName' is required but was not present in the request");
    const t = (await store.db.get(TABLE_KEY(name))) as TableDescription | undefined;
    if (!t?.TableStatus) throw notFound(`Requested resource not found: Table: ${name} not found`);
    return t;
  }

  /** Runs `fn` holding dynalite's own per-table lock (the one its CreateTable/UpdateTable take). */
  #locked<T>(store: DynaliteStore, name: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      store.tableDb.lock(name, (release) => {
        const done = release((err, value) => (err ? reject(err) : resolve(value as T)));
        fn().then(
          (value) => done(null, value),
          (err: unknown) => done(err),
        );
      });
    });
  }

  async #deleteExtras(store: DynaliteStore, name: string): Promise<void> {
    await store.db.del(TTL_KEY(name));
    await store.db.del(PITR_KEY(name));
  }

  async #createTable(store: DynaliteStore, region: string, input: Json): Promise<Json> {
    const { Tags, StreamSpecification, SSESpecification, TableClass, DeletionProtectionEnabled, ...rest } = input as Json & {
      Tags?: Tag[];
      StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string };
      SSESpecification?: SseInput;
      TableClass?: string;
      DeletionProtectionEnabled?: boolean;
    };
    refuseUnknown(
      rest,
      [
        "AttributeDefinitions",
        "TableName",
        "BillingMode",
        "ProvisionedThroughput",
        "KeySchema",
        "LocalSecondaryIndexes",
        "GlobalSecondaryIndexes",
      ],
      "CreateTable",
    );
    const checked = dynaliteCheck(store, "CreateTable", rest) as Json & CreateShape;
    checkUnusedAttributes(checked);
    checkIndexThroughput(checked.BillingMode ?? "PROVISIONED", checked.GlobalSecondaryIndexes ?? []);
    checkProjectedAttributes([...(checked.GlobalSecondaryIndexes ?? []), ...(checked.LocalSecondaryIndexes ?? [])]);
    checkTags(Tags ?? [], []);
    checkTableClass(TableClass);
    const name = checked.TableName;
    const arn = tableArn(region, this.#o.accountId, name);
    const extras: Partial<TableDescription> = { DeletionProtectionEnabled: DeletionProtectionEnabled === true };
    if (StreamSpecification) Object.assign(extras, enableStream(StreamSpecification, arn, name, false));
    if (SSESpecification) Object.assign(extras, sseDescription(SSESpecification, region, this.#o.accountId));
    if (TableClass) extras.TableClassSummary = { TableClass };
    const out = await dynaliteRun(store, "CreateTable", { ...checked, ...extras }).catch((e: unknown) => {
      if (e instanceof DynamoError && e.code === "ResourceInUseException" && !e.message) throw inUse(`Table already exists: ${name}`);
      throw e;
    });
    if (Tags?.length) await dynaliteCall(store, "TagResource", { ResourceArn: arn, Tags });
    return out;
  }

  async #updateTable(store: DynaliteStore, region: string, input: Json): Promise<Json> {
    const u = input as Json & {
      TableName?: string;
      AttributeDefinitions?: AttributeDefinition[];
      BillingMode?: string;
      ProvisionedThroughput?: Throughput;
      GlobalSecondaryIndexUpdates?: {
        Create?: IndexInput;
        Update?: { IndexName: string; ProvisionedThroughput?: Throughput };
        Delete?: { IndexName: string };
      }[];
      StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string };
      SSESpecification?: SseInput;
      TableClass?: string;
      DeletionProtectionEnabled?: boolean;
    };
    refuseUnknown(
      u,
      [
        "TableName",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexUpdates",
        "StreamSpecification",
        "SSESpecification",
        "TableClass",
        "DeletionProtectionEnabled",
      ],
      "UpdateTable",
    );
    const gsiUpdates = u.GlobalSecondaryIndexUpdates ?? [];
    const creates = gsiUpdates.flatMap((g) => (g.Create ? [g.Create] : []));
    const deletes = gsiUpdates.flatMap((g) => (g.Delete ? [g.Delete] : []));
    const updates = gsiUpdates.flatMap((g) => (g.Update ? [g.Update] : []));
    const throughput = u.BillingMode !== undefined || u.ProvisionedThroughput !== undefined || updates.length > 0;
    // dynalite's shape checks for the parts it knows (throughput bounds, index names, one change per index).
    // Not for Create: dynalite 4.0.0 still demands ProvisionedThroughput there, which AWS does not
    // for PAY_PER_REQUEST tables; #newIndex checks a Create with dynalite's CreateTable rules instead.
    const known = gsiUpdates.filter((g) => !g.Create);
    if (throughput || known.length) {
      dynaliteCheck(store, "UpdateTable", {
        TableName: u.TableName,
        ...(u.BillingMode !== undefined ? { BillingMode: u.BillingMode } : {}),
        ...(u.ProvisionedThroughput ? { ProvisionedThroughput: u.ProvisionedThroughput } : {}),
        ...(known.length ? { GlobalSecondaryIndexUpdates: known } : {}),
      });
    }
    const name = u.TableName!;
    if (
      !throughput &&
      !creates.length &&
      !deletes.length &&
      !u.StreamSpecification &&
      !u.SSESpecification &&
      u.TableClass === undefined &&
      u.DeletionProtectionEnabled === undefined
    ) {
      throw validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
      );
    }
    if (creates.length + deletes.length > 1) throw new DynamoError("LimitExceededException", ONE_INDEX_AT_A_TIME);
    if (u.StreamSpecification && throughput) throw invalid("You cannot modify stream status while updating table IOPS");
    if ((creates.length || deletes.length) && (throughput || u.StreamSpecification)) {
      throw invalid("an UpdateTable call can create or delete one index, or change throughput, or change the stream, not several at once");
    }
    const table = await this.#getTable(store, name);
    if (table.TableStatus !== "ACTIVE")
      throw inUse(`Attempt to change a resource which is still in use: Table is being ${busy(table.TableStatus)}: ${name}`);
    const indexes = table.GlobalSecondaryIndexes ?? [];
    if ((creates.length || deletes.length) && indexes.some((g) => g.IndexStatus !== "ACTIVE")) {
      throw new DynamoError("LimitExceededException", ONE_INDEX_AT_A_TIME);
    }
    for (const x of updates) {
      if (!indexes.some((g) => g.IndexName === x.IndexName))
        throw notFound(`Requested resource not found: Index: ${x.IndexName} not found`);
    }

    // Everything is checked before anything changes; the changes are then applied to one record.
    const mutations: ((t: TableDescription) => void)[] = [];
    let transition = false;
    let backfill: IndexDescription | undefined;
    if (u.SSESpecification) {
      const sse = sseDescription(u.SSESpecification, region, this.#o.accountId);
      mutations.push((t) => {
        if (sse.SSEDescription) t.SSEDescription = sse.SSEDescription;
        else delete t.SSEDescription;
      });
      transition = true;
    }
    if (u.TableClass !== undefined) {
      checkTableClass(u.TableClass);
      const c = u.TableClass;
      mutations.push((t) => (t.TableClassSummary = { TableClass: c, LastUpdateDateTime: nowSeconds() }));
      transition = true;
    }
    if (u.DeletionProtectionEnabled !== undefined) {
      const on = u.DeletionProtectionEnabled === true;
      mutations.push((t) => (t.DeletionProtectionEnabled = on));
    }
    if (u.StreamSpecification) {
      const s = u.StreamSpecification;
      const enabled = table.StreamSpecification?.StreamEnabled === true;
      if (s.StreamEnabled) {
        if (enabled) throw validation(`Table already has an enabled stream: TableName: ${name}`);
        const stream = enableStream(s, table.TableArn, name, true);
        mutations.push((t) => Object.assign(t, stream));
      } else {
        if (!enabled) throw validation(`Table has no stream to disable: TableName: ${name}`);
        mutations.push((t) => delete t.StreamSpecification);
      }
      transition = true;
    }
    const create = creates[0];
    if (create) {
      const index = this.#newIndex(store, region, table, create, u.AttributeDefinitions ?? []);
      mutations.push((t) => {
        t.GlobalSecondaryIndexes = [...(t.GlobalSecondaryIndexes ?? []), index.description];
        t.AttributeDefinitions = index.attributeDefinitions;
      });
      backfill = index.description;
      transition = true;
    }
    const del = deletes[0];
    if (del) {
      if (!indexes.some((g) => g.IndexName === del.IndexName))
        throw notFound(`Requested resource not found: Index: ${del.IndexName} not found`);
      mutations.push((t) => {
        for (const g of t.GlobalSecondaryIndexes ?? []) if (g.IndexName === del.IndexName) g.IndexStatus = "DELETING";
      });
      transition = true;
    }

    if (throughput) {
      // dynalite's UpdateTable sets UPDATING and, after updateTableMs, writes back the very
      // object it returns: the other changes go onto that object before its timer fires.
      const out = await dynaliteRun(store, "UpdateTable", {
        TableName: name,
        ...(u.BillingMode !== undefined ? { BillingMode: u.BillingMode } : {}),
        ...(u.ProvisionedThroughput ? { ProvisionedThroughput: u.ProvisionedThroughput } : {}),
        ...(updates.length ? { GlobalSecondaryIndexUpdates: updates.map((x) => ({ Update: x })) } : {}),
      });
      const t = out.TableDescription as TableDescription;
      for (const m of mutations) m(t);
      if (mutations.length) await store.db.put(TABLE_KEY(name), t);
      return { TableDescription: t };
    }
    const t = await this.#locked(store, name, async () => {
      const fresh = await this.#getTable(store, name);
      if (fresh.TableStatus !== "ACTIVE")
        throw inUse(`Attempt to change a resource which is still in use: Table is being ${busy(fresh.TableStatus)}: ${name}`);
      for (const m of mutations) m(fresh);
      if (transition) fresh.TableStatus = "UPDATING";
      await store.db.put(TABLE_KEY(name), fresh);
      return fresh;
    });
    if (backfill) await this.#backfill(store, t, backfill);
    if (transition) {
      this.#later(this.#o.updateTableMs, () =>
        this.#locked(store, name, async () => {
          const fresh = (await store.db.get(TABLE_KEY(name))) as TableDescription | undefined;
          if (fresh && fresh.TableStatus !== "DELETING" && (await this.#finishTransitions(store, fresh)))
            await store.db.put(TABLE_KEY(name), fresh);
        }),
      );
    }
    return { TableDescription: t };
  }

  /** A GSI Create checked by dynalite's own CreateTable rules for indexes, plus AWS's throughput rule. */
  #newIndex(
    store: DynaliteStore,
    region: string,
    table: TableDescription,
    create: IndexInput,
    given: AttributeDefinition[],
  ): { description: IndexDescription; attributeDefinitions: AttributeDefinition[] } {
    if ((table.GlobalSecondaryIndexes ?? []).some((g) => g.IndexName === create.IndexName)) {
      throw invalid(`Index with name ${create.IndexName} already exists on table ${table.TableName}`);
    }
    const defs = new Map(table.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]));
    for (const a of given) {
      const known = defs.get(a.AttributeName);
      if (known && known !== a.AttributeType) {
        throw invalid(`Cannot change the type of attribute ${a.AttributeName} from ${known} to ${a.AttributeType}`);
      }
      defs.set(a.AttributeName, a.AttributeType);
    }
    const billing = table.BillingModeSummary?.BillingMode ?? "PROVISIONED";
    const throughput = table.ProvisionedThroughput;
    dynaliteCheck(store, "CreateTable", {
      TableName: table.TableName,
      AttributeDefinitions: [...defs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
      KeySchema: table.KeySchema,
      BillingMode: billing,
      ...(billing === "PROVISIONED"
        ? {
            ProvisionedThroughput: { ReadCapacityUnits: throughput?.ReadCapacityUnits, WriteCapacityUnits: throughput?.WriteCapacityUnits },
          }
        : {}),
      GlobalSecondaryIndexes: [create],
    });
    checkIndexThroughput(billing, [create]);
    checkProjectedAttributes([...(table.GlobalSecondaryIndexes ?? []), ...(table.LocalSecondaryIndexes ?? []), create]);
    const description: IndexDescription = {
      IndexName: create.IndexName,
      KeySchema: create.KeySchema,
      Projection: create.Projection,
      ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0, ...create.ProvisionedThroughput, NumberOfDecreasesToday: 0 },
      IndexStatus: "CREATING",
      Backfilling: true,
      IndexArn: `${tableArn(region, this.#o.accountId, table.TableName)}/index/${create.IndexName}`,
      IndexSizeBytes: 0,
      ItemCount: 0,
    };
    const used = usedAttributes({ ...table, GlobalSecondaryIndexes: [...(table.GlobalSecondaryIndexes ?? []), description] });
    const attributeDefinitions = [...defs]
      .filter(([n]) => used.has(n))
      .map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
    return { description, attributeDefinitions };
  }

  /** Indexes the table's existing items into a new GSI (dynalite only indexes items as they are written). */
  async #backfill(store: DynaliteStore, table: TableDescription, index: IndexDescription): Promise<void> {
    const only = { ...table, LocalSecondaryIndexes: undefined, GlobalSecondaryIndexes: [index] };
    for await (const [, item] of store.db.iterator(prefixRange(`item-${table.TableName}~`))) {
      await callback<void>((cb) => dynaliteDb.updateIndexes(store, only, null, item, cb));
    }
  }

  async #deleteTable(store: DynaliteStore, input: Json): Promise<Json> {
    const name = input.TableName;
    const t = await this.#getTable(store, name);
    if (t.DeletionProtectionEnabled) {
      throw validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.");
    }
    if (t.TableStatus !== "ACTIVE")
      throw inUse(`Attempt to change a resource which is still in use: Table is being ${busy(t.TableStatus)}: ${t.TableName}`);
    const out = await dynaliteCall(store, "DeleteTable", { TableName: name });
    await this.#deleteExtras(store, t.TableName);
    return out;
  }

  async #tagResource(store: DynaliteStore, input: Json): Promise<Json> {
    const tags = (input.Tags ?? []) as Tag[];
    const existing = await this.#listTags(store, { ResourceArn: input.ResourceArn });
    checkTags(tags, (existing.Tags ?? []) as Tag[]);
    return dynaliteCall(store, "TagResource", input);
  }

  /**
   * dynalite's ListTagsOfResource reads the range [prefix, prefix + '\xFF'), which misses
   * every tag whose key starts with a character above U+00FF (UTF-8 sorts those after
   * '\xFF'): this reads the whole prefix. Same answer otherwise (no pagination).
   */
  async #listTags(store: DynaliteStore, input: Json): Promise<Json> {
    const arn = String(input.ResourceArn ?? "");
    dynaliteCheck(store, "ListTagsOfResource", { ResourceArn: arn });
    const name = arn.split("/").pop()!;
    await this.#getTable(store, name).catch(() => {
      throw notFound(`Requested resource not found: ResourcArn: ${arn} not found`);
    });
    const tags: Tag[] = [];
    const prefix = `tag-${name}~`;
    for await (const [key, value] of store.db.iterator(prefixRange(prefix)))
      tags.push({ Key: key.slice(prefix.length), Value: String(value) });
    return { Tags: tags };
  }

  async #updateTimeToLive(store: DynaliteStore, input: Json): Promise<Json> {
    const spec = input.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (!spec)
      throw validation(
        "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null",
      );
    if (typeof spec.Enabled !== "boolean") {
      throw validation(
        "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
      );
    }
    if (typeof spec.AttributeName !== "string" || spec.AttributeName.length < 1 || spec.AttributeName.length > 255) {
      throw validation(
        "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255",
      );
    }
    const t = await this.#getTable(store, input.TableName);
    if (t.TableStatus !== "ACTIVE")
      throw inUse(`Attempt to change a resource which is still in use: Table is being ${busy(t.TableStatus)}: ${t.TableName}`);
    const current = (await store.db.get(TTL_KEY(t.TableName))) as { AttributeName: string; Enabled: boolean } | undefined;
    if (current?.Enabled && current.AttributeName !== spec.AttributeName) {
      throw validation(`TimeToLive is active on a different AttributeName: current AttributeName is ${current.AttributeName}`);
    }
    if (spec.Enabled && current?.Enabled) throw validation("TimeToLive is already enabled");
    if (!spec.Enabled && !current?.Enabled) throw validation("TimeToLive is already disabled");
    await store.db.put(TTL_KEY(t.TableName), { AttributeName: spec.AttributeName, Enabled: spec.Enabled });
    return { TimeToLiveSpecification: { AttributeName: spec.AttributeName, Enabled: spec.Enabled } };
  }

  async #describeTimeToLive(store: DynaliteStore, input: Json): Promise<Json> {
    const t = await this.#getTable(store, input.TableName);
    const current = (await store.db.get(TTL_KEY(t.TableName))) as { AttributeName: string; Enabled: boolean } | undefined;
    return {
      TimeToLiveDescription: current?.Enabled
        ? { TimeToLiveStatus: "ENABLED", AttributeName: current.AttributeName }
        : { TimeToLiveStatus: "DISABLED" },
    };
  }

  async #updateContinuousBackups(store: DynaliteStore, input: Json): Promise<Json> {
    const name = input.TableName;
    await this.#getTable(store, name).catch(() => {
      throw new DynamoError("TableNotFoundException", `Table not found: ${String(name)}`);
    });
    const spec = input.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined;
    if (typeof spec?.PointInTimeRecoveryEnabled !== "boolean") {
      throw validation(
        "1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null",
      );
    }
    await store.db.put(PITR_KEY(String(name)), { Enabled: spec.PointInTimeRecoveryEnabled, Since: nowSeconds() });
    return this.#describeContinuousBackups(store, input);
  }

  async #describeContinuousBackups(store: DynaliteStore, input: Json): Promise<Json> {
    const name = input.TableName;
    await this.#getTable(store, name).catch(() => {
      throw new DynamoError("TableNotFoundException", `Table not found: ${String(name)}`);
    });
    const pitr = (await store.db.get(PITR_KEY(String(name)))) as { Enabled: boolean; Since: number } | undefined;
    return {
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: "ENABLED",
        PointInTimeRecoveryDescription: pitr?.Enabled
          ? { PointInTimeRecoveryStatus: "ENABLED", EarliestRestorableDateTime: pitr.Since, LatestRestorableDateTime: nowSeconds() }
          : { PointInTimeRecoveryStatus: "DISABLED" },
      },
    };
  }
}

interface IndexInput {
  IndexName: string;
  KeySchema: KeyElement[];
  Projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
  ProvisionedThroughput?: Throughput;
}
interface CreateShape {
  TableName: string;
  AttributeDefinitions: AttributeDefinition[];
  KeySchema: KeyElement[];
  BillingMode?: string;
  GlobalSecondaryIndexes?: IndexInput[];
  LocalSecondaryIndexes?: IndexInput[];
}
interface SseInput {
  Enabled?: boolean;
  SSEType?: string;
  KMSMasterKeyId?: string;
}

const tableArn = (region: string, account: string, name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`;
const busy = (status: string) => ({ CREATING: "created", UPDATING: "updated", DELETING: "deleted" })[status] ?? status.toLowerCase();

function refuseUnknown(input: Json, known: string[], op: string): void {
  const extra = Object.keys(input).filter((k) => !known.includes(k) && input[k] !== undefined && input[k] !== null);
  if (extra.length) throw unsupported(`${op} ${extra.join(", ")}`);
}

function usedAttributes(t: {
  KeySchema: KeyElement[];
  GlobalSecondaryIndexes?: { KeySchema: KeyElement[] }[];
  LocalSecondaryIndexes?: { KeySchema: KeyElement[] }[];
}) {
  return new Set(
    [t.KeySchema, ...(t.GlobalSecondaryIndexes ?? []).map((g) => g.KeySchema), ...(t.LocalSecondaryIndexes ?? []).map((l) => l.KeySchema)]
      .flat()
      .map((k) => k.AttributeName),
  );
}

function checkUnusedAttributes(t: CreateShape): void {
  const used = usedAttributes(t);
  const unused = t.AttributeDefinitions.filter((a) => !used.has(a.AttributeName));
  if (unused.length) {
    throw invalid(
      `Some AttributeDefinitions are not used. AttributeDefinitions: [${t.AttributeDefinitions.map((a) => a.AttributeName).join(", ")}], keys used: [${[...used].join(", ")}]`,
    );
  }
}

function checkIndexThroughput(billing: string, indexes: IndexInput[]): void {
  if (billing !== "PROVISIONED") return;
  const missing = indexes.find((g) => !g.ProvisionedThroughput);
  if (missing) throw invalid(`ProvisionedThroughput must be specified for index: ${missing.IndexName}`);
}

function checkProjectedAttributes(indexes: { Projection?: { NonKeyAttributes?: string[] } }[]): void {
  const n = indexes.reduce((sum, i) => sum + (i.Projection?.NonKeyAttributes?.length ?? 0), 0);
  if (n > 100) throw invalid(`The number of projected attributes in all indexes (${n}) exceeds the limit of 100`);
}

function checkTags(tags: Tag[], existing: Tag[]): void {
  for (const t of tags) {
    const keyLength = [...(t.Key ?? "")].length;
    if (keyLength < 1 || keyLength > 128) throw invalid(`Tag key must be 1 to 128 characters long: ${t.Key}`);
    if ([...(t.Value ?? "")].length > 256) throw invalid(`Tag value must be at most 256 characters long (key ${t.Key})`);
    if (t.Key.toLowerCase().startsWith("aws:")) throw invalid(`Tag keys starting with aws: are reserved: ${t.Key}`);
  }
  const keys = new Set([...existing, ...tags].map((t) => t.Key));
  if (keys.size > 50) throw invalid(`The number of tags on the resource (${keys.size}) exceeds the limit of 50`);
}

function checkTableClass(c: string | undefined): void {
  if (c !== undefined && c !== "STANDARD" && c !== "STANDARD_INFREQUENT_ACCESS") {
    throw validation(
      `1 validation error detected: Value '${c}' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]`,
    );
  }
}

const STREAM_VIEW_TYPES = ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

/** The table fields an enabled stream adds; nothing for StreamEnabled false at create (DescribeTable then shows no StreamSpecification). */
function enableStream(
  s: { StreamEnabled?: boolean; StreamViewType?: string },
  arn: string,
  name: string,
  update: boolean,
): Partial<TableDescription> {
  if (typeof s.StreamEnabled !== "boolean") {
    throw validation(
      "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!s.StreamEnabled) {
    if (update) throw validation(`Table has no stream to disable: TableName: ${name}`);
    return {};
  }
  if (!s.StreamViewType) throw invalid("StreamViewType must be specified when StreamEnabled is true");
  if (!STREAM_VIEW_TYPES.includes(s.StreamViewType)) {
    throw validation(
      `1 validation error detected: Value '${s.StreamViewType}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [${STREAM_VIEW_TYPES.join(", ")}]`,
    );
  }
  const label = new Date().toISOString().replace(/Z$/, "");
  return {
    StreamSpecification: { StreamEnabled: true, StreamViewType: s.StreamViewType },
    LatestStreamLabel: label,
    LatestStreamArn: `${arn}/stream/${label}`,
  };
}

/** What DescribeTable shows for an SSESpecification: a KMS key ARN (the emulator cannot resolve aliases or check keys). */
function sseDescription(s: SseInput, region: string, account: string): { SSEDescription?: TableDescription["SSEDescription"] } {
  if (s.SSEType !== undefined && s.SSEType !== "KMS" && s.SSEType !== "AES256") {
    throw validation(
      `1 validation error detected: Value '${s.SSEType}' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]`,
    );
  }
  if (!s.Enabled) return {};
  const id = s.KMSMasterKeyId;
  const key = !id
    ? `arn:aws:kms:${region}:${account}:key/aws-managed-dynamodb`
    : id.startsWith("arn:")
      ? id
      : id.startsWith("alias/")
        ? `arn:aws:kms:${region}:${account}:${id}`
        : `arn:aws:kms:${region}:${account}:key/${id}`;
  return { SSEDescription: { Status: "ENABLED", SSEType: s.SSEType ?? "KMS", KMSMasterKeyArn: key } };
}

// ---------------------------------------------------------------------------------------
// A small client for the emulator (DynamoDB's JSON protocol over fetch)
// ---------------------------------------------------------------------------------------

export class EmulatorClient {
  readonly endpoint: string;
  readonly region: string;
  constructor(endpoint: string, region: string) {
    this.endpoint = endpoint;
    this.region = region;
  }

  /** One operation; a DynamoDB error is thrown as DynamoError (with `op` and `requestId`). */
  async call<T = Json>(op: string, input: Json = {}): Promise<T> {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    const res = await fetch(this.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `DynamoDB_20120810.${op}`,
        "x-amz-date": date,
        // Not a real signature: the emulator reads only the region from the credential scope.
        authorization: `AWS4-HMAC-SHA256 Credential=ACKDOUBLE/${date.slice(0, 8)}/${this.region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0`,
      },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const body = (text ? JSON.parse(text) : {}) as Json;
    if (!res.ok) {
      const type = String(body.__type ?? "UnknownError");
      const err = new DynamoError(type.split("#").pop()!, String(body.message ?? body.Message ?? ""), { status: res.status, type });
      err.op = op;
      err.requestId = res.headers.get("x-amzn-requestid") ?? undefined;
      throw err;
    }
    return body as T;
  }

  /** DescribeTable's Table, or undefined when there is no such table. */
  async describeTable(name: string): Promise<TableDescription | undefined> {
    try {
      return (await this.call<{ Table: TableDescription }>("DescribeTable", { TableName: name })).Table;
    } catch (e) {
      if (e instanceof DynamoError && e.code === "ResourceNotFoundException") return undefined;
      throw e;
    }
  }

  async listTables(): Promise<string[]> {
    return (await this.call<{ TableNames: string[] }>("ListTables", {})).TableNames;
  }

  async listTags(arn: string): Promise<Tag[]> {
    return (await this.call<{ Tags?: Tag[] }>("ListTagsOfResource", { ResourceArn: arn })).Tags ?? [];
  }
}

// ---------------------------------------------------------------------------------------
// ACK's Table: spec to DynamoDB calls, and DynamoDB's answers to status
// ---------------------------------------------------------------------------------------

interface KeySpec {
  attributeName?: string;
  keyType?: string;
}
interface ThroughputSpec {
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
}
interface ProjectionSpec {
  projectionType?: string;
  nonKeyAttributes?: string[];
}
interface IndexSpec {
  indexName?: string;
  keySchema?: KeySpec[];
  projection?: ProjectionSpec;
  provisionedThroughput?: ThroughputSpec;
  [field: string]: unknown;
}
export interface TableSpec {
  tableName: string;
  attributeDefinitions?: { attributeName?: string; attributeType?: string }[];
  keySchema?: KeySpec[];
  billingMode?: string;
  provisionedThroughput?: ThroughputSpec;
  globalSecondaryIndexes?: IndexSpec[];
  localSecondaryIndexes?: IndexSpec[];
  streamSpecification?: { streamEnabled?: boolean; streamViewType?: string };
  sseSpecification?: { enabled?: boolean; sseType?: string; kmsMasterKeyID?: string };
  tableClass?: string;
  tags?: { key?: string; value?: string }[];
  timeToLive?: { attributeName?: string; enabled?: boolean };
  continuousBackups?: { pointInTimeRecoveryEnabled?: boolean };
  deletionProtectionEnabled?: boolean;
  [field: string]: unknown;
}
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  message?: string;
  reason?: string;
  lastTransitionTime?: string;
}
export interface TableStatus {
  ackResourceMetadata?: { arn?: string; ownerAccountID: string; region: string };
  conditions?: Condition[];
  creationDateTime?: string;
  globalSecondaryIndexesDescriptions?: Json[];
  itemCount?: number;
  latestStreamARN?: string;
  latestStreamLabel?: string;
  tableID?: string;
  tableSizeBytes?: number;
  tableStatus?: string;
}
export interface AckTable {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec: TableSpec;
  status?: TableStatus;
}

const SUPPORTED_SPEC = new Set([
  "tableName",
  "attributeDefinitions",
  "keySchema",
  "billingMode",
  "provisionedThroughput",
  "globalSecondaryIndexes",
  "localSecondaryIndexes",
  "streamSpecification",
  "sseSpecification",
  "tableClass",
  "tags",
  "timeToLive",
  "continuousBackups",
  "deletionProtectionEnabled",
]);
const SUPPORTED_INDEX = new Set(["indexName", "keySchema", "projection", "provisionedThroughput"]);

/** Spec fields the double does not emulate (each named once). */
export function unsupportedSpecFields(spec: TableSpec): string[] {
  const out = Object.keys(spec).filter((k) => !SUPPORTED_SPEC.has(k) && spec[k] !== undefined && spec[k] !== null);
  for (const [list, items] of [
    ["globalSecondaryIndexes", spec.globalSecondaryIndexes],
    ["localSecondaryIndexes", spec.localSecondaryIndexes],
  ] as const) {
    for (const k of new Set((items ?? []).flatMap((i) => Object.keys(i).filter((f) => !SUPPORTED_INDEX.has(f) && i[f] != null))))
      out.push(`${list}[].${k}`);
  }
  return out;
}

const keys = (k: KeySpec[] | undefined): KeyElement[] =>
  (k ?? []).map((e) => ({ AttributeName: e.attributeName ?? "", KeyType: e.keyType ?? "" }));
const definedOnly = <T extends Json>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
/** ACK's newSDKProvisionedThroughput for indexes: missing units default to 1. */
const indexThroughput = (p: ThroughputSpec | undefined) =>
  p ? { ReadCapacityUnits: p.readCapacityUnits ?? 1, WriteCapacityUnits: p.writeCapacityUnits ?? 1 } : undefined;
const projection = (p: ProjectionSpec | undefined) =>
  definedOnly({ ProjectionType: p?.projectionType ?? "", NonKeyAttributes: p?.nonKeyAttributes });
const indexInput = (g: IndexSpec) =>
  definedOnly({
    IndexName: g.indexName ?? "",
    KeySchema: keys(g.keySchema),
    Projection: projection(g.projection),
    ProvisionedThroughput: indexThroughput(g.provisionedThroughput),
  });

/** CreateTable's input, field for field as ACK's newCreateRequestPayload builds it, with the tags ACK ensures. */
export function createTableInput(spec: TableSpec, tags: Tag[]): Json {
  return definedOnly({
    TableName: spec.tableName,
    AttributeDefinitions: spec.attributeDefinitions?.map((a) => ({
      AttributeName: a.attributeName ?? "",
      AttributeType: a.attributeType ?? "",
    })),
    KeySchema: spec.keySchema ? keys(spec.keySchema) : undefined,
    BillingMode: spec.billingMode,
    ProvisionedThroughput: spec.provisionedThroughput
      ? definedOnly({
          ReadCapacityUnits: spec.provisionedThroughput.readCapacityUnits,
          WriteCapacityUnits: spec.provisionedThroughput.writeCapacityUnits,
        })
      : undefined,
    GlobalSecondaryIndexes: spec.globalSecondaryIndexes?.map(indexInput),
    LocalSecondaryIndexes: spec.localSecondaryIndexes?.map((l) =>
      definedOnly({ IndexName: l.indexName ?? "", KeySchema: keys(l.keySchema), Projection: projection(l.projection) }),
    ),
    StreamSpecification: spec.streamSpecification
      ? definedOnly({ StreamEnabled: spec.streamSpecification.streamEnabled, StreamViewType: spec.streamSpecification.streamViewType })
      : undefined,
    SSESpecification: spec.sseSpecification
      ? definedOnly({
          Enabled: spec.sseSpecification.enabled,
          SSEType: spec.sseSpecification.sseType,
          KMSMasterKeyId: spec.sseSpecification.kmsMasterKeyID,
        })
      : undefined,
    TableClass: spec.tableClass,
    Tags: tags.length ? tags : undefined,
    DeletionProtectionEnabled: spec.deletionProtectionEnabled,
  });
}

/** The tags ACK puts on the table: the spec's, then its default resource tags (the spec wins a key). */
export function desiredTags(table: AckTable, resourceTags: string[], controllerVersion: string): Tag[] {
  const labels = table.metadata.labels ?? {};
  const formats: Record<string, string> = {
    "%CONTROLLER_SERVICE%": "dynamodb",
    "%CONTROLLER_VERSION%": controllerVersion,
    "%K8S_NAMESPACE%": table.metadata.namespace,
    "%K8S_RESOURCE_NAME%": table.metadata.name,
    "%K8S_RESOURCE_KIND%": "Table",
    "%MANAGED_BY%": labels["app.kubernetes.io/managed-by"] ?? "",
    "%KRO_VERSION%": labels["kro.run/kro-version"] ?? "",
  };
  const tags = new Map<string, string>();
  for (const t of table.spec.tags ?? []) tags.set(t.key ?? "", t.value ?? "");
  for (const kv of resourceTags) {
    const parts = kv.split("=");
    if (parts.length !== 2) continue;
    const key = parts[0]!.trim();
    const template = parts[1]!.trim();
    if (!key || !template) continue;
    const value = Object.entries(formats).reduce((v, [f, x]) => v.replaceAll(f, x), template);
    if (value && !tags.has(key)) tags.set(key, value);
  }
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** What ACK's ReadOne (DescribeTable) writes into the status. */
export function observedStatus(t: TableDescription): TableStatus {
  return definedOnly({
    creationDateTime: t.CreationDateTime !== undefined ? isoSeconds(t.CreationDateTime) : undefined,
    globalSecondaryIndexesDescriptions: t.GlobalSecondaryIndexes?.map((g) =>
      definedOnly({
        indexName: g.IndexName,
        indexARN: g.IndexArn,
        itemCount: g.ItemCount,
        indexStatus: g.IndexStatus,
        indexSizeBytes: g.IndexSizeBytes,
        backfilling: g.Backfilling,
      }),
    ),
    itemCount: t.ItemCount,
    latestStreamARN: t.LatestStreamArn,
    latestStreamLabel: t.LatestStreamLabel,
    tableID: t.TableId,
    tableSizeBytes: t.TableSizeBytes,
    tableStatus: t.TableStatus,
  }) as TableStatus;
}

/** What ACK's setResourceAdditionalFields reads besides DescribeTable. */
interface Observed {
  table: TableDescription;
  ttl: { attributeName?: string; enabled: boolean };
  pitr: boolean;
  tags: Tag[];
}

type Field =
  | "Tags"
  | "TimeToLive"
  | "SSESpecification"
  | "GlobalSecondaryIndexes"
  | "BillingMode"
  | "TableClass"
  | "DeletionProtectionEnabled"
  | "ContinuousBackups"
  | "StreamSpecification"
  | "ProvisionedThroughput"
  | "KeySchema"
  | "AttributeDefinitions"
  | "LocalSecondaryIndexes";

const nilDiff = (a: unknown, b: unknown) => (a === undefined || a === null) !== (b === undefined || b === null);
const differs = (a: unknown, b: unknown) => nilDiff(a, b) || (a != null && b != null && a !== b);
const sameKeys = (a: KeySpec[] | undefined, b: KeySpec[] | undefined) =>
  (a ?? []).length === (b ?? []).length &&
  (a ?? []).every((x) => (b ?? []).some((y) => y.attributeName === x.attributeName && y.keyType === x.keyType));
const sameStrings = (a: string[] | undefined, b: string[] | undefined) =>
  !nilDiff(a, b) && (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => x === b?.[i]);

function sameProjection(a: ProjectionSpec | undefined, b: ProjectionSpec | undefined): boolean {
  if (nilDiff(a, b)) return false;
  return !a || !b || (!differs(a.projectionType, b.projectionType) && sameStrings(a.nonKeyAttributes, b.nonKeyAttributes));
}

/** dynamodb-controller v1.9.2 equalGlobalSecondaryIndexes (a desired, b latest). */
function sameIndex(a: IndexSpec, b: IndexSpec): boolean {
  const pa = a.provisionedThroughput;
  const pb = b.provisionedThroughput;
  if (nilDiff(pa, pb)) {
    const payPerRequest =
      (!pa && !!pb && !pb.readCapacityUnits && !pb.writeCapacityUnits) || (!!pa && !pb && !pa.readCapacityUnits && !pa.writeCapacityUnits);
    if (!payPerRequest) return false;
  }
  if (pa && pb && (differs(pa.readCapacityUnits, pb.readCapacityUnits) || differs(pa.writeCapacityUnits, pb.writeCapacityUnits)))
    return false;
  return sameProjection(a.projection, b.projection) && sameKeys(a.keySchema, b.keySchema);
}

/** v1.9.2 computeGlobalSecondaryIndexDelta(latest, desired): added and updated from desired, removed names from latest. */
function indexDelta(latest: IndexSpec[], desired: IndexSpec[], same: (a: IndexSpec, b: IndexSpec) => boolean) {
  const added = desired.filter((d) => !latest.some((l) => l.indexName === d.indexName));
  const updated = desired.filter((d) => latest.some((l) => l.indexName === d.indexName && !same(d, l)));
  const removed = latest.filter((l) => !desired.some((d) => d.indexName === l.indexName)).map((l) => l.indexName!);
  return { added, updated, removed };
}

const specKeys = (k: KeyElement[] | undefined): KeySpec[] => (k ?? []).map((e) => ({ attributeName: e.AttributeName, keyType: e.KeyType }));
const specIndex = (g: IndexDescription): IndexSpec =>
  definedOnly({
    indexName: g.IndexName,
    keySchema: specKeys(g.KeySchema),
    projection: definedOnly({ projectionType: g.Projection?.ProjectionType, nonKeyAttributes: g.Projection?.NonKeyAttributes }),
    provisionedThroughput: g.ProvisionedThroughput
      ? { readCapacityUnits: g.ProvisionedThroughput.ReadCapacityUnits, writeCapacityUnits: g.ProvisionedThroughput.WriteCapacityUnits }
      : undefined,
  });

/**
 * ACK's delta (generated delta.go + customPreCompare, v1.9.2) between the spec and
 * what DynamoDB reports, with nil and absent treated as ACK treats them.
 */
export function specDelta(spec: TableSpec, tags: Tag[], o: Observed): Set<Field> {
  const d = new Set<Field>();
  const t = o.table;
  // Tags
  const latestTags = new Map(o.tags.map((x) => [x.Key, x.Value]));
  const wantTags = new Map(tags.map((x) => [x.Key, x.Value]));
  if (latestTags.size !== wantTags.size || [...wantTags].some(([k, v]) => latestTags.get(k) !== v)) d.add("Tags");
  // TimeToLive: absent in the spec means disabled, since DescribeTimeToLive always answers.
  const ttl = spec.timeToLive ?? { enabled: false };
  if (differs(ttl.attributeName, o.ttl.attributeName) || differs(ttl.enabled, o.ttl.enabled)) d.add("TimeToLive");
  // SSESpecification (customPreCompare)
  const want = spec.sseSpecification;
  const have = t.SSEDescription
    ? {
        enabled: t.SSEDescription.Status === "ENABLED",
        sseType: t.SSEDescription.SSEType,
        kmsMasterKeyID: t.SSEDescription.KMSMasterKeyArn,
      }
    : undefined;
  if (nilDiff(want, have)) {
    if (!want || want.enabled) d.add("SSESpecification");
  } else if (want && have) {
    if (differs(want.enabled, have.enabled)) d.add("SSESpecification");
    if (want.kmsMasterKeyID != null && want.kmsMasterKeyID !== have.kmsMasterKeyID) d.add("SSESpecification");
    if (differs(want.sseType, have.sseType)) d.add("SSESpecification");
  }
  // Keys, attributes, indexes
  if (!sameKeys(spec.keySchema, specKeys(t.KeySchema))) d.add("KeySchema");
  const defs = spec.attributeDefinitions ?? [];
  if (
    defs.length !== t.AttributeDefinitions.length ||
    defs.some((a) => !t.AttributeDefinitions.some((b) => b.AttributeName === a.attributeName && b.AttributeType === a.attributeType))
  ) {
    d.add("AttributeDefinitions");
  }
  const latestGsis = (t.GlobalSecondaryIndexes ?? []).map(specIndex);
  const g = indexDelta(latestGsis, spec.globalSecondaryIndexes ?? [], sameIndex);
  if ((spec.globalSecondaryIndexes ?? []).length !== latestGsis.length || g.added.length || g.updated.length || g.removed.length)
    d.add("GlobalSecondaryIndexes");
  const sameLsi = (a: IndexSpec, b: IndexSpec) => sameProjection(a.projection, b.projection) && sameKeys(a.keySchema, b.keySchema);
  const latestLsis = (t.LocalSecondaryIndexes ?? []).map(specIndex);
  const l = indexDelta(latestLsis, spec.localSecondaryIndexes ?? [], sameLsi);
  if ((spec.localSecondaryIndexes ?? []).length !== latestLsis.length || l.added.length || l.updated.length || l.removed.length)
    d.add("LocalSecondaryIndexes");
  // Billing mode and table class default as ACK defaults them; PAY_PER_REQUEST drops throughput on either side.
  const billing = spec.billingMode ?? "PROVISIONED";
  const latestBilling = t.BillingModeSummary?.BillingMode ?? "PROVISIONED";
  if (billing !== latestBilling) d.add("BillingMode");
  if ((spec.tableClass ?? "STANDARD") !== (t.TableClassSummary?.TableClass ?? "STANDARD")) d.add("TableClass");
  if (differs(spec.deletionProtectionEnabled ?? false, t.DeletionProtectionEnabled)) d.add("DeletionProtectionEnabled");
  const pitr = spec.continuousBackups ?? { pointInTimeRecoveryEnabled: false };
  if (differs(pitr.pointInTimeRecoveryEnabled, o.pitr)) d.add("ContinuousBackups");
  const stream = spec.streamSpecification;
  const latestStream = t.StreamSpecification
    ? { streamEnabled: t.StreamSpecification.StreamEnabled, streamViewType: t.StreamSpecification.StreamViewType }
    : undefined;
  if (nilDiff(stream, latestStream)) d.add("StreamSpecification");
  else if (
    stream &&
    latestStream &&
    (differs(stream.streamEnabled, latestStream.streamEnabled) || differs(stream.streamViewType, latestStream.streamViewType))
  ) {
    d.add("StreamSpecification");
  }
  const pt = billing === "PAY_PER_REQUEST" ? undefined : spec.provisionedThroughput;
  const latestPt = latestBilling === "PAY_PER_REQUEST" ? undefined : t.ProvisionedThroughput;
  if (nilDiff(pt, latestPt)) d.add("ProvisionedThroughput");
  else if (
    pt &&
    latestPt &&
    (differs(pt.readCapacityUnits, latestPt.ReadCapacityUnits) || differs(pt.writeCapacityUnits, latestPt.WriteCapacityUnits))
  ) {
    d.add("ProvisionedThroughput");
  }
  return d;
}

// ---------------------------------------------------------------------------------------
// One reconcile of one Table, without Kubernetes (the controller below adds the API server)
// ---------------------------------------------------------------------------------------

export interface SyncOptions {
  endpoint: string;
  accountId: string;
  defaultRegion: string;
  deletionPolicy: string;
  resourceTags: string[];
  controllerVersion: string;
  /** Requeue while CREATING/UPDATING or right after changes (ACK: 5-10 s). */
  requeueMs: number;
  /** Requeue after Synced True (ACK: 10 h). */
  resyncMs: number;
  log: (line: string) => void;
}

/** What the caller does for a reconcile: read namespaces, patch finalizers (on the object given and returned). */
export interface SyncHooks {
  namespaceAnnotations(namespace: string): Promise<Record<string, string>>;
  addFinalizer(table: AckTable): Promise<AckTable>;
  removeFinalizer(table: AckTable): Promise<void>;
}

export interface SyncResult {
  /** The status to write (whole); undefined leaves it as it is. */
  status?: TableStatus;
  /** When to reconcile again; undefined: only on the next change. */
  requeueAfterMs?: number;
  /** The reconcile ended in ACK.Terminal: no retry until the generation changes. */
  terminal?: boolean;
  /** The reconcile ended in ACK.Recoverable: retried with backoff. */
  recoverable?: boolean;
}

/** A failed call, and whether ACK wraps its error ("cannot update table %v"), which makes it never terminal. */
class CallFailed extends Error {
  readonly error: DynamoError;
  readonly wrapped: boolean;
  constructor(error: DynamoError, wrapped: boolean) {
    super(error.message);
    this.error = error;
    this.wrapped = wrapped;
  }
}

/** Synced (and what Ready derives from it and from Terminal/Recoverable), as ACK runtime v0.61 sets them. */
type Outcome =
  | { kind: "synced" }
  | { kind: "notSynced"; message?: string; reason?: string }
  | { kind: "waiting"; reason: string }
  | { kind: "terminal"; message: string; reason?: string }
  | { kind: "recoverable"; message: string; reason: string };

function conditionsFor(outcome: Outcome): Omit<Condition, "lastTransitionTime">[] {
  const out: Omit<Condition, "lastTransitionTime">[] = [];
  let synced: Omit<Condition, "lastTransitionTime">;
  switch (outcome.kind) {
    case "synced":
      synced = { type: CONDITION.synced, status: "True", message: MESSAGES.synced, reason: "" };
      break;
    case "notSynced":
      synced = definedOnly({ type: CONDITION.synced, status: "False" as const, message: outcome.message, reason: outcome.reason });
      break;
    case "waiting":
      synced = { type: CONDITION.synced, status: "Unknown", message: MESSAGES.unknownSynced, reason: outcome.reason };
      break;
    case "terminal":
      out.push(definedOnly({ type: CONDITION.terminal, status: "True" as const, message: outcome.message, reason: outcome.reason }));
      synced = { type: CONDITION.synced, status: "False", message: MESSAGES.notSynced, reason: MESSAGES.terminalReason };
      break;
    case "recoverable":
      out.push({ type: CONDITION.recoverable, status: "True", message: outcome.message });
      synced = { type: CONDITION.synced, status: "Unknown", message: MESSAGES.unknownSynced, reason: outcome.reason };
      break;
  }
  out.push(synced);
  const first = out[0]!;
  if (outcome.kind === "terminal" || outcome.kind === "recoverable") {
    out.push({ type: CONDITION.ready, status: "False", message: first.message!, reason: first.type });
  } else {
    out.push(definedOnly({ type: CONDITION.ready, status: synced.status, message: synced.message, reason: synced.reason }));
  }
  return out;
}

/** Conditions with lastTransitionTime kept from `before` while a condition's status stays the same. */
export function withTransitionTimes(
  conditions: Omit<Condition, "lastTransitionTime">[],
  before: Condition[] | undefined,
  now: Date,
): Condition[] {
  const at = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return conditions.map((c) => {
    const old = before?.find((b) => b.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : at };
  });
}

const apiError = (e: DynamoError) => `api error ${e.code}: ${e.message}`;
const sdkError = (e: DynamoError) =>
  `operation error DynamoDB: ${e.op ?? "?"}, https response error StatusCode: ${e.status}, RequestID: ${e.requestId ?? ""}, ${apiError(e)}`;
const TERMINAL_CODES = new Set(["InvalidParameter", "ValidationException"]);

/**
 * Whether a Table asks to adopt the AWS table it names: an adoption policy, and adoption
 * fields naming the same tableName as the spec (ACK reads the resource by those fields).
 */
export function adoptionAsked(table: AckTable): boolean {
  const a = table.metadata.annotations ?? {};
  if (a[ADOPTION_POLICY_ANNOTATION] !== "adopt" && a[ADOPTION_POLICY_ANNOTATION] !== "adopt-or-create") return false;
  try {
    return (JSON.parse(a[ADOPTION_FIELDS_ANNOTATION] ?? "{}") as { tableName?: unknown }).tableName === table.spec.tableName;
  } catch {
    return false;
  }
}

export class TableSync {
  readonly o: SyncOptions;
  /** Tables adopted by this process (ACK.Adopted is kept from the status after a restart too). */
  readonly #adopted = new Set<string>();
  constructor(o: SyncOptions) {
    this.o = o;
  }

  #client(region: string) {
    return new EmulatorClient(this.o.endpoint, region);
  }

  async region(table: AckTable, hooks: SyncHooks): Promise<string> {
    return (
      table.status?.ackResourceMetadata?.region ??
      table.metadata.annotations?.[REGION_ANNOTATION] ??
      (await hooks.namespaceAnnotations(table.metadata.namespace))[DEFAULT_REGION_ANNOTATION] ??
      this.o.defaultRegion
    );
  }

  async deletionPolicy(table: AckTable, hooks: SyncHooks): Promise<string> {
    return (
      table.metadata.annotations?.[DELETION_POLICY_ANNOTATION] ??
      (await hooks.namespaceAnnotations(table.metadata.namespace))[NAMESPACE_DELETION_POLICY_ANNOTATION] ??
      this.o.deletionPolicy
    );
  }

  #log(table: AckTable, line: string) {
    this.o.log(`${table.metadata.namespace}/${table.metadata.name} ${line}`);
  }

  /** The status to write: metadata, the observed table (fields it lacks removed), conditions. */
  #status(table: AckTable, region: string, observed: TableDescription | undefined, outcome: Outcome): TableStatus {
    const before = table.status ?? {};
    const meta = {
      ...before.ackResourceMetadata,
      ownerAccountID: before.ackResourceMetadata?.ownerAccountID ?? this.o.accountId,
      region: before.ackResourceMetadata?.region ?? region,
    };
    const base: TableStatus = observed ? { ...observedStatus(observed) } : { ...before };
    if (observed) meta.arn = observed.TableArn;
    const wasAdopted = before.conditions?.some((c) => c.type === CONDITION.adopted && c.status === "True");
    const adopted =
      wasAdopted || this.#adopted.has(table.metadata.uid ?? `${table.metadata.namespace}/${table.metadata.name}`)
        ? [{ type: CONDITION.adopted, status: "True" as const }]
        : [];
    return {
      ...base,
      ackResourceMetadata: meta,
      conditions: withTransitionTimes([...conditionsFor(outcome), ...adopted], before.conditions, new Date()),
    };
  }

  /** ACK's onError: Terminal for an unwrapped ValidationException/InvalidParameter, else Recoverable. */
  #failed(table: AckTable, region: string, observed: TableDescription | undefined, e: unknown): SyncResult {
    const call = e instanceof CallFailed ? e : e instanceof DynamoError ? new CallFailed(e, false) : undefined;
    if (!call) {
      const message = (e as Error)?.message ?? String(e);
      this.#log(table, `recoverable: ${message}`);
      return {
        status: this.#status(table, region, observed, { kind: "recoverable", message, reason: message }),
        requeueAfterMs: this.o.requeueMs,
        recoverable: true,
      };
    }
    const err = call.error;
    if (!call.wrapped && TERMINAL_CODES.has(err.code)) {
      this.#log(table, `terminal: ${err.op ?? ""} refused: ${apiError(err)}`);
      return { status: this.#status(table, region, observed, { kind: "terminal", message: apiError(err) }), terminal: true };
    }
    const message = call.wrapped ? `cannot update table ${sdkError(err)}` : apiError(err);
    this.#log(table, `recoverable: ${err.op ?? ""} failed: ${message}`);
    return {
      status: this.#status(table, region, observed, { kind: "recoverable", message, reason: call.wrapped ? message : sdkError(err) }),
      requeueAfterMs: this.o.requeueMs,
      recoverable: true,
    };
  }

  async #call(client: EmulatorClient, table: AckTable, op: string, input: Json, wrapped = false, what = ""): Promise<Json> {
    try {
      const out = await client.call(op, input);
      this.#log(table, `${op}${what ? ` ${what}` : ""} ${client.region}/${table.spec.tableName}`);
      return out;
    } catch (e) {
      if (e instanceof DynamoError) throw new CallFailed(e, wrapped);
      throw e;
    }
  }

  async reconcile(table: AckTable, hooks: SyncHooks): Promise<SyncResult> {
    if (table.metadata.deletionTimestamp) return this.#finalize(table, hooks);
    const region = await this.region(table, hooks);
    const client = this.#client(region);
    const spec = table.spec;
    const notEmulated = unsupportedSpecFields(spec);
    if (notEmulated.length) {
      const message = `the ACK test double does not emulate spec.${notEmulated.join(", spec.")}`;
      this.#log(table, `terminal: ${message}`);
      return { status: this.#status(table, region, undefined, { kind: "terminal", message }), terminal: true };
    }
    const tags = desiredTags(table, this.o.resourceTags, this.o.controllerVersion);
    let t: TableDescription | undefined;
    try {
      t = await client.describeTable(spec.tableName);
    } catch (e) {
      return this.#failed(table, region, undefined, e);
    }

    if (!t && table.metadata.annotations?.[ADOPTION_POLICY_ANNOTATION] === "adopt" && !table.metadata.finalizers?.includes(ACK_FINALIZER)) {
      // `adopt` (unlike adopt-or-create) never creates: there is nothing to adopt.
      const message = `cannot adopt ${region}/${spec.tableName}: no such table`;
      this.#log(table, `terminal: ${message}`);
      return { status: this.#status(table, region, undefined, { kind: "terminal", message }), terminal: true };
    }
    if (!t) {
      // ACK marks the Table managed (its finalizer) before it creates anything.
      if (!table.metadata.finalizers?.includes(ACK_FINALIZER)) {
        table = await hooks.addFinalizer(table);
        this.#log(table, `added finalizer ${ACK_FINALIZER}`);
      }
      try {
        const out = await this.#call(client, table, "CreateTable", createTableInput(spec, tags));
        t = (await client.describeTable(spec.tableName)) ?? (out.TableDescription as TableDescription);
      } catch (e) {
        return this.#failed(table, region, undefined, e);
      }
      // v1.9.2 sets Synced False with no message when a TTL waits for the next pass, else IsSynced says "Resource not synced".
      const outcome: Outcome = spec.timeToLive ? { kind: "notSynced" } : { kind: "notSynced", message: MESSAGES.notSynced, reason: "" };
      return { status: this.#status(table, region, t, outcome), requeueAfterMs: this.o.requeueMs };
    }

    const waiting = (reason: string): SyncResult => ({
      status: this.#status(table, region, t, { kind: "waiting", reason }),
      requeueAfterMs: this.o.requeueMs,
    });
    if (t.TableStatus === "CREATING") return waiting(WAITING.creating);
    if ((t.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus !== "ACTIVE")) return waiting(WAITING.gsis);
    if (t.TableStatus === "UPDATING") return waiting(WAITING.updating);
    if (!table.metadata.finalizers?.includes(ACK_FINALIZER) && adoptionAsked(table)) {
      // Adoption: the Table names this existing table in its adoption fields, so the controller
      // takes it over (its finalizer from now on) and reconciles it to the spec like any other.
      table = await hooks.addFinalizer(table);
      this.#adopted.add(table.metadata.uid ?? `${table.metadata.namespace}/${table.metadata.name}`);
      this.#log(
        table,
        `adopted ${region}/${spec.tableName} (${ADOPTION_POLICY_ANNOTATION}: ${table.metadata.annotations?.[ADOPTION_POLICY_ANNOTATION]})`,
      );
    }
    if (!table.metadata.finalizers?.includes(ACK_FINALIZER)) {
      this.#log(table, `terminal: ${region}/${spec.tableName} exists and this Table does not manage it (no finalizer)`);
      return {
        status: this.#status(table, region, undefined, {
          kind: "terminal",
          message: MESSAGES.notManaged,
          reason: MESSAGES.notManagedReason,
        }),
        terminal: true,
      };
    }
    if (t.TableStatus === "DELETING") {
      return {
        status: this.#status(table, region, t, { kind: "notSynced", message: "table is currently being deleted" }),
        requeueAfterMs: this.o.requeueMs,
      };
    }

    let observed: Observed;
    try {
      const [ttl, pitr, latestTags] = await Promise.all([
        client.call<{ TimeToLiveDescription: { TimeToLiveStatus: string; AttributeName?: string } }>("DescribeTimeToLive", {
          TableName: spec.tableName,
        }),
        client.call<{ ContinuousBackupsDescription: { PointInTimeRecoveryDescription?: { PointInTimeRecoveryStatus?: string } } }>(
          "DescribeContinuousBackups",
          {
            TableName: spec.tableName,
          },
        ),
        client.listTags(t.TableArn),
      ]);
      const status = ttl.TimeToLiveDescription.TimeToLiveStatus;
      observed = {
        table: t,
        ttl: definedOnly({
          attributeName: ttl.TimeToLiveDescription.AttributeName,
          enabled: status === "ENABLED" || status === "ENABLING",
        }),
        pitr: pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === "ENABLED",
        tags: latestTags,
      };
    } catch (e) {
      return this.#failed(table, region, t, e);
    }
    const delta = specDelta(spec, tags, observed);
    if (delta.size === 0) {
      const status = this.#status(table, region, t, { kind: "synced" });
      if (table.status?.conditions?.find((c) => c.type === CONDITION.synced)?.status !== "True")
        this.#log(table, `synced: ${t.TableArn} ACTIVE`);
      return { status, requeueAfterMs: this.o.resyncMs };
    }

    try {
      const requeueGsi = await this.#update(client, table, tags, observed, delta);
      if (delta.size === 1 && delta.has("Tags")) {
        return { status: this.#status(table, region, t, { kind: "synced" }), requeueAfterMs: this.o.requeueMs };
      }
      const after = (await client.describeTable(spec.tableName)) ?? t;
      const fields = [...delta].filter((f) => f !== "Tags");
      const status = this.#status(table, region, after, { kind: "waiting", reason: requeueGsi ? WAITING.gsis : WAITING.updating });
      const immutable = ["KeySchema", "AttributeDefinitions", "LocalSecondaryIndexes"];
      if (fields.every((f) => immutable.includes(f))) {
        // ACK makes no call for these and requeues (every 10 s) for ever.
        this.#log(table, `differs at ${fields.join(", ")}, which ACK has no call to change: requeueing`);
        return { status, requeueAfterMs: Math.max(this.o.requeueMs, 10_000) };
      }
      return { status, requeueAfterMs: this.o.requeueMs };
    } catch (e) {
      return this.#failed(table, region, t, e);
    }
  }

  /** dynamodb-controller v1.9.2 customUpdateTable, call for call. True when it asks to wait for indexes. */
  async #update(client: EmulatorClient, table: AckTable, tags: Tag[], o: Observed, delta: Set<Field>): Promise<boolean> {
    const spec = table.spec;
    const t = o.table;
    const name = spec.tableName;
    if (delta.has("Tags")) {
      const want = new Map(tags.map((x) => [x.Key, x.Value]));
      const removed = o.tags.filter((x) => !want.has(x.Key)).map((x) => x.Key);
      const added = tags.filter((x) => o.tags.find((y) => y.Key === x.Key)?.Value !== x.Value);
      if (removed.length)
        await this.#call(client, table, "UntagResource", { ResourceArn: t.TableArn, TagKeys: removed }, false, removed.join(","));
      if (added.length)
        await this.#call(client, table, "TagResource", { ResourceArn: t.TableArn, Tags: added }, false, added.map((x) => x.Key).join(","));
    }
    if (delta.size === 1 && delta.has("Tags")) return false;
    if (delta.has("TimeToLive")) {
      const ttl = spec.timeToLive
        ? definedOnly({ AttributeName: spec.timeToLive.attributeName, Enabled: spec.timeToLive.enabled })
        : { AttributeName: o.ttl.attributeName ?? "", Enabled: false };
      try {
        await this.#call(
          client,
          table,
          "UpdateTimeToLive",
          { TableName: name, TimeToLiveSpecification: ttl },
          false,
          `enabled=${String(ttl.Enabled)}`,
        );
      } catch (e) {
        const ignored =
          e instanceof CallFailed && e.error.code === "ValidationException" && e.error.message.startsWith("TimeToLive is already disabled");
        if (!ignored) throw e;
      }
    }
    if (delta.has("SSESpecification")) {
      const s = spec.sseSpecification;
      const sse = !s
        ? undefined
        : s.enabled == null
          ? { Enabled: false }
          : s.enabled
            ? definedOnly({ Enabled: true, SSEType: s.sseType, KMSMasterKeyId: s.kmsMasterKeyID })
            : { Enabled: false };
      await this.#call(client, table, "UpdateTable", definedOnly({ TableName: name, SSESpecification: sse }), true, "SSESpecification");
    }
    const latestGsis = (t.GlobalSecondaryIndexes ?? []).map(specIndex);
    const gsi = indexDelta(latestGsis, spec.globalSecondaryIndexes ?? [], sameIndex);
    const attributeDefinitions = (spec.attributeDefinitions ?? []).map((a) => ({
      AttributeName: a.attributeName ?? "",
      AttributeType: a.attributeType ?? "",
    }));
    // Each GSI step sends one index; LimitExceededException (another index busy) means wait.
    const gsiStep = async (update: Json, what: string, more: boolean): Promise<boolean> => {
      try {
        await this.#call(
          client,
          table,
          "UpdateTable",
          { TableName: name, AttributeDefinitions: attributeDefinitions, GlobalSecondaryIndexUpdates: [update] },
          false,
          what,
        );
      } catch (e) {
        if (e instanceof CallFailed && e.error.code === "LimitExceededException") return true;
        throw e;
      }
      return more;
    };
    if (delta.has("GlobalSecondaryIndexes") && gsi.removed.length) {
      if (await gsiStep({ Delete: { IndexName: gsi.removed[0] } }, `delete index ${gsi.removed[0]}`, gsi.removed.length > 1)) return true;
    }
    if (delta.has("BillingMode") || delta.has("TableClass") || delta.has("DeletionProtectionEnabled")) {
      await this.#call(
        client,
        table,
        "UpdateTable",
        this.#updateTablePayload(spec, t, delta, gsi.updated),
        true,
        [...delta].filter((f) => ["BillingMode", "TableClass", "DeletionProtectionEnabled", "StreamSpecification"].includes(f)).join(","),
      );
    }
    if (delta.has("ContinuousBackups")) {
      const enabled = spec.continuousBackups?.pointInTimeRecoveryEnabled;
      await this.#call(
        client,
        table,
        "UpdateContinuousBackups",
        { TableName: name, PointInTimeRecoverySpecification: definedOnly({ PointInTimeRecoveryEnabled: enabled }) },
        true,
        `enabled=${String(enabled ?? false)}`,
      );
    }
    if (delta.has("GlobalSecondaryIndexes") && gsi.updated.length) {
      const g = gsi.updated[0]!;
      if (
        await gsiStep(
          { Update: definedOnly({ IndexName: g.indexName, ProvisionedThroughput: indexThroughput(g.provisionedThroughput) }) },
          `update index ${g.indexName}`,
          gsi.updated.length > 1,
        )
      ) {
        return true;
      }
    }
    if (delta.has("StreamSpecification")) {
      await this.#call(client, table, "UpdateTable", this.#updateTablePayload(spec, t, delta, gsi.updated), true, "StreamSpecification");
    } else if (delta.has("ProvisionedThroughput")) {
      const p = spec.provisionedThroughput;
      await this.#call(
        client,
        table,
        "UpdateTable",
        {
          TableName: name,
          ProvisionedThroughput: { ReadCapacityUnits: p?.readCapacityUnits ?? 0, WriteCapacityUnits: p?.writeCapacityUnits ?? 0 },
        },
        false,
        "ProvisionedThroughput",
      );
    } else if (delta.has("GlobalSecondaryIndexes") && gsi.added.length) {
      const g = gsi.added[0]!;
      return gsiStep({ Create: indexInput(g) }, `create index ${g.indexName}`, gsi.added.length > 1);
    }
    return false;
  }

  /** v1.9.2 newUpdateTablePayload. */
  #updateTablePayload(spec: TableSpec, t: TableDescription, delta: Set<Field>, updatedGsis: IndexSpec[]): Json {
    const input: Json = { TableName: spec.tableName };
    if (delta.has("BillingMode")) {
      const billing = spec.billingMode ?? "PROVISIONED";
      input.BillingMode = billing;
      if (billing === "PROVISIONED") {
        const p = spec.provisionedThroughput;
        input.ProvisionedThroughput = p
          ? { ReadCapacityUnits: p.readCapacityUnits ?? 0, WriteCapacityUnits: p.writeCapacityUnits ?? 0 }
          : {};
        if ((t.BillingModeSummary?.BillingMode ?? "PROVISIONED") === "PAY_PER_REQUEST" && updatedGsis.length) {
          input.GlobalSecondaryIndexUpdates = updatedGsis.map((g) => ({
            Update: definedOnly({ IndexName: g.indexName, ProvisionedThroughput: indexThroughput(g.provisionedThroughput) }),
          }));
        }
      }
    }
    if (delta.has("StreamSpecification") && spec.streamSpecification) {
      const s = spec.streamSpecification;
      input.StreamSpecification =
        s.streamEnabled == null
          ? { StreamEnabled: false }
          : definedOnly({ StreamEnabled: s.streamEnabled, StreamViewType: s.streamEnabled ? s.streamViewType : undefined });
    }
    if (delta.has("TableClass") && spec.tableClass) input.TableClass = spec.tableClass;
    if (delta.has("DeletionProtectionEnabled")) input.DeletionProtectionEnabled = spec.deletionProtectionEnabled ?? false;
    return input;
  }

  /** A Table being deleted: keep or delete its table, then let it go. */
  async #finalize(table: AckTable, hooks: SyncHooks): Promise<SyncResult> {
    if (!table.metadata.finalizers?.includes(ACK_FINALIZER)) return {};
    const policy = await this.deletionPolicy(table, hooks);
    const region = await this.region(table, hooks);
    const where = `${region}/${table.spec.tableName}`;
    if (policy !== "delete") {
      this.#log(table, `deletion policy ${policy}: keeping ${where}`);
      await hooks.removeFinalizer(table);
      this.#log(table, `removed finalizer ${ACK_FINALIZER}`);
      return {};
    }
    const client = this.#client(region);
    let t: TableDescription | undefined;
    try {
      t = await client.describeTable(table.spec.tableName);
    } catch (e) {
      return this.#failed(table, region, undefined, e);
    }
    if (
      t &&
      (t.TableStatus === "CREATING" ||
        t.TableStatus === "UPDATING" ||
        t.TableStatus === "DELETING" ||
        (t.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus !== "ACTIVE"))
    ) {
      return { requeueAfterMs: this.o.requeueMs };
    }
    if (t) {
      try {
        await this.#call(client, table, "DeleteTable", { TableName: table.spec.tableName });
      } catch (e) {
        return this.#failed(table, region, t, e);
      }
    } else {
      this.#log(table, `${where} is already gone`);
    }
    await hooks.removeFinalizer(table);
    this.#log(table, `removed finalizer ${ACK_FINALIZER}`);
    return {};
  }
}

// ---------------------------------------------------------------------------------------
// The controller: Tables from the API server, a work queue, status and finalizer writes
// ---------------------------------------------------------------------------------------

class KubeError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** JSON requests with the kubeconfig's credentials. */
class Kube {
  readonly kc: k8s.KubeConfig;
  readonly #server: URL;
  constructor(kubeconfig: string) {
    this.kc = new k8s.KubeConfig();
    this.kc.loadFromFile(kubeconfig);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error(`${kubeconfig}: no current cluster`);
    this.#server = new URL(cluster.server);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T | undefined> {
    const url = new URL(path, this.#server);
    const opts: https.RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      // The manager name the API server records for what the double writes (managedFields).
      headers: { "content-type": contentType, accept: "application/json", "user-agent": "ack-dynamodb-controller-double" },
      timeout: 15_000,
    };
    await this.kc.applyToHTTPSOptions(opts);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (url.protocol === "http:" ? http : https).request(opts, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    if (status === 404 && method === "GET") return undefined;
    if (status < 200 || status >= 300) throw new KubeError(status, `${method} ${path}: ${status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }
}

export interface DoubleOptions {
  kubeconfig: string;
  /** The emulator's port on 127.0.0.1 (0: any free port; see `endpoint`). */
  port: number;
  dataDir: string;
  region?: string;
  accountId?: string;
  deletionPolicy?: string;
  resourceTags?: string[];
  controllerVersion?: string;
  createTableMs?: number;
  updateTableMs?: number;
  deleteTableMs?: number;
  requeueMs?: number;
  resyncMs?: number;
  log?: (line: string) => void;
}

export interface RunningDouble {
  /** The emulator's endpoint (http://127.0.0.1:PORT). */
  endpoint: string;
  emulator: DynamoDBEmulator;
  /** A client for the emulator in `region` (default: the double's default region). */
  client(region?: string): EmulatorClient;
  stop(): Promise<void>;
}

const tableKey = (t: AckTable) => `${t.metadata.namespace}/${t.metadata.name}`;
const tablePath = (namespace: string, name: string) => `/apis/${TABLE_GROUP}/${TABLE_VERSION}/namespaces/${namespace}/tables/${name}`;

/** JSON with object keys sorted (the API server returns them sorted). */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/** Merge patch turning `before` into `after` at the top level (removed keys as null). */
function mergePatch(before: Json, after: Json): Json {
  const patch: Json = {};
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  for (const [k, v] of Object.entries(after)) if (canonical(before[k]) !== canonical(v)) patch[k] = v;
  return patch;
}

class Controller {
  readonly #kube: Kube;
  readonly #sync: TableSync;
  readonly #log: (line: string) => void;
  readonly #known = new Map<string, { uid?: string; generation?: number; deleting: boolean }>();
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #requeueMs: number;
  #stopping = false;
  #watch: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(kube: Kube, sync: TableSync, log: (line: string) => void) {
    this.#kube = kube;
    this.#sync = sync;
    this.#log = log;
    this.#requeueMs = sync.o.requeueMs;
  }

  start(): void {
    this.#loop = this.#listAndWatch();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#watch?.abort();
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#running.values()]);
    await Promise.race([this.#loop, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  async #listAndWatch(): Promise<void> {
    let first = true;
    while (!this.#stopping) {
      try {
        const list = await this.#kube.request<{ metadata: { resourceVersion: string }; items: AckTable[] }>("GET", TABLES_PATH);
        const seen = new Set<string>();
        for (const t of list?.items ?? []) {
          seen.add(tableKey(t));
          this.#observe(t, first);
        }
        for (const key of this.#known.keys()) if (!seen.has(key)) this.#forget(key);
        if (first) this.#log(`listed ${list?.items.length ?? 0} Tables; watching`);
        first = false;
        await this.#watchFrom(list?.metadata.resourceVersion ?? "0");
      } catch (e) {
        if (!this.#stopping) this.#log(`watch: ${(e as Error).message}; relisting in 1 s`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  #watchFrom(resourceVersion: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#watch = undefined;
        resolve();
      };
      new k8s.Watch(this.#kube.kc)
        .watch(
          TABLES_PATH,
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 120 },
          (phase: string, obj: AckTable) => {
            if (phase === "ADDED" || phase === "MODIFIED") this.#observe(obj, false);
            else if (phase === "DELETED") this.#forget(tableKey(obj));
          },
          () => done(),
        )
        .then(
          (abort) => {
            this.#watch = abort;
            if (this.#stopping) abort.abort();
          },
          () => done(),
        );
    });
  }

  /** GenerationChangedPredicate, plus deletions: what ACK reconciles on. `all`: every Table (start). */
  #observe(t: AckTable, all: boolean): void {
    const key = tableKey(t);
    const before = this.#known.get(key);
    const now = { uid: t.metadata.uid, generation: t.metadata.generation, deleting: !!t.metadata.deletionTimestamp };
    this.#known.set(key, now);
    if (all || !before || before.uid !== now.uid || before.generation !== now.generation || (now.deleting && !before.deleting)) {
      this.#failures.delete(key);
      this.#enqueue(key, 0);
    }
  }

  #forget(key: string): void {
    this.#known.delete(key);
    this.#failures.delete(key);
    const pending = this.#timers.get(key);
    if (pending) clearTimeout(pending.timer);
    this.#timers.delete(key);
  }

  #enqueue(key: string, afterMs: number): void {
    if (this.#stopping) return;
    const due = Date.now() + afterMs;
    const pending = this.#timers.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#run(key);
    }, afterMs);
    this.#timers.set(key, { timer, due });
  }

  #run(key: string): void {
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    const run = this.#reconcile(key)
      .catch((e: unknown) => {
        const n = (this.#failures.get(key) ?? 0) + 1;
        this.#failures.set(key, n);
        this.#log(`${key} error: ${(e as Error)?.message ?? String(e)}`);
        return Math.min(this.#requeueMs * 2 ** n, 30_000);
      })
      .then((after) => {
        this.#running.delete(key);
        if (this.#again.delete(key)) this.#enqueue(key, 0);
        else if (after !== undefined) this.#enqueue(key, after);
      });
    this.#running.set(key, run);
  }

  async #reconcile(key: string): Promise<number | undefined> {
    const [namespace, name] = key.split("/") as [string, string];
    const table = await this.#kube.request<AckTable>("GET", tablePath(namespace, name));
    if (!table) return undefined;
    const hooks: SyncHooks = {
      namespaceAnnotations: async (ns) =>
        (await this.#kube.request<{ metadata: { annotations?: Record<string, string> } }>("GET", `/api/v1/namespaces/${ns}`))?.metadata
          .annotations ?? {},
      addFinalizer: async (t) => {
        const patched = await this.#kube.request<AckTable>(
          "PATCH",
          tablePath(namespace, name),
          { metadata: { resourceVersion: t.metadata.resourceVersion, finalizers: [...(t.metadata.finalizers ?? []), ACK_FINALIZER] } },
          "application/merge-patch+json",
        );
        return patched ?? t;
      },
      removeFinalizer: async (t) => {
        await this.#kube
          .request(
            "PATCH",
            tablePath(namespace, name),
            {
              metadata: {
                resourceVersion: t.metadata.resourceVersion,
                finalizers: (t.metadata.finalizers ?? []).filter((f) => f !== ACK_FINALIZER),
              },
            },
            "application/merge-patch+json",
          )
          .catch((e: unknown) => {
            if (!(e instanceof KubeError && e.status === 404)) throw e;
          });
      },
    };
    const result = await this.#sync.reconcile(table, hooks);
    if (result.status) {
      const before = (table.status ?? {}) as Json;
      const patch = mergePatch(before, result.status as Json);
      if (Object.keys(patch).length) {
        await this.#kube
          .request("PATCH", `${tablePath(namespace, name)}/status`, { status: patch }, "application/merge-patch+json")
          .catch((e: unknown) => {
            if (!(e instanceof KubeError && e.status === 404)) throw e;
          });
        const b = table.status;
        const a = result.status;
        const synced = (s: TableStatus | undefined) => s?.conditions?.find((c) => c.type === CONDITION.synced)?.status;
        if (b?.tableStatus !== a.tableStatus || synced(b) !== synced(a))
          this.#log(`${key} status: tableStatus=${a.tableStatus ?? "-"} synced=${synced(a) ?? "-"}`);
      }
    }
    if (!result.recoverable) {
      this.#failures.delete(key);
      return result.requeueAfterMs;
    }
    // Like controller-runtime's rate limiter for a Table that keeps failing: exponential, capped.
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    return Math.min(this.#requeueMs * 2 ** (n - 1), 30_000);
  }
}

/** Starts the emulator and the controller; resolves once the emulator listens and the first list is under way. */
export async function startAckDynamoDBDouble(o: DoubleOptions): Promise<RunningDouble> {
  const log = o.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const region = o.region ?? "us-west-2";
  const accountId = o.accountId ?? "000000000000";
  const emulator = new DynamoDBEmulator({
    port: o.port,
    dataDir: resolve(o.dataDir),
    accountId,
    defaultRegion: region,
    ...(o.createTableMs !== undefined ? { createTableMs: o.createTableMs } : {}),
    ...(o.updateTableMs !== undefined ? { updateTableMs: o.updateTableMs } : {}),
    ...(o.deleteTableMs !== undefined ? { deleteTableMs: o.deleteTableMs } : {}),
    log,
  });
  await emulator.start();
  log(`emulator listening on ${emulator.endpoint} (data ${resolve(o.dataDir)}, account ${accountId}, default region ${region})`);
  const sync = new TableSync({
    endpoint: emulator.endpoint,
    accountId,
    defaultRegion: region,
    deletionPolicy: o.deletionPolicy ?? "delete",
    resourceTags: o.resourceTags ?? ACK_DEFAULT_RESOURCE_TAGS,
    controllerVersion: o.controllerVersion ?? `v${CHARTS.ackDynamoDB.version}`,
    requeueMs: o.requeueMs ?? 300,
    resyncMs: o.resyncMs ?? 60_000,
    log,
  });
  let controller: Controller;
  try {
    controller = new Controller(new Kube(o.kubeconfig), sync, log);
  } catch (e) {
    await emulator.stop();
    throw e;
  }
  controller.start();
  return {
    endpoint: emulator.endpoint,
    emulator,
    client: (r = region) => new EmulatorClient(emulator.endpoint, r),
    stop: async () => {
      await controller.stop();
      await emulator.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

const USAGE = `usage: node test/doubles/ack-dynamodb-controller-double.ts --kubeconfig FILE --port PORT --data-dir DIR
  [--region us-west-2] [--account-id 000000000000] [--deletion-policy delete|retain]
  [--resource-tags k=v,...] [--create-table-ms 300] [--update-table-ms 300] [--delete-table-ms 300]
  [--requeue-ms 300] [--resync-ms 60000]`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      port: { type: "string" },
      "data-dir": { type: "string" },
      region: { type: "string" },
      "account-id": { type: "string" },
      "deletion-policy": { type: "string" },
      "resource-tags": { type: "string" },
      "create-table-ms": { type: "string" },
      "update-table-ms": { type: "string" },
      "delete-table-ms": { type: "string" },
      "requeue-ms": { type: "string" },
      "resync-ms": { type: "string" },
    },
  });
  const number = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${v}`);
    return n;
  };
  if (!values.kubeconfig || values.port === undefined || !values["data-dir"]) throw new Error(USAGE);
  if (!existsSync(values.kubeconfig)) throw new Error(`--kubeconfig ${values.kubeconfig}: no such file`);
  const o: DoubleOptions = {
    kubeconfig: values.kubeconfig,
    port: number("port", values.port)!,
    dataDir: values["data-dir"],
  };
  if (values.region) o.region = values.region;
  if (values["account-id"]) o.accountId = values["account-id"];
  if (values["deletion-policy"]) o.deletionPolicy = values["deletion-policy"];
  if (values["resource-tags"] !== undefined) o.resourceTags = values["resource-tags"].split(",").filter(Boolean);
  const ms = {
    createTableMs: "create-table-ms",
    updateTableMs: "update-table-ms",
    deleteTableMs: "delete-table-ms",
    requeueMs: "requeue-ms",
    resyncMs: "resync-ms",
  } as const;
  for (const [key, flag] of Object.entries(ms) as [keyof typeof ms, (typeof ms)[keyof typeof ms]][]) {
    const n = number(flag, values[flag]);
    if (n !== undefined) o[key] = n;
  }
  const double = await startAckDynamoDBDouble(o);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  log(`ready: ACK DynamoDB controller double (pid ${process.pid}), emulator ${double.endpoint}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    double.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log(`stop failed: ${(e as Error)?.message ?? String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error)?.message ?? String(e)}\n`);
    process.exit(2);
  });
}
