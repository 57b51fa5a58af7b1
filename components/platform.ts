import * as pulumi from "@pulumi/pulumi";
import type { PlatformDefaults } from "../core/api/types.ts";
import { validatePlatformDefaults } from "../core/api/plan.ts";
import { formatErrors, type FieldError } from "../core/api/validate.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { INSTALL_DEFAULTS } from "../core/config/schema.ts";
import { AckDynamoDBController, type AckCredentialsArgs } from "./ack-controller.ts";
import {
  modeFieldErrors,
  type AckCredentials,
  type DynamoDBPlatformDefaults,
  type PlatformInstall,
  type PromiseDelivery,
  type StateStore,
  type StateStoreCredentials,
  type TableProperties,
} from "./args.ts";
import { DynamoDBPromise } from "./dynamodb-promise.ts";
import { KratixInstallation, type StateStoreArgs } from "./kratix.ts";
import { KubeVelaDefinitions } from "./kubevela.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

export interface DynamoDBPlatformArgs {
  /** Region defaults and table name prefix, applied to every request. */
  defaults: DynamoDBPlatformDefaults;
  /** Which parts to install; each can be off for clusters that already have it. */
  install?: PlatformInstall;
  /** The Kratix state store. Default: an S3 bucket in the default region. */
  stateStore?: StateStore;
  /** ACK controller credentials. Default accessKey (an IAM user; the design's ack-dynamodb-user-secrets Secret). */
  ackCredentials?: AckCredentials;
  /**
   * The platform's regions: the controller's IAM policy allows these, and requests may name only
   * these (the Promise's CRD and pipeline refuse others, naming spec.region). Default [defaults.defaultRegion].
   */
  ackAllowedRegions?: string[];
  /** Customer-managed KMS keys tables may use. */
  kmsKeyArns?: pulumi.Input<string[]>;
  /**
   * With the ACK controller: the admission policy under which only the service account Flux applies as and
   * the controller write ACK Tables (and the kube-controller-manager deletes them), so nobody
   * adopts, deletes or shares a platform table past the DynamoDBRequest API. Default true.
   */
  guardTables?: boolean;
  /**
   * Usernames the guard lets delete the Promise, Kratix's Promise CRD, the DynamoDBRequest CRD and ACK's Table CRD (with
   * the ACK controller and guardTables); everyone else, cluster admins included, is refused. Default none.
   */
  breakGlassUsers?: string[];
  /** The pipeline image. */
  pipelineImage?: string;
  /** Promise version label. */
  promiseVersion?: string;
  /** "kubevela" (the kratix-platform Application, default) or "pulumi" (Pulumi applies the Promise). */
  promiseDelivery?: PromiseDelivery;
  /** Namespace of the kratix-platform Application. Default dynamodb-platform, made by the platform (DynamoDBPromiseArgs.applicationNamespace). */
  applicationNamespace?: string;
  /** The Application's example-dynamodb-table; omit for none. */
  applicationExampleTable?: TableProperties;
  /** Protect the Promise's owner from deletion and replacement. Default true. */
  protectPromise?: boolean;
  /** Wait for the Promise (and Application) to be ready. Default true. */
  waitForPromise?: boolean;
}

/** Fields of each state store mode and each ACK credentials mode (the flattened unions of args.ts). */
const STATE_STORE_MODES = {
  s3: { required: [], optional: ["region", "bucketName", "path", "credentials"] },
  bucket: { required: ["endpoint", "bucketName", "credentials"], optional: ["region", "insecure", "path", "interval"] },
  existing: { required: ["kind", "name"], optional: [] },
  none: { required: [], optional: [] },
} as const;
const ACK_CREDENTIAL_MODES = {
  irsa: { required: ["oidcProviderArn"], optional: [] },
  podIdentity: { required: ["clusterName"], optional: [] },
  accessKey: { required: [], optional: [] },
  existingSecret: { required: ["secretName"], optional: ["secretKey", "profile"] },
} as const;
const S3_AUTH_MODES = { irsa: { required: ["oidcProviderArn"], optional: [] }, accessKey: { required: [], optional: [] } } as const;

const isPlain = (v: unknown) => !pulumi.Output.isInstance(v) && !(v instanceof Promise);

