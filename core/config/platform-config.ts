/**
 * The program's configuration: what `Pulumi.yaml` declares, checked and
 * defaulted by one pure function, so a bad value fails `pulumi preview` with a
 * message naming the config key (e.g. `kratix-dynamodb-platform:tables[1].table.keySchema[0].keyType`)
 * before any resource is registered.
 */
import { validatePlatformDefaults } from "../api/plan.ts";
import type { PlatformDefaults } from "../api/types.ts";
import type { FieldError } from "../api/cross-field-rules.ts";
import { DEFAULT_PROMISE_VERSION, PROMISE_VERSION_LABEL } from "../render/promise.ts";
import { isDnsSubdomain, labelValueProblem } from "../k8s/metadata.ts";
import type { TableProperties } from "../render/dynamodb-request.ts";
import { IMAGES } from "../install/versions.ts";

export const PROJECT = "kratix-dynamodb-platform";

export interface TableConfig {
  /** DynamoDBRequest name (and stack output key). */
  name: string;
  /** Namespace of the request. */
  namespace: string;
  table: TableProperties;
}

export type StateStoreConfig =
  | { mode: "s3"; bucketName?: string; path?: string }
  /** An S3-compatible bucket you run; its access key comes from the secret config key stateStoreCredentials. */
  | { mode: "bucket"; endpoint: string; bucketName: string; insecure: boolean; path?: string; interval?: string; fluxFolder?: string }
  | { mode: "existing"; kind: "BucketStateStore" | "GitStateStore"; name: string }
  | { mode: "none" };

export type AckCredentialsConfig =
  | { mode: "irsa"; oidcProviderArn: string }
  | { mode: "podIdentity"; clusterName: string }
  | { mode: "accessKey" }
  | { mode: "existingSecret"; secretName: string; secretKey?: string; profile?: string };

export interface PlatformConfig {
  defaults: PlatformDefaults & { defaultRegion: string };
  pipelineImage: string;
  promiseVersion: string;
  promiseDelivery: "kubevela" | "pulumi";
  protectPromise: boolean;
  waitForPromise: boolean;
  applicationNamespace: string;
  applicationExampleTable?: TableProperties;
  install: { velaCore: boolean; certManager: boolean; kratix: boolean; flux: boolean; ackController: boolean };
  stateStore: StateStoreConfig;
  ackCredentials: AckCredentialsConfig;
  ackAllowedRegions?: string[];
  /** Customer-managed KMS keys tables may use. */
  kmsKeyArns?: string[];
  tables: TableConfig[];
  waitForTables: boolean;
  waitTimeoutMinutes: number;
  accountId?: string;
}

/** The design's example table for the Application's example-dynamodb-table component. */
export const DEFAULT_APPLICATION_EXAMPLE: TableProperties = {
  tableName: "kratix-platform-example",
  billingMode: "PAY_PER_REQUEST",
  attributeDefinitions: [{ name: "id", type: "S" }],
  keySchema: [{ attributeName: "id", keyType: "HASH" }],
};

type Raw = Record<string, unknown>;

/** A KMS key's ARN (not an alias: IAM policies grant on keys). */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * The AWS provider's region (`aws:region`) and the platform's default region must be one:
 * the S3 state store is made in the provider's region and Kratix and Flux reach it at the
 * default region's endpoint, and the IAM policy allows the default region.
 */
export function regionAgreementErrors(awsRegion: string | undefined, defaultRegion: string): FieldError[] {
  if (!awsRegion || awsRegion === defaultRegion) return [];
  return [
    {
      path: `${PROJECT}:defaultRegion`,
      message: `is ${JSON.stringify(defaultRegion)} but aws:region is ${JSON.stringify(awsRegion)}: set both to the same region`,
    },
  ];
}

/** The type Pulumi.yaml declares for each config key (test/pulumi/config.test.ts keeps the two equal). */
export const CONFIG_TYPES = {
  defaultRegion: "string",
  tableNamePrefix: "string",
  pipelineImage: "string",
  promiseVersion: "string",
  promiseDelivery: "string",
  protectPromise: "boolean",
  waitForPromise: "boolean",
  applicationNamespace: "string",
  includeApplicationExample: "boolean",
  applicationExampleTable: "object",
  install: "object",
  stateStore: "object",
  stateStoreCredentials: "object",
  ackCredentials: "object",
  ackAllowedRegions: "array",
  kmsKeyArns: "array",
  tablesNamespace: "string",
  tables: "array",
  waitForTables: "boolean",
  waitTimeoutMinutes: "integer",
  accountId: "string",
} as const satisfies Record<string, "string" | "boolean" | "integer" | "object" | "array">;

