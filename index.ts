/**
 * The full environment: the DynamoDB platform and the tables of this stack's
 * config, with their ARNs as stack outputs. Configuration is declared in
 * Pulumi.yaml; a bad value stops the program with the config key named.
 */
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBPlatform } from "./components/platform.ts";
import { DynamoDBTable } from "./components/dynamodb-table.ts";
import { tableArgErrors } from "./core/api/table-args.ts";
import { PROJECT, parsePlatformConfig, regionAgreementErrors } from "./core/config/platform-config.ts";
import { formatErrors } from "./core/api/validate.ts";
import { readConfig } from "./components/config.ts";
import { checkPlatformIdentity } from "./components/platform-identity.ts";
import { platformIdentity as identityOf } from "./core/config/platform-identity.ts";

const parsed = parsePlatformConfig(readConfig(PROJECT), tableArgErrors);
const { config } = parsed;
const errors = [...parsed.errors, ...regionAgreementErrors(new pulumi.Config("aws").get("region"), config.defaults.defaultRegion)];
if (errors.length > 0) throw new pulumi.RunError(`invalid configuration:\n${formatErrors(errors)}`);

// Where the tables live and where Flux reads them from: a change on a deployed stack fails here,
// naming the key, before anything is registered, unless allowPlatformMove acknowledges it.
const identity = identityOf(config);
await checkPlatformIdentity(identity, config.allowPlatformMove, "tableArns");

const region = config.defaults.defaultRegion;
const stateStore = (() => {
  const store = config.stateStore;
  if (store.mode === "s3") return { ...store, region };
  if (store.mode === "bucket") {
    // Read as a secret: the access key stays encrypted in state and previews.
    const credentials = new pulumi.Config().requireSecretObject<{ accessKeyId: string; secretAccessKey: string }>("stateStoreCredentials");
    return { ...store, region, credentials };
  }
  return store;
})();
const platform = new DynamoDBPlatform("dynamodb-platform", {
  defaults: config.defaults,
  install: config.install,
  stateStore,
  ackCredentials: config.ackCredentials,
  ...(config.ackAllowedRegions ? { ackAllowedRegions: config.ackAllowedRegions } : {}),
  ...(config.kmsKeyArns ? { kmsKeyArns: config.kmsKeyArns } : {}),
  ...(config.breakGlassUsers ? { breakGlassUsers: config.breakGlassUsers } : {}),
  pipelineImage: config.pipelineImage,
  promiseVersion: config.promiseVersion,
  promiseDelivery: config.promiseDelivery,
  applicationNamespace: config.applicationNamespace,
  ...(config.applicationExampleTable ? { applicationExampleTable: config.applicationExampleTable } : {}),
  protectPromise: config.protectPromise,
  waitForPromise: config.waitForPromise,
});

const tables = config.tables.map(
  (t) =>
    new DynamoDBTable(t.name, {
      // The platform gives the table its defaults and providers, and what it must wait for.
      platform,
      table: t.table,
      namespace: t.namespace,
      waitForArn: config.waitForTables,
      waitTimeoutMinutes: config.waitTimeoutMinutes,
      ...(config.accountId ? { accountId: config.accountId } : {}),
    }),
);

/** Request name → table ARN. */
export const tableArns = pulumi.output(Object.fromEntries(tables.map((t, i) => [config.tables[i]!.name, t.tableArn])));
/** Request name → "status" (ARN reported by AWS through ACK) or "computed" (not waited for). */
export const tableArnSources = pulumi.output(Object.fromEntries(tables.map((t, i) => [config.tables[i]!.name, t.arnSource])));
/** Request name → DynamoDB table name (platform prefix included). */
export const tableNames = pulumi.output(Object.fromEntries(tables.map((t, i) => [config.tables[i]!.name, t.tableName])));
/** Request name → the ARN of the table's stream ("" for a table without one, or not waited for). */
export const tableStreamArns = pulumi.output(Object.fromEntries(tables.map((t, i) => [config.tables[i]!.name, t.streamArn])));
/** Request name → the ConfigMap (in the request's namespace) with the table's connection details for workloads. */
export const connectionConfigMaps = pulumi.output(
  Object.fromEntries(tables.map((t, i) => [config.tables[i]!.name, t.connectionConfigMap])),
);
export const promiseName = platform.promiseName;
export const applicationName = platform.applicationName;
export const namespaces = platform.namespaces;
export const controllerRoleArn = platform.controllerRoleArn;
export const stateStoreBucket = platform.stateStoreBucket;
/** The region, prefix and state store this update ran with; the next one is checked against it. */
export const platformIdentity = identity;
