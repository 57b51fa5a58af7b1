import * as pulumi from "@pulumi/pulumi";
import { configValue } from "../core/config/platform-config.ts";

/**
 * Reads every config value of the project for the pure parser in
 * core/config/platform-config.ts: keys Pulumi.yaml declares as strings as the
 * strings they are (an account id such as 123456789012 is not a number), the
 * others as JSON where it parses (objects, lists, booleans, numbers) and as a
 * plain string otherwise.
 */
export function readConfig(project: string): Record<string, unknown> {
  const prefix = `${project}:`;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    out[name] = configValue(name, value);
  }
  return out;
}
