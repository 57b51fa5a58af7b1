import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SPEC_DIGEST_ANNOTATION, settledRefusal, specDigest } from "../core/api/spec-digest.ts";
import type { TablePlan } from "../core/api/plan.ts";
import { API_GROUP, API_KIND, API_VERSION } from "../core/api/rules.ts";
import { checkTable } from "../core/api/table-args.ts";
import type { DynamoDBRequestSpec, PlatformDefaults } from "../core/api/types.ts";
import { formatErrors, type FieldError } from "../core/api/validate.ts";
import { connectionConfigMapName } from "../core/kratix/connection.ts";
import { droppedAttributesNote } from "../core/kratix/steps.ts";
import type { ArnSource, TablePlatform, TableProperties, TableStatus } from "./args.ts";
import { childOf } from "./helm.ts";
import { platformTableSettings } from "./platform.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

export interface DynamoDBTableArgs {
  /**
   * The table, written as the aws-dynamodb-kratix component's properties
   * (tableName, attributeDefinitions, keySchema, billingMode, provisioned,
   * indexes, stream, pointInTimeRecovery, timeToLive, tableClass,
   * deletionProtection, encryption, tags, deletionPolicy). Checked with the
   * DynamoDBRequest validator when the component is built: a bad table fails
   * `pulumi preview` with the field path, before anything is created.
   */
  table: pulumi.Input<TableProperties>;
  /** Namespace of the DynamoDBRequest (its ACK Table goes to the same namespace). Default "default". */
  namespace?: pulumi.Input<string>;
  /** Name of the DynamoDBRequest object. Defaults to the component's name. */
  requestName?: string;
  /**
   * The platform the table belongs to: in TypeScript, the DynamoDBPlatform. The table takes its
   * defaults (region, name prefix), its providers, and waits for what tables need (its Promise and
   * controller). Other languages give the platform's `defaults` output as platformDefaults instead.
   */
  platform?: TablePlatform;
  /**
   * The platform's settings as the Promise has them (default region, name prefix): used to validate
   * and to compute the ARN. Without `platform`; from other languages, the platform's `defaults`
   * output, which also orders the table after the platform.
   */
  platformDefaults?: pulumi.Input<PlatformDefaults>;
  /** Wait until the Promise's status step reports the table's ARN. Default true. */
  waitForArn?: boolean;
  /** How long to wait for the ARN, in minutes. Default 20. */
  waitTimeoutMinutes?: number;
  /** AWS account id for the computed ARN when not waiting; looked up with aws.getCallerIdentity when omitted. */
  accountId?: pulumi.Input<string>;
  /** AWS partition for the computed ARN ("aws", "aws-us-gov", "aws-cn"). Looked up with aws.getPartition when accountId is omitted, else "aws". */
  partition?: pulumi.Input<string>;
}

const isPlain = <T>(v: pulumi.Input<T>): v is T => !pulumi.Output.isInstance(v) && !(v instanceof Promise);

/** The platform's providers for the table (the table's own, given in opts, win). */
function withPlatformProviders(
  opts: pulumi.ComponentResourceOptions | undefined,
  platform: pulumi.ComponentResource | undefined,
): pulumi.ComponentResourceOptions | undefined {
  const inherited = platform
    ? (["kubernetes", "aws"].map((pkg) => platform.getProvider(`${pkg}:index:Resource`)).filter(Boolean) as pulumi.ProviderResource[])
    : [];
  if (inherited.length === 0) return opts;
  const own = opts?.providers === undefined ? [] : Array.isArray(opts.providers) ? opts.providers : Object.values(opts.providers);
  return { ...opts, providers: [...inherited, ...own] };
}

const requests = new WeakMap<object, k8s.apiextensions.CustomResource>();

/**
 * The error that fails the deployment on a refusal: attached to the table (Pulumi shows it under
 * the resource), its message alone (our stack frames say nothing the message does not). Its
 * `resource` is not enumerable: Pulumi's handler of an uncaught error formats it with
 * util.inspect, which would otherwise walk the whole component graph behind the resource;
 * measured on the local chain, 40 s of CPU, mostly garbage collection, between the refusal
 * and `pulumi up` failing (docs/benchmarks.md).
 */
export function refusalError(message: string, resource: pulumi.Resource): pulumi.ResourceError {
  const e = new pulumi.ResourceError(message, resource, true);
  Object.defineProperty(e, "resource", { value: resource, enumerable: false, writable: true, configurable: true });
  // Set before anything reads it, so the stack is never formatted (source-map-support's formatter
  // is what Pulumi's runtime installs, and it is slow on a program's first error).
  Object.defineProperty(e, "stack", { value: `ResourceError: ${message}`, enumerable: false, writable: true, configurable: true });
  return e;
}

/**
 * One DynamoDB table, asked of the aws-dynamodb-kratix Promise: a
 * DynamoDBRequest, and the table's ARN once the Promise's status step has
 * written it (or, when not waiting, computed from account, region and name).
 */
export class DynamoDBTable extends pulumi.ComponentResource {
  /** The table's ARN: from the request's status when waited for, otherwise computed (see arnSource). */
  declare readonly tableArn: pulumi.Output<string>;
  /** Where tableArn came from: "status" (reported by ACK through the Promise) or "computed" (not yet confirmed by AWS). */
  declare readonly arnSource: pulumi.Output<ArnSource>;
  /** The DynamoDB table name, platform prefix included. */
  declare readonly tableName: pulumi.Output<string>;
  /** The region the table is in. */
  declare readonly region: pulumi.Output<string>;
  /** The request's status as the Promise pipeline wrote it (message, tableStatus, droppedAttributes, ...). */
  declare readonly status: pulumi.Output<TableStatus | undefined>;
  /** The ARN of the table's stream when the table has one and was waited for; "" otherwise. */
  declare readonly streamArn: pulumi.Output<string>;
  /**
   * The ConfigMap in the request's namespace that holds TABLE_NAME, TABLE_ARN, TABLE_REGION and
   * TABLE_STREAM_ARN for workloads (`envFrom`); the Promise writes it once the table is ready.
   */
  declare readonly connectionConfigMap: pulumi.Output<string>;

