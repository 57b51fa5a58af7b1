/** Environment variables through which the Promise hands platform defaults to the pipeline. */
export const ENV_DEFAULT_REGION = "DEFAULT_REGION";
export const ENV_TABLE_NAME_PREFIX = "TABLE_NAME_PREFIX";
/** Set by Kratix itself on every pipeline container. */
export const ENV_PROMISE_NAME = "KRATIX_PROMISE_NAME";
