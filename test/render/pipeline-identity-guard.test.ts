/**
 * The rendered pipeline identity guard (core/install/pipeline-identity-guard.ts): its shape,
 * the service accounts it guards (the Promise's pipelines, as Kratix names them), and its CEL
 * evaluated with cel-js on every case of test/admission/pipeline-identity-cases.ts, the list
 * test/admission/pipeline-identity-guard.test.ts also sends to a real API server. A rule no
 * case breaks, or a refusal that comes from an evaluation error, fails here.
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import {
  PIPELINE_IDENTITY_GUARD_NAMES,
  PIPELINE_IDENTITY_RULE_GUARD,
  kratixPipelinePodPrefix,
  pipelineIdentityGuards,
  pipelineServiceAccounts,
  type PipelineIdentityGuard,
} from "../../core/install/pipeline-identity-guard.ts";
import { DEFAULT_PROMISE_NAME } from "../../core/kratix/steps.ts";
import { renderPromise } from "../../core/render/promise.ts";
import { admit, cel } from "../helpers/admission-cel.ts";
import {
  CASES,
  EPHEMERAL_CONTAINER,
  EXISTING,
  GUARDS,
  RESOURCES,
  ruleMessage,
  resourceOf,
  type Case,
} from "../admission/pipeline-identity-cases.ts";
import { mergePatch } from "../helpers/merge-patch.ts";

type Obj = Record<string, unknown>;
const clone = <T>(o: T): T => structuredClone(o);

/**
 * The object as admission sees it: the API server converts v1's deprecated
 * `spec.serviceAccount` into serviceAccountName (k8s pkg/apis/core/v1/conversion.go), and
 * the ServiceAccount admission plugin (mutating, before validation) names `default` on a pod
 * that names none.
 */
function asServerSees(o: Obj): Obj {
  const out = clone(o);
  const alias = (spec: Obj | undefined) => {
    if (spec && !spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  };
  const spec = out.spec as Obj | undefined;
  if (out.kind === "Pod") {
    alias(spec);
    if (spec && !spec.serviceAccountName) spec.serviceAccountName = "default";
  }
  if (out.kind === "Job") alias(((spec?.template as Obj)?.spec as Obj) ?? undefined);
  if (out.kind === "CronJob") alias((((spec?.jobTemplate as Obj)?.spec as Obj)?.template as Obj)?.spec as Obj);
  return out;
}

interface Request {
  operation: string;
  group: string;
  resource: string;
  sub?: string;
  namespace: string;
  name: string;
}

/** The admission request a case makes: request, object, oldObject. */
function contextOf(c: Case): { req: Request; context: Obj } {
  const op = c.op;
  const existing = (target: keyof typeof EXISTING) => asServerSees(EXISTING[target] as Obj);
  const metaOf = (o: Obj) => o.metadata as { name: string; namespace: string };
  const build = (req: Request, object: unknown, oldObject: unknown) => ({
    req,
    context: {
      request: {
        operation: req.operation,
        ...(req.sub ? { subResource: req.sub } : {}),
        namespace: req.namespace,
        name: req.name,
        // As the API server builds it: an empty field (no extras) is absent.
        userInfo: { username: c.as.user, groups: c.as.groups, ...(c.as.extra ? { extra: c.as.extra } : {}) },
        resource: { group: req.group, version: "v1", resource: req.resource },
      },
      object,
      oldObject,
      namespaceObject: null,
    },
  });
  const on = (o: Obj, operation: string, sub?: string): Request => {
    const r = resourceOf(String(o.kind));
    return {
      operation,
      group: RESOURCES[r].group,
      resource: r,
      ...(sub ? { sub } : {}),
      namespace: metaOf(o).namespace,
      name: metaOf(o).name,
    };
  };
  switch (op.kind) {
    case "create": {
      const o = asServerSees(op.object);
      return build(on(o, "CREATE"), o, null);
    }
    case "merge": {
      const old = existing(op.target);
      return build(on(old, "UPDATE"), mergePatch(old, op.patch), old);
    }
    case "image": {
      const old = existing(op.target);
      const next = clone(old);
      const list = (next.spec as Obj)[op.list] as { name: string; image: string }[];
      list.find((x) => x.name === op.container)!.image = op.image;
      return build(on(old, "UPDATE"), next, old);
    }
    case "ephemeral": {
      const old = existing(op.target);
      const next = clone(old);
      (next.spec as Obj).ephemeralContainers = [EPHEMERAL_CONTAINER];
      return build(on(old, "UPDATE", "ephemeralcontainers"), next, old);
    }
    case "delete": {
      const old = existing(op.target);
      return build(on(old, "DELETE"), null, old);
    }
    case "connect":
      return build(
        { operation: "CONNECT", group: "", resource: "pods", sub: op.sub, namespace: "team-a", name: op.pod },
        { apiVersion: "v1", kind: op.sub === "exec" ? "PodExecOptions" : "PodAttachOptions", stdout: true, command: ["true"] },
        null,
      );
    case "token":
      return build(
        { operation: "CREATE", group: "", resource: "serviceaccounts", sub: "token", namespace: "team-a", name: op.serviceAccount },
        {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { ...(op.boundPod ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: op.boundPod } } : {}) },
        },
        null,
      );
  }
}

