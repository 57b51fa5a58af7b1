/**
 * The program (index.ts) as `pulumi preview` runs it on a stack with previous outputs: the
 * stack's own StackReference (test/helpers/pulumi-mocks.ts answers it with the previous update's
 * outputs) gives the platform identity the last update recorded, and a change of the prefix or
 * the state store's folder stops the program, naming the keys, before anything is registered,
 * unless allowPlatformMove acknowledges the new values. Each case runs the program afresh
 * (a module URL of its own) under fresh mocks.
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

/** A deployed stack's config: prefix team-, its state store's bucket and folder named. */
const CONFIG: Record<string, unknown> = {
  "aws:region": "us-west-2",
  defaultRegion: "us-west-2",
  tableNamePrefix: "team-",
  stateStore: { mode: "s3", bucketName: "team-kratix-state", path: "platform" },
  waitForTables: false,
  tables: [
    {
      name: "orders",
      table: {
        tableName: "orders",
        attributeDefinitions: [{ name: "id", type: "S" }],
        keySchema: [{ attributeName: "id", keyType: "HASH" }],
      },
    },
  ],
};
/** What the stack recorded at its last update with CONFIG (written out, not computed by the code under test). */
const RECORDED = {
  defaultRegion: "us-west-2",
  tableNamePrefix: "team-",
  "stateStore.mode": "s3",
  "stateStore.endpoint": "",
  "stateStore.bucketName": "team-kratix-state",
  "stateStore.path": "platform",
  "stateStore.kind": "",
  "stateStore.name": "",
};
/** The previous update's outputs, as the stack would hold them. */
const DEPLOYED = { tableArns: { orders: "arn:aws:dynamodb:us-west-2:111122223333:table/team-orders" }, platformIdentity: RECORDED };

let runs = 0;
/** The program as a preview runs it, with `config` over CONFIG and `previousOutputs` as the stack's last update left them. */
async function preview(
  previousOutputs: Record<string, unknown>,
  config: Record<string, unknown> = {},
): Promise<{ reg: Registration[]; program?: Record<string, unknown>; error?: Error }> {
  const reg = await setupMocks(PROJECT, { preview: true, previousOutputs });
  const all = { ...CONFIG, ...config };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(all).map(([k, v]) => [k.includes(":") ? k : `${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  );
  try {
    const program = (await import(`../../index.ts?preview=${++runs}`)) as Record<string, unknown>;
    await settle();
    return { reg, program };
  } catch (e) {
    await settle();
    return { reg, error: e as Error };
  }
}
const platformResources = (reg: Registration[]) => reg.filter((r) => r.type !== "pulumi:pulumi:Stack");
const registersThePlatform = (reg: Registration[]) =>
  assert.ok(
    reg.some((r) => r.type === "kubernetes:core.oam.dev/v1beta1:Application"),
    "the platform (its kratix-platform Application) was not registered",
  );

describe("pulumi preview on a stack whose platform identity was recorded", () => {
  it("a new stack (no previous outputs): passes, and records the identity as the stack output platformIdentity", async () => {
    const r = await preview({});
    assert.equal(r.error?.message, undefined);
    registersThePlatform(r.reg);
    assert.deepEqual(r.program!.platformIdentity, RECORDED);
  });

  it("the same prefix, region and state store as recorded: passes", async () => {
    const r = await preview(DEPLOYED);
    assert.equal(r.error?.message, undefined);
    registersThePlatform(r.reg);
    assert.deepEqual(r.program!.platformIdentity, RECORDED);
  });

  it("another tableNamePrefix and stateStore.path: fails naming each key with its old and new value and how to acknowledge, registering nothing", async () => {
    const r = await preview(DEPLOYED, {
      tableNamePrefix: "teams-",
      stateStore: { mode: "s3", bucketName: "team-kratix-state", path: "platform-b" },
    });
    assert.ok(r.error, "the preview passed");
    assert.match(r.error.message, /kratix-dynamodb-platform:tableNamePrefix: was "team-" at this stack's last update, now "teams-"/);
    assert.match(
      r.error.message,
      /kratix-dynamodb-platform:stateStore\.path: was "platform" at this stack's last update, now "platform-b"/,
    );
    assert.doesNotMatch(r.error.message, /:defaultRegion:|stateStore\.bucketName:/);
    assert.match(
      r.error.message,
      /pulumi config set --type string --path kratix-dynamodb-platform:allowPlatformMove\.tableNamePrefix teams-/,
    );
    assert.match(
      r.error.message,
      /pulumi config set --type string --path kratix-dynamodb-platform:allowPlatformMove\.stateStore\.path platform-b/,
    );
    assert.deepEqual(platformResources(r.reg), []);
  });

  it("another defaultRegion (and aws:region): fails naming defaultRegion", async () => {
    const r = await preview(DEPLOYED, { "aws:region": "eu-west-1", defaultRegion: "eu-west-1" });
    assert.match(
      r.error?.message ?? "",
      /kratix-dynamodb-platform:defaultRegion: was "us-west-2" at this stack's last update, now "eu-west-1"/,
    );
    assert.deepEqual(platformResources(r.reg), []);
  });

  it("the same change with allowPlatformMove naming both new values: passes, and records the new identity", async () => {
    const r = await preview(DEPLOYED, {
      tableNamePrefix: "teams-",
      stateStore: { mode: "s3", bucketName: "team-kratix-state", path: "platform-b" },
      allowPlatformMove: { tableNamePrefix: "teams-", stateStore: { path: "platform-b" } },
    });
    assert.equal(r.error?.message, undefined);
    registersThePlatform(r.reg);
    assert.deepEqual(r.program!.platformIdentity, { ...RECORDED, tableNamePrefix: "teams-", "stateStore.path": "platform-b" });
  });

  it("allowPlatformMove naming one of the two keys: still fails, naming the other", async () => {
    const r = await preview(DEPLOYED, {
      tableNamePrefix: "teams-",
      stateStore: { mode: "s3", bucketName: "team-kratix-state", path: "platform-b" },
      allowPlatformMove: { tableNamePrefix: "teams-" },
    });
    assert.match(r.error?.message ?? "", /kratix-dynamodb-platform:stateStore\.path: was "platform"/);
    assert.doesNotMatch(r.error!.message, /:tableNamePrefix: was/);
    assert.deepEqual(platformResources(r.reg), []);
  });

  it("a stack updated before the identity was recorded (outputs, no platformIdentity): passes, and records it", async () => {
    const r = await preview({ tableArns: DEPLOYED.tableArns }, { tableNamePrefix: "teams-" });
    assert.equal(r.error?.message, undefined);
    registersThePlatform(r.reg);
    assert.equal((r.program!.platformIdentity as Record<string, string>).tableNamePrefix, "teams-");
  });
});
