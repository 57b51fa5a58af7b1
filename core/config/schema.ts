/**
 * The program's stack config, declared once: each key of Pulumi.yaml's `config:`
 * with its type, default and description, one schema per union (state store, ACK
 * credentials) and every default here and nowhere else. TypeBox turns the
 * declaration into both the TypeScript types (`Static`) and the JSON schema Ajv
 * validates with (platform-config.ts); test/pulumi/config.test.ts holds
 * Pulumi.yaml's `config:` block to it, key by key.
 *
 * `x-message` on a node is what a value failing its pattern is told (Ajv knows
 * the keyword as an annotation); `x-secret` marks a key whose values are never
 * quoted in a message.
 */
import { Type, type Static, type TSchema, type TSchemaOptions } from "typebox";
import { REGION_PATTERN } from "../api/rules.ts";
import { DNS_LABEL_MAX_LENGTH, DNS_LABEL_PATTERN, DNS_SUBDOMAIN_MAX_LENGTH, DNS_SUBDOMAIN_PATTERN } from "../k8s/metadata.ts";
import { IMAGES } from "../install/versions.ts";
import { NAMESPACES } from "../install/namespaces.ts";
import { DEFAULT_PROMISE_VERSION } from "../render/promise.ts";
import type { TableProperties } from "../render/dynamodb-request.ts";

export const PROJECT = "kratix-dynamodb-platform";

const { Literal, Optional } = Type;
const text = (description: string, extra: TSchemaOptions = {}) => Type.String({ description, ...extra });
const required = (description: string) => text(description, { minLength: 1 });
const flag = (description: string, value: boolean) => Type.Boolean({ description, default: value });
const strings = <const V extends string[]>(description: string, values: readonly [...V], extra: TSchemaOptions = {}) =>
  Type.Enum(values, { type: "string", description, ...extra });
/** A Kubernetes namespace name (a DNS-1123 label). */
const namespace = (description: string, extra: TSchemaOptions = {}) =>
  text(description, {
    minLength: 1,
    maxLength: DNS_LABEL_MAX_LENGTH,
    pattern: DNS_LABEL_PATTERN,
    "x-message": "must be a Kubernetes namespace name such as team-a",
    ...extra,
  });
/** An object whose fields are all listed: any other is a typo, and reported as one. */
const closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P, options: TSchemaOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });
/**
 * A union of closed objects told apart by their `mode`: Ajv's discriminator
 * validates the one variant a value's mode names and reports only its errors.
 */
const byMode = <T extends TSchema[]>(variants: [...T], options: TSchemaOptions) =>
  Type.Union(variants, { type: "object", discriminator: { propertyName: "mode" }, ...options });

// Credentials, one object per mode, so a keyless mode for another consumer (the state
// store's Kratix and Flux) reuses them: byMode([IrsaCredentials, PodIdentityCredentials, AccessKeyCredentials]).
export const IrsaCredentials = closed(
  { mode: Literal("irsa"), oidcProviderArn: required("ARN of the cluster's IAM OIDC provider, which the role trusts.") },
  { description: "IAM Roles for Service Accounts: a role trusted by the cluster's OIDC provider for the controller's service account." },
);
export const PodIdentityCredentials = closed(
  { mode: Literal("podIdentity"), clusterName: required("The EKS cluster the Pod Identity association is made in.") },
  { description: "EKS Pod Identity: a role for pods.eks.amazonaws.com and an association for the controller's service account." },
);
export const AccessKeyCredentials = closed(
  { mode: Literal("accessKey") },
  { description: "An IAM user whose access key the stack keeps in a Secret (long-lived keys)." },
);
export const ExistingSecretCredentials = closed(
  {
    mode: Literal("existingSecret"),
    secretName: required("Secret in the controller's namespace holding an AWS credentials file."),
    secretKey: Optional(required("Key of that file in the Secret.")),
    profile: Optional(required("Profile in that file.")),
  },
  { description: "A Secret you made; the stack makes no IAM policy." },
);

