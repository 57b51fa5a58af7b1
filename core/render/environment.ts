/**
 * Every Kubernetes object of the environment, rendered without a cluster from
 * the same functions the Pulumi components use, for reviewers and GitOps
 * users (`npm run render -- --out DIR`). Charts appear as their pinned
 * reference plus values; Secrets carry placeholders, never credentials.
 */
import type { PlatformConfig } from "../config/platform-config.ts";
import { ackDynamoDBPolicy, iniCredentials } from "../aws/ack-policy.ts";
import { ackValues, certManagerValues, fluxValues, kratixValues, velaCoreValues, type AckCredentials } from "../install/helm-values.ts";
import {
  FLUX_S3_SECRET,
  KRATIX_S3_SECRET,
  bucketStateStore,
  destination,
  destinationFolder,
  fluxBucket,
  s3CompatibleBucket,
  fluxApplierRbac,
  fluxKustomizations,
  fluxS3SecretData,
  kratixS3SecretData,
  type StateStoreBucket,
} from "../install/kratix-objects.ts";
import { ACK_CREDENTIALS_SECRET, NAMESPACES } from "../install/namespaces.ts";
import { tableGuard } from "../install/table-guard.ts";
import { CHARTS, IMAGES } from "../install/versions.ts";
import { componentDefinitions } from "../kubevela/definitions.ts";
import { renderPlatformApplication } from "./application.ts";
import { renderDynamoDBRequest } from "./dynamodb-request.ts";
import { renderPromise } from "./promise.ts";

export interface RenderedFile {
  /** Relative path: .yaml files hold one or more objects, other files their text. */
  path: string;
  objects?: object[];
  text?: string;
}

/** Stands in for anything only AWS or Pulumi knows at deploy time. */
export const PLACEHOLDER = (what: string) => `<${what}: set by Pulumi at deploy time>`;

const secret = (name: string, namespace: string, stringData: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  type: "Opaque",
  stringData,
});

export function renderEnvironment(config: PlatformConfig, aws: { accountId?: string; partition?: string } = {}): RenderedFile[] {
  const files: RenderedFile[] = [];
  const region = config.defaults.defaultRegion;
  const charts: object[] = [];
  const chart = (release: string, pin: { repo?: string; chart: string; version: string }, namespace: string, values: unknown) => {
    charts.push({ release, namespace, ...pin });
    files.push({ path: `helm/${release}.values.yaml`, objects: [values as object] });
  };

  // KubeVela
  if (config.promiseDelivery === "kubevela") {
    if (config.install.velaCore) chart("kubevela", CHARTS.velaCore, NAMESPACES.vela, velaCoreValues());
    for (const def of componentDefinitions()) files.push({ path: `kubevela/${def.metadata.name}.yaml`, objects: [def] });
  }

  // The Promise, delivered by the Application or directly
  const promise = renderPromise({
    pipelineImage: config.pipelineImage,
    version: config.promiseVersion,
    defaults: config.defaults,
  });
  if (config.promiseDelivery === "kubevela") {
    const app = renderPlatformApplication({
      promise,
      namespace: config.applicationNamespace,
      ...(config.applicationExampleTable ? { exampleTable: config.applicationExampleTable } : {}),
    });
    files.push({ path: "kubevela/kratix-platform-application.yaml", objects: [app] });
  } else {
    files.push({ path: "kratix/promise.yaml", objects: [promise] });
  }

  // Kratix, its state store and destination, Flux
  if (config.install.certManager) chart("cert-manager", CHARTS.certManager, NAMESPACES.certManager, certManagerValues());
  if (config.install.kratix) chart("kratix", CHARTS.kratix, NAMESPACES.kratix, kratixValues(IMAGES.kratix));
  if (config.install.flux) chart("flux", CHARTS.flux, NAMESPACES.flux, fluxValues());
  const store = config.stateStore;
  if (store.mode === "s3" || store.mode === "bucket") {
    const bucket: StateStoreBucket =
      store.mode === "bucket"
        ? s3CompatibleBucket(store, region)
        : {
            bucketName: store.bucketName ?? PLACEHOLDER("bucket name"),
            region,
            ...(store.path ? { path: store.path } : {}),
          };
    const dest = destination();
    const key = PLACEHOLDER("access key id");
    const value = PLACEHOLDER("secret access key");
    files.push({
      path: "kratix/state-store.yaml",
      objects: [secret(KRATIX_S3_SECRET, NAMESPACES.kratix, kratixS3SecretData(key, value)), bucketStateStore(bucket), dest],
    });
    files.push({
      path: "flux/state-store-source.yaml",
      objects: [
        secret(FLUX_S3_SECRET, NAMESPACES.flux, fluxS3SecretData(key, value)),
        fluxBucket(bucket),
        { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACES.kratixWorker } },
        ...fluxApplierRbac(),
        ...fluxKustomizations(destinationFolder(bucket, dest), bucket.interval),
      ],
    });
  }

  // ACK
  if (config.install.ackController) {
    const c = config.ackCredentials;
    const credentials: AckCredentials =
      c.mode === "irsa"
        ? { mode: "irsa", roleArn: PLACEHOLDER("IAM role ARN") }
        : c.mode === "existingSecret"
          ? c
          : c.mode === "podIdentity"
            ? { mode: "podIdentity" }
            : { mode: "accessKey" };
    chart("ack-dynamodb", CHARTS.ackDynamoDB, NAMESPACES.ack, ackValues({ region, credentials }));
    // Only the platform's service accounts write ACK Tables (AckDynamoDBController's guardTables default).
    const guard = tableGuard();
    files.push({ path: "ack/table-guard.yaml", objects: [guard.policy, guard.binding] });
    if (c.mode === "accessKey") {
      files.push({
        path: "ack/credentials-secret.yaml",
        objects: [
          secret(ACK_CREDENTIALS_SECRET, NAMESPACES.ack, {
            credentials: iniCredentials("default", PLACEHOLDER("access key id"), PLACEHOLDER("secret access key")),
          }),
        ],
      });
    }
    if (c.mode !== "existingSecret") {
      const policy = ackDynamoDBPolicy({
        partition: aws.partition ?? "aws",
        accountId: aws.accountId ?? config.accountId ?? "ACCOUNT_ID",
        regions: config.ackAllowedRegions ?? [region],
        ...(config.kmsKeyArns ? { kmsKeyArns: config.kmsKeyArns } : {}),
        ...(config.defaults.tableNamePrefix ? { tableNamePrefix: config.defaults.tableNamePrefix } : {}),
      });
      files.push({ path: "ack/iam-policy.json", text: `${JSON.stringify(policy, null, 2)}\n` });
    }
  }
  files.push({ path: "helm/charts.yaml", objects: charts });

  // The tables
  for (const t of config.tables) {
    files.push({
      path: `requests/${t.namespace}-${t.name}.yaml`,
      objects: [renderDynamoDBRequest({ name: t.name, namespace: t.namespace }, t.table)],
    });
  }
  return files;
}
