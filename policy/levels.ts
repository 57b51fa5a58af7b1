/**
 * Apart from pack.ts, which registers the pack (and serves the engine) when imported, so
 * tests can read the levels without starting a policy server.
 */
import { existsSync, readFileSync } from "node:fs";
import type { EnforcementLevel } from "@pulumi/policy";

/**
 * The levels of the previewed stack's own file (stacks/<stack>.json), when it has one, as
 * the defaults: `pulumi preview --policy-pack policy` then judges each stack by its file
 * without naming it, a stack without a file is production (every rule mandatory), and
 * `--policy-pack-config` (or a policy group's config) still overrides. The engine gives
 * the pack the stack's name as the SDK's PULUMI_NODEJS_STACK.
 */
export function stackLevels(stack: string | undefined = process.env.PULUMI_NODEJS_STACK): Record<string, EnforcementLevel> {
  if (!stack || !/^[A-Za-z0-9_.-]+$/.test(stack)) return {};
  const file = new URL(`./stacks/${stack}.json`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, EnforcementLevel>) : {};
}
