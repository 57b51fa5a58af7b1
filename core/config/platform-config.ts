/**
 * The program's configuration: the keys schema.ts declares (and Pulumi.yaml
 * mirrors), validated and defaulted by Ajv from that one schema, then the rules
 * that span keys, so a bad value fails `pulumi preview` with a message naming
 * the config key (e.g. `kratix-dynamodb-platform:tables[1].table.keySchema[0].keyType`)
 * before any resource is registered.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { validatePlatformDefaults } from "../api/plan.ts";
import type { PlatformDefaults } from "../api/types.ts";
import type { FieldError } from "../api/cross-field-rules.ts";
import { fieldPath } from "../api/validate.ts";
import { PROMISE_VERSION_LABEL } from "../render/promise.ts";
import { labelValueProblem } from "../k8s/metadata.ts";
import type { TableProperties } from "../render/dynamodb-request.ts";
import {
  CONFIG_TYPES,
  PROJECT,
  StackConfigSchema,
  type AckCredentialsConfig,
  type AllowPlatformMoveConfig,
  type InstallConfig,
  type StackConfig,
  type StateStoreConfig,
} from "./schema.ts";

export { CONFIG_TYPES, INSTALL_DEFAULTS, PROJECT } from "./schema.ts";
export type { AckCredentialsConfig, AllowPlatformMoveConfig, InstallConfig, StateStoreConfig } from "./schema.ts";

export interface TableConfig {
  /** DynamoDBRequest name (and stack output key). */
  name: string;
  /** Namespace of the request. */
  namespace: string;
  table: TableProperties;
}

/** The config as the program uses it: defaults applied, "not set" values left out, the tables' namespaces resolved. */
export interface PlatformConfig {
  defaults: PlatformDefaults & { defaultRegion: string };
  pipelineImage: string;
  promiseVersion: string;
  promiseDelivery: NonNullable<StackConfig["promiseDelivery"]>;
  protectPromise: boolean;
  waitForPromise: boolean;
  applicationNamespace: string;
  applicationExampleTable?: TableProperties;
  install: InstallConfig;
  stateStore: StateStoreConfig;
  ackCredentials: AckCredentialsConfig;
  ackAllowedRegions?: string[];
  /** Customer-managed KMS keys tables may use. */
  kmsKeyArns?: string[];
  /** Usernames the admission guard lets delete the Promise and the two CRDs. */
  breakGlassUsers?: string[];
  tables: TableConfig[];
  waitForTables: boolean;
  waitTimeoutMinutes: number;
  accountId?: string;
  /** The new values of the platform's identity a deliberate move may set (core/config/platform-identity.ts). */
  allowPlatformMove?: AllowPlatformMoveConfig;
}

/** The design's example table for the Application's example-dynamodb-table component. */
export const DEFAULT_APPLICATION_EXAMPLE: TableProperties = {
  tableName: "kratix-platform-example",
  billingMode: "PAY_PER_REQUEST",
  attributeDefinitions: [{ name: "id", type: "S" }],
  keySchema: [{ attributeName: "id", keyType: "HASH" }],
};

type Raw = Record<string, unknown>;

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

/**
 * The value of config key `key` (without the project prefix) as Pulumi hands it
 * over: always a string ("false", "20", a JSON object), which stack files may also
 * hold quoted or, read from the file, as YAML scalars. A key the schema declares
 * as a string stays the string it is ("123456789012" is an account id, not a
 * number; an unquoted 123456789012 in a stack file becomes that string, as Pulumi
 * makes it); any other value is JSON where it parses, else the string (which the
 * schema then reports as the wrong type).
 */
export function configValue(key: string, value: unknown): unknown {
  if (CONFIG_TYPES[key] === "string") return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
  if (typeof value !== "string") return stringFields(value, (StackConfigSchema.properties as Record<string, unknown>)[key]);
  try {
    return stringFields(JSON.parse(value) as unknown, (StackConfigSchema.properties as Record<string, unknown>)[key]);
  } catch {
    return value;
  }
}

/**
 * The same for the fields of an object key that the schema declares as strings (only where an
 * object lists its fields): `pulumi config set --path k.f 2024` stores the number 2024, which
 * is the string "2024" to such a field (allowPlatformMove.tableNamePrefix).
 */
function stringFields(value: unknown, schema: unknown): unknown {
  const props = isObject(schema) && isObject(schema.properties) ? schema.properties : undefined;
  if (!props || !isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const field = props[k];
      if (isObject(field) && field.type === "string" && (typeof v === "number" || typeof v === "boolean")) return [k, String(v)];
      return [k, stringFields(v, field)];
    }),
  );
}

const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** The declaration as Ajv takes it: a union told apart by a discriminator is a oneOf (TypeBox writes anyOf). */
function forAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forAjv);
  if (!isObject(node)) return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === "default" || k === "enum" ? v : forAjv(v)]));
  if (out.discriminator && out.anyOf) {
    out.oneOf = out.anyOf;
    delete out.anyOf;
  }
  return out;
}

