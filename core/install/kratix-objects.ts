/**
 * The Kubernetes objects that wire Kratix to this cluster (the design's single
 * cluster is both platform and destination): a BucketStateStore Kratix writes
 * to, a Destination labelled cluster-role=master, and the Flux Bucket source
 * plus the two Kustomizations that apply what Kratix writes.
 *
 * Kratix's chart can create StateStores and Destinations only through a Helm
 * hook Job, which Pulumi's Chart v4 never runs; so they are plain objects here.
 */
import { NAMESPACES } from "./namespaces.ts";
import { labelMapProblems } from "../k8s/metadata.ts";

export const STATE_STORE_NAME = "dynamodb-platform";
export const DESTINATION_NAME = "platform-cluster";
export const DESTINATION_LABELS = { "cluster-role": "master" } as const;
export const KRATIX_S3_SECRET = "kratix-state-store-credentials";
export const FLUX_S3_SECRET = "flux-state-store-credentials";

export interface StateStoreBucket {
  bucketName: string;
  region: string;
  /** Folder inside the bucket for this platform; "" for the bucket root. */
  path?: string;
  /**
   * An S3-compatible server (host:port) instead of AWS S3: MinIO, Ceph, or the local
   * environment's stand-in. Flux then reads it as a `generic` bucket.
   */
  endpoint?: string;
  /** Plain HTTP to `endpoint` (a server on loopback or inside a trusted network only). */
  insecure?: boolean;
  /** How often Flux looks for new files in the bucket (a Go duration). Default 30s. */
  interval?: string;
  /**
   * Kratix and Flux find AWS credentials in their pods' environment (IRSA's web identity
   * token, which the EKS webhook injects) instead of a Secret holding an access key.
   */
  ambientCredentials?: boolean;
}

/**
 * The service accounts and Deployments that read the state store with ambient
 * credentials, as Kratix's and Flux's manifests name them: Kratix's controller
 * (config/default's namePrefix kratix-platform- on controller-manager) and Flux's
 * source-controller (Bucket sources).
 */
export const STATE_STORE_READERS = {
  kratix: {
    namespace: NAMESPACES.kratix,
    serviceAccount: "kratix-platform-controller-manager",
    deployment: "kratix-platform-controller-manager",
  },
  flux: { namespace: NAMESPACES.flux, serviceAccount: "source-controller", deployment: "source-controller" },
} as const;

/** IRSA's annotation on a service account: the role its pods assume. */
export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

/** The fields of a store in `bucket` mode (an S3-compatible server), as config and components give them. */
export interface S3CompatibleStore {
  bucketName: string;
  endpoint: string;
  insecure?: boolean;
  path?: string;
  interval?: string;
}

/** The StateStoreBucket of a `bucket`-mode store: the one place its optional fields are carried over. */
export function s3CompatibleBucket(store: S3CompatibleStore, region: string): StateStoreBucket {
  return {
    bucketName: store.bucketName,
    region,
    endpoint: store.endpoint,
    ...(store.insecure ? { insecure: true } : {}),
    ...(store.path ? { path: store.path } : {}),
    ...(store.interval ? { interval: store.interval } : {}),
  };
}

/** S3's regional endpoint: Kratix's S3 client sets no region and would otherwise ask GetBucketLocation. */
export const s3Endpoint = (region: string) => `s3.${region}.amazonaws.com`;

export function bucketStateStore(b: StateStoreBucket) {
  return {
    apiVersion: "platform.kratix.io/v1alpha1",
    kind: "BucketStateStore",
    metadata: { name: STATE_STORE_NAME },
    spec: {
      bucketName: b.bucketName,
      endpoint: b.endpoint ?? s3Endpoint(b.region),
      ...(b.insecure ? { insecure: true } : {}),
      ...(b.path ? { path: b.path } : {}),
      // IAM: minio-go's IAM provider (IRSA's web identity token, or the node's role); no Secret.
      ...(b.ambientCredentials
        ? { authMethod: "IAM" }
        : { authMethod: "accessKey", secretRef: { name: KRATIX_S3_SECRET, namespace: NAMESPACES.kratix } }),
    },
  };
}

export interface DestinationOptions {
  name?: string;
  labels?: Record<string, string>;
  /** Folder for this destination inside the state store. */
  path?: string;
  stateStore?: { kind: "BucketStateStore" | "GitStateStore"; name: string };
}

export function destination(o: DestinationOptions = {}) {
  const problems = labelMapProblems(o.labels ?? {}, "labels");
  if (problems.length) throw new Error(`destination ${o.name ?? DESTINATION_NAME} cannot be rendered:\n${problems.join("\n")}`);
  return {
    apiVersion: "platform.kratix.io/v1alpha1",
    kind: "Destination",
    metadata: { name: o.name ?? DESTINATION_NAME, labels: o.labels ?? { ...DESTINATION_LABELS } },
    spec: {
      path: o.path ?? o.name ?? DESTINATION_NAME,
      stateStoreRef: o.stateStore ?? { kind: "BucketStateStore", name: STATE_STORE_NAME },
      // Said, not left to the default: a removed destination keeps what Flux applied (the
      // ACK Tables), because tables are data.
      cleanup: "none",
    },
  };
}

