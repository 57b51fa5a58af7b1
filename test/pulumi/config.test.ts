/**
 * Config values as Pulumi hands them to the program: always strings. Keys that
 * Pulumi.yaml declares as strings stay strings, even when they look like JSON
 * numbers (a real account id, a numeric prefix); the others are read as JSON.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { resolve, settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { PROJECT, configValue, parsePlatformConfig } from "../../core/config/platform-config.ts";
import { INSTALL_DEFAULTS, StackConfigSchema, configDefaults } from "../../core/config/schema.ts";
import { readConfig } from "../../components/config.ts";
import { tableArgErrors } from "../../core/api/table-args.ts";

const set = (key: string, value: string) => pulumi.runtime.setConfig(`${PROJECT}:${key}`, value);
let program: Record<string, pulumi.Output<unknown>> | undefined;
let programError: Error | undefined;
let reg: Registration[];

before(async () => {
  reg = await setupMocks(PROJECT);
  set("defaultRegion", "us-west-2");
  set("accountId", "123456789012");
  set("tableNamePrefix", "2024");
  set("waitForTables", "false");
  set("waitTimeoutMinutes", "30");
  set("install", JSON.stringify({ velaCore: true }));
  set("breakGlassUsers", JSON.stringify(["alice@example.com", "arn:aws:iam::123456789012:role/BreakGlass"]));
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
});

describe("breakGlassUsers", () => {
  it("reaches the admission guard that keeps the Promise and the CRDs, as the only usernames it lets delete them", () => {
    assert.equal(programError?.message, undefined);
    const policy = reg.find(
      (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy" && r.name.endsWith("-api-guard"),
    );
    const variables = (policy?.inputs.spec as { variables: { name: string; expression: string }[] } | undefined)?.variables ?? [];
    assert.equal(
      variables.find((v) => v.name === "breakGlass")?.expression,
      '["alice@example.com", "arn:aws:iam::123456789012:role/BreakGlass"]',
    );
  });
  it("is a list of non-empty usernames, none by default", () => {
    const parse = (raw: Record<string, unknown>) => parsePlatformConfig({ tableNamePrefix: "dev-", ...raw }, tableArgErrors);
    assert.equal(parse({}).config.breakGlassUsers, undefined);
    assert.deepEqual(parse({ breakGlassUsers: ["bob"] }).config.breakGlassUsers, ["bob"]);
    assert.deepEqual(
      parse({ breakGlassUsers: ["bob", ""] }).errors.map((e) => `${e.path}: ${e.message}`),
      [`${PROJECT}:breakGlassUsers[1]: must be a non-empty string (got "")`],
    );
    assert.deepEqual(
      parse({ breakGlassUsers: "bob" }).errors.map((e) => `${e.path}: ${e.message}`),
      [`${PROJECT}:breakGlassUsers: must be a list (got "bob")`],
    );
  });
});

describe("Pulumi.yaml's config block is the schema's (core/config/schema.ts)", () => {
  /** What Pulumi.yaml must declare for each key: the schema's type (and item type), default and description. */
  const declared = Object.fromEntries(
    Object.entries(StackConfigSchema.properties).map(([key, node]) => {
      const n = node as unknown as { type: string; items?: { type: string }; default: unknown; description: string };
      return [key, { type: n.type, ...(n.items ? { items: { type: n.items.type } } : {}), default: n.default, description: n.description }];
    }),
  );
  it("declares every key with the schema's type, item type, default and description, and no other key", () => {
    const project = parse(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, unknown> };
    assert.deepEqual(project.config, declared, `Pulumi.yaml's config: should read\n${stringify({ config: declared }, { lineWidth: 0 })}`);
  });
  it("every key has a default (Pulumi requires a value for a key without one), and parsing nothing gives those defaults", () => {
    const { config, errors } = parsePlatformConfig({ tableNamePrefix: "dev-" }, tableArgErrors);
    assert.deepEqual(errors, []);
    for (const [key, value] of Object.entries(configDefaults())) assert.notEqual(value, undefined, key);
    assert.deepEqual(config.install, INSTALL_DEFAULTS);
    assert.deepEqual(config.stateStore, configDefaults().stateStore);
    assert.deepEqual(config.ackCredentials, configDefaults().ackCredentials);
    assert.equal(config.waitTimeoutMinutes, configDefaults().waitTimeoutMinutes);
    // "", {} and [] (Pulumi.yaml's defaults of optional keys) mean "not set".
    assert.equal(config.accountId, undefined);
    assert.equal(config.kmsKeyArns, undefined);
    assert.equal(config.ackAllowedRegions, undefined);
  });
});

