import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy, stateStorePolicy } from "../core/aws/ack-policy.ts";
import { certManagerValues, fluxValues, kratixValues, withPipelineAdapterImage } from "../core/install/helm-values.ts";
import { certManagerCheckImage, certManagerStartupCheck } from "../core/install/cert-manager-check.ts";
import {
  FLUX_S3_SECRET,
  KRATIX_S3_SECRET,
  bucketStateStore,
  destination,
  destinationFolder,
  fluxBucket,
  KRATIX_CANARY,
  fluxApplierRbac,
  fluxKustomizations,
  fluxS3SecretData,
  kratixS3SecretData,
  IRSA_ROLE_ANNOTATION,
  STATE_STORE_READERS,
  s3CompatibleBucket,
  type StateStoreBucket,
} from "../core/install/kratix-objects.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { CHARTS, IMAGES, type ChartPin } from "../core/install/versions.ts";
import { pinnedChart } from "./helm.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

/**
 * How Kratix and Flux reach an S3 state store: `irsa` gives each a role trusted by the
 * cluster's OIDC provider for its own service account (no keys anywhere); `accessKey`
 * makes IAM users whose access keys the stack keeps in Secrets.
 */
export type StateStoreCredentialsArgs = { mode: "irsa"; oidcProviderArn: pulumi.Input<string> } | { mode: "accessKey" };

/** Where Kratix writes the ACK Tables for Flux to apply. */
export type StateStoreArgs =
  /**
   * An S3 bucket made here, read and written with one IAM identity for Kratix (read-write)
   * and one for Flux (read-only): IAM users with access keys in Secrets (the default), or,
   * keyless, IAM roles the two controllers' service accounts assume through IRSA.
   */
  | {
      mode: "s3";
      region: pulumi.Input<string>;
      bucketName?: pulumi.Input<string>;
      path?: string;
      /** How Kratix and Flux authenticate to S3. Default accessKey (IAM users). */
      credentials?: StateStoreCredentialsArgs;
    }
  /**
   * An S3-compatible bucket you run (MinIO, Ceph, the local environment's stand-in): Kratix
   * writes and Flux reads it with one access key, which stays secret end to end.
   */
  | {
      mode: "bucket";
      /** host:port of the server. */
      endpoint: string;
      bucketName: string;
      /** Region the server expects in signatures. */
      region: pulumi.Input<string>;
      /** Plain HTTP (a server on loopback or a trusted network only). Default false. */
      insecure?: boolean;
      /** Folder for this platform inside the bucket. */
      path?: string;
      /** How often Flux polls the bucket (a Go duration). Default 30s. */
      interval?: string;
      /** The access key; pass it as a secret (e.g. config.requireSecretObject). */
      credentials: pulumi.Input<{ accessKeyId: string; secretAccessKey: string }>;
    }
  /** A state store you already have; Flux and the Destination are then yours to wire as well. */
  | { mode: "existing"; kind: "BucketStateStore" | "GitStateStore"; name: string }
  /** No state store (no Destination, no Flux objects): clusters where Kratix's delivery is set up elsewhere. */
  | { mode: "none" };

export interface KratixArgs {
  /** The image of cert-manager's start-up check Job (pin it by digest in your registry). Default: the chart's own, at the chart's version. */
  certManagerCheckImage?: pulumi.Input<string>;
  /** Install cert-manager (Kratix's webhooks need it). Default true. */
  installCertManager?: boolean;
  /** Install Kratix (chart syntasso/kratix, image pinned by digest). Default true. */
  installKratix?: boolean;
  /** Install Flux (source and kustomize controllers), which applies what Kratix writes. Default true. */
  installFlux?: boolean;
  /** The state store. Default none. */
  stateStore?: StateStoreArgs;
  /** Destination labels; the Promise selects cluster-role=master, as in the design. */
  destinationLabels?: Record<string, string>;
  /** Chart and image pins, each overridable. */
  charts?: { certManager?: ChartPin; kratix?: ChartPin; flux?: ChartPin };
  /** The Kratix image: the manager, and Kratix's own containers in every pipeline pod (the chart's pipeline adapter ConfigMap is set to it). Default IMAGES.kratix. */
  kratixImage?: string;
}

/**
 * Kratix on this cluster: cert-manager, Kratix, a state store, a Destination
 * for this same cluster (label cluster-role: master), and Flux with a Bucket
 * source and two Kustomizations to apply what Kratix schedules here.
 */
