import * as pulumi from "@pulumi/pulumi";
import { configValue } from "../core/config/platform-config.ts";

/**
 * Reads every config value of the project as JSON where it parses (objects,
 * lists, booleans, numbers) and as a plain string otherwise, for the pure
 * parser in core/config/platform-config.ts.
 */
export function readConfig(project: string): Record<string, unknown> {
  const prefix = `${project}:`;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    out[key.slice(prefix.length)] = configValue(value);
  }
  return out;
}
