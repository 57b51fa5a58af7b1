/**
 * cert-manager's start-up check, as plain objects. The chart runs it as a Helm hook
 * (startupapicheck: `cmctl check api --wait`), which helm.v4.Chart does not run, so
 * nothing waited for cert-manager's webhook to serve (with its CA injected by
 * cainjector) before Kratix's and vela-core's Issuers and Certificates were created:
 * an intermittent first-install failure. These are the hook's objects made ordinary:
 * Pulumi waits for the Job to complete, and the charts that need cert-manager wait for
 * the Job. The Job makes a dry-run Certificate through the webhook until it is accepted.
 */
import { NAMESPACES } from "./namespaces.ts";
import { CHARTS } from "./versions.ts";

export const CERT_MANAGER_CHECK = "cert-manager-startupapicheck";
const NAME_LABEL = "app.kubernetes.io/name";

/** The chart's own check image, at the chart's version (they are released together). */
export const certManagerCheckImage = (chartVersion: string = CHARTS.certManager.version) =>
  `quay.io/jetstack/cert-manager-startupapicheck:${chartVersion}`;

/** How long the check retries before the Job fails (and with it the `pulumi up`, naming it). */
export const CERT_MANAGER_CHECK_WAIT = "5m";

/** `image` is a string, or whatever the caller's image value is (a Pulumi Input in the components). */
export function certManagerStartupCheck<Image = string>(image: Image, namespace: string = NAMESPACES.certManager) {
  const metadata = { name: CERT_MANAGER_CHECK, namespace, labels: { [NAME_LABEL]: CERT_MANAGER_CHECK } };
  return {
    serviceAccount: { apiVersion: "v1" as const, kind: "ServiceAccount" as const, metadata, automountServiceAccountToken: true },
    // Only what the check does: a dry-run create of a Certificate in its own namespace.
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "Role" as const,
      metadata,
      rules: [{ apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["create"] }],
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "RoleBinding" as const,
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role" as const, name: CERT_MANAGER_CHECK },
      subjects: [{ kind: "ServiceAccount" as const, name: CERT_MANAGER_CHECK, namespace }],
    },
    job: {
      apiVersion: "batch/v1" as const,
      kind: "Job" as const,
      metadata,
      spec: {
        backoffLimit: 4,
        template: {
          metadata: { labels: metadata.labels },
          spec: {
            serviceAccountName: CERT_MANAGER_CHECK,
            restartPolicy: "OnFailure" as const,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" as const } },
            containers: [
              {
                name: "check",
                image,
                args: ["check", "api", `--wait=${CERT_MANAGER_CHECK_WAIT}`, "-v"],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    },
  };
}
