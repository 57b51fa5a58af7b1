/**
 * The policy pack's rules (policy/rules.ts) on what the components really register,
 * under Pulumi's mocks: each rule kept by one set of component arguments and broken
 * by another, so the tests fail if the components change the shape the rules read.
 * The registrations carry the wire's secret markers, which the engine's policies do
 * not see; the rules take them off except where secrecy is the point.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "mocha";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { DynamoDBPlatform, type DynamoDBPlatformArgs } from "../../components/platform.ts";
import { DynamoDBTable } from "../../components/dynamodb-table.ts";
import { AckDynamoDBController } from "../../components/ack-controller.ts";
import { DESIGN_USER_SESSIONS } from "../fixtures/corpus.ts";
import { propertiesFromSpec, type TableProperties } from "../../core/render/dynamodb-request.ts";
import {
  RULES,
  UNKNOWN_VALUES,
  ackNoAccessKey,
  deletionProtection,
  noPlaintextCredentials,
  pipelineImageDigest,
  plain,
  tableNamePrefix,
  tablesRetained,
  type PolicyInput,
  type Rule,
} from "../../policy/rules.ts";

let reg: Registration[];
before(async () => {
  reg = await setupMocks("policy");
});

/** The registrations of a component and everything under it (children's names start with the component's). */
const under = (name: string) => reg.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
const input = (r: Registration): PolicyInput => ({ type: r.type, urn: r.urn!, props: r.inputs });
/** A rule's violations over some registrations, as the engine would report them. */
const violations = (rule: Rule, regs: Registration[], secrecyVisible = false) =>
  regs.flatMap((r) => rule.check(input(r), { secrecyVisible }));

const DIGEST_IMAGE = `ghcr.io/acme/kratix-dynamodb-pipeline@sha256:${"ab12".repeat(16)}`;
const TABLE: TableProperties = propertiesFromSpec(DESIGN_USER_SESSIONS);

/** A platform with only what a rule needs installed (no Helm charts unless asked). */
async function platform(name: string, args: Partial<DynamoDBPlatformArgs> = {}): Promise<Registration[]> {
  new DynamoDBPlatform(name, {
    defaults: { defaultRegion: "us-west-2", tableNamePrefix: "team-" },
    install: { velaCore: false, certManager: false, kratix: false, flux: false, ackController: false, ...args.install },
    stateStore: { mode: "none" },
    waitForPromise: false,
    ...args,
  });
  await settle();
  return under(name);
}
async function table(name: string, properties: Partial<TableProperties> = {}): Promise<Registration[]> {
  new DynamoDBTable(name, { table: { ...TABLE, ...properties }, waitForArn: false, accountId: "111122223333" });
  await settle();
  return under(name);
}

describe("dynamodb-tables-retained", () => {
  it("keeps a table requested with the default deletion policy (Retain), and the Application's example table", async () => {
    assert.deepEqual(violations(tablesRetained, await table("kept")), []);
    assert.deepEqual(violations(tablesRetained, await platform("retained-example")), []);
  });
  it("flags a table whose request deletes the AWS table (deletionPolicy Delete), naming request and table", async () => {
    const v = violations(tablesRetained, await table("scratch", { tableName: "scratch", deletionPolicy: "Delete" }));
    assert.deepEqual(v, [
      "DynamoDBRequest default/scratch (table scratch): deletionPolicy is Delete, so deleting it deletes the AWS table and its data",
    ]);
  });
  it("flags the Application's example table with deletionPolicy Delete", async () => {
    const v = violations(
      tablesRetained,
      await platform("deleting-example", { applicationExampleTable: { ...TABLE, tableName: "example", deletionPolicy: "Delete" } }),
    );
    assert.equal(v.length, 1);
    assert.match(
      v[0]!,
      /^Application dynamodb-platform\/kratix-platform component example-dynamodb-table \(table example\): deletionPolicy is Delete/,
    );
  });
  it("flags an ACK controller that deletes AWS tables when Table objects go away, and not one that retains them", async () => {
    new AckDynamoDBController("ack-retain", {
      region: "us-west-2",
      credentials: { mode: "irsa", oidcProviderArn: "arn:aws:iam::1:oidc-provider/x" },
    });
    new AckDynamoDBController("ack-delete", {
      region: "us-west-2",
      credentials: { mode: "irsa", oidcProviderArn: "arn:aws:iam::1:oidc-provider/x" },
      deletionPolicy: "delete",
    });
    await settle();
    assert.deepEqual(violations(tablesRetained, under("ack-retain")), []);
    assert.deepEqual(violations(tablesRetained, under("ack-delete")), [
      "ACK controller chart: deletionPolicy delete makes the controller delete the AWS table of every Table object that goes away",
    ]);
  });
  it("reads an ACK Table's deletion-policy annotation", () => {
    const ackTable = (policy: string): PolicyInput => ({
      type: "kubernetes:dynamodb.services.k8s.aws/v1alpha1:Table",
      urn: "urn:pulumi:s::p::kubernetes:dynamodb.services.k8s.aws/v1alpha1:Table::t",
      props: {
        metadata: { name: "t", namespace: "a", annotations: { "services.k8s.aws/deletion-policy": policy } },
        spec: { tableName: "t" },
      },
    });
    assert.deepEqual(tablesRetained.check(ackTable("retain")), []);
    assert.equal(tablesRetained.check(ackTable("delete")).length, 1);
  });
});

