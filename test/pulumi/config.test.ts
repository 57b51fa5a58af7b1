/**
 * Config values as Pulumi hands them to the program: always strings. Keys that
 * Pulumi.yaml declares as strings stay strings, even when they look like JSON
 * numbers (a real account id, a numeric prefix); the others are read as JSON.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { resolve, settle, setupMocks } from "../helpers/pulumi-mocks.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { CONFIG_TYPES, PROJECT, parsePlatformConfig } from "../../core/config/platform-config.ts";
import { readConfig } from "../../components/config.ts";
import { tableArgErrors } from "../../components/dynamodb-table.ts";

const set = (key: string, value: string) => pulumi.runtime.setConfig(`${PROJECT}:${key}`, value);
let program: Record<string, pulumi.Output<unknown>> | undefined;
let programError: Error | undefined;

before(async () => {
  await setupMocks(PROJECT);
  set("defaultRegion", "us-west-2");
  set("accountId", "123456789012");
  set("tableNamePrefix", "2024");
  set("waitForTables", "false");
  set("waitTimeoutMinutes", "30");
  set("install", JSON.stringify({ velaCore: true }));
  set(
    "tables",
    JSON.stringify([
      {
        name: "orders",
        table: {
          tableName: "orders",
          attributeDefinitions: [{ name: "id", type: "S" }],
          keySchema: [{ attributeName: "id", keyType: "HASH" }],
        },
      },
    ]),
  );
  try {
    program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
    await resolve(program.tableArns!);
  } catch (e) {
    programError = e as Error;
  }
  await settle();
});

describe("config values as Pulumi passes them (strings)", () => {
  it("keeps a 12-digit accountId and a numeric tableNamePrefix as strings, and reads the rest as JSON", () => {
    const raw = readConfig(PROJECT);
    assert.equal(raw.accountId, "123456789012");
    assert.equal(raw.tableNamePrefix, "2024");
    assert.equal(raw.waitForTables, false);
    assert.equal(raw.waitTimeoutMinutes, 30);
    assert.deepEqual(raw.install, { velaCore: true });
    const { config, errors } = parsePlatformConfig(raw, tableArgErrors);
    assert.deepEqual(errors, []);
    assert.equal(config.accountId, "123456789012");
  });
  it("the program computes the ARN with that account id", async () => {
    assert.equal(programError?.message, undefined);
    assert.deepEqual(await resolve(program!.tableArns!), { orders: "arn:aws:dynamodb:us-west-2:123456789012:table/2024orders" });
  });
  it("declares every key's type exactly as Pulumi.yaml does", () => {
    const project = parse(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type: string }> };
    assert.deepEqual(CONFIG_TYPES, Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, v.type])));
  });
});

describe("stateStore mode bucket (an S3-compatible server you run)", () => {
  const parseStore = (stateStore: unknown, stateStoreCredentials?: unknown) =>
    parsePlatformConfig(
      { defaultRegion: "us-west-2", tableNamePrefix: "dev-", stateStore, ...(stateStoreCredentials ? { stateStoreCredentials } : {}) },
      tableArgErrors,
    );
  const key = { accessKeyId: "id", secretAccessKey: "secret" };
  it("reads endpoint, bucket, insecure, interval and the Flux folder", () => {
    const { config, errors } = parseStore(
      { mode: "bucket", endpoint: "127.0.0.1:19000", bucketName: "kratix", insecure: true, interval: "5s", fluxFolder: "a/b" },
      key,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(config.stateStore, {
      mode: "bucket",
      endpoint: "127.0.0.1:19000",
      bucketName: "kratix",
      insecure: true,
      interval: "5s",
      fluxFolder: "a/b",
    });
  });
  it("names each missing or bad field, and the missing access key", () => {
    const { errors } = parseStore({ mode: "bucket", bucketName: "", insecure: "yes", interval: "soon" });
    assert.deepEqual(errors.map((e) => e.path).sort(), [
      `${PROJECT}:stateStore.bucketName`,
      `${PROJECT}:stateStore.endpoint`,
      `${PROJECT}:stateStore.insecure`,
      `${PROJECT}:stateStore.interval`,
      `${PROJECT}:stateStoreCredentials`,
    ]);
  });
});
