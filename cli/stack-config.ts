/**
 * Reads a stack's config the way `pulumi` would hand it to the program, for
 * tools that run without the engine (render, local): Pulumi.<stack>.yaml's
 * values for this project; Pulumi.yaml's defaults are applied by the parser.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT, configValue, parsePlatformConfig, type PlatformConfig } from "../core/config/platform-config.ts";
import { tableArgErrors } from "../components/dynamodb-table.ts";
import { formatErrors } from "../core/api/validate.ts";

export function loadStackConfig(root: string, stack: string): PlatformConfig {
  const file = join(root, `Pulumi.${stack}.yaml`);
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const raw = Object.fromEntries(
    Object.entries(doc.config ?? {})
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => {
        const key = k.slice(PROJECT.length + 1);
        return [key, configValue(key, v)];
      }),
  );
  const { config, errors } = parsePlatformConfig(raw, tableArgErrors);
  if (errors.length) throw new Error(`${file} is invalid:\n${formatErrors(errors)}`);
  return config;
}