/**
 * The defaults every request gets, with the platform's regions: the ones ACK's IAM policy allows
 * (ackAllowedRegions, or the default region alone), so a request for another region is refused
 * by the API instead of looping on AccessDenied (decision 106).
 */
function platformDefaults(args: DynamoDBPlatformArgs): PlatformDefaults {
  const allowedRegions =
    args.defaults.allowedRegions ?? args.ackAllowedRegions ?? [args.defaults.defaultRegion].filter((r) => r !== undefined);
  return { ...args.defaults, ...(allowedRegions.length ? { allowedRegions } : {}) };
}

/** Every problem with the platform's arguments that can be seen before anything is registered. */
function platformArgErrors(args: DynamoDBPlatformArgs): FieldError[] {
  const errors = validatePlatformDefaults(args.defaults ? platformDefaults(args) : {}, "defaults");
  if (!args.defaults?.defaultRegion) errors.push({ path: "defaults.defaultRegion", message: "is required" });
  const [given, ack] = [args.defaults?.allowedRegions, args.ackAllowedRegions];
  if (given && ack && [...given].sort().join() !== [...ack].sort().join())
    errors.push({ path: "defaults.allowedRegions", message: `differs from ackAllowedRegions (${ack.join(", ")}): set one of them` });
  const store = args.stateStore;
  if (store) {
    errors.push(...modeFieldErrors(store, "stateStore", STATE_STORE_MODES));
    const creds = store.credentials;
    if (store.mode === "s3" && creds !== undefined) {
      if (!isPlain(creds))
        errors.push({ path: "stateStore.credentials", message: "must be a plain value with mode s3 (it decides what is made)" });
      else
        errors.push(
          ...modeFieldErrors({ mode: "accessKey", ...(creds as StateStoreCredentials) }, "stateStore.credentials", S3_AUTH_MODES),
        );
    }
    if (store.mode === "bucket") {
      if (store.bucketName !== undefined && typeof store.bucketName !== "string")
        errors.push({ path: "stateStore.bucketName", message: "must be a plain string with mode bucket" });
      if (creds !== undefined && isPlain(creds)) errors.push(...accessKeyErrors(creds as StateStoreCredentials));
    }
  }
  if (args.ackCredentials) errors.push(...modeFieldErrors(args.ackCredentials, "ackCredentials", ACK_CREDENTIAL_MODES));
  return errors;
}

/** A bucket-mode access key: both parts, nothing of the s3 mode's. */
function accessKeyErrors(c: StateStoreCredentials): FieldError[] {
  const errors: FieldError[] = [];
  for (const k of ["accessKeyId", "secretAccessKey"] as const)
    if (!c[k]) errors.push({ path: `stateStore.credentials.${k}`, message: "is required with mode bucket" });
  for (const k of ["mode", "oidcProviderArn"] as const)
    if (c[k] !== undefined) errors.push({ path: `stateStore.credentials.${k}`, message: "is not a field of mode bucket (an access key)" });
  return errors;
}

/** The state store as KratixInstallation takes it (checked by platformArgErrors first). */
function kratixStateStore(store: StateStore, defaultRegion: string, fail: (e: FieldError[]) => Error): StateStoreArgs {
  const region = store.region ?? defaultRegion;
  const opt = <K extends keyof StateStore>(k: K) => (store[k] === undefined ? {} : { [k]: store[k] });
  switch (store.mode) {
    case "s3": {
      const c = store.credentials as StateStoreCredentials | undefined;
      return {
        mode: "s3",
        region,
        ...(opt("bucketName") as { bucketName?: pulumi.Input<string> }),
        ...(opt("path") as { path?: string }),
        ...(c ? { credentials: c.mode === "irsa" ? { mode: "irsa", oidcProviderArn: c.oidcProviderArn! } : { mode: "accessKey" } } : {}),
      };
    }
    case "bucket":
      return {
        mode: "bucket",
        endpoint: store.endpoint!,
        bucketName: store.bucketName as string,
        region,
        ...(opt("insecure") as { insecure?: boolean }),
        ...(opt("path") as { path?: string }),
        ...(opt("interval") as { interval?: string }),
        // Checked here when it was an Output; secret it stays.
        credentials: pulumi.output(store.credentials!).apply((c) => {
          const errors = accessKeyErrors(c);
          if (errors.length) throw fail(errors);
          return { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey! };
        }),
      };
    case "existing":
      return { mode: "existing", kind: store.kind!, name: store.name! };
    default:
      return { mode: "none" };
  }
}