export const AckCredentialsSchema = byMode([IrsaCredentials, PodIdentityCredentials, AccessKeyCredentials, ExistingSecretCredentials], {
  default: { mode: "accessKey" },
  description:
    "ACK controller credentials: {mode: irsa, oidcProviderArn}, {mode: podIdentity, clusterName}, {mode: accessKey} (default) or {mode: existingSecret, secretName[, secretKey, profile]}.",
});

/** A Go duration such as 30s or 1m30s. */
const duration = (description: string) =>
  text(description, { pattern: "^([0-9]+(ms|s|m|h))+$", "x-message": "must be a duration such as 10s or 1m" });

export const S3StateStore = closed(
  {
    mode: Literal("s3"),
    bucketName: Optional(required("Name of the bucket to make; default a generated name.")),
    path: Optional(text("Folder for this platform inside the bucket.")),
    credentials: Optional(
      // No schema default: absent means accessKey in the component, and Pulumi.yaml's stateStore default stays {mode: s3}.
      byMode([IrsaCredentials, AccessKeyCredentials], {
        description:
          "How Kratix and Flux reach the bucket: {mode: irsa, oidcProviderArn} (keyless: a role per controller) or {mode: accessKey} (default: IAM users whose keys the stack keeps in Secrets).",
      }),
    ),
  },
  {
    description: "An S3 bucket made in AWS, read and written by Kratix (read-write) and Flux (read-only) through IRSA roles or IAM users.",
  },
);
export const BucketStateStore = closed(
  {
    mode: Literal("bucket"),
    endpoint: required("host:port of the server."),
    bucketName: required("The bucket."),
    insecure: Optional(flag("Plain HTTP (a server on loopback or a trusted network only).", false)),
    path: Optional(text("Folder for this platform inside the bucket.")),
    interval: Optional(duration("How often Flux polls the bucket. Default 30s.")),
  },
  { description: "An S3-compatible bucket you run; its access key comes from the secret config key stateStoreCredentials." },
);
export const ExistingStateStore = closed(
  {
    mode: Literal("existing"),
    kind: strings("The state store's kind.", ["BucketStateStore", "GitStateStore"]),
    name: required("The state store's name."),
  },
  { description: "A state store you already have; Flux and the Destination are then yours to wire as well." },
);
export const NoStateStore = closed({ mode: Literal("none") }, { description: "No state store, no Destination, no Flux objects." });

export const StateStoreSchema = byMode([S3StateStore, BucketStateStore, ExistingStateStore, NoStateStore], {
  default: { mode: "s3" },
  description:
    "Kratix state store: {mode: s3[, bucketName, path, credentials: {mode: irsa, oidcProviderArn} | {mode: accessKey}]} (default: a bucket made in AWS), {mode: bucket, endpoint, bucketName[, insecure, path, interval]} (an S3-compatible server you run; key in stateStoreCredentials), {mode: existing, kind, name} or {mode: none}.",
});

export const InstallSchema = closed(
  {
    velaCore: Optional(flag("KubeVela's vela-core chart.", false)),
    certManager: Optional(flag("cert-manager (Kratix's and vela-core's webhook certificates).", true)),
    kratix: Optional(flag("Kratix.", true)),
    flux: Optional(flag("Flux's source and kustomize controllers.", true)),
    ackController: Optional(flag("The ACK DynamoDB controller with its IAM policy and credentials.", true)),
  },
  {
    default: {},
    description: "Install switches, each true or false: velaCore (default false), certManager, kratix, flux, ackController (default true).",
  },
);

/**
 * The acknowledgement of a deliberate move of a deployed platform (core/config/platform-identity.ts):
 * the value each identity key may change to, in the shape of the config it names.
 */
