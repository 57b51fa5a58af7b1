/**
 * The rendered admission guards (core/install/table-guard.ts): their shape, and their CEL
 * evaluated (with @marcbachmann/cel-js, plus Kubernetes' findAll) on every case of
 * test/admission/cases.ts, the list test/admission/table-guard.test.ts also sends to a real
 * API server. A rule no case breaks, or a refusal that comes from an evaluation error rather
 * than the rule saying no, fails here.
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import {
  ACK_TABLE_CRD_NAME,
  PROMISE_CRD_NAME,
  API_GUARD_NAME,
  REQUEST_CRD_NAME,
  TABLE_GUARD_NAME,
  POD_NAME_EXTRA,
  apiGuard,
  kratixPipelinePodPrefix,
  tableGuard,
} from "../../core/install/table-guard.ts";
import { DEFAULT_PROMISE_NAME } from "../../core/kratix/steps.ts";
import { admit, cel } from "../helpers/admission-cel.ts";
import { mergePatch } from "../helpers/merge-patch.ts";
import { API_CASES, EXISTING, GUARDS, NAMESPACE_OBJECTS, TABLE_CASES, ruleMessage, type Case } from "../admission/cases.ts";

type Policy = ReturnType<typeof tableGuard>["policy"] | ReturnType<typeof apiGuard>["policy"];

/** The admission request a case makes, as the policies see it. */
function contextOf(c: Case): { policy: Policy; context: Record<string, unknown> } {
  // As the API server builds it: an empty field (the subResource of a write to the object itself) is absent.
  const request = (operation: string, group: string, resource: string, subResource = "", namespace = "") => ({
    operation,
    ...(subResource ? { subResource } : {}),
    ...(namespace ? { namespace } : {}),
    userInfo: { username: c.as.user, groups: c.as.groups, ...(c.as.extra ? { extra: c.as.extra } : {}) },
    resource: { group, version: "v1", resource },
  });
  const tables = (operation: string, object: unknown, oldObject: unknown, namespace: string, sub = "") => ({
    policy: GUARDS.table.policy,
    context: {
      request: request(operation, "dynamodb.services.k8s.aws", "tables", sub, namespace),
      object,
      oldObject,
      namespaceObject: NAMESPACE_OBJECTS[namespace] ?? null,
    },
  });
  const op = c.op;
  switch (op.kind) {
    case "create": {
      const t = op.table as { metadata: { namespace: string } };
      return tables("CREATE", t, null, t.metadata.namespace);
    }
    case "patch":
    case "patchStatus": {
      const old = EXISTING[op.target];
      return tables("UPDATE", mergePatch(old, op.patch), old, old.metadata.namespace, op.kind === "patchStatus" ? "status" : "");
    }
    case "delete":
      return tables("DELETE", null, EXISTING[op.target], EXISTING[op.target].metadata.namespace);
    case "deletePromise":
      return {
        policy: GUARDS.api.policy,
        context: {
          request: request("DELETE", "platform.kratix.io", "promises"),
          object: null,
          oldObject: { metadata: { name: op.name } },
          namespaceObject: null,
        },
      };
    case "deleteCrd":
      return {
        policy: GUARDS.api.policy,
        context: {
          request: request("DELETE", "apiextensions.k8s.io", "customresourcedefinitions"),
          object: null,
          oldObject: { metadata: { name: op.name } },
          namespaceObject: null,
        },
      };
  }
}

