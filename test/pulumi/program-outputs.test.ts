/**
 * The stack outputs of the tables, with request names unlike their table names, two regions
 * and two namespaces (which Pulumi.dev.yaml cannot show): each output is keyed by the request's
 * name and holds what the chain reported for that request's table (test/helpers/chain-mocks.ts).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { resolve, settle, type Registration } from "../helpers/pulumi-mocks.ts";
import { TABLE_ACCOUNT, setupChainMocks } from "../helpers/chain-mocks.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

const table = (tableName: string, more: Record<string, unknown> = {}) => ({
  tableName,
  attributeDefinitions: [{ name: "id", type: "S" }],
  keySchema: [{ attributeName: "id", keyType: "HASH" }],
  ...more,
});

let reg: Registration[];
let program: Record<string, pulumi.Output<unknown>>;

before(async () => {
  reg = await setupChainMocks(PROJECT);
  const config: Record<string, unknown> = {
    "aws:region": "us-west-2",
    [`${PROJECT}:defaultRegion`]: "us-west-2",
    [`${PROJECT}:ackAllowedRegions`]: ["us-west-2", "eu-west-1"],
    [`${PROJECT}:tableNamePrefix`]: "team-a-",
    [`${PROJECT}:tables`]: [
      { name: "sessions", table: table("user-sessions", { region: "eu-west-1" }) },
      { name: "orders-v2", namespace: "shop", table: table("orders") },
      { name: "orders", table: table("orders-archive") },
    ],
  };
  for (const [k, v] of Object.entries(config)) pulumi.runtime.setConfig(k, typeof v === "string" ? v : JSON.stringify(v));
  program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
  await resolve(program.tableArns!);
  await settle();
});

describe("the tables' stack outputs", () => {
  it("one DynamoDBRequest per table, named after the request, in its namespace", () => {
    const requests = reg.filter((r) => r.type === "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest");
    assert.deepEqual(
      requests
        .map((r) => `${(r.inputs.metadata as { namespace: string }).namespace}/${(r.inputs.metadata as { name: string }).name}`)
        .sort(),
      ["default/orders", "default/sessions", "shop/orders-v2"],
    );
  });
  it("tableArns: keyed by request name, each the ARN the chain reported for that request's table", async () => {
    assert.deepEqual(await resolve(program.tableArns!), {
      sessions: `arn:aws:dynamodb:eu-west-1:${TABLE_ACCOUNT}:table/team-a-user-sessions`,
      "orders-v2": `arn:aws:dynamodb:us-west-2:${TABLE_ACCOUNT}:table/team-a-orders`,
      orders: `arn:aws:dynamodb:us-west-2:${TABLE_ACCOUNT}:table/team-a-orders-archive`,
    });
    assert.deepEqual(await resolve(program.tableArnSources!), { sessions: "status", "orders-v2": "status", orders: "status" });
  });
  it("tableNames: keyed by request name, each its table's name with the platform prefix", async () => {
    assert.deepEqual(await resolve(program.tableNames!), {
      sessions: "team-a-user-sessions",
      "orders-v2": "team-a-orders",
      orders: "team-a-orders-archive",
    });
  });
});
