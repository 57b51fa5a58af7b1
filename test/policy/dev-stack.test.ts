/**
 * The dev stack (Pulumi.dev.yaml, an EKS stack no test can preview here) against the policy
 * pack: the program's registrations under Pulumi's mocks, judged by every rule at the levels
 * policy/stacks/dev.json gives, as the engine would (a rule at disabled is not run, an
 * advisory one does not fail). With its config the stack passes; as a production stack (no
 * config) it fails on exactly what makes it a dev stack. The local stack runs for real in
 * test/e2e/policy-pack.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { resolve, settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { PROJECT } from "../../core/config/platform-config.ts";
import { RULES } from "../../policy/rules.ts";

let reg: Registration[];
before(async () => {
  reg = await setupMocks(PROJECT, { preview: true });
  const stack = parse(readFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  for (const [k, v] of Object.entries(stack.config)) pulumi.runtime.setConfig(k, typeof v === "string" ? v : JSON.stringify(v));
  const program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
  await resolve(program.promiseName!);
  await settle();
});

/** The violations of the program's registrations, by level, under a pack config (policy name → level). */
function judge(config: Record<string, string>) {
  const out: Record<"mandatory" | "advisory", string[]> = { mandatory: [], advisory: [] };
  for (const rule of RULES) {
    const level = config[rule.name] ?? "mandatory";
    if (level === "disabled") continue;
    for (const r of reg) {
      for (const message of rule.check({ type: r.type, urn: r.urn!, props: r.inputs }))
        out[level as "mandatory" | "advisory"].push(`${rule.name}: ${message}`);
    }
  }
  return out;
}
const devConfig = JSON.parse(readFileSync(join(REPO_ROOT, "policy", "stacks", "dev.json"), "utf8")) as Record<string, string>;

describe("the dev stack under the policy pack", () => {
  it("registers what the rules read: the Application with the Promise and its example table, the requests", () => {
    const types = new Set(reg.map((r) => r.type));
    for (const t of [
      "kubernetes:core.oam.dev/v1beta1:Application",
      "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest",
      "kubernetes:helm.sh/v4:Chart",
    ]) {
      assert.ok(types.has(t), t);
    }
  });
  it("passes with policy/stacks/dev.json, the pipeline image by tag advised", () => {
    const v = judge(devConfig);
    assert.deepEqual(v.mandatory, []);
    assert.deepEqual(
      v.advisory.map((m) => m.split(":")[0]),
      ["pipeline-image-pinned-by-digest"],
    );
  });
  it("fails as a production stack on what makes it dev: unprotected tables and the image by tag, nothing else", () => {
    const v = judge({});
    assert.deepEqual(v.advisory, []);
    assert.deepEqual(v.mandatory.map((m) => m.replace(/ \(resource\.configure.*$/, "")).sort(), [
      "dynamodb-deletion-protection: Application dynamodb-platform/kratix-platform component example-dynamodb-table (table kratix-platform-example): deletionProtection is not true in a production stack",
      "dynamodb-deletion-protection: DynamoDBRequest default/user-sessions (table user-sessions): deletionProtection is not true in a production stack",
      "pipeline-image-pinned-by-digest: Application dynamodb-platform/kratix-platform component dynamodb-promise (Promise aws-dynamodb-kratix): image kratix-dynamodb-pipeline:0.1.0 is not pinned by digest",
    ]);
  });
});