describe("the table guard's shape", () => {
  const { policy, binding } = tableGuard({ tableNamePrefix: "dev-" });
  it("matches Tables and their status, on every write, failing closed, enforced by a Deny binding", () => {
    assert.equal(policy.metadata.name, TABLE_GUARD_NAME);
    assert.equal(policy.spec.failurePolicy, "Fail");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules, [
      {
        apiGroups: ["dynamodb.services.k8s.aws"],
        apiVersions: ["v1alpha1"],
        resources: ["tables", "tables/status"],
        operations: ["CREATE", "UPDATE", "DELETE"],
      },
    ]);
    assert.deepEqual(binding, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: TABLE_GUARD_NAME },
      spec: { policyName: TABLE_GUARD_NAME, validationActions: ["Deny"] },
    });
  });
  it("gives every rule its own message, naming what is refused, and the reason Forbidden (403)", () => {
    const messages = policy.spec.validations.map((v) => v.message);
    assert.equal(new Set(messages).size, messages.length);
    for (const v of policy.spec.validations) {
      assert.equal(v.reason, "Forbidden");
      assert.ok(v.message.length > 60, v.message);
    }
  });
  it("has the prefix rule only with a prefix, naming it", () => {
    assert.ok(policy.spec.validations.some((v) => v.message.includes(`"dev-"`) && v.expression.includes(`startsWith("dev-")`)));
    assert.equal(tableGuard().policy.spec.validations.length, policy.spec.validations.length - 1);
  });
  it("refuses settings that would lock everyone out or name nobody", () => {
    assert.throws(() => tableGuard({ writers: [] }), /writers is empty/);
    assert.throws(() => tableGuard({ controllers: [] }), /controllers is empty/);
    assert.throws(() => tableGuard({ deleters: [" "] }), /an empty username/);
    assert.throws(() => apiGuard({ breakGlassUsers: [""] }), /an empty username/);
  });
  it("quotes usernames and the prefix as CEL strings (no expression injection)", () => {
    const odd = tableGuard({ writers: [`a"b\\c`], tableNamePrefix: `x"y` }).policy;
    const ctx = { request: { operation: "CREATE", userInfo: { username: `a"b\\c` } } };
    const writers = odd.spec.variables.find((v) => v.name === "writers")!;
    assert.deepEqual(cel.evaluate(writers.expression, ctx), [`a"b\\c`]);
    assert.ok(odd.spec.validations.some((v) => v.expression.includes(`startsWith("x\\"y")`)));
  });
  it("the releaser is the Promise's delete pipeline in the Table's own namespace, or in the pipeline namespace when set; or break glass", () => {
    const isReleaser = (
      args: Parameters<typeof tableGuard>[0],
      user: string,
      namespace: string,
      pod = `${kratixPipelinePodPrefix(args?.promiseName)}r-${namespace}-report-delete-a1b2c-x9y8z`,
    ) => {
      const v = tableGuard(args).policy.spec.variables.find((x) => x.name === "isReleaser")!;
      const extra = { [POD_NAME_EXTRA]: [pod] };
      return cel.evaluate(v.expression, { request: { namespace, userInfo: { username: user, extra } }, variables: { user } });
    };
    const sa = (ns: string, name = "aws-dynamodb-kratix-resource-delete-report-delete") => `system:serviceaccount:${ns}:${name}`;
    assert.equal(isReleaser({}, sa("team-a"), "team-a"), true);
    assert.equal(isReleaser({}, sa("team-b"), "team-a"), false);
    assert.equal(isReleaser({}, sa("team-a", "aws-dynamodb-kratix-resource-configure-render-table"), "team-a"), false);
    assert.equal(isReleaser({ promiseName: "ddb" }, sa("team-a", "ddb-resource-delete-report-delete"), "team-a"), true);
    assert.equal(isReleaser({ promiseName: "ddb" }, sa("team-a"), "team-a"), false);
    const pipelines = { pipelineNamespace: "kratix-dynamodb-pipelines" };
    assert.equal(isReleaser(pipelines, sa("kratix-dynamodb-pipelines"), "team-a"), true);
    assert.equal(isReleaser(pipelines, sa("team-a"), "team-a"), false);
    assert.equal(isReleaser({ extraReleasers: ["ops"] }, "ops", "team-a"), true);
    assert.equal(isReleaser({}, "ops", "team-a"), false);
    // Only from a Kratix pipeline pod of the Promise.
    assert.equal(isReleaser({}, sa("team-a"), "team-a", "debug-shell"), false);
    assert.equal(isReleaser({ promiseName: "ddb" }, sa("team-a", "ddb-resource-delete-report-delete"), "team-a", "kratix-other-x"), false);
    assert.throws(() => tableGuard({ pruners: [""] }), /an empty username/);
    assert.throws(() => tableGuard({ pipelineNamespace: "" }), /an empty Promise or pipeline namespace/);
  });
  it("every expression parses", () => {
    const api = apiGuard().policy.spec;
    const expressions = [policy.spec.variables, policy.spec.validations, api.variables, api.validations, api.matchConditions].flat();
    for (const e of expressions) assert.doesNotThrow(() => cel.parse(e.expression), e.expression);
  });
});