describe("values read from a stack file (./dev render, ./dev local)", () => {
  it("an unquoted 12-digit accountId (a YAML number) is the account id, as Pulumi would hand it over", () => {
    assert.equal(configValue("accountId", 123456789012), "123456789012");
    assert.equal(configValue("tableNamePrefix", 2024), "2024");
    const { config, errors } = parsePlatformConfig(
      { tableNamePrefix: configValue("tableNamePrefix", 2024), accountId: configValue("accountId", 123456789012) },
      tableArgErrors,
    );
    assert.deepEqual(errors, []);
    assert.equal(config.accountId, "123456789012");
  });
});

describe("messages name the key", () => {
  const errorsOf = (raw: Record<string, unknown>) =>
    parsePlatformConfig({ tableNamePrefix: "dev-", ...raw }, tableArgErrors).errors.map((e) => `${e.path}: ${e.message}`);
  it("a union's mode names its choices", () => {
    assert.deepEqual(errorsOf({ ackCredentials: { mode: "iam" } }), [
      `${PROJECT}:ackCredentials.mode: must be one of irsa, podIdentity, accessKey, existingSecret (got "iam")`,
    ]);
    assert.deepEqual(errorsOf({ stateStore: { mode: "git" } }), [
      `${PROJECT}:stateStore.mode: must be one of s3, bucket, existing, none (got "git")`,
    ]);
    assert.deepEqual(errorsOf({ stateStore: {} }), [`${PROJECT}:stateStore.mode: is required (one of s3, bucket, existing, none)`]);
  });
  it("a variant's missing field names its mode; a misspelt field is refused, not ignored", () => {
    assert.deepEqual(errorsOf({ ackCredentials: { mode: "irsa", oidcProviderARN: "arn" } }), [
      `${PROJECT}:ackCredentials.oidcProviderArn: is required with mode irsa`,
      `${PROJECT}:ackCredentials.oidcProviderARN: is not a field of ackCredentials with mode irsa (expected one of: mode, oidcProviderArn)`,
    ]);
    assert.deepEqual(errorsOf({ stateStore: { mode: "existing", kind: "GitStateStore" } }), [
      `${PROJECT}:stateStore.name: is required with mode existing`,
    ]);
  });
  it("a misspelt key or install switch is refused, not ignored", () => {
    assert.deepEqual(errorsOf({ tableNamePrefx: "team-" }), [
      `${PROJECT}:tableNamePrefx: is not a config key of this project (Pulumi.yaml lists them)`,
    ]);
    assert.deepEqual(errorsOf({ install: { velacore: true } }), [
      `${PROJECT}:install.velacore: is not a field of install (expected one of: velaCore, certManager, kratix, flux, ackController)`,
    ]);
  });
  it("types, enums and patterns", () => {
    assert.deepEqual(
      errorsOf({
        waitForTables: "yes",
        promiseDelivery: "helm",
        accountId: "12345",
        ackAllowedRegions: ["Oregon"],
        tablesNamespace: "Team_A",
      }),
      [
        `${PROJECT}:promiseDelivery: must be one of kubevela, pulumi (got "helm")`,
        `${PROJECT}:ackAllowedRegions[0]: is not an AWS region name such as us-east-1 or eu-central-2 (got "Oregon")`,
        `${PROJECT}:tablesNamespace: must be a Kubernetes namespace name such as team-a (got "Team_A")`,
        `${PROJECT}:waitForTables: must be true or false (got "yes")`,
        `${PROJECT}:accountId: must be a 12-digit AWS account id (got "12345")`,
      ],
    );
  });
  it("never quotes a value of stateStoreCredentials", () => {
    const errors = errorsOf({ stateStoreCredentials: { accessKeyId: "", secretAccessKey: 12345 } });
    assert.equal(errors.length, 2);
    for (const e of errors) assert.doesNotMatch(e, /got|12345/);
  });
});

describe("stateStore mode bucket (an S3-compatible server you run)", () => {
  const parseStore = (stateStore: unknown, stateStoreCredentials?: unknown) =>
    parsePlatformConfig(
      { defaultRegion: "us-west-2", tableNamePrefix: "dev-", stateStore, ...(stateStoreCredentials ? { stateStoreCredentials } : {}) },
      tableArgErrors,
    );
  const key = { accessKeyId: "id", secretAccessKey: "secret" };
  it("reads endpoint, bucket, insecure and interval", () => {
    const { config, errors } = parseStore(
      { mode: "bucket", endpoint: "127.0.0.1:19000", bucketName: "kratix", insecure: true, interval: "5s" },
      key,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(config.stateStore, {
      mode: "bucket",
      endpoint: "127.0.0.1:19000",
      bucketName: "kratix",
      insecure: true,
      interval: "5s",
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
