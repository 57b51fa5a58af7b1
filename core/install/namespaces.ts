/** Namespaces the platform's parts live in (Kratix's is fixed by its chart). */
export const NAMESPACES = {
  vela: "vela-system",
  certManager: "cert-manager",
  kratix: "kratix-platform-system",
  flux: "flux-system",
  ack: "ack-system",
  /**
   * Where the kratix-platform Application (and its example table's request) lives: a platform
   * namespace, not `default`, which every team may be able to write to (issue 16).
   */
  application: "dynamodb-platform",
  /** Where Kratix's canary objects go on every destination (its kratix-info ConfigMap). */
  kratixWorker: "kratix-worker-system",
  /**
   * Where the Promise's pipelines would run with renderPromise's `pipelineNamespace`, out of
   * tenants' reach. Not used by default: Kratix 224e148 is not safe with it for requests of
   * one name in two namespaces (core/render/promise.ts, PromiseOptions.pipelineNamespace).
   */
  pipelines: "kratix-dynamodb-pipelines",
} as const;

/** The ACK controller's service account (the chart's default), which IRSA and Pod Identity trust. */
export const ACK_SERVICE_ACCOUNT = "ack-dynamodb-controller";
/** The design's credentials Secret name for the accessKey mode. */
export const ACK_CREDENTIALS_SECRET = "ack-dynamodb-user-secrets";
