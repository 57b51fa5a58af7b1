/**
 * The project's two ComponentDefinitions, read from definitions/components/.
 * The .cue files are the single source; this module only loads them.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseVelaDefinition, renderComponentDefinition, VELA_SYSTEM_NAMESPACE, type ParsedVelaDefinition } from "./vela-def.ts";

export const PROMISE_DEPLOYER_DEFINITION = "kratix-promise-deployer";
export const DYNAMODB_DEFINITION = "aws-dynamodb-kratix";

/** definitions/components/<name>.cue, found from this module whether run from source or from a package. */
export function definitionFile(name: string): string {
  return fileURLToPath(new URL(`../../definitions/components/${name}.cue`, import.meta.url));
}

const cache = new Map<string, ParsedVelaDefinition>();
export function loadDefinition(name: string): ParsedVelaDefinition {
  let def = cache.get(name);
  if (!def) {
    const file = definitionFile(name);
    def = parseVelaDefinition(readFileSync(file, "utf8"), file);
    cache.set(name, def);
  }
  return def;
}

/** Both ComponentDefinition objects, ready to apply. */
export function componentDefinitions(namespace = VELA_SYSTEM_NAMESPACE) {
  return [PROMISE_DEPLOYER_DEFINITION, DYNAMODB_DEFINITION].map((n) => renderComponentDefinition(loadDefinition(n), namespace));
}

/**
 * A short digest of the definitions' templates, part of the Application's
 * app.oam.dev/publishVersion, so that changing a definition re-renders the
 * Application (KubeVela does not do so on its own: kubevela#6584).
 */
export function definitionsDigest(): string {
  const h = createHash("sha256");
  for (const n of [PROMISE_DEPLOYER_DEFINITION, DYNAMODB_DEFINITION]) h.update(loadDefinition(n).template);
  return h.digest("hex").slice(0, 12);
}
