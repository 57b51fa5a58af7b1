/**
 * The kratix-dynamodb policy pack: the rules of policy/rules.ts as @pulumi/policy
 * resource policies, each mandatory unless the stack's own file (policy/stacks/<stack>.json,
 * read by the pack itself) or its policy pack config (--policy-pack-config, a policy
 * group's config in Pulumi Cloud) says otherwise (docs/policy.md).
 */
import { existsSync, readFileSync } from "node:fs";
import {
  PolicyPack,
  type EnforcementLevel,
  type ReportViolation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
} from "@pulumi/policy";
import { RULES, type Rule } from "./rules.ts";

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
const levels = stackLevels();

/**
 * The inputs as the engine sent them. @pulumi/policy hands a validation its props behind
 * a proxy that throws when a value is unknown (preview), which would skip the whole
 * resource for one unknown field. The rules know Pulumi's unknown markers and judge
 * what is known; `pulumi up` runs them again once everything is. (The proxy traps
 * only `get`: a property's descriptor is the plain value.)
 */
function engineProps(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(props).map((k) => [k, Object.getOwnPropertyDescriptor(props, k)?.value]));
}

const policy = (rule: Rule): ResourceValidationPolicy => ({
  name: rule.name,
  description: rule.description,
  severity: rule.severity,
  remediationSteps: rule.remediation,
  enforcementLevel: levels[rule.name] ?? "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    for (const message of rule.check({ type: args.type, urn: args.urn, props: engineProps(args.props) })) report(message);
  },
});

new PolicyPack("kratix-dynamodb", {
  description:
    "Guardrails for the self-service DynamoDB platform: tables kept and protected, a pinned pipeline, role-based AWS credentials, no plaintext credentials.",
  enforcementLevel: "mandatory",
  policies: RULES.map(policy),
});