/** The ACK credentials as AckDynamoDBController takes them (checked by platformArgErrors first). */
function ackCredentials(c: AckCredentials): AckCredentialsArgs {
  switch (c.mode) {
    case "irsa":
      return { mode: "irsa", oidcProviderArn: c.oidcProviderArn! };
    case "podIdentity":
      return { mode: "podIdentity", clusterName: c.clusterName! };
    case "existingSecret":
      return {
        mode: "existingSecret",
        secretName: c.secretName!,
        ...(c.secretKey ? { secretKey: c.secretKey } : {}),
        ...(c.profile ? { profile: c.profile } : {}),
      };
    default:
      return { mode: "accessKey" };
  }
}

type DependsOn = pulumi.ComponentResourceOptions["dependsOn"];
/** Both lists of dependencies as one (either may be an Output of a list). */
function mergeDependsOn(a: DependsOn, b: DependsOn): DependsOn {
  if (a === undefined || a === b) return b;
  if (b === undefined) return a;
  return pulumi.all([a, b] as pulumi.Input<unknown>[]).apply(([x, y]) => [x, y].flat() as unknown as pulumi.Resource[]);
}

/**
 * A transformation, inherited by every resource under the platform (its parts' own children
 * included), that makes each wait for what the platform was told to wait for: Pulumi does not
 * pass a component's dependsOn on to its children.
 */
function inheritDependsOn(dependsOn: DependsOn): pulumi.ResourceTransformation {
  return ({ props, opts }) => ({ props, opts: { ...opts, dependsOn: mergeDependsOn(opts.dependsOn, dependsOn) } });
}

/** What a DynamoDBTable takes from its platform (see TablePlatform in args.ts). */
export interface PlatformTableSettings {
  defaults: PlatformDefaults;
  dependencies: pulumi.Resource[];
  platform: pulumi.ComponentResource;
}
const tableSettings = new WeakMap<object, PlatformTableSettings & { promise: DynamoDBPromise }>();

/** The settings of a DynamoDBPlatform made in this process, or undefined for anything else (such as another language's platform outputs). */
export function platformTableSettings(platform: unknown): PlatformTableSettings | undefined {
  return typeof platform === "object" && platform !== null ? tableSettings.get(platform) : undefined;
}

/**
 * The whole self-service DynamoDB platform on one cluster: KubeVela
 * definitions (and optionally vela-core), Kratix with its state store,
 * destination and Flux, the ACK DynamoDB controller with credentials, and the
 * aws-dynamodb-kratix Promise. Tables (DynamoDBTable) take it as their platform.
 */
export class DynamoDBPlatform extends pulumi.ComponentResource {
  /** The Promise's name. */
  declare readonly promiseName: pulumi.Output<string>;
  /** The kratix-platform Application's name (kubevela delivery). */
  declare readonly applicationName: pulumi.Output<string | undefined>;
  /** The IAM role of the ACK controller (irsa and podIdentity modes). */
  declare readonly controllerRoleArn: pulumi.Output<string | undefined>;
  /** The Kratix state store bucket (s3 mode). */
  declare readonly stateStoreBucket: pulumi.Output<string | undefined>;
  /** Namespaces of the platform's parts. */
  declare readonly namespaces: pulumi.Output<Record<string, string>>;
  /** The defaults the platform applies to every request (a DynamoDBTable's platformDefaults, from languages other than TypeScript). */
  declare readonly defaults: pulumi.Output<PlatformDefaults>;

  /** The promise component. (A getter: resources are not part of the component package's schema.) */
  get promise(): DynamoDBPromise {
    return tableSettings.get(this)!.promise;
  }
  /**
   * What a DynamoDBTable must wait for: the Promise's owner (which itself waits for Kratix, the
   * definitions and the controller) and the controller. Depending on these few resources rather
   * than on the whole component keeps each table's registration cheap.
   */
  get tableDependencies(): pulumi.Resource[] {
    return tableSettings.get(this)!.dependencies;
  }