describe("the API guard's shape", () => {
  const { policy, binding } = apiGuard({ breakGlassUsers: ["alice"] });
  it("matches deletions of Promises and CRDs, then by name in CEL (a deletecollection has no name to match on)", () => {
    assert.equal(policy.metadata.name, API_GUARD_NAME);
    assert.equal(policy.spec.failurePolicy, "Fail");
    for (const r of policy.spec.matchConstraints.resourceRules) {
      assert.deepEqual(r.operations, ["DELETE"]);
      assert.equal("resourceNames" in r, false);
    }
    const condition = policy.spec.matchConditions[0]!.expression;
    for (const name of [DEFAULT_PROMISE_NAME, PROMISE_CRD_NAME, REQUEST_CRD_NAME, ACK_TABLE_CRD_NAME])
      assert.ok(condition.includes(JSON.stringify(name)), name);
    assert.deepEqual(binding.spec, { policyName: API_GUARD_NAME, validationActions: ["Deny"] });
  });
  it("names the break-glass users in its messages, or says there are none", () => {
    assert.ok(policy.spec.validations.every((v) => v.message.includes("breakGlassUsers: alice")));
    assert.ok(apiGuard().policy.spec.validations.every((v) => v.message.includes("names no break-glass users")));
  });
  it("keeps another Promise name when told", () => {
    const other = apiGuard({ promiseName: "ddb" }).policy;
    assert.ok(other.spec.matchConditions[0]!.expression.includes(`oldObject.metadata.name == "ddb"`));
    assert.ok(other.spec.validations[0]!.message.startsWith("Deleting the Promise ddb is refused"));
  });
});

describe("the guards' CEL on every admission case (the same cases the API server gets)", () => {
  for (const c of [...TABLE_CASES, ...API_CASES]) {
    it(`${c.expect === "allowed" ? "allows" : `refuses (${c.expect})`}: ${c.name}`, () => {
      const { policy, context } = contextOf(c);
      const outcome = admit(policy, context);
      assert.deepEqual(outcome.errors, [], "a validation failed to evaluate");
      if (c.expect === "allowed") assert.deepEqual(outcome.refused, []);
      else {
        assert.ok(outcome.matched, "the policy did not match");
        assert.equal(outcome.refused[0], ruleMessage(c.expect), `refused by: ${outcome.refused.join(" | ")}`);
      }
    });
  }
  it("every rule of both guards is the first to refuse some case", () => {
    const refusing = new Set([...TABLE_CASES, ...API_CASES].map((c) => c.expect).filter((e) => e !== "allowed"));
    const messages = new Set([...refusing].map((r) => ruleMessage(r)));
    for (const v of [...GUARDS.table.policy.spec.validations, ...GUARDS.api.policy.spec.validations])
      assert.ok(messages.has(v.message), `no case is refused by: ${v.message}`);
  });
  it("every existing Table the cases aim at is one the guard would let Flux create, or one from before a rule", () => {
    for (const [name, t] of Object.entries(EXISTING)) {
      const outcome = admit(GUARDS.table.policy, {
        request: {
          operation: "CREATE",
          userInfo: { username: "system:serviceaccount:flux-system:kratix-dynamodb-applier" },
        },
        object: { ...t, metadata: { ...t.metadata, finalizers: undefined } },
        oldObject: null,
        namespaceObject: NAMESPACE_OBJECTS[t.metadata.namespace],
      });
      assert.deepEqual(outcome.errors, [], name);
      // legacy: no label, outside the prefix; keptB: approval withdrawn; the released: only the delete pipeline marks.
      const expected = name === "legacy" ? 2 : ["keptB", "released", "staleRelease", "releasedOld"].includes(name) ? 1 : 0;
      assert.equal(outcome.refused.length, expected, `${name}: ${outcome.refused.join(" | ")}`);
    }
  });
});