export const AllowPlatformMoveSchema = closed(
  {
    defaultRegion: Optional(text("The region defaultRegion may change to.")),
    tableNamePrefix: Optional(text("The prefix tableNamePrefix may change to.")),
    stateStore: Optional(
      closed(
        {
          mode: Optional(text("The mode stateStore.mode may change to.")),
          endpoint: Optional(text("The endpoint stateStore.endpoint may change to.")),
          bucketName: Optional(text("The bucket stateStore.bucketName may change to.")),
          path: Optional(text('The folder stateStore.path may change to ("" for none).')),
          kind: Optional(text("The kind stateStore.kind may change to.")),
          name: Optional(text("The name stateStore.name may change to.")),
        },
        { description: "The state store values that may change, each with the value it may change to." },
      ),
    ),
  },
  {
    default: {},
    description:
      "Acknowledges a deliberate move of a deployed platform: the new value of each of defaultRegion, tableNamePrefix and stateStore.{mode, endpoint, bucketName, path, kind, name} that may differ from what the stack recorded at its last update (stack output platformIdentity), e.g. {tableNamePrefix: team-}. Without it such a change fails pulumi preview and up: requests would get new, empty tables, or Flux would prune the live ones. Default none.",
  },
);

/** A value as Pulumi hands a secret over (decrypted), or as a stack file holds it (`{secure: …}`, read by ./dev render). */
const secretText = (description: string) =>
  Type.Union([Type.String({ minLength: 1 }), closed({ secure: Type.String() })], {
    description,
    "x-message": "must be a non-empty string, set as a secret (pulumi config set --secret --path)",
  });

/** A stack's table: a DynamoDBRequest's name and namespace and the table's properties (checked by the API's own rules). */
export const TableEntrySchema = closed({
  name: text("DynamoDBRequest name (and stack output key).", {
    maxLength: DNS_SUBDOMAIN_MAX_LENGTH,
    pattern: DNS_SUBDOMAIN_PATTERN,
    "x-message": "must be a Kubernetes object name such as user-sessions",
  }),
  namespace: Optional(namespace("Namespace of the request; default tablesNamespace.")),
  table: Type.Unsafe<TableProperties>({ type: "object", description: "The table's properties (aws-dynamodb-kratix properties)." }),
});

/** A KMS key's ARN (not an alias: IAM policies grant on keys). */
export const KMS_KEY_ARN_PATTERN = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$";

