import * as pulumi from "@pulumi/pulumi";
import type { PlatformDefaults } from "../core/api/types.ts";
import type { TableProperties } from "../core/render/dynamodb-request.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { AckDynamoDBController, type AckCredentialsArgs } from "./ack-controller.ts";
import { DynamoDBPromise } from "./dynamodb-promise.ts";
import { KratixInstallation, type StateStoreArgs } from "./kratix.ts";
import { KubeVelaDefinitions } from "./kubevela.ts";
import { TOKEN_PREFIX } from "./token.ts";

export interface DynamoDBPlatformArgs {
  /** Region defaults and table name prefix, applied to every request. */
  defaults: PlatformDefaults & { defaultRegion: string };
  /** Which parts to install; each can be off for clusters that already have it. */
  install?: { velaCore?: boolean; certManager?: boolean; kratix?: boolean; flux?: boolean; ackController?: boolean };
  /** The Kratix state store. Default: an S3 bucket in the default region. */
  stateStore?: StateStoreArgs;
  /** ACK controller credentials. Default accessKey (an IAM user; the design's ack-dynamodb-user-secrets Secret). */
  ackCredentials?: AckCredentialsArgs;
  /** Regions the controller's IAM policy allows. Default [defaults.defaultRegion]. */
  ackAllowedRegions?: string[];
  /** Customer-managed KMS keys tables may use. */
  kmsKeyArns?: pulumi.Input<string[]>;
  /**
   * With the ACK controller: the admission policy under which only the service account Flux applies as and
   * the controller write ACK Tables (and the kube-controller-manager deletes them), so nobody
   * adopts, deletes or shares a platform table past the DynamoDBRequest API. Default true.
   */
  guardTables?: boolean;
  /** The pipeline image. */
  pipelineImage?: string;
  /** Promise version label. */
  promiseVersion?: string;
  /** "kubevela" (the kratix-platform Application, default) or "pulumi" (Pulumi applies the Promise). */
  promiseDelivery?: "kubevela" | "pulumi";
  /** Namespace of the kratix-platform Application. Default "default". */
  applicationNamespace?: string;
  /** The Application's example-dynamodb-table; omit for none. */
  applicationExampleTable?: TableProperties;
  /** Protect the Promise's owner from deletion and replacement. Default true. */
  protectPromise?: boolean;
  /** Wait for the Promise (and Application) to be ready. Default true. */
  waitForPromise?: boolean;
}

/**
 * The whole self-service DynamoDB platform on one cluster: KubeVela
 * definitions (and optionally vela-core), Kratix with its state store,
 * destination and Flux, the ACK DynamoDB controller with credentials, and the
 * aws-dynamodb-kratix Promise. Tables (DynamoDBTable) depend on this component.
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
  /** The promise component. */
  declare readonly promise: DynamoDBPromise;
  /**
   * What a DynamoDBTable must wait for: the Promise's owner (which itself waits for Kratix, the
   * definitions and the controller) and the controller. Depending on these few resources rather
   * than on the whole component keeps each table's registration cheap.
   */
  declare readonly tableDependencies: pulumi.Resource[];

  constructor(name: string, args: DynamoDBPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TOKEN_PREFIX}:DynamoDBPlatform`, name, {}, opts);
    const p = { parent: this };
    const install = { velaCore: false, certManager: true, kratix: true, flux: true, ackController: true, ...args.install };
    const delivery = args.promiseDelivery ?? "kubevela";

    const kratix = new KratixInstallation(
      `${name}-kratix`,
      {
        installCertManager: install.certManager,
        installKratix: install.kratix,
        installFlux: install.flux,
        stateStore: args.stateStore ?? { mode: "s3", region: args.defaults.defaultRegion },
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
            region: args.defaults.defaultRegion,
            credentials: args.ackCredentials ?? { mode: "accessKey" },
            allowedRegions: args.ackAllowedRegions ?? [args.defaults.defaultRegion],
            ...(args.defaults.tableNamePrefix ? { tableNamePrefix: args.defaults.tableNamePrefix } : {}),
            ...(args.kmsKeyArns ? { kmsKeyArns: args.kmsKeyArns } : {}),
            guardTables: args.guardTables ?? true,
          },
          p,
        )
      : undefined;
    // The Promise comes after Kratix (its CRDs and webhooks), the definitions (KubeVela's webhook
    // renders the Application against them) and the controller (so the first Tables are served).
    this.promise = new DynamoDBPromise(
      `${name}-promise`,
      {
        defaults: args.defaults,
        delivery,
        ...(args.pipelineImage ? { pipelineImage: args.pipelineImage } : {}),
        ...(args.promiseVersion ? { version: args.promiseVersion } : {}),
        ...(args.applicationNamespace ? { applicationNamespace: args.applicationNamespace } : {}),
        ...(args.applicationExampleTable ? { exampleTable: args.applicationExampleTable } : {}),
        protect: args.protectPromise ?? true,
        waitForReady: args.waitForPromise ?? true,
      },
      { ...p, dependsOn: [kratix, ...(definitions ? [definitions] : []), ...(ack ? [ack] : [])] },
    );
    this.tableDependencies = [this.promise.owner, ...(ack ? [ack.chart] : [])];
    this.promiseName = this.promise.promiseName;
    this.applicationName = this.promise.applicationName;
    this.controllerRoleArn = ack ? ack.roleArn : pulumi.output(undefined);
    this.stateStoreBucket = kratix.bucketName;
    this.namespaces = pulumi.output<Record<string, string>>({
      kubevela: NAMESPACES.vela,
      kratix: NAMESPACES.kratix,
      flux: NAMESPACES.flux,
      ack: NAMESPACES.ack,
      application: args.applicationNamespace ?? "default",
    });
    this.registerOutputs({
      promiseName: this.promiseName,
      applicationName: this.applicationName,
      controllerRoleArn: this.controllerRoleArn,
      stateStoreBucket: this.stateStoreBucket,
      namespaces: this.namespaces,
    });
  }
}
