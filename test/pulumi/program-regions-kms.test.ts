/**
 * Stack config that spans providers: the AWS provider's region must be the
 * platform's default region, and customer-managed KMS keys given in stack config
 * reach the ACK controller's IAM policy (and nothing else gets KMS).
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { settle, setupMocks } from "../helpers/pulumi-mocks.ts";
import { PROJECT, parsePlatformConfig, regionAgreementErrors } from "../../core/config/platform-config.ts";
import { tableArgErrors } from "../../core/api/table-args.ts";

const KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("regions, KMS keys and the table name prefix in stack config", () => {
  it("a stack that installs the ACK controller with its own IAM policy needs a table name prefix", () => {
    const none = parsePlatformConfig({ defaultRegion: "us-west-2" }, tableArgErrors);
    assert.deepEqual(
      none.errors.map((e) => e.path),
      [`${PROJECT}:tableNamePrefix`],
    );
    assert.match(none.errors[0]!.message, /covers only tables whose names start with it/);
    // Not when the controller is not installed, or its credentials (and policy) are someone else's.
    assert.deepEqual(parsePlatformConfig({ install: { ackController: false } }, tableArgErrors).errors, []);
    assert.deepEqual(parsePlatformConfig({ ackCredentials: { mode: "existingSecret", secretName: "s" } }, tableArgErrors).errors, []);
  });
  it("aws:region and defaultRegion must agree; the message names both", () => {
    assert.deepEqual(regionAgreementErrors(undefined, "us-west-2"), []);
    assert.deepEqual(regionAgreementErrors("us-west-2", "us-west-2"), []);
    const [e] = regionAgreementErrors("eu-west-1", "us-west-2");
    assert.equal(e!.path, `${PROJECT}:defaultRegion`);
    assert.match(e!.message, /"us-west-2" but aws:region is "eu-west-1"/);
  });
  it("kmsKeyArns takes KMS key ARNs and refuses anything else, naming the item", () => {
    const ok = parsePlatformConfig({ defaultRegion: "us-west-2", tableNamePrefix: "team-", kmsKeyArns: [KEY] }, tableArgErrors);
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.config.kmsKeyArns, [KEY]);
    const bad = parsePlatformConfig({ defaultRegion: "us-west-2", tableNamePrefix: "team-", kmsKeyArns: ["alias/my-key"] }, tableArgErrors);
    assert.equal(bad.errors[0]?.path, `${PROJECT}:kmsKeyArns[0]`);
    assert.match(bad.errors[0]!.message, /must be a KMS key ARN/);
  });
  it("the program grants KMS on exactly the configured keys", async () => {
    const reg = await setupMocks(PROJECT);
    pulumi.runtime.setConfig(`${PROJECT}:defaultRegion`, "us-west-2");
    pulumi.runtime.setConfig("aws:region", "us-west-2");
    pulumi.runtime.setConfig(`${PROJECT}:tableNamePrefix`, "team-");
    pulumi.runtime.setConfig(`${PROJECT}:kmsKeyArns`, JSON.stringify([KEY]));
    pulumi.runtime.setConfig(`${PROJECT}:waitForTables`, "false");
    await import("../../index.ts");
    await settle();
    const policies = reg.filter((r) => r.type === "aws:iam/policy:Policy");
    assert.equal(policies.length, 1);
    const doc = JSON.parse(String(policies[0]!.inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
    const kms = doc.Statement.filter((s) => s.Action.some((a) => a.startsWith("kms:")));
    assert.deepEqual(
      kms.flatMap((s) => s.Resource),
      [KEY],
    );
  });
});