  constructor(name: string, args: DynamoDBPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const fail = (errors: FieldError[]) => new pulumi.RunError(`DynamoDBPlatform "${name}" is invalid:\n${formatErrors(errors)}`);
    const errors = platformArgErrors(args);
    if (errors.length) throw fail(errors);
    const own = componentOptions("DynamoDBPlatform", opts);
    super(
      `${TOKEN_PREFIX}:DynamoDBPlatform`,
      name,
      {},
      {
        ...own,
        ...(opts?.dependsOn === undefined ? {} : { transformations: [...(own.transformations ?? []), inheritDependsOn(opts.dependsOn)] }),
      },
    );
    const p = { parent: this };
    // The install switches' defaults are the stack config's (one declaration, core/config/schema.ts).
    const install = { ...INSTALL_DEFAULTS, ...args.install };
    const delivery = args.promiseDelivery ?? "kubevela";
    const region = args.defaults.defaultRegion;
    const defaults = platformDefaults(args);

    const kratix = new KratixInstallation(
      `${name}-kratix`,
      {
        installCertManager: install.certManager,
        installKratix: install.kratix,
        installFlux: install.flux,
        stateStore: kratixStateStore(args.stateStore ?? { mode: "s3" }, region, fail),
      },
      p,
    );
    // vela-core's webhook certificates come from cert-manager, so vela-core waits for its webhook to serve.
    const definitions =
      delivery === "kubevela"
        ? new KubeVelaDefinitions(
            `${name}-vela`,
            { installVelaCore: install.velaCore },
            { ...p, dependsOn: install.velaCore && kratix.certManagerReady ? [kratix.certManagerReady] : [] },
          )
        : undefined;
    const ack = install.ackController
      ? new AckDynamoDBController(
          `${name}-ack`,
          {
            region,
            credentials: ackCredentials(args.ackCredentials ?? { mode: "accessKey" }),
            allowedRegions: defaults.allowedRegions ?? [region],
            ...(args.defaults.tableNamePrefix ? { tableNamePrefix: args.defaults.tableNamePrefix } : {}),
            ...(args.kmsKeyArns ? { kmsKeyArns: args.kmsKeyArns } : {}),
            guardTables: args.guardTables ?? true,
            ...(args.breakGlassUsers ? { breakGlassUsers: args.breakGlassUsers } : {}),
          },
          p,
        )
      : undefined;
    // The Promise comes after Kratix (its CRDs and webhooks), the definitions (KubeVela's webhook
    // renders the Application against them) and the controller (so the first Tables are served).
    const promise = new DynamoDBPromise(
      `${name}-promise`,
      {
        defaults,
        delivery,
        ...(args.pipelineImage ? { pipelineImage: args.pipelineImage } : {}),
        ...(args.promiseVersion ? { version: args.promiseVersion } : {}),
        ...(args.applicationNamespace ? { applicationNamespace: args.applicationNamespace } : {}),
        ...(args.applicationExampleTable ? { exampleTable: args.applicationExampleTable } : {}),
        protect: args.protectPromise ?? true,
        // The guard refuses the Promise's deletion to all but break-glass users: destroying the
        // stack leaves it, as the kubevela delivery's keep-promise rule does.
        retainOnDelete: ack !== undefined && (args.guardTables ?? true),
        waitForReady: args.waitForPromise ?? true,
      },
      { ...p, dependsOn: [kratix, ...(definitions ? [definitions] : []), ...(ack ? [ack] : [])] },
    );
    tableSettings.set(this, {
      defaults,
      dependencies: [promise.owner, ...(ack ? [ack.chart] : [])],
      platform: this,
      promise,
    });
    this.promiseName = promise.promiseName;
    this.applicationName = promise.applicationName;
    this.defaults = pulumi.output<PlatformDefaults>({ ...defaults });
    this.controllerRoleArn = ack ? ack.roleArn : pulumi.output(undefined);
    this.stateStoreBucket = kratix.bucketName;
    this.namespaces = pulumi.output<Record<string, string>>({
      kubevela: NAMESPACES.vela,
      kratix: NAMESPACES.kratix,
      flux: NAMESPACES.flux,
      ack: NAMESPACES.ack,
      application: args.applicationNamespace ?? NAMESPACES.application,
    });
    this.registerOutputs({
      promiseName: this.promiseName,
      applicationName: this.applicationName,
      controllerRoleArn: this.controllerRoleArn,
      stateStoreBucket: this.stateStoreBucket,
      namespaces: this.namespaces,
      defaults: this.defaults,
    });
  }
}