/**
 * The value of config key `key` (without the project prefix) as Pulumi hands it
 * over: always a string ("false", "20", a JSON object), which stack files may also
 * hold quoted. A key CONFIG_TYPES declares as a string stays the string it is
 * ("123456789012" is an account id, not a number); any other value is JSON where
 * it parses, else the string (which the parser then reports as the wrong type).
 */
export function configValue(key: string, value: unknown): unknown {
  if (typeof value !== "string" || (CONFIG_TYPES as Record<string, string>)[key] === "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

class Reader {
  readonly errors: FieldError[] = [];
  private readonly raw: Raw;
  constructor(raw: Raw) {
    this.raw = raw;
  }
  private fail(key: string, message: string): undefined {
    this.errors.push({ path: `${PROJECT}:${key}`, message });
    return undefined;
  }
  string(key: string, fallback: string, allowed?: readonly string[]): string {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== "string" || v === "") return this.fail(key, `must be a non-empty string (got ${JSON.stringify(v)})`) ?? fallback;
    if (allowed && !allowed.includes(v)) return this.fail(key, `must be one of ${allowed.join(", ")} (got "${v}")`) ?? fallback;
    return v;
  }
  optionalString(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return typeof v === "string" ? v : this.fail(key, `must be a string (got ${JSON.stringify(v)})`);
  }
  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    return typeof v === "boolean" ? v : (this.fail(key, `must be true or false (got ${JSON.stringify(v)})`) ?? fallback);
  }
  integer(key: string, fallback: number, min: number): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    return Number.isInteger(v) && (v as number) >= min
      ? (v as number)
      : (this.fail(key, `must be a whole number >= ${min} (got ${JSON.stringify(v)})`) ?? fallback);
  }
  object(key: string): Raw | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return isObject(v) ? v : this.fail(key, `must be an object (got ${JSON.stringify(v)})`);
  }
  array(key: string): unknown[] | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v : this.fail(key, `must be a list (got ${JSON.stringify(v)})`);
  }
  add(key: string, errors: FieldError[]): void {
    for (const e of errors) this.errors.push({ path: `${PROJECT}:${key}${e.path ? `.${e.path}` : ""}`, message: e.message });
  }
}

const notEmpty = <T extends object>(v: T | undefined): T | undefined => (v && Object.keys(v).length > 0 ? v : undefined);

const INSTALL_KEYS = ["velaCore", "certManager", "kratix", "flux", "ackController"] as const;

/**
 * Parses raw config values (key without the project prefix → JSON value).
 * `tableErrors` checks one table's properties (the DynamoDBTable component's own check).
 */