/** Where Kratix writes a destination's files: <store path>/<destination path>/{dependencies,resources}. */
export function destinationFolder(bucket: StateStoreBucket, dest: ReturnType<typeof destination>): string {
  return [bucket.path, dest.spec.path].filter(Boolean).join("/");
}

export function fluxBucket(b: StateStoreBucket) {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "Bucket",
    metadata: { name: STATE_STORE_NAME, namespace: NAMESPACES.flux },
    spec: {
      provider: b.endpoint ? "generic" : "aws",
      bucketName: b.bucketName,
      endpoint: b.endpoint ?? s3Endpoint(b.region),
      ...(b.insecure ? { insecure: true } : {}),
      region: b.region,
      interval: b.interval ?? "30s",
      // provider aws without a secretRef: the source-controller's own AWS identity (IRSA).
      ...(b.ambientCredentials ? {} : { secretRef: { name: FLUX_S3_SECRET } }),
    },
  };
}

/**
 * The service account Flux applies what Kratix writes as (each Kustomization's
 * serviceAccountName, in NAMESPACES.flux): it may manage ACK Tables, and apply
 * Kratix's canary objects that Kratix writes to every destination (the Namespace
 * kratix-worker-system, which the platform creates, and the kratix-info ConfigMap
 * in it), nothing else; a Work that carried anything else would fail to apply.
 */
export const FLUX_APPLIER = "kratix-dynamodb-applier";

/** Kratix's canary objects, as it writes them into every destination's folders. */
export const KRATIX_CANARY = { namespace: NAMESPACES.kratixWorker, configMap: "kratix-info" } as const;

/**
 * The applier's ServiceAccount; a ClusterRole over ACK Tables and the canary Namespace
 * (by name: it exists, so applying it is a patch), bound cluster-wide; and a Role for
 * ConfigMaps in the canary namespace only (creating one cannot be limited by name).
 */
export function fluxApplierRbac() {
  const name = FLUX_APPLIER;
  const rbac = "rbac.authorization.k8s.io";
  const subjects = [{ kind: "ServiceAccount", name, namespace: NAMESPACES.flux }];
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NAMESPACES.flux } },
    {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRole",
      metadata: { name },
      rules: [
        {
          apiGroups: ["dynamodb.services.k8s.aws"],
          resources: ["tables"],
          verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        { apiGroups: [""], resources: ["namespaces"], resourceNames: [KRATIX_CANARY.namespace], verbs: ["get", "patch"] },
      ],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: rbac, kind: "ClusterRole", name },
      subjects,
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: "Role",
      metadata: { name, namespace: KRATIX_CANARY.namespace },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "patch", "delete"] }],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata: { name, namespace: KRATIX_CANARY.namespace },
      roleRef: { apiGroup: rbac, kind: "Role", name },
      subjects,
    },
  ];
}

/**
 * Two Kustomizations, resources after dependencies, both pruning (prune removes a deleted
 * request's Table), both applying as FLUX_APPLIER rather than as the kustomize-controller,
 * both orphaning what they applied when they are themselves deleted.
 */
export function fluxKustomizations(folder: string, interval = "30s") {
  const k = (suffix: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: `kratix-${DESTINATION_NAME}-${suffix}`, namespace: NAMESPACES.flux },
    spec: {
      // The bucket's interval too: the resources wait for the dependencies to apply each new
      // revision, and retry after this long when they have not yet.
      interval,
      prune: true,
      // Removing the Kustomization (uninstalling the platform) must not delete every team's
      // Tables: prune only what leaves the state store, orphan the rest (found by the e2e:
      // the default, MirrorPrune, deleted all Tables on `pulumi destroy`).
      deletionPolicy: "Orphan",
      sourceRef: { kind: "Bucket", name: STATE_STORE_NAME },
      serviceAccountName: FLUX_APPLIER,
      path: `./${folder}/${suffix}`,
      ...extra,
    },
  });
  return [k("dependencies"), k("resources", { dependsOn: [{ name: `kratix-${DESTINATION_NAME}-dependencies` }] })];
}

/** Secret data keys each consumer expects (Kratix lib/writers/s3.go; Flux Bucket docs). */
export const kratixS3SecretData = (accessKeyId: string, secretAccessKey: string) => ({ accessKeyID: accessKeyId, secretAccessKey });
export const fluxS3SecretData = (accessKeyId: string, secretAccessKey: string) => ({ accesskey: accessKeyId, secretkey: secretAccessKey });