/** Whether a policy's resourceRules match the request (groups, resource/subresource, operation; versions by equivalence). */
function matches(g: PipelineIdentityGuard, req: Request): boolean {
  const resource = req.sub ? `${req.resource}/${req.sub}` : req.resource;
  return g.policy.spec.matchConstraints.resourceRules.some(
    (r) => r.apiGroups.includes(req.group) && r.resources.includes(resource) && r.operations.includes(req.operation),
  );
}

/** Every guard that matches the request, evaluated: the refusals in the guards' order. */
function evaluate(c: Case) {
  const { req, context } = contextOf(c);
  const matched = Object.entries(GUARDS).filter(([, g]) => matches(g, req));
  const outcomes = matched.map(([key, g]) => ({ key, ...admit(g.policy, context) }));
  return { matched: matched.map(([key]) => key), refused: outcomes.flatMap((o) => o.refused), errors: outcomes.flatMap((o) => o.errors) };
}

const sasOf = (g: PipelineIdentityGuard) => cel.evaluate(g.policy.spec.variables.find((v) => v.name === "sas")!.expression, {});

describe("the pipeline identity guard's shape", () => {
  const guards = pipelineIdentityGuards();
  it("is one policy per kind, each failing closed, enforced by a Deny binding of its own name", () => {
    assert.deepEqual(Object.keys(guards), Object.keys(PIPELINE_IDENTITY_GUARD_NAMES));
    for (const [key, g] of Object.entries(guards)) {
      const name = PIPELINE_IDENTITY_GUARD_NAMES[key as keyof typeof PIPELINE_IDENTITY_GUARD_NAMES];
      assert.equal(g.policy.metadata.name, name);
      assert.equal(g.policy.spec.failurePolicy, "Fail");
      assert.deepEqual(g.binding, {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name },
        spec: { policyName: name, validationActions: ["Deny"] },
      });
    }
  });
  it('names its API versions (a rule matching apiVersions "*" is not type-checked) and matches the others by equivalence', () => {
    for (const g of Object.values(guards)) {
      assert.equal(g.policy.spec.matchConstraints.matchPolicy, "Equivalent");
      for (const r of g.policy.spec.matchConstraints.resourceRules) {
        assert.ok(!r.apiVersions.some((v) => v.includes("*")), JSON.stringify(r));
        assert.ok(!r.apiGroups.some((v) => v.includes("*")), JSON.stringify(r));
      }
    }
    const kinds = (g: PipelineIdentityGuard) =>
      new Set(g.policy.spec.matchConstraints.resourceRules.flatMap((r) => r.resources.filter((x) => !x.includes("/"))));
    // One kind each: the API server type-checks every expression against every kind its policy matches.
    for (const g of Object.values(guards)) assert.equal(kinds(g).size, 1, g.policy.metadata.name);
  });
  it("guards exactly the service accounts of the Promise's pipelines, named as Kratix names them", () => {
    for (const promiseName of [DEFAULT_PROMISE_NAME, "ddb"]) {
      const { resource } = renderPromise({ name: promiseName, pipelineImage: "x" }).spec.workflows;
      const expected = Object.entries(resource).flatMap(([action, pipelines]) =>
        (pipelines as { metadata: { name: string } }[]).map((p) => `${promiseName}-resource-${action}-${p.metadata.name}`),
      );
      assert.deepEqual(pipelineServiceAccounts(promiseName), expected);
      for (const g of Object.values(pipelineIdentityGuards({ promiseName })))
        if (g.policy.spec.variables.some((v) => v.name === "sas")) assert.deepEqual(sasOf(g), expected, g.policy.metadata.name);
    }
    // The names the research verified with Kratix 224e148's own functions.
    assert.deepEqual(pipelineServiceAccounts(), [
      "aws-dynamodb-kratix-resource-configure-render-table",
      "aws-dynamodb-kratix-resource-configure-table-status",
      "aws-dynamodb-kratix-resource-delete-report-delete",
    ]);
  });
  it("knows Kratix's pipeline pods by the prefix of their names, and refuses a Promise name that Kratix would cut", () => {
    assert.equal(kratixPipelinePodPrefix(), "kratix-aws-dynamodb-kratix-");
    const pods = JSON.stringify(guards.pods.policy.spec.validations);
    const works = JSON.stringify(guards.works.policy.spec.variables);
    for (const text of [pods, works]) assert.ok(text.includes("kratix-aws-dynamodb-kratix-"), text);
    assert.throws(() => kratixPipelinePodPrefix("p".repeat(49)), /Kratix would cut/);
  });
  it("gives every rule its own message, naming what is refused, and the reason Forbidden (403)", () => {
    const all = Object.values(guards).flatMap((g) => g.policy.spec.validations);
    const messages = all.map((v) => v.message);
    assert.equal(new Set(messages).size, messages.length);
    for (const v of all) {
      assert.equal(v.reason, "Forbidden");
      assert.ok(v.message.length > 60, v.message);
    }
    assert.equal(all.length, Object.keys(PIPELINE_IDENTITY_RULE_GUARD).length);
  });
  it("names the break-glass users where they are exempt (exec, attach, ephemeral containers), or says there are none", () => {
    const named = pipelineIdentityGuards({ breakGlassUsers: ["alice"] }).pods.policy.spec.validations;
    assert.equal(named.filter((v) => v.message.includes("breakGlassUsers: alice")).length, 2);
    assert.equal(guards.pods.policy.spec.validations.filter((v) => v.message.includes("names no break-glass users")).length, 2);
    assert.throws(() => pipelineIdentityGuards({ breakGlassUsers: [" "] }), /an empty username/);
  });
  it("takes other job controllers and Job creators (a control plane that authenticates otherwise), and refuses none", () => {
    const other = pipelineIdentityGuards({ jobControllers: ["kcm"], jobCreators: ["kratix"] });
    const variable = (g: PipelineIdentityGuard, name: string) =>
      cel.evaluate(g.policy.spec.variables.find((v) => v.name === name)!.expression, {});
    assert.deepEqual(variable(other.pods, "jobControllers"), ["kcm"]);
    assert.deepEqual(variable(other.jobs, "creators"), ["kratix"]);
    assert.ok(other.pods.policy.spec.validations[0]!.message.includes("(kcm)"));
    assert.deepEqual(variable(guards.pods, "jobControllers"), [
      "system:kube-controller-manager",
      "system:serviceaccount:kube-system:job-controller",
    ]);
    assert.deepEqual(variable(guards.jobs, "creators"), [
      "system:serviceaccount:kratix-platform-system:kratix-platform-controller-manager",
    ]);
    assert.throws(() => pipelineIdentityGuards({ jobControllers: [] }), /could never run/);
    assert.throws(() => pipelineIdentityGuards({ jobCreators: [] }), /could never run/);
    assert.throws(() => pipelineIdentityGuards({ jobCreators: [""] }), /an empty username/);
  });
  it("quotes usernames as CEL strings (no expression injection)", () => {
    const odd = pipelineIdentityGuards({ breakGlassUsers: [`a"b\\c`] }).pods.policy;
    const v = odd.spec.variables.find((x) => x.name === "breakGlass")!;
    assert.deepEqual(cel.evaluate(v.expression, {}), [`a"b\\c`]);
  });
  it("every expression parses", () => {
    for (const g of Object.values(guards))
      for (const e of [...g.policy.spec.variables, ...g.policy.spec.validations])
        assert.doesNotThrow(() => cel.parse(e.expression), e.expression);
  });
});