  /** The DynamoDBRequest object. (A getter: resources are not part of the component package's schema.) */
  get request(): k8s.apiextensions.CustomResource {
    return requests.get(this)!;
  }

  constructor(name: string, args: DynamoDBTableArgs, opts?: pulumi.ComponentResourceOptions) {
    const fail = (errors: FieldError[]) => new pulumi.RunError(`DynamoDBTable "${name}" is invalid:\n${formatErrors(errors)}`);
    if (args.platform && args.platformDefaults)
      throw fail([{ path: "platformDefaults", message: "give either platform (which has the defaults) or platformDefaults" }]);
    const linked = platformTableSettings(args.platform);
    const defaults: pulumi.Input<PlatformDefaults> = linked?.defaults ?? args.platform?.defaults ?? args.platformDefaults ?? {};
    const check = (table: TableProperties, d: PlatformDefaults) => {
      const checked = checkTable(table, d);
      if ("errors" in checked) throw fail(checked.errors);
      return checked;
    };
    // Plain args (the usual case) are checked and planned before anything is registered, so a bad
    // table stops `pulumi preview` at once, and no Output chains are made, which keeps a program
    // with a thousand tables fast. Outputs are checked when they resolve, where an error fails the
    // deployment the same way.
    const plainTable = isPlain(args.table) && isPlain(defaults) ? check(args.table, defaults) : undefined;
    super(`${TOKEN_PREFIX}:DynamoDBTable`, name, {}, componentOptions("DynamoDBTable", withPlatformProviders(opts, linked?.platform)));
    const warnDropped = (p: TablePlan) => {
      const note = droppedAttributesNote(p.droppedAttributes);
      // log.warn returns a promise of the engine's acknowledgement; nothing waits on it.
      if (note) void pulumi.log.warn(`${p.tableName}: ${note}`, this);
    };
    let spec: pulumi.Input<DynamoDBRequestSpec>;
    let tableName: pulumi.Output<string>;
    let region: pulumi.Output<string>;
    if (plainTable) {
      spec = plainTable.spec;
      warnDropped(plainTable.plan);
      tableName = pulumi.output(plainTable.plan.tableName);
      region = pulumi.output(plainTable.plan.region);
    } else {
      // The defaults' dependencies (another language's platform) come along into the request's.
      const checked = pulumi.all([args.table, defaults]).apply(([t, d]) => check(t as TableProperties, d as PlatformDefaults));
      spec = checked.spec;
      const plan = checked.plan;
      plan.apply(warnDropped);
      tableName = plan.tableName;
      region = plan.region;
    }

    const wait = args.waitForArn ?? true;
    const requestName = args.requestName ?? name;
    const namespace = args.namespace ?? "default";
    const digest = pulumi.output(spec).apply(specDigest);
    const request = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: API_KIND,
        metadata: {
          name: requestName,
          namespace,
          // The digest of the spec sent; the steps copy it to status.settledSpecDigest once their verdict
          // on this spec is final (ready, or refused until something changes), so the wait never ends on
          // an older spec's status, and a refusal ends it at once (core/api/spec-digest.ts).
          annotations: digest.apply((d) => ({
            [SPEC_DIGEST_ANNOTATION]: d,
            ...(wait ? { "pulumi.com/waitFor": `jsonpath={.status.settledSpecDigest}=${d}` } : { "pulumi.com/skipAwait": "true" }),
          })),
        },
        spec,
        // Declared so the live status (written by the pipeline) is read back as an output.
        status: undefined,
      },
      {
        // The table's own dependsOn, and the platform's Promise and controller.
        ...childOf(this, opts, linked?.dependencies ?? []),
        customTimeouts: { create: `${args.waitTimeoutMinutes ?? 20}m`, update: `${args.waitTimeoutMinutes ?? 20}m` },
      },
    );
    requests.set(this, request);

    this.status = (request as unknown as { status: pulumi.Output<TableStatus | undefined> }).status;
    this.tableName = tableName;
    this.region = region;
    if (wait) {
      // A refused request fails the deployment with its own status message, as soon as it settles.
      this.tableArn = pulumi.all([this.status, digest, namespace]).apply(([s, d, ns]) => {
        const refusal = settledRefusal(s, d, `${ns}/${requestName}`);
        if (refusal) throw refusalError(refusal, this);
        return s?.tableArn ?? "";
      });
      this.arnSource = pulumi.output<ArnSource>("status");
    } else {
      const account = args.accountId ?? aws.getCallerIdentityOutput({}, { parent: this }).accountId;
      const partition = args.partition ?? (args.accountId ? "aws" : aws.getPartitionOutput({}, { parent: this }).partition);
      this.tableArn = pulumi.interpolate`arn:${partition}:dynamodb:${region}:${account}:table/${tableName}`;
      this.arnSource = pulumi.output<ArnSource>("computed");
    }
    this.streamArn = wait ? this.status.apply((s) => s?.streamArn ?? "") : pulumi.output("");
    this.connectionConfigMap = pulumi.output(connectionConfigMapName(requestName));
    this.registerOutputs({
      tableArn: this.tableArn,
      arnSource: this.arnSource,
      tableName: this.tableName,
      region: this.region,
      status: this.status,
      streamArn: this.streamArn,
      connectionConfigMap: this.connectionConfigMap,
    });
  }
}