export function parsePlatformConfig(
  raw: Raw,
  tableErrors: (t: TableProperties, d: PlatformDefaults) => FieldError[],
): { config: PlatformConfig; errors: FieldError[] } {
  const r = new Reader(raw);
  const tableNamePrefix = r.optionalString("tableNamePrefix");
  const defaults = { defaultRegion: r.string("defaultRegion", "us-east-1"), ...(tableNamePrefix ? { tableNamePrefix } : {}) };
  r.add(
    "",
    validatePlatformDefaults(defaults, "").map((e) => ({ ...e, path: e.path.replace(/^\./, "") })),
  );

  const installRaw = r.object("install") ?? {};
  const install = { velaCore: false, certManager: true, kratix: true, flux: true, ackController: true };
  for (const [k, v] of Object.entries(installRaw)) {
    if (!(INSTALL_KEYS as readonly string[]).includes(k))
      r.add("install", [{ path: k, message: `is not an install switch (one of ${INSTALL_KEYS.join(", ")})` }]);
    else if (typeof v !== "boolean") r.add("install", [{ path: k, message: "must be true or false" }]);
    else install[k as keyof typeof install] = v;
  }

  const storeRaw = r.object("stateStore") ?? { mode: "s3" };
  let stateStore: StateStoreConfig = { mode: "none" };
  if (storeRaw.mode === "s3")
    stateStore = {
      mode: "s3",
      ...(typeof storeRaw.bucketName === "string" ? { bucketName: storeRaw.bucketName } : {}),
      ...(typeof storeRaw.path === "string" ? { path: storeRaw.path } : {}),
    };
  else if (storeRaw.mode === "existing") {
    if (storeRaw.kind !== "BucketStateStore" && storeRaw.kind !== "GitStateStore")
      r.add("stateStore", [{ path: "kind", message: "must be BucketStateStore or GitStateStore" }]);
    if (typeof storeRaw.name !== "string") r.add("stateStore", [{ path: "name", message: "is required with mode existing" }]);
    stateStore = { mode: "existing", kind: storeRaw.kind as "BucketStateStore", name: String(storeRaw.name) };
  } else if (storeRaw.mode === "bucket") {
    const text = (field: string) => {
      if (typeof storeRaw[field] !== "string" || storeRaw[field] === "")
        r.add("stateStore", [{ path: field, message: "is required with mode bucket" }]);
      return String(storeRaw[field]);
    };
    if (storeRaw.insecure !== undefined && typeof storeRaw.insecure !== "boolean")
      r.add("stateStore", [{ path: "insecure", message: "must be true or false" }]);
    stateStore = {
      mode: "bucket",
      endpoint: text("endpoint"),
      bucketName: text("bucketName"),
      insecure: storeRaw.insecure === true,
      ...(typeof storeRaw.path === "string" ? { path: storeRaw.path } : {}),
      ...(typeof storeRaw.interval === "string" ? { interval: storeRaw.interval } : {}),
      ...(typeof storeRaw.fluxFolder === "string" ? { fluxFolder: storeRaw.fluxFolder } : {}),
    };
    if (storeRaw.interval !== undefined && !(typeof storeRaw.interval === "string" && /^(\d+(ms|s|m|h))+$/.test(storeRaw.interval)))
      r.add("stateStore", [{ path: "interval", message: "must be a duration such as 10s or 1m" }]);
    const creds = raw.stateStoreCredentials;
    // A string once Pulumi has decrypted it; {secure: ...} as a stack file holds it (./dev render reads the file).
    const given = (v: unknown) => (typeof v === "string" && v !== "") || (isObject(v) && typeof v.secure === "string");
    const ok = (k: string) => isObject(creds) && given(creds[k]);
    if (!ok("accessKeyId") || !ok("secretAccessKey"))
      r.add("stateStoreCredentials", [
        {
          path: "",
          message: "needs accessKeyId and secretAccessKey with stateStore mode bucket (set them with pulumi config set --secret --path)",
        },
      ]);
  } else if (storeRaw.mode !== "none")
    r.add("stateStore", [{ path: "mode", message: `must be s3, bucket, existing or none (got ${JSON.stringify(storeRaw.mode)})` }]);

  const credRaw = r.object("ackCredentials") ?? { mode: "accessKey" };
  let ackCredentials: AckCredentialsConfig = { mode: "accessKey" };
  const need = (field: string) => {
    if (typeof credRaw[field] !== "string" || credRaw[field] === "")
      r.add("ackCredentials", [{ path: field, message: `is required with mode ${String(credRaw.mode)}` }]);
    return String(credRaw[field]);
  };
  switch (credRaw.mode) {
    case "irsa":
      ackCredentials = { mode: "irsa", oidcProviderArn: need("oidcProviderArn") };
      break;
    case "podIdentity":
      ackCredentials = { mode: "podIdentity", clusterName: need("clusterName") };
      break;
    case "accessKey":
      break;
    case "existingSecret":
      ackCredentials = {
        mode: "existingSecret",
        secretName: need("secretName"),
        ...(typeof credRaw.secretKey === "string" ? { secretKey: credRaw.secretKey } : {}),
        ...(typeof credRaw.profile === "string" ? { profile: credRaw.profile } : {}),
      };
      break;
    default:
      r.add("ackCredentials", [
        { path: "mode", message: `must be irsa, podIdentity, accessKey or existingSecret (got ${JSON.stringify(credRaw.mode)})` },
      ]);
  }

  const tablesNamespace = r.string("tablesNamespace", "default");
  const tables: TableConfig[] = [];
  const seen = new Set<string>();
  (r.array("tables") ?? []).forEach((entry, i) => {
    const key = `tables[${i}]`;
    if (!isObject(entry)) return r.add(key, [{ path: "", message: "must be an object with name and table" }]);
    if (typeof entry.name !== "string" || !isDnsSubdomain(entry.name)) {
      r.add(key, [{ path: "name", message: `must be a Kubernetes object name such as user-sessions (got ${JSON.stringify(entry.name)})` }]);
    } else if (seen.has(`${String(entry.namespace ?? tablesNamespace)}/${entry.name}`)) {
      r.add(key, [{ path: "name", message: `"${entry.name}" is used twice` }]);
    }
    seen.add(`${String(entry.namespace ?? tablesNamespace)}/${String(entry.name)}`);
    if (!isObject(entry.table))
      return r.add(key, [
        { path: "table", message: "is required: the table's properties (tableName, attributeDefinitions, keySchema, ...)" },
      ]);
    r.add(key, tableErrors(entry.table as unknown as TableProperties, defaults));
    tables.push({
      name: String(entry.name),
      namespace: typeof entry.namespace === "string" ? entry.namespace : tablesNamespace,
      table: entry.table as unknown as TableProperties,
    });
  });

  // Pulumi.yaml declares {} / [] / "" as the defaults of optional structured keys: they mean "not set".
  const exampleRaw = notEmpty(r.object("applicationExampleTable"));
  const includeExample = r.boolean("includeApplicationExample", true);
  const applicationExampleTable = includeExample
    ? ((exampleRaw as unknown as TableProperties | undefined) ?? DEFAULT_APPLICATION_EXAMPLE)
    : undefined;
  if (applicationExampleTable)
    r.add(
      "applicationExampleTable",
      tableErrors(applicationExampleTable, defaults).map((e) => ({ ...e, path: e.path.replace(/^table\.?/, "") })),
    );

  // The controller's IAM policy is scoped to tables whose names start with the prefix: without
  // one, a policy this stack makes would cover every table of the account in those regions.
  if (install.ackController && ackCredentials.mode !== "existingSecret" && !tableNamePrefix)
    r.add("tableNamePrefix", [
      {
        path: "",
        message:
          "is required when the stack installs the ACK controller with an IAM policy it makes: the policy covers only tables whose names start with it (such as team- or dev-)",
      },
    ]);
  const regions = notEmpty(r.array("ackAllowedRegions"));
  const kmsKeyArns = notEmpty(r.array("kmsKeyArns"));
  (kmsKeyArns ?? []).forEach((arn, i) => {
    if (typeof arn !== "string" || !KMS_KEY_ARN.test(arn))
      r.add(`kmsKeyArns[${i}]`, [
        { path: "", message: `must be a KMS key ARN such as arn:aws:kms:us-west-2:123456789012:key/<id> (got ${JSON.stringify(arn)})` },
      ]);
  });
  const accountId = r.optionalString("accountId") || undefined;
  if (accountId !== undefined && !/^\d{12}$/.test(accountId))
    r.add("accountId", [{ path: "", message: "must be a 12-digit AWS account id" }]);
  const promiseVersion = r.string("promiseVersion", DEFAULT_PROMISE_VERSION);
  // The kratix.io/promise-version label, which kratix-promise-deployer also requires to start as a version.
  if (!/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(promiseVersion))
    r.add("promiseVersion", [{ path: "", message: `must be a version such as v0.1.0 (got ${JSON.stringify(promiseVersion)})` }]);
  else if (labelValueProblem(promiseVersion))
    r.add("promiseVersion", [{ path: "", message: `${labelValueProblem(promiseVersion)!} (it is the ${PROMISE_VERSION_LABEL} label)` }]);
  const config: PlatformConfig = {
    defaults,
    pipelineImage: r.string("pipelineImage", IMAGES.pipeline),
    promiseVersion,
    promiseDelivery: r.string("promiseDelivery", "kubevela", ["kubevela", "pulumi"]) as "kubevela" | "pulumi",
    protectPromise: r.boolean("protectPromise", true),
    waitForPromise: r.boolean("waitForPromise", true),
    applicationNamespace: r.string("applicationNamespace", "default"),
    ...(applicationExampleTable ? { applicationExampleTable } : {}),
    install,
    stateStore,
    ackCredentials,
    ...(regions ? { ackAllowedRegions: regions as string[] } : {}),
    ...(kmsKeyArns ? { kmsKeyArns: kmsKeyArns as string[] } : {}),
    tables,
    waitForTables: r.boolean("waitForTables", true),
    waitTimeoutMinutes: r.integer("waitTimeoutMinutes", 20, 1),
    ...(accountId ? { accountId } : {}),
  };
  return { config, errors: r.errors.map((e) => ({ ...e, path: e.path.replace(/:\./, ":").replace(/\.$/, "") })) };
}
