/** Platform defaults reach the pipeline as container environment variables set by the Promise. */
import type { PlatformDefaults } from "../core/api/types.ts";
import { ENV_DEFAULT_REGION, ENV_PROMISE_NAME, ENV_TABLE_NAME_PREFIX } from "../core/kratix/env.ts";

export function platformDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformDefaults {
  const get = (k: string) => (env[k] ? env[k] : undefined);
  const defaultRegion = get(ENV_DEFAULT_REGION);
  const tableNamePrefix = get(ENV_TABLE_NAME_PREFIX);
  const promiseName = get(ENV_PROMISE_NAME);
  return {
    ...(defaultRegion ? { defaultRegion } : {}),
    ...(tableNamePrefix ? { tableNamePrefix } : {}),
    ...(promiseName ? { promiseName } : {}),
  };
}