export class KratixInstallation extends pulumi.ComponentResource {
  /** The Destination registered for this cluster, when a state store is wired. */
  declare readonly destinationName: pulumi.Output<string | undefined>;
  /** The state store bucket, in s3 and bucket modes. */
  declare readonly bucketName: pulumi.Output<string | undefined>;
  /** Namespace Kratix runs in. */
  declare readonly namespace: pulumi.Output<string>;
  /** Resources a Promise must wait for (the Kratix controller and its CRDs). */
  readonly ready: pulumi.Resource[] = [];
  /** The cert-manager chart, when installed. */
  readonly certManager?: pulumi.Resource;
  /** cert-manager's start-up check Job, when installed: complete once its webhook serves. What makes Issuers or Certificates waits for it. */
  readonly certManagerReady?: pulumi.Resource;

  constructor(name: string, args: KratixArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(`${TOKEN_PREFIX}:KratixInstallation`, name, {}, componentOptions("KratixInstallation", opts));
    const p = { parent: this };
    const charts = { certManager: CHARTS.certManager, kratix: CHARTS.kratix, flux: CHARTS.flux, ...args.charts };
    let certManager: pulumi.Resource[] = [];
    if (args.installCertManager ?? true) {
      const ns = new k8s.core.v1.Namespace(`${name}-cert-manager-ns`, { metadata: { name: NAMESPACES.certManager } }, p);
      this.certManager = pinnedChart(`${name}-cert-manager`, charts.certManager, NAMESPACES.certManager, certManagerValues(), {
        ...p,
        dependsOn: [ns],
      });
      // The chart's start-up check (a Helm hook helm.v4.Chart skips), run as a plain Job that
      // Pulumi waits for: what needs cert-manager's webhook waits for it to serve.
      const check = certManagerStartupCheck<pulumi.Input<string>>(
        args.certManagerCheckImage ?? certManagerCheckImage(charts.certManager.version),
      );
      const after = { ...p, dependsOn: [this.certManager] };
      const sa = new k8s.core.v1.ServiceAccount(`${name}-cert-manager-check`, check.serviceAccount, after);
      const role = new k8s.rbac.v1.Role(`${name}-cert-manager-check`, check.role, after);
      const binding = new k8s.rbac.v1.RoleBinding(`${name}-cert-manager-check`, check.roleBinding, { ...p, dependsOn: [sa, role] });
      this.certManagerReady = new k8s.batch.v1.Job(`${name}-cert-manager-check`, check.job, { ...p, dependsOn: [binding] });
      certManager = [this.certManagerReady];
    }
    let kratix: pulumi.Resource[] = [];
    if (args.installKratix ?? true) {
      // The chart creates its own namespace (kratix-platform-system).
      const image = args.kratixImage ?? IMAGES.kratix;
      // The chart's `image` sets only the manager; its pipeline containers' image is a hard-coded ConfigMap.
      const adapterImage: pulumi.ResourceTransform = ({ props, opts }) => {
        const patched = withPipelineAdapterImage(props as Parameters<typeof withPipelineAdapterImage>[0], image);
        return patched ? { props: patched, opts } : undefined;
      };
      kratix = [
        pinnedChart(`${name}-kratix`, charts.kratix, NAMESPACES.kratix, kratixValues(image), {
          ...p,
          dependsOn: certManager,
          transforms: [adapterImage],
        }),
      ];
    }
    this.ready.push(...kratix);
    let flux: pulumi.Resource[] = [];
    if (args.installFlux ?? true) {
      const ns = new k8s.core.v1.Namespace(`${name}-flux-ns`, { metadata: { name: NAMESPACES.flux } }, p);
      flux = [pinnedChart(`${name}-flux`, charts.flux, NAMESPACES.flux, fluxValues(), { ...p, dependsOn: [ns] })];
    }

    const store = args.stateStore ?? { mode: "none" };
    let destinationName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let bucketName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (store.mode === "s3") {
      const bucket = new aws.s3.Bucket(
        `${name}-state`,
        { ...(store.bucketName ? { bucket: store.bucketName } : {}), forceDestroy: false },
        p,
      );
      new aws.s3.BucketPublicAccessBlock(
        `${name}-state`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        p,
      );
      const policy = (access: "readWrite" | "read") => bucket.arn.apply((arn) => JSON.stringify(stateStorePolicy(arn, access)));
      const keyless = store.credentials?.mode === "irsa";
      const bucketInfo = pulumi.all([bucket.bucket, store.region]).apply(([bucketName, region]): StateStoreBucket => ({
        bucketName,
        region,
        ...(store.path ? { path: store.path } : {}),
        ...(keyless ? { ambientCredentials: true } : {}),
      }));
      if (store.credentials?.mode === "irsa") {
        // Keyless: a role per controller, trusted only for its own service account.
        const oidc = store.credentials.oidcProviderArn;
        const role = (
          who: string,
          reader: (typeof STATE_STORE_READERS)[keyof typeof STATE_STORE_READERS],
          access: "readWrite" | "read",
        ) => {
          const r = new aws.iam.Role(
            `${name}-${who}`,
            {
              path: "/kratix-dynamodb/",
              assumeRolePolicy: pulumi
                .output(oidc)
                .apply((arn) => JSON.stringify(irsaTrustPolicy(arn, reader.namespace, reader.serviceAccount))),
            },
            p,
          );
          new aws.iam.RolePolicy(`${name}-${who}`, { role: r.id, policy: policy(access) }, p);
          return r;
        };
        const kratixRole = role("kratix-writer", STATE_STORE_READERS.kratix, "readWrite");
        const fluxRole = role("flux-reader", STATE_STORE_READERS.flux, "read");
        this.assumeRole(name, "kratix", STATE_STORE_READERS.kratix, kratixRole, kratix);
        this.assumeRole(name, "flux", STATE_STORE_READERS.flux, fluxRole, flux);
        destinationName = this.wireBucket(name, bucketInfo, undefined, undefined, args, kratix, flux);
      } else {
        const user = (who: string, access: "readWrite" | "read") => {
          const u = new aws.iam.User(`${name}-${who}`, { path: "/kratix-dynamodb/" }, p);
          new aws.iam.UserPolicy(`${name}-${who}`, { user: u.name, policy: policy(access) }, p);
          return new aws.iam.AccessKey(`${name}-${who}`, { user: u.name }, p);
        };
        const key = (k: aws.iam.AccessKey) =>
          pulumi.all([k.id, k.secret]).apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey }));
        destinationName = this.wireBucket(
          name,
          bucketInfo,
          key(user("kratix-writer", "readWrite")),
          key(user("flux-reader", "read")),
          args,
          kratix,
          flux,
        );
      }
      bucketName = bucket.bucket as pulumi.Output<string | undefined>;
    } else if (store.mode === "bucket") {
      const bucketInfo = pulumi.output(store.region).apply((region) => s3CompatibleBucket(store, region));
      const credentials = pulumi.secret(store.credentials);
      destinationName = this.wireBucket(name, bucketInfo, credentials, credentials, args, kratix, flux);
      bucketName = pulumi.output(store.bucketName);
    }
    this.destinationName = destinationName;
    this.bucketName = bucketName;
    this.namespace = pulumi.output(NAMESPACES.kratix);
    this.registerOutputs({ destinationName, bucketName, namespace: this.namespace });
  }

  /**
   * IRSA for a controller the charts install: its service account gets the role's ARN, and
   * its Deployment's pod template an annotation naming the role, so its pods are recreated
   * and EKS's webhook injects the web identity token into the new ones (it acts only when
   * a pod is created). Patches (server-side apply), so the chart keeps the rest.
   */
  private assumeRole(
    name: string,
    id: string,
    reader: (typeof STATE_STORE_READERS)[keyof typeof STATE_STORE_READERS],
    role: aws.iam.Role,
    chart: pulumi.Resource[],
  ): void {
    const p = { parent: this };
    const sa = new k8s.core.v1.ServiceAccountPatch(
      `${name}-${id}-irsa`,
      { metadata: { name: reader.serviceAccount, namespace: reader.namespace, annotations: { [IRSA_ROLE_ANNOTATION]: role.arn } } },
      { ...p, dependsOn: chart },
    );
    new k8s.apps.v1.DeploymentPatch(
      `${name}-${id}-irsa`,
      {
        metadata: { name: reader.deployment, namespace: reader.namespace },
        spec: { template: { metadata: { annotations: { [IRSA_ROLE_ANNOTATION]: role.arn } } } },
      },
      { ...p, dependsOn: [sa] },
    );
  }

  /**
   * What every bucket state store needs: the two Secrets, Kratix's BucketStateStore, the
   * Destination, Flux's Bucket source, the applier's RBAC and the two Kustomizations.
   */
  private wireBucket(
    name: string,
    bucketInfo: pulumi.Output<StateStoreBucket>,
    /** The access keys; undefined when the controllers use ambient credentials (IRSA). */
    kratixKey: pulumi.Output<{ accessKeyId: string; secretAccessKey: string }> | undefined,
    fluxKey: pulumi.Output<{ accessKeyId: string; secretAccessKey: string }> | undefined,
    args: KratixArgs,
    kratix: pulumi.Resource[],
    flux: pulumi.Resource[],
  ): pulumi.Output<string | undefined> {
    const p = { parent: this };
    /** A Secret holding an access key in the key names its reader expects, secret end to end. */
    const keySecret = (
      id: string,
      secretName: string,
      namespace: string,
      key: pulumi.Output<{ accessKeyId: string; secretAccessKey: string }>,
      data: (id: string, secret: string) => Record<string, string>,
      after: pulumi.Resource[],
    ) =>
      new k8s.core.v1.Secret(
        `${name}-${id}`,
        {
          metadata: { name: secretName, namespace },
          stringData: pulumi.secret(key.apply((k) => data(k.accessKeyId, k.secretAccessKey))),
        },
        { ...p, dependsOn: after },
      );
    const kratixSecret = kratixKey
      ? [keySecret("kratix-s3", KRATIX_S3_SECRET, NAMESPACES.kratix, kratixKey, kratixS3SecretData, kratix)]
      : [];
    const stateStore = bucketInfo.apply(bucketStateStore);
    const storeCr = new k8s.apiextensions.CustomResource(
      `${name}-state-store`,
      { apiVersion: "platform.kratix.io/v1alpha1", kind: "BucketStateStore", metadata: stateStore.metadata, spec: stateStore.spec },
      { ...p, dependsOn: [...kratix, ...kratixSecret] },
    );
    const dest = destination(args.destinationLabels ? { labels: args.destinationLabels } : {});
    const destCr = new k8s.apiextensions.CustomResource(
      `${name}-destination`,
      { apiVersion: dest.apiVersion, kind: dest.kind, metadata: dest.metadata, spec: dest.spec },
      { ...p, dependsOn: [storeCr] },
    );
    const fluxSecret = fluxKey ? [keySecret("flux-s3", FLUX_S3_SECRET, NAMESPACES.flux, fluxKey, fluxS3SecretData, flux)] : [];
    const source = bucketInfo.apply(fluxBucket);
    const sourceCr = new k8s.apiextensions.CustomResource(
      `${name}-flux-bucket`,
      { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "Bucket", metadata: source.metadata, spec: source.spec },
      { ...p, dependsOn: [...flux, ...fluxSecret] },
    );
    // Flux applies Kratix's output as this service account (Tables and Kratix's canary only),
    // not as cluster-admin. The canary's namespace is made here, so applying it is only a patch.
    const [sa, role, binding, canaryRole, canaryBinding] = fluxApplierRbac() as [
      k8s.types.input.core.v1.ServiceAccount,
      k8s.types.input.rbac.v1.ClusterRole,
      k8s.types.input.rbac.v1.ClusterRoleBinding,
      k8s.types.input.rbac.v1.Role,
      k8s.types.input.rbac.v1.RoleBinding,
    ];
    const canaryNs = new k8s.core.v1.Namespace(`${name}-kratix-worker-ns`, { metadata: { name: KRATIX_CANARY.namespace } }, p);
    const applier: pulumi.Resource[] = [
      new k8s.core.v1.ServiceAccount(`${name}-flux-applier`, { metadata: sa.metadata! }, { ...p, dependsOn: flux }),
      new k8s.rbac.v1.ClusterRole(`${name}-flux-applier`, { metadata: role.metadata!, rules: role.rules! }, p),
      new k8s.rbac.v1.Role(
        `${name}-flux-applier-canary`,
        { metadata: canaryRole.metadata!, rules: canaryRole.rules! },
        {
          ...p,
          dependsOn: [canaryNs],
        },
      ),
    ];
    applier.push(
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-flux-applier`,
        { metadata: binding.metadata!, roleRef: binding.roleRef, subjects: binding.subjects! },
        { ...p, dependsOn: [...applier] },
      ),
      new k8s.rbac.v1.RoleBinding(
        `${name}-flux-applier-canary`,
        { metadata: canaryBinding.metadata!, roleRef: canaryBinding.roleRef, subjects: canaryBinding.subjects! },
        { ...p, dependsOn: [...applier] },
      ),
    );
    const kustomizations = bucketInfo.apply((b) => fluxKustomizations(destinationFolder(b, dest), b.interval));
    for (const i of [0, 1]) {
      const k = kustomizations.apply((ks) => ks[i]!);
      new k8s.apiextensions.CustomResource(
        `${name}-flux-${i === 0 ? "dependencies" : "resources"}`,
        { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: k.metadata, spec: k.spec },
        { ...p, dependsOn: [sourceCr, ...applier] },
      );
    }
    this.ready.push(destCr);
    return destCr.metadata.name as pulumi.Output<string | undefined>;
  }
}
