/** Environment variables through which the Promise hands platform defaults to the pipeline. */
export const ENV_DEFAULT_REGION = "DEFAULT_REGION";
export const ENV_TABLE_NAME_PREFIX = "TABLE_NAME_PREFIX";
/** The platform's allowed regions, comma-separated. */
export const ENV_ALLOWED_REGIONS = "ALLOWED_REGIONS";
/** Set by Kratix itself on every pipeline container. */
export const ENV_PROMISE_NAME = "KRATIX_PROMISE_NAME";
/**
 * Set ("true") by Kratix on the pipelines of a dry-run request (kratix.io/dry-run, featureFlags.dryRun),
 * whose reader hands over the real request when there is one (work-creator/lib/reader.go resolveObject):
 * a step must then change nothing on the cluster.
 */
export const ENV_DRY_RUN = "KRATIX_DRY_RUN";
/**
 * "off" when the pipelines run in a namespace of their own (pipelineNamespace): the status step
 * then writes no connection ConfigMap, since writing one in the request's namespace from there
 * would need a permission to write ConfigMaps in every namespace (decision 113).
 */
export const ENV_CONNECTION_CONFIGMAP = "CONNECTION_CONFIGMAP";
