/** A stack whose AWS provider region differs from the platform's default region stops before anything is created. */
import assert from "node:assert/strict";
import { it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks } from "../helpers/pulumi-mocks.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

it("fails naming defaultRegion and aws:region, and registers nothing", async () => {
  const reg = await setupMocks(PROJECT);
  pulumi.runtime.setConfig(`${PROJECT}:defaultRegion`, "us-west-2");
  pulumi.runtime.setConfig("aws:region", "eu-west-1");
  await assert.rejects(import("../../index.ts"), (e: Error) => {
    assert.match(e.message, /kratix-dynamodb-platform:defaultRegion: is "us-west-2" but aws:region is "eu-west-1"/);
    return true;
  });
  assert.equal(reg.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0);
});