describe("dynamodb-deletion-protection", () => {
  it("keeps tables with deletionProtection on, the Application's example table included", async () => {
    assert.deepEqual(violations(deletionProtection, await table("protected", { tableName: "protected", deletionProtection: true })), []);
    const regs = await platform("protected-example", {
      applicationExampleTable: { ...TABLE, tableName: "example", deletionProtection: true },
    });
    assert.deepEqual(violations(deletionProtection, regs), []);
  });
  it("flags a table without it, and the Application's example table without it", async () => {
    assert.deepEqual(violations(deletionProtection, await table("unprotected", { tableName: "unprotected" })), [
      "DynamoDBRequest default/unprotected (table unprotected): deletionProtection is not true in a production stack",
    ]);
    const v = violations(
      deletionProtection,
      await platform("unprotected-example", { applicationExampleTable: { ...TABLE, tableName: "example" } }),
    );
    assert.deepEqual(v, [
      "Application dynamodb-platform/kratix-platform component example-dynamodb-table (table example): deletionProtection is not true in a production stack",
    ]);
  });
  it("does not judge a value not known yet (preview); pulumi up judges it", () => {
    const request: PolicyInput = {
      type: "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest",
      urn: "urn:pulumi:s::p::kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest::r",
      props: { metadata: { name: "r" }, spec: { name: "r", deletionProtection: [...UNKNOWN_VALUES][0] } },
    };
    assert.deepEqual(deletionProtection.check(request), []);
  });
});

describe("pipeline-image-pinned-by-digest", () => {
  it("keeps a Promise whose pipeline image is pinned by digest, delivered by KubeVela or by Pulumi", async () => {
    assert.deepEqual(violations(pipelineImageDigest, await platform("digest-vela", { pipelineImage: DIGEST_IMAGE })), []);
    const direct = await platform("digest-direct", { pipelineImage: DIGEST_IMAGE, promiseDelivery: "pulumi" });
    assert.ok(direct.some((r) => r.type === "kubernetes:platform.kratix.io/v1alpha1:Promise"));
    assert.deepEqual(violations(pipelineImageDigest, direct), []);
  });
  it("flags an image by tag once per Promise, naming its pipelines, in the Application and in a Promise Pulumi applies", async () => {
    const vela = violations(pipelineImageDigest, await platform("tag-vela", { pipelineImage: "kratix-dynamodb-pipeline:0.1.0" }));
    assert.deepEqual(vela, [
      "Application dynamodb-platform/kratix-platform component dynamodb-promise (Promise aws-dynamodb-kratix): image kratix-dynamodb-pipeline:0.1.0 is not pinned by digest " +
        "(resource.configure pipeline render-table container configure; resource.configure pipeline table-status container status; resource.delete pipeline report-delete container delete)",
    ]);
    const direct = violations(pipelineImageDigest, await platform("tag-direct", { promiseDelivery: "pulumi" }));
    assert.equal(direct.length, 1);
    assert.match(direct[0]!, /^Promise aws-dynamodb-kratix: image kratix-dynamodb-pipeline:0\.1\.0 is not pinned by digest/);
  });
});

