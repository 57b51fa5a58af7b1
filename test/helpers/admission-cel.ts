/**
 * A ValidatingAdmissionPolicy's CEL evaluated as the API server's admission does it, with
 * @marcbachmann/cel-js: match conditions first, then every validation, variables evaluated
 * lazily (the first time a validation reads them). Kubernetes' CEL libraries beyond standard
 * CEL are not here except findAll; a policy that needs another fails to evaluate, and the
 * outcome says so in `errors` (the API server would refuse with the error, not the rule).
 */
import { Environment } from "@marcbachmann/cel-js";

/** Kubernetes' regex library's findAll (Go RE2; the patterns used mean the same in JavaScript). */
export const cel = new Environment({ unlistedVariablesAreDyn: true }).registerFunction(
  "string.findAll(string): list<string>",
  (s: string, re: string) => [...s.matchAll(new RegExp(re, "g"))].map((m) => m[0]),
);

export interface CelPolicy {
  spec: {
    variables?: { name: string; expression: string }[];
    validations: { expression: string; message: string }[];
    matchConditions?: { name: string; expression: string }[];
  };
}

export interface Outcome {
  matched: boolean;
  /** The messages of the validations that said no, in the policy's order. */
  refused: string[];
  /** Validations whose evaluation failed. */
  errors: string[];
}

/** What admission does with one request (context: request, object, oldObject, namespaceObject). */
export function admit(policy: CelPolicy, context: Record<string, unknown>): Outcome {
  const variables: Record<string, unknown> = {};
  const cache = new Map<string, unknown>();
  for (const v of policy.spec.variables ?? [])
    Object.defineProperty(variables, v.name, {
      enumerable: true,
      get: () => {
        if (!cache.has(v.name)) cache.set(v.name, cel.evaluate(v.expression, { ...context, variables }));
        return cache.get(v.name);
      },
    });
  const ctx = { ...context, variables };
  if (!(policy.spec.matchConditions ?? []).every((c) => cel.evaluate(c.expression, ctx) === true))
    return { matched: false, refused: [], errors: [] };
  const refused: string[] = [];
  const errors: string[] = [];
  for (const v of policy.spec.validations) {
    try {
      if (cel.evaluate(v.expression, ctx) !== true) refused.push(v.message);
    } catch (e) {
      errors.push(`${v.message.slice(0, 60)}…: ${(e as Error).message}`);
    }
  }
  return { matched: true, refused, errors };
}
