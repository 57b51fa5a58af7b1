/** Platform defaults reach the pipeline as container environment variables set by the Promise. */
import { validatePlatformDefaults } from "../core/api/plan.ts";
import type { FieldError } from "../core/api/cross-field-rules.ts";
import type { PlatformDefaults } from "../core/api/types.ts";
import { ENV_ALLOWED_REGIONS, ENV_DEFAULT_REGION, ENV_PROMISE_NAME, ENV_TABLE_NAME_PREFIX } from "../core/kratix/env.ts";

export function platformDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformDefaults {
  const get = (k: string) => (env[k] ? env[k] : undefined);
  const defaultRegion = get(ENV_DEFAULT_REGION);
  const tableNamePrefix = get(ENV_TABLE_NAME_PREFIX);
  const promiseName = get(ENV_PROMISE_NAME);
  const allowedRegions = get(ENV_ALLOWED_REGIONS)
    ?.split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  return {
    ...(defaultRegion ? { defaultRegion } : {}),
    ...(tableNamePrefix ? { tableNamePrefix } : {}),
    ...(promiseName ? { promiseName } : {}),
    ...(allowedRegions ? { allowedRegions } : {}),
  };
}

/** Which environment variable carries each setting. */
const VARIABLES: Record<string, string> = {
  defaultRegion: ENV_DEFAULT_REGION,
  tableNamePrefix: ENV_TABLE_NAME_PREFIX,
  allowedRegions: ENV_ALLOWED_REGIONS,
};

/**
 * The platform's settings from the environment, checked with the API's own rules
 * (validatePlatformDefaults): problems name the environment variable, and `valid`
 * holds only the settings that passed.
 */
export function platformSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  defaults: PlatformDefaults;
  valid: PlatformDefaults;
  errors: FieldError[];
} {
  const defaults = platformDefaultsFromEnv(env);
  const errors = validatePlatformDefaults(defaults, "").map((e) => {
    const field = e.path.replace(/^\./, "").replace(/\[\d+\]$/, "");
    return { path: VARIABLES[field] ?? field, message: e.message };
  });
  const bad = new Set(errors.map((e) => e.path));
  const valid = Object.fromEntries(Object.entries(defaults).filter(([k]) => !bad.has(VARIABLES[k] ?? k))) as PlatformDefaults;
  return { defaults, valid, errors };
}