/** Every config key of the project (without the `kratix-dynamodb-platform:` prefix), as Pulumi.yaml declares it. */
export const StackConfigSchema = closed({
  defaultRegion: text("Region for requests that name none; also the ACK controller's region and the state store's.", {
    default: "us-east-1",
  }),
  tableNamePrefix: text(
    "Prefix put before every DynamoDB table name (counted in DynamoDB's 255 characters); also scopes the controller's IAM policy, so it is required when the stack installs the ACK controller with a policy it makes (every credentials mode but existingSecret).",
    { default: "" },
  ),
  pipelineImage: text("The Promise pipeline image (pipeline/Dockerfile), pinned by tag or digest. Push it to your registry and set this.", {
    minLength: 1,
    default: IMAGES.pipeline,
  }),
  promiseVersion: text("The Promise's kratix.io/promise-version label; bump it with every pipeline or API change.", {
    pattern: "^v?[0-9]+\\.[0-9]+\\.[0-9]+",
    "x-message": "must be a version such as v0.1.0",
    default: DEFAULT_PROMISE_VERSION,
  }),
  promiseDelivery: strings(
    "kubevela: the kratix-platform Application deploys the Promise (the design's chain). pulumi: Pulumi applies the Promise itself.",
    ["kubevela", "pulumi"],
    { default: "kubevela" },
  ),
  protectPromise: flag(
    "Protect the Promise's owner from deletion and replacement (deleting a Promise deletes every request and table under it).",
    true,
  ),
  waitForPromise: flag("Wait until Kratix reports the Promise Available (and KubeVela the Application running).", true),
  applicationNamespace: namespace(
    "Namespace of the kratix-platform Application and its example table. The default, dynamodb-platform, is made (and kept on destroy) by the platform; any other must exist.",
    { default: NAMESPACES.application },
  ),
  includeApplicationExample: flag("Give the kratix-platform Application the design's example-dynamodb-table component.", true),
  applicationExampleTable: Type.Unsafe<TableProperties | Record<string, never>>({
    type: "object",
    default: {},
    description:
      "Properties of the Application's example table (aws-dynamodb-kratix properties). Default a PAY_PER_REQUEST table kratix-platform-example.",
  }),
  install: InstallSchema,
  stateStore: StateStoreSchema,
  stateStoreCredentials: closed(
    { accessKeyId: Optional(secretText("Access key id.")), secretAccessKey: Optional(secretText("Secret access key.")) },
    {
      default: {},
      "x-secret": true,
      description:
        "Access key of the stateStore in mode bucket, {accessKeyId, secretAccessKey}: set it as a secret (pulumi config set --secret --path stateStoreCredentials.secretAccessKey ...).",
    },
  ),
  ackCredentials: AckCredentialsSchema,
  ackAllowedRegions: Type.Array(
    text("An AWS region.", { pattern: REGION_PATTERN, "x-message": "is not an AWS region name such as us-east-1 or eu-central-2" }),
    {
      default: [],
      description:
        "The platform's regions. The controller's IAM policy allows tables in these, and requests may name no other (the API and the pipeline refuse it, naming spec.region). Default [defaultRegion].",
    },
  ),
  kmsKeyArns: Type.Array(
    text("A KMS key ARN.", {
      pattern: KMS_KEY_ARN_PATTERN,
      "x-message": "must be a KMS key ARN such as arn:aws:kms:us-west-2:123456789012:key/<id>",
    }),
    {
      default: [],
      description:
        "ARNs of the customer-managed KMS keys tables may use (encryption type CUSTOMER_MANAGED); the controller's IAM policy grants KMS on these only. Default none.",
    },
  ),
  breakGlassUsers: Type.Array(text("A Kubernetes username, as the API server authenticates it.", { minLength: 1 }), {
    default: [],
    description:
      "Usernames the platform's admission guard lets delete the Promise, Kratix's Promise CRD, the DynamoDBRequest CRD and ACK's Table CRD (with the ACK controller and guardTables); everyone else, cluster admins included, is refused. Default none.",
  }),
  tablesNamespace: namespace("Namespace of the DynamoDBRequests of `tables` that name none.", { default: "default" }),
  tables: Type.Array(TableEntrySchema, {
    default: [],
    description:
      "Tables to request: [{name, namespace?, table: {tableName, attributeDefinitions, keySchema, ...}}]. Their ARNs are the stack output tableArns.",
  }),
  waitForTables: flag("Wait for each table's ARN from the Promise's status step; when false the ARN is computed and marked so.", true),
  waitTimeoutMinutes: Type.Integer({ minimum: 1, default: 20, description: "How long to wait for each table's ARN." }),
  accountId: text("AWS account id for computed ARNs (waitForTables false) without calling AWS.", {
    pattern: "^([0-9]{12})?$",
    "x-message": "must be a 12-digit AWS account id",
    default: "",
  }),
  allowPlatformMove: AllowPlatformMoveSchema,
});

/** The config as written (every key optional), before defaults. */
export type StackConfig = Static<typeof StackConfigSchema>;
export type StateStoreConfig = Static<typeof StateStoreSchema>;
export type AckCredentialsConfig = Static<typeof AckCredentialsSchema>;
export type AllowPlatformMoveConfig = Static<typeof AllowPlatformMoveSchema>;
export type InstallConfig = Required<Static<typeof InstallSchema>>;

/** The default of each key, as the schema declares it (Pulumi.yaml declares the same). */
export function configDefaults(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(StackConfigSchema.properties).map(([k, v]) => [k, structuredClone((v as { default?: unknown }).default)]),
  );
}

/** What each install switch is when not set. */
export const INSTALL_DEFAULTS: InstallConfig = Object.fromEntries(
  Object.entries(InstallSchema.properties).map(([k, v]) => [k, (v as unknown as { default: boolean }).default]),
) as InstallConfig;

/** The JSON type of each key, as Pulumi.yaml's `type:` names it. */
export type ConfigType = "string" | "boolean" | "integer" | "object" | "array";
export const CONFIG_TYPES: Record<string, ConfigType> = Object.fromEntries(
  Object.entries(StackConfigSchema.properties).map(([k, v]) => [k, (v as { type: ConfigType }).type]),
);
