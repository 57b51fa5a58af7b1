/**
 * Helm values for each chart the platform installs. Pulumi's helm.v4.Chart
 * renders charts like `helm template` and runs no hooks, so values here avoid
 * features that only work through hooks (see each function).
 */
import { IMAGES } from "./versions.ts";
import { ACK_CREDENTIALS_SECRET, ACK_SERVICE_ACCOUNT, NAMESPACES } from "./namespaces.ts";

/**
 * vela-core: one cluster, webhook certificates from cert-manager (the chart's certgen Jobs are
 * hooks), and Applications that act as their creators (decision 103). Without authentication
 * the chart binds vela-core to cluster-admin, and whoever may create an Application acts with
 * it. With it, vela-core impersonates the user (and every group: the default pattern keeps only
 * `kubevela:*` groups, which would drop the group bindings most teams get their rights from)
 * that its mutating webhook records on the Application. That webhook must fail closed: with
 * `patch.enabled` (the chart's default) every vela webhook is `Ignore`, and an Application made
 * while the webhook is down keeps whatever `app.oam.dev/username` its author wrote.
 */
export const velaCoreValues = () => ({
  multicluster: { enabled: false },
  admissionWebhooks: { enabled: true, certManager: { enabled: true }, patch: { enabled: false } },
  authentication: { enabled: true, withUser: true, groupPattern: "*" },
  systemDefinitionNamespace: NAMESPACES.vela,
});

export const certManagerValues = () => ({ crds: { enabled: true, keep: true } });

/** Kratix: image pinned by digest; no chart-made state stores (we make our own, with the right Secret keys). */
export const kratixValues = (image: string = IMAGES.kratix) => ({ image, stateStores: [], destinations: [] });

/**
 * The ConfigMap of Kratix's chart that names the image of Kratix's own containers in every
 * pipeline pod (reader, work-writer, status-writer): the manager reads its PIPELINE_ADAPTER_IMG
 * (chart files/deployment.yaml, configMapKeyRef; Kratix api/v1alpha1/pipeline_factory.go). The
 * chart hard-codes it (templates/distribution.yaml), and its `image` value sets only the
 * manager's Deployment, so a mirrored or locally built Kratix image would not reach the pipeline
 * pods, which would pull the upstream digest.
 */
export const KRATIX_PIPELINE_ADAPTER_CONFIG = { name: "kratix-platform-pipeline-adapter-config", key: "PIPELINE_ADAPTER_IMG" } as const;

/**
 * A Kratix chart object with the pipeline adapter's image set to `image` (the manager's own: one
 * image holds both binaries, as upstream's does), or undefined for every other object.
 */
export function withPipelineAdapterImage<T extends { kind?: unknown; metadata?: { name?: unknown }; data?: unknown }>(
  object: T,
  image: string,
): T | undefined {
  if (object.kind !== "ConfigMap" || object.metadata?.name !== KRATIX_PIPELINE_ADAPTER_CONFIG.name) return undefined;
  return { ...object, data: { ...(object.data as Record<string, string> | undefined), [KRATIX_PIPELINE_ADAPTER_CONFIG.key]: image } };
}

/**
 * Flux: only the source and kustomize controllers, locked down for tenants. By default the
 * chart adds Flux's kinds to the built-in `edit` role (rbac.createAggregation) and applies a
 * Kustomization that names no service account as kustomize-controller itself, cluster-admin:
 * a team with `edit` in its namespace could apply anything anywhere. With multitenancy on, such
 * a Kustomization acts as its namespace's `default` service account (no rights), and the
 * controller holds only the right to impersonate (multitenancy.privileged off); the platform's
 * own Kustomizations name their least-privilege applier (FLUX_APPLIER, decision 39).
 */
export const fluxValues = () => ({
  helmController: { create: false },
  imageAutomationController: { create: false },
  imageReflectionController: { create: false },
  notificationController: { create: false },
  multitenancy: { enabled: true, defaultServiceAccount: "default", privileged: false },
  rbac: { createAggregation: false },
});

export type AckCredentials =
  | { mode: "irsa"; roleArn: string }
  | { mode: "podIdentity" }
  | { mode: "accessKey"; secretName?: string; profile?: string }
  | { mode: "existingSecret"; secretName: string; secretKey?: string; profile?: string };

/**
 * ACK DynamoDB controller. `deletionPolicy: retain` by default: deleting a
 * Table object never deletes the AWS table unless the Table itself says so
 * (the pipeline writes services.k8s.aws/deletion-policy from the request).
 */
export function ackValues(o: { region: string; credentials: AckCredentials; deletionPolicy?: "retain" | "delete" }) {
  const c = o.credentials;
  const secret =
    c.mode === "accessKey"
      ? { secretName: c.secretName ?? ACK_CREDENTIALS_SECRET, secretKey: "credentials", profile: c.profile ?? "default" }
      : c.mode === "existingSecret"
        ? { secretName: c.secretName, secretKey: c.secretKey ?? "credentials", profile: c.profile ?? "default" }
        : undefined;
  return {
    aws: { region: o.region, ...(secret ? { credentials: secret } : {}) },
    serviceAccount: {
      create: true,
      name: ACK_SERVICE_ACCOUNT,
      ...(c.mode === "irsa" ? { annotations: { "eks.amazonaws.com/role-arn": c.roleArn } } : {}),
    },
    deletionPolicy: o.deletionPolicy ?? "retain",
    installScope: "cluster",
    // Only Tables: Backup and GlobalTable would need more IAM actions than the policy grants.
    reconcile: { resources: ["Table"] },
    // No ACK object reaches outside its own namespace (a FieldExport writing another team's
    // ConfigMap, a reference to another namespace's Secret): the chart's default is true, and
    // ACK's runtime v0.61 says that default will change (decision 112).
    enableCrossNamespace: false,
  };
}
