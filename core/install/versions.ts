/**
 * Every chart, image and manifest version the platform installs, pinned in one
 * place. Each is overridable through the components' args (and so through
 * Pulumi config); docs/upgrading.md says how to move them.
 */
export interface ChartPin {
  /** Helm repository URL, or an oci:// chart reference (then `chart` is the full reference). */
  repo?: string;
  chart: string;
  version: string;
}

export const CHARTS = {
  /** KubeVela core (kubevela/charts). */
  velaCore: { repo: "https://kubevela.github.io/charts", chart: "vela-core", version: "1.10.9" },
  /** cert-manager, which Kratix's webhooks (and vela-core's, here) need. v1.21.2 is a security release of 1.21. */
  certManager: { repo: "https://charts.jetstack.io", chart: "cert-manager", version: "v1.21.2" },
  /**
   * Kratix. Syntasso republishes the chart as v0.0.1 on every change, so the
   * image is pinned by digest below; pin the chart itself by vendoring it if
   * your policy needs byte-identical installs.
   */
  kratix: { repo: "https://syntasso.github.io/helm-charts", chart: "kratix", version: "v0.0.1" },
  /**
   * Flux (source and kustomize controllers only), fluxcd-community chart: the newest release
   * (2026-04-14), which ships Flux 2.8.5 (source-controller v1.8.2, kustomize-controller v1.8.3).
   * The local environment runs Flux v2.9.3's controllers instead: the Go module proxy refuses
   * v1.8.2/v1.8.3 (docs/decisions.md 68).
   */
  flux: { repo: "https://fluxcd-community.github.io/helm-charts", chart: "flux2", version: "2.18.3" },
  /** ACK DynamoDB controller. */
  ackDynamoDB: { chart: "oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart", version: "1.9.2" },
} as const satisfies Record<string, ChartPin>;

export const IMAGES = {
  /** Kratix platform controller, the digest of the chart published 2026-08-04 (syntasso/helm-charts b01ba1b). */
  kratix:
    "syntasso-community.docker.reo.dev/syntasso/kratix-platform@sha256:0924f2c94380f89dfe7563715cb79fc5375233296701a0bb62e549a936b54793",
  /**
   * The Promise pipeline (pipeline/Dockerfile). Build and push it to your
   * registry and set `pipelineImage`; this default is the local tag the
   * Dockerfile's instructions produce (enough for kind/minikube with a loaded image).
   */
  pipeline: "kratix-dynamodb-pipeline:0.1.0",
} as const;