let compiled: ValidateFunction | undefined;
function stackConfigValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, useDefaults: true, discriminator: true });
    ajv.addKeyword("x-message").addKeyword("x-secret");
    compiled = ajv.compile(forAjv(StackConfigSchema) as object);
  }
  return compiled;
}

const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
};
const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  boolean: "true or false",
  integer: "a whole number",
  number: "a number",
  object: "an object",
  array: "a list",
};

/** The problem an Ajv error reports, at its config key. */
function describe(e: ErrorObject, data: Raw): FieldError {
  const path = fieldPath("", e.instancePath).replace(/^\./, "");
  const key = path.split(/[.[]/)[0]!;
  const secret = (StackConfigSchema.properties as Record<string, { "x-secret"?: boolean }>)[key]?.["x-secret"] === true;
  const got = secret ? "" : ` (got ${show(e.data)})`;
  const p = e.params as Record<string, unknown>;
  const schema = e.parentSchema as Record<string, unknown> | undefined;
  const at = (child: string) => (path ? `${path}.${child}` : child);
  // Errors inside one variant of a union told apart by `mode` say which mode they are about.
  const mode = e.schemaPath.includes("/oneOf/") ? modeAt(data, e.instancePath) : undefined;
  const withMode = mode ? ` with mode ${mode}` : "";
  switch (e.keyword) {
    case "required":
      return { path: at(String(p.missingProperty)), message: `is required${withMode}` };
    case "additionalProperties": {
      const known = Object.keys((schema?.properties as object | undefined) ?? {});
      return {
        path: at(String(p.additionalProperty)),
        message: path
          ? `is not a field of ${path}${withMode} (expected one of: ${known.join(", ")})`
          : "is not a config key of this project (Pulumi.yaml lists them)",
      };
    }
    case "discriminator": {
      const modes = ((schema?.oneOf as { properties: { mode: { const: string } } }[] | undefined) ?? []).map(
        (v) => v.properties.mode.const,
      );
      return p.error === "tag" && (e.data as Raw)?.[String(p.tag)] === undefined
        ? { path: at(String(p.tag)), message: `is required (one of ${modes.join(", ")})` }
        : { path: at(String(p.tag)), message: `must be one of ${modes.join(", ")} (got ${show(p.tagValue)})` };
    }
    case "type":
      return { path, message: `must be ${TYPE_WORDS[String(p.type)] ?? String(p.type)}${got}` };
    case "enum":
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).join(", ")}${got}` };
    case "minimum":
      return { path, message: `must be ${schema?.type === "integer" ? "a whole number " : ""}>= ${String(p.limit)}${got}` };
    case "minLength":
      return { path, message: p.limit === 1 ? `must be a non-empty string${got}` : `must be at least ${String(p.limit)} characters${got}` };
    case "maxLength":
      return { path, message: `must be at most ${String(p.limit)} characters (got ${String((e.data as string).length)})` };
    case "pattern":
    case "anyOf":
      return {
        path,
        message: `${typeof schema?.["x-message"] === "string" ? schema["x-message"] : `must match ${String(p.pattern)}`}${got}`,
      };
    default:
      return { path, message: `${e.message ?? e.keyword}${got}` };
  }
}

/** The mode of the object at `pointer` in the data, when it has one. */
function modeAt(data: Raw, pointer: string): string | undefined {
  let node: unknown = data;
  for (const s of pointer.split("/").slice(1)) node = isObject(node) || Array.isArray(node) ? (node as Raw)[s] : undefined;
  return isObject(node) && typeof node.mode === "string" ? node.mode : undefined;
}

/**
 * The errors worth telling: a value that matches no branch of an anyOf is reported once,
 * by the anyOf (with its x-message), not once per branch; and no message twice.
 */
function mainErrors(errors: ErrorObject[], data: Raw): FieldError[] {
  const seen = new Set<string>();
  return errors
    .filter((e) => !e.schemaPath.includes("/anyOf/"))
    .map((e) => describe(e, data))
    .filter((e) => {
      const id = `${e.path}\0${e.message}`;
      return seen.has(id) ? false : (seen.add(id), true);
    });
}

/** "" / {} / [] are what Pulumi.yaml declares as the defaults of keys that are optional: they mean "not set". */
const isSet = (v: unknown): boolean =>
  v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0) && !(isObject(v) && Object.keys(v).length === 0);

/**
 * Parses raw config values (key without the project prefix → JSON value).
 * `tableErrors` checks one table's properties (the DynamoDBTable component's own check).
 */
export function parsePlatformConfig(
  raw: Raw,
  tableErrors: (t: TableProperties, d: PlatformDefaults) => FieldError[],
): { config: PlatformConfig; errors: FieldError[] } {
  const data = structuredClone(raw);
  const validate = stackConfigValidator();
  const errors: FieldError[] = validate(data) ? [] : mainErrors(validate.errors ?? [], data);
  // Ajv has written every default into `data`; what is still the wrong type was reported above.
  const c = data as Required<StackConfig>;
  const add = (key: string, found: FieldError[]) =>
    errors.push(...found.map((e) => ({ path: [key, e.path].filter(Boolean).join("."), message: e.message })));
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

  const tableNamePrefix = text(c.tableNamePrefix) || undefined;
  const defaults = { defaultRegion: text(c.defaultRegion) ?? "", ...(tableNamePrefix ? { tableNamePrefix } : {}) };
  add(
    "",
    validatePlatformDefaults(defaults, "").map((e) => ({ ...e, path: e.path.replace(/^\./, "") })),
  );

  if (isObject(c.stateStore) && c.stateStore.mode === "bucket") {
    const creds = c.stateStoreCredentials as Raw | undefined;
    if (!isObject(creds) || creds.accessKeyId === undefined || creds.secretAccessKey === undefined)
      add("stateStoreCredentials", [
        {
          path: "",
          message: "needs accessKeyId and secretAccessKey with stateStore mode bucket (set them with pulumi config set --secret --path)",
        },
      ]);
  }

  const tablesNamespace = text(c.tablesNamespace) ?? "default";
  const tables: TableConfig[] = [];
  const seen = new Set<string>();
  (Array.isArray(c.tables) ? c.tables : []).forEach((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.name !== "string") return;
    const namespace = text(entry.namespace) ?? tablesNamespace;
    const id = `${namespace}/${entry.name}`;
    if (seen.has(id)) add(`tables[${i}]`, [{ path: "name", message: `"${entry.name}" is used twice` }]);
    seen.add(id);
    if (!isObject(entry.table)) return;
    const table = entry.table as unknown as TableProperties;
    add(`tables[${i}]`, tableErrors(table, defaults));
    tables.push({ name: entry.name, namespace, table });
  });

  const applicationExampleTable =
    c.includeApplicationExample !== false
      ? isSet(c.applicationExampleTable)
        ? (c.applicationExampleTable as TableProperties)
        : DEFAULT_APPLICATION_EXAMPLE
      : undefined;
  if (applicationExampleTable && isObject(applicationExampleTable))
    add(
      "applicationExampleTable",
      tableErrors(applicationExampleTable, defaults).map((e) => ({ ...e, path: e.path.replace(/^table\.?/, "") })),
    );

  const install = c.install as InstallConfig;
  const ackCredentials = c.ackCredentials as AckCredentialsConfig;
  // The controller's IAM policy is scoped to tables whose names start with the prefix: without
  // one, a policy this stack makes would cover every table of the account in those regions.
  if (install?.ackController && ackCredentials?.mode !== "existingSecret" && !tableNamePrefix)
    add("tableNamePrefix", [
      {
        path: "",
        message:
          "is required when the stack installs the ACK controller with an IAM policy it makes: the policy covers only tables whose names start with it (such as team- or dev-)",
      },
    ]);

  const promiseVersion = text(c.promiseVersion) ?? "";
  // The kratix.io/promise-version label, which kratix-promise-deployer also requires to start as a version.
  const labelProblem = errors.some((e) => e.path === "promiseVersion") ? undefined : labelValueProblem(promiseVersion);
  if (labelProblem) add("promiseVersion", [{ path: "", message: `${labelProblem} (it is the ${PROMISE_VERSION_LABEL} label)` }]);

  const config: PlatformConfig = {
    defaults,
    pipelineImage: c.pipelineImage,
    promiseVersion,
    promiseDelivery: c.promiseDelivery,
    protectPromise: c.protectPromise,
    waitForPromise: c.waitForPromise,
    applicationNamespace: c.applicationNamespace,
    ...(applicationExampleTable ? { applicationExampleTable } : {}),
    install,
    stateStore: c.stateStore,
    ackCredentials,
    ...(isSet(c.ackAllowedRegions) ? { ackAllowedRegions: c.ackAllowedRegions } : {}),
    ...(isSet(c.kmsKeyArns) ? { kmsKeyArns: c.kmsKeyArns } : {}),
    ...(isSet(c.breakGlassUsers) ? { breakGlassUsers: c.breakGlassUsers } : {}),
    tables,
    waitForTables: c.waitForTables,
    waitTimeoutMinutes: c.waitTimeoutMinutes,
    ...(isSet(c.accountId) ? { accountId: c.accountId } : {}),
    ...(isSet(c.allowPlatformMove) ? { allowPlatformMove: c.allowPlatformMove } : {}),
  };
  return { config, errors: errors.map((e) => ({ path: `${PROJECT}:${e.path}`, message: e.message })) };
}
