/** A bad table in stack config stops the program, naming the config key, before any resource exists. */
import assert from "node:assert/strict";
import { it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks } from "../helpers/pulumi-mocks.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

it("fails with the config key of the bad field, and registers nothing", async () => {
  const reg = await setupMocks(PROJECT);
  pulumi.runtime.setConfig(`${PROJECT}:defaultRegion`, "us-west-2");
  pulumi.runtime.setConfig(
    `${PROJECT}:tables`,
    JSON.stringify([
      {
        name: "ok",
        table: {
          tableName: "fine",
          attributeDefinitions: [{ name: "id", type: "S" }],
          keySchema: [{ attributeName: "id", keyType: "HASH" }],
        },
      },
      {
        name: "orders",
        table: {
          tableName: "orders",
          attributeDefinitions: [{ name: "id", type: "S" }],
          keySchema: [{ attributeName: "id", keyType: "PARTITION" }],
        },
      },
    ]),
  );
  pulumi.runtime.setConfig(`${PROJECT}:waitTimeoutMinutes`, "0");
  await assert.rejects(import("../../index.ts"), (e: Error) => {
    assert.match(
      e.message,
      /kratix-dynamodb-platform:tables\[1\]\.table\.keySchema\[0\]\.keyType: must be one of HASH, RANGE \(got "PARTITION"\)/,
    );
    assert.match(e.message, /kratix-dynamodb-platform:waitTimeoutMinutes: must be a whole number >= 1/);
    return true;
  });
  assert.equal(reg.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0);
});
