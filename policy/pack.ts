/**
 * The kratix-dynamodb policy pack: the rules of policy/rules.ts as @pulumi/policy
 * resource policies, each mandatory unless the stack's own file (policy/stacks/<stack>.json,
 * read by the pack itself) or its policy pack config (--policy-pack-config, a policy
 * group's config in Pulumi Cloud) says otherwise (docs/policy.md).
 */
import { PolicyPack, type ReportViolation, type ResourceValidationArgs, type ResourceValidationPolicy } from "@pulumi/policy";
import { RULES, type Rule } from "./rules.ts";
import { stackLevels } from "./levels.ts";

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