describe("ack-credentials-not-access-key", () => {
  it("keeps a controller that assumes a role (irsa), and ignores the state store's own access keys", async () => {
    const regs = await platform("ack-irsa", {
      install: { ackController: true },
      ackCredentials: { mode: "irsa", oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks" },
      stateStore: { mode: "s3", region: "us-west-2" },
    });
    assert.ok(regs.filter((r) => r.type === "aws:iam/accessKey:AccessKey").length === 2, "the s3 state store makes two access keys");
    assert.deepEqual(violations(ackNoAccessKey, regs), []);
  });
  it("flags the controller's IAM user access key (mode accessKey)", async () => {
    const v = violations(
      ackNoAccessKey,
      await platform("ack-keys", { install: { ackController: true }, ackCredentials: { mode: "accessKey" } }),
    );
    assert.equal(v.length, 1);
    assert.match(v[0]!, /^the ACK controller's credentials are an IAM user's access key \(ackCredentials mode accessKey\): urn:pulumi:/);
    assert.match(v[0]!, /:AckDynamoDBController\$aws:iam\/accessKey:AccessKey::ack-keys-ack-key$/);
  });
});

describe("table-name-prefix-set", () => {
  it("keeps a Promise that hands its pipeline a prefix", async () => {
    assert.deepEqual(violations(tableNamePrefix, await platform("prefixed")), []);
  });
  it("flags a Promise without one, in the Application and in a Promise Pulumi applies", async () => {
    const vela = violations(tableNamePrefix, await platform("unprefixed", { defaults: { defaultRegion: "us-west-2" } }));
    assert.deepEqual(vela, [
      "Application dynamodb-platform/kratix-platform component dynamodb-promise (Promise aws-dynamodb-kratix): no table name prefix (TABLE_NAME_PREFIX is not set on its pipelines)",
    ]);
    const direct = await platform("unprefixed-direct", {
      defaults: { defaultRegion: "us-west-2", tableNamePrefix: "" },
      promiseDelivery: "pulumi",
    });
    assert.equal(violations(tableNamePrefix, direct).length, 1);
  });
});

describe("no-plaintext-credentials", () => {
  it("finds none in what the components make with credentials: the ACK key's INI Secret, both state stores' Secrets", async () => {
    const regs = [
      ...(await platform("creds-ack", {
        install: { ackController: true },
        ackCredentials: { mode: "accessKey" },
        stateStore: { mode: "s3", region: "us-west-2" },
      })),
      // The access key given in plain text: the component makes it a secret.
      ...(await platform("creds-bucket", {
        stateStore: {
          mode: "bucket",
          endpoint: "minio.example:9000",
          bucketName: "kratix",
          region: "us-west-2",
          credentials: { accessKeyId: "AKIAABCDEFGHIJKLMNOP", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        },
      })),
    ];
    const secrets = regs.filter((r) => r.type === "kubernetes:core/v1:Secret");
    assert.equal(secrets.length, 5, "the ACK credentials and the two Secrets of each state store");
    assert.deepEqual(violations(noPlaintextCredentials, regs, true), []);
  });
  it("flags a Secret whose data is not a Pulumi secret, where secrecy is visible (the program's registrations)", async () => {
    // @pulumi/kubernetes's Secret class makes data and stringData secret itself; a raw v1 Secret does not.
    new k8s.core.v1.Secret("sdk-secret", { metadata: { name: "s" }, stringData: { password: "hunter2" } });
    const raw = (value: pulumi.Input<string>) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      stringData: { password: value },
    });
    new k8s.apiextensions.CustomResource("raw-plain-secret", raw("hunter2"));
    new k8s.apiextensions.CustomResource("raw-secret-secret", raw(pulumi.secret("hunter2")));
    await settle();
    assert.deepEqual(violations(noPlaintextCredentials, under("sdk-secret"), true), []);
    assert.deepEqual(violations(noPlaintextCredentials, under("raw-plain-secret"), true), [
      "Secret s: stringData.password is not a Pulumi secret (wrap it in pulumi.secret, or read it with config.requireSecret)",
    ]);
    assert.deepEqual(violations(noPlaintextCredentials, under("raw-secret-secret"), true), []);
    // The engine hands policies plain values, after the Kubernetes provider's Check has made every Secret's data secret.
    assert.deepEqual(violations(noPlaintextCredentials, under("raw-plain-secret"), false), []);
  });
  it("flags credentials anywhere else in the cluster, secret or not: a ConfigMap, a container's env, a custom resource's spec", async () => {
    new k8s.core.v1.ConfigMap("ini-map", {
      metadata: { name: "aws" },
      data: { credentials: pulumi.secret("[default]\naws_access_key_id = AKIAABCDEFGHIJKLMNOP\naws_secret_access_key = abc") },
    });
    new k8s.apps.v1.Deployment("env-app", {
      metadata: { name: "app" },
      spec: {
        selector: { matchLabels: { app: "a" } },
        template: {
          metadata: { labels: { app: "a" } },
          spec: {
            containers: [
              {
                name: "a",
                image: "a",
                env: [
                  { name: "AWS_SECRET_ACCESS_KEY", value: "abc" },
                  { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
                  { name: "TABLE_NAME_PREFIX", value: "team-" },
                ],
              },
            ],
          },
        },
      },
    });
    new k8s.apiextensions.CustomResource("cr-key", {
      apiVersion: "example.com/v1",
      kind: "Store",
      metadata: { name: "store" },
      spec: { secretAccessKey: "abc", secretRef: { name: "store-key" } },
    });
    await settle();
    assert.deepEqual(violations(noPlaintextCredentials, under("ini-map")), [
      "ConfigMap aws: data.credentials holds an AWS access key id in plain text (keep it in a Kubernetes Secret and refer to it)",
      "ConfigMap aws: data.credentials holds an AWS credentials file with a secret key in plain text (keep it in a Kubernetes Secret and refer to it)",
    ]);
    assert.deepEqual(violations(noPlaintextCredentials, under("env-app")), [
      "Deployment app: spec.template.spec.containers[0].env[0].value: the environment variable AWS_SECRET_ACCESS_KEY holds a credential in plain text (use valueFrom.secretKeyRef)",
    ]);
    assert.deepEqual(violations(noPlaintextCredentials, under("cr-key")), [
      "Store store: spec.secretAccessKey holds a credential in plain text (keep it in a Kubernetes Secret and refer to it)",
    ]);
  });
  it("outside the cluster, flags only values that are not Pulumi secrets, and only where secrecy is visible", () => {
    const rds = (password: unknown): PolicyInput => ({
      type: "aws:rds/instance:Instance",
      urn: "urn:pulumi:s::p::aws:rds/instance:Instance::db",
      props: { password },
    });
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
    assert.deepEqual(noPlaintextCredentials.check(rds(secret), { secrecyVisible: true }), []);
    assert.deepEqual(noPlaintextCredentials.check(rds("hunter2"), { secrecyVisible: true }), [
      "aws:rds/instance:Instance: password holds a credential in plain text (make it a Pulumi secret)",
    ]);
    assert.deepEqual(noPlaintextCredentials.check(rds("hunter2")), []);
    assert.equal(plain(secret), "hunter2");
  });
});

describe("the rules", () => {
  it("are six, with distinct names, each with a description and a remediation", () => {
    assert.deepEqual(
      RULES.map((r) => r.name),
      [
        "dynamodb-tables-retained",
        "dynamodb-deletion-protection",
        "pipeline-image-pinned-by-digest",
        "ack-credentials-not-access-key",
        "table-name-prefix-set",
        "no-plaintext-credentials",
      ],
    );
    for (const r of RULES) assert.ok(r.description.length > 20 && r.remediation.length > 20, r.name);
  });
});
