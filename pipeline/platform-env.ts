/** Platform defaults reach the pipeline as container environment variables set by the Promise. */
import type { PlatformDefaults } from "../core/api/types.ts";

export const ENV = {
  defaultRegion: "DEFAULT_REGION",
  tableNamePrefix: "TABLE_NAME_PREFIX",
  /** Set by Kratix on every pipeline container. */
  promiseName: "KRATIX_PROMISE_NAME",
} as const;

export function platformDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformDefaults {
  const get = (k: string) => (env[k] ? env[k] : undefined);
  return {
    ...(get(ENV.defaultRegion) ? { defaultRegion: get(ENV.defaultRegion) } : {}),
    ...(get(ENV.tableNamePrefix) ? { tableNamePrefix: get(ENV.tableNamePrefix) } : {}),
    ...(get(ENV.promiseName) ? { promiseName: get(ENV.promiseName) } : {}),
  };
}