describe("the pipeline identity guard's CEL on every admission case (the same cases the API server gets)", () => {
  for (const c of CASES) {
    it(`${c.expect === "allowed" ? "allows" : `refuses (${c.expect})`}: ${c.name}`, () => {
      const outcome = evaluate(c);
      assert.deepEqual(outcome.errors, [], "a validation failed to evaluate");
      if (c.expect === "allowed") assert.deepEqual(outcome.refused, []);
      else {
        assert.ok(
          outcome.matched.includes(PIPELINE_IDENTITY_RULE_GUARD[c.expect]),
          `not matched by ${PIPELINE_IDENTITY_RULE_GUARD[c.expect]}`,
        );
        assert.equal(outcome.refused[0], ruleMessage(c.expect), `refused by: ${outcome.refused.join(" | ")}`);
      }
    });
  }
  it("every rule is the first to refuse some case", () => {
    const refusing = new Set(CASES.map((c) => c.expect).filter((e) => e !== "allowed"));
    for (const rule of Object.keys(PIPELINE_IDENTITY_RULE_GUARD)) assert.ok(refusing.has(rule as never), `no case is refused by ${rule}`);
  });
  it("every case is matched by some guard (none is admitted only because nothing looked)", () => {
    for (const c of CASES) assert.ok(evaluate(c).matched.length > 0, c.name);
  });
});
