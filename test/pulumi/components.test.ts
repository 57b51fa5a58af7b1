/** Each component on its own, under Pulumi's mocks. */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, SECRET_SIG, TAKEN_PREFIX, resolve, settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { DynamoDBTable } from "../../components/dynamodb-table.ts";
import { AckDynamoDBController } from "../../components/ack-controller.ts";
import { retainCrds } from "../../components/helm.ts";
import { KubeVelaDefinitions } from "../../components/kubevela.ts";
import { teamRoleNames } from "../../core/install/team-roles.ts";
import { DynamoDBPromise } from "../../components/dynamodb-promise.ts";
import { DESIGN_USER_SESSIONS, EVERYTHING } from "../fixtures/corpus.ts";
import { propertiesFromSpec } from "../../core/render/dynamodb-request.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { API_GUARD_NAME, TABLE_GUARD_NAME } from "../../core/install/table-guard.ts";
import { KratixInstallation } from "../../components/kratix.ts";
import { SPEC_DIGEST_ANNOTATION, specDigest } from "../../core/api/spec-digest.ts";
import * as k8s from "@pulumi/kubernetes";
import { DynamoDBPlatform, type DynamoDBPlatformArgs } from "../../components/platform.ts";
import * as args from "../../components/args.ts";
import { OLD_TOKEN_PREFIX, TOKEN_PREFIX } from "../../components/token.ts";
import type { TableProperties as ApiTableProperties } from "../../core/render/dynamodb-request.ts";
import type { DynamoDBRequestStatus } from "../../core/api/types.ts";
import * as rules from "../../core/api/rules.ts";
import type { AckCredentialsArgs } from "../../components/ack-controller.ts";
import type { StateStoreArgs } from "../../components/kratix.ts";
import type { AckCredentialsConfig, StateStoreConfig } from "../../core/config/platform-config.ts";

// The component arguments Pulumi's schema inference reads (components/args.ts) are the API's shape:
// compile-time checks, failing `tsc` (and so ./dev test) when the two drift apart.
type Normalize<T> = T extends object ? { [K in keyof T]: Normalize<T[K]> } : T;
type Equals<A, B> = (<X>() => X extends Normalize<A> ? 1 : 2) extends <X>() => X extends Normalize<B> ? 1 : 2 ? true : false;
const tablePropertiesAreTheApis: Equals<args.TableProperties, ApiTableProperties> = true;
const statusIsTheApis: Equals<args.TableStatus, DynamoDBRequestStatus> = true;
// Every value the old unions (and the stack config) accept is still accepted, flattened.
const fits = <T>(_: T) => true;
const oldUnionsStillFit = [
  fits<args.AckCredentials>({} as AckCredentialsArgs),
  fits<args.AckCredentials>({} as AckCredentialsConfig),
  fits<args.StateStore>({} as StateStoreArgs),
  fits<args.StateStore>({} as StateStoreConfig),
];
void [tablePropertiesAreTheApis, statusIsTheApis, oldUnionsStillFit];

let reg: Registration[];
/** What Registration leaves out: each registration's retainOnDelete and how many transforms it carries, by name. */
const registered = new Map<string, { retainOnDelete: boolean; transforms: number }>();
before(async () => {
  reg = await setupMocks("components");
  type Req = { getName(): string; getRetainondelete(): boolean; getTransformsList(): unknown[] };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    registered.set(req.getName(), { retainOnDelete: req.getRetainondelete(), transforms: req.getTransformsList().length });
    original(req, cb);
  };
});
const named = (name: string) => reg.filter((r) => r.name === name || r.name.startsWith(`${name}-`));

describe("DynamoDBTable", () => {
  it("fails at construction, naming the field, before registering anything", () => {
    const before = reg.length;
    assert.throws(
      () =>
        new DynamoDBTable("bad", {
          table: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), keySchema: [{ attributeName: "orderId", keyType: "HASH" }] },
        }),
      (e: unknown) =>
        e instanceof pulumi.RunError && /table\.keySchema\[0\]\.attributeName: "orderId" is not in attributeDefinitions/.test(e.message),
    );
    assert.equal(reg.length, before);
  });
  it("refuses a region outside the platform's before registering anything, naming table.region and the allowed ones", () => {
    const before = reg.length;
    assert.throws(
      () =>
        new DynamoDBTable("elsewhere", {
          platformDefaults: { defaultRegion: "us-west-2", allowedRegions: ["us-west-2"] },
          table: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), region: "eu-west-1" },
        }),
      (e: unknown) =>
        e instanceof pulumi.RunError && /table\.region: "eu-west-1" is not one of the platform's regions: us-west-2/.test(e.message),
    );
    assert.equal(reg.length, before);
  });
  it("names tableName, not spec.name, in its errors", () => {
    assert.throws(
      () => new DynamoDBTable("bad-name", { table: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), tableName: "x" } }),
      /table\.tableName: must be at least 3 characters/,
    );
  });
  it("checks platform settings too: no region anywhere", () => {
    const { region: _r, ...noRegion } = propertiesFromSpec(DESIGN_USER_SESSIONS);
    assert.throws(
      () => new DynamoDBTable("no-region", { table: noRegion }),
      /table\.region: is required: the platform has no default region/,
    );
  });
  it("creates a DynamoDBRequest that waits for the ARN and reports it", async () => {
    const t = new DynamoDBTable("sessions", { table: propertiesFromSpec(DESIGN_USER_SESSIONS), namespace: "team-a" });
    assert.equal(await resolve(t.tableArn), `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/user-sessions`);
    assert.equal(await resolve(t.arnSource), "status");
    await settle();
    const req = named("sessions").find((r) => r.type.endsWith(":DynamoDBRequest"))!;
    assert.deepEqual((req.inputs.metadata as Record<string, unknown>).namespace, "team-a");
    assert.ok(req.parent.includes("DynamoDBTable::sessions"));
  });
  it("stamps the request with its spec's digest and waits until the status reports that digest ready", async () => {
    const t = new DynamoDBTable("digest", { table: propertiesFromSpec(DESIGN_USER_SESSIONS) });
    await resolve(t.tableArn);
    await settle();
    const req = named("digest").find((r) => r.type.endsWith(":DynamoDBRequest"))!;
    const annotations = (req.inputs.metadata as { annotations: Record<string, string> }).annotations;
    const digest = specDigest(req.inputs.spec);
    assert.equal(annotations[SPEC_DIGEST_ANNOTATION], digest);
    assert.equal(annotations["pulumi.com/waitFor"], `jsonpath={.status.settledSpecDigest}=${digest}`);
    // Any change to the spec changes the digest, so a wait after an update never ends on the old status.
    assert.notEqual(specDigest({ ...(req.inputs.spec as object), billingMode: "PROVISIONED" }), digest);
    assert.equal(specDigest({ b: 1, a: [{ y: 2, x: 1 }] }), specDigest({ a: [{ x: 1, y: 2 }], b: 1 }));
  });
  it("fails the deployment with the request's own status once a refusal settles on its spec (no timeout)", async () => {
    const t = new DynamoDBTable("refused", {
      table: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), tableName: `${TAKEN_PREFIX}sessions` },
    });
    // The Output's own promise: the component's apply throws into it (resolve would wait forever).
    const arn = (t.tableArn as unknown as { promise(): Promise<string> }).promise();
    await assert.rejects(arn, (e: Error) => {
      assert.ok(e instanceof pulumi.ResourceError, String(e));
      // Cheap for Pulumi's uncaught-error handler to format (util.inspect): no resource graph, no stack.
      assert.equal((e as pulumi.ResourceError).resource, t);
      assert.equal((e as pulumi.ResourceError).hideStack, true);
      assert.ok(inspect(e).length < 2_000, `util.inspect of the refusal is ${inspect(e).length} characters`);
      assert.match(
        e.message,
        /^DynamoDBRequest default\/refused was refused \(TableNameTaken\): table name taken-sessions belongs to DynamoDBRequest team-b\/owner$/,
      );
      return true;
    });
    await settle();
  });
  it("computes the ARN from account, partition, region and prefixed name when not waiting, and says so", async () => {
    const t = new DynamoDBTable("computed", {
      table: propertiesFromSpec(EVERYTHING),
      waitForArn: false,
      platformDefaults: { tableNamePrefix: "dev-" },
    });
    assert.equal(await resolve(t.tableArn), `arn:aws:dynamodb:eu-central-1:${ACCOUNT}:table/dev-orders-full`);
    assert.equal(await resolve(t.arnSource), "computed");
    await settle();
    const req = named("computed").find((r) => r.type.endsWith(":DynamoDBRequest"))!;
    assert.equal((req.inputs.metadata as { annotations: Record<string, string> }).annotations["pulumi.com/skipAwait"], "true");
  });
  it("uses a given accountId and partition without calling AWS", async () => {
    const t = new DynamoDBTable("gov", {
      table: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), region: "us-gov-west-1" },
      waitForArn: false,
      accountId: "999988887777",
      partition: "aws-us-gov",
    });
    assert.equal(await resolve(t.tableArn), "arn:aws-us-gov:dynamodb:us-gov-west-1:999988887777:table/user-sessions");
  });
});

describe("AckDynamoDBController", () => {
  it("irsa: a role trusted only by the controller's service account through the OIDC provider", async () => {
    const c = new AckDynamoDBController("irsa", {
      region: "us-west-2",
      credentials: { mode: "irsa", oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC` },
    });
    await resolve(c.roleArn);
    await settle();
    // The stack made everything in the namespace: a destroy removes it.
    assert.equal(registered.get("irsa-ns")?.retainOnDelete, false);
    const role = named("irsa").find((r) => r.type === "aws:iam/role:Role")!;
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as {
      Statement: { Condition: { StringEquals: Record<string, string> } }[];
    };
    assert.deepEqual(trust.Statement[0]!.Condition.StringEquals, {
      "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:ack-system:ack-dynamodb-controller",
      "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    });
    const chart = named("irsa").find((r) => r.type === "kubernetes:helm.sh/v4:Chart")!;
    const sa = (chart.inputs.values as { serviceAccount: { annotations: Record<string, string> } }).serviceAccount;
    assert.match(sa.annotations["eks.amazonaws.com/role-arn"]!, /^arn:aws:iam::/);
    assert.equal(named("irsa").filter((r) => r.type === "kubernetes:core/v1:Secret").length, 0);
  });
  it("podIdentity: a role for pods.eks.amazonaws.com and an association for the controller", async () => {
    const c = new AckDynamoDBController("podid", { region: "eu-west-1", credentials: { mode: "podIdentity", clusterName: "prod" } });
    await resolve(c.roleArn);
    await settle();
    const assoc = named("podid").find((r) => r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation")!;
    assert.deepEqual(
      [assoc.inputs.clusterName, assoc.inputs.namespace, assoc.inputs.serviceAccount],
      ["prod", "ack-system", "ack-dynamodb-controller"],
    );
  });
  it("accessKey: the INI credentials Secret ack-dynamodb-user-secrets, secret on the wire", async () => {
    const c = new AckDynamoDBController("keys", { region: "us-east-1", credentials: { mode: "accessKey" } });
    await resolve(c.namespace);
    await settle();
    const secret = named("keys").find((r) => r.type === "kubernetes:core/v1:Secret")!;
    assert.equal((secret.inputs.metadata as { name: string }).name, "ack-dynamodb-user-secrets");
    assert.ok(secret.wire.includes(SECRET_SIG));
    assert.ok(
      !secret.wire.includes("mock-secret-access-key") || secret.wire.indexOf(SECRET_SIG) < secret.wire.indexOf("mock-secret-access-key"),
    );
  });
  it("existingSecret: no IAM at all, the chart points at the user's Secret", async () => {
    const c = new AckDynamoDBController("byo", {
      region: "us-east-1",
      credentials: { mode: "existingSecret", secretName: "my-aws", profile: "ddb" },
    });
    await resolve(c.namespace);
    await settle();
    assert.equal(named("byo").filter((r) => r.type.startsWith("aws:")).length, 0);
    const chart = named("byo").find((r) => r.type === "kubernetes:helm.sh/v4:Chart")!;
    assert.deepEqual((chart.inputs.values as { aws: unknown }).aws, {
      region: "us-east-1",
      credentials: { secretName: "my-aws", secretKey: "credentials", profile: "ddb" },
    });
  });
  it("guards Tables: an admission policy and its Deny binding, children of the controller, naming its own service account", async () => {
    const c = new AckDynamoDBController("guarded", {
      region: "us-east-1",
      credentials: { mode: "existingSecret", secretName: "my-aws" },
      namespace: "ack-ddb",
      extraTableWriters: ["break-glass"],
      tableNamePrefix: pulumi.output("team-"),
    });
    await resolve(c.namespace);
    await settle();
    const policy = named("guarded").find(
      (r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy" && r.name === "guarded-table-guard",
    )!;
    const binding = named("guarded").find(
      (r) =>
        r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding" &&
        r.name === "guarded-table-guard-binding",
    )!;
    for (const r of [policy, binding]) {
      assert.ok(r.parent.includes("AckDynamoDBController::guarded"), r.parent);
      assert.equal((r.inputs.metadata as { name: string }).name, TABLE_GUARD_NAME);
    }
    assert.ok(binding.dependencies.includes(policy.urn!));
    assert.deepEqual(binding.inputs.spec, { policyName: TABLE_GUARD_NAME, validationActions: ["Deny"] });
    const spec = policy.inputs.spec as {
      failurePolicy: string;
      matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] };
      variables: { name: string; expression: string }[];
      validations: { expression: string; message: string }[];
    };
    assert.equal(spec.failurePolicy, "Fail");
    assert.deepEqual(spec.matchConstraints.resourceRules[0]!.resources, ["tables", "tables/status"]);
    assert.deepEqual(spec.matchConstraints.resourceRules[0]!.operations, ["CREATE", "UPDATE", "DELETE"]);
    const variable = (name: string) => spec.variables.find((v) => v.name === name)!.expression;
    assert.equal(
      variable("writers"),
      '["system:serviceaccount:flux-system:kratix-dynamodb-applier", "system:serviceaccount:ack-ddb:ack-dynamodb-controller", "break-glass"]',
    );
    // Status and ACK's marks: this controller alone, in its own namespace.
    assert.equal(variable("controllers"), '["system:serviceaccount:ack-ddb:ack-dynamodb-controller"]');
    // Flux's applier prunes only released Tables; the Promise's delete pipeline releases them, and the extra writers (break glass) may.
    assert.equal(variable("pruners"), '["system:serviceaccount:flux-system:kratix-dynamodb-applier"]');
    assert.match(
      variable("isReleaser"),
      /":aws-dynamodb-kratix-resource-delete-report-delete" && .*\|\| variables\.user in \["break-glass"\]$/,
    );
    // The prefix, known only as an Output, reaches the policy.
    assert.ok(spec.validations.some((v) => v.expression.includes('object.spec.tableName.startsWith("team-")')));
  });
  it("keeps the Promise and the three CRDs from deletion, except to breakGlassUsers, and keeps the chart's CRDs on destroy", async () => {
    const c = new AckDynamoDBController("keeper", {
      region: "us-east-1",
      credentials: { mode: "existingSecret", secretName: "my-aws" },
      breakGlassUsers: ["alice@example.com"],
    });
    await resolve(c.namespace);
    await settle();
    const policy = named("keeper").find((r) => r.name === "keeper-api-guard")!;
    const binding = named("keeper").find((r) => r.name === "keeper-api-guard-binding")!;
    assert.equal((policy.inputs.metadata as { name: string }).name, API_GUARD_NAME);
    assert.ok(binding.dependencies.includes(policy.urn!));
    assert.deepEqual(binding.inputs.spec, { policyName: API_GUARD_NAME, validationActions: ["Deny"] });
    const spec = policy.inputs.spec as { variables: { name: string; expression: string }[]; matchConditions: { expression: string }[] };
    assert.equal(spec.variables.find((v) => v.name === "breakGlass")!.expression, '["alice@example.com"]');
    assert.ok(spec.matchConditions[0]!.expression.includes('"aws-dynamodb-kratix"'));
    // The chart's CRDs are its children (registered by the provider, not under mocks): the chart carries the transform.
    assert.equal(registered.get("keeper-chart")?.transforms, 1);
    // The namespace holds the user's own Secret (existingSecret): kept on destroy.
    assert.equal(registered.get("keeper-ns")?.retainOnDelete, true);
    const crd = { type: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", name: "x", custom: true, props: {}, opts: {} };
    assert.deepEqual(await retainCrds(crd), { props: {}, opts: { retainOnDelete: true } });
    assert.equal(await retainCrds({ ...crd, type: "kubernetes:apps/v1:Deployment" }), undefined);
  });
  it("guardTables: false makes no admission policy", async () => {
    const c = new AckDynamoDBController("unguarded", {
      region: "us-east-1",
      credentials: { mode: "existingSecret", secretName: "my-aws" },
      guardTables: false,
    });
    await resolve(c.namespace);
    await settle();
    assert.equal(named("unguarded").filter((r) => r.type.startsWith("kubernetes:admissionregistration.k8s.io/")).length, 0);
  });
  it("scopes KMS to the listed keys through DynamoDB only", async () => {
    const c = new AckDynamoDBController("kms", {
      region: "us-east-1",
      credentials: { mode: "accessKey" },
      kmsKeyArns: [`arn:aws:kms:us-east-1:${ACCOUNT}:key/abc`],
    });
    await resolve(c.policyArn);
    await settle();
    const doc = JSON.parse(String(named("kms").find((r) => r.type === "aws:iam/policy:Policy")!.inputs.policy)) as {
      Statement: { Sid: string; Resource: string[]; Condition?: unknown }[];
    };
    const kms = doc.Statement.find((s) => s.Sid.includes("Keys"))!;
    assert.deepEqual(kms.Resource, [`arn:aws:kms:us-east-1:${ACCOUNT}:key/abc`]);
    assert.deepEqual(kms.Condition, { StringEquals: { "kms:ViaService": ["dynamodb.us-east-1.amazonaws.com"] } });
  });
});

describe("KratixInstallation", () => {
  it("every chart it installs keeps its CRDs when Pulumi deletes it (Kratix's, Flux's, cert-manager's; vela-core's too)", async () => {
    const k = new KratixInstallation("charts", {
      stateStore: {
        mode: "bucket",
        endpoint: "minio.storage:9000",
        bucketName: "kratix",
        region: "us-east-1",
        credentials: pulumi.secret({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "mock-secret-access-key" }),
      },
    });
    const v = new KubeVelaDefinitions("charts-vela", { installVelaCore: true });
    await resolve(k.destinationName);
    await resolve(v.namespace);
    await settle();
    const charts = reg.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name.startsWith("charts-")).map((r) => r.name);
    assert.deepEqual(charts.sort(), ["charts-cert-manager", "charts-flux", "charts-kratix", "charts-vela-vela-core"]);
    // A chart's CRDs are its children (registered by the provider, not under mocks): each chart carries the transform.
    // Kratix's has a second: the pipeline adapter image (test/render/kratix-chart.test.ts).
    for (const chart of charts) assert.equal(registered.get(chart)?.transforms, chart === "charts-kratix" ? 2 : 1, chart);
  });
  it("bucket mode: an S3-compatible store for Kratix and a generic Flux Bucket, one key, secret on the wire", async () => {
    const k = new KratixInstallation("s3c", {
      installCertManager: false,
      installKratix: false,
      installFlux: false,
      stateStore: {
        mode: "bucket",
        endpoint: "minio.storage:9000",
        bucketName: "kratix",
        region: "us-east-1",
        insecure: true,
        interval: "10s",
        credentials: pulumi.secret({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "mock-secret-access-key" }),
      },
    });
    await resolve(k.destinationName);
    await settle();
    const mine = named("s3c");
    const cr = (kind: string) => mine.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => r.inputs as { spec: Record<string, unknown> });
    assert.deepEqual(cr("BucketStateStore")[0]!.spec, {
      bucketName: "kratix",
      endpoint: "minio.storage:9000",
      insecure: true,
      authMethod: "accessKey",
      secretRef: { name: "kratix-state-store-credentials", namespace: "kratix-platform-system" },
    });
    const bucket = cr("Bucket")[0]!.spec;
    assert.deepEqual([bucket.provider, bucket.endpoint, bucket.insecure, bucket.interval], ["generic", "minio.storage:9000", true, "10s"]);
    assert.deepEqual(
      cr("Kustomization")
        .map((x) => x.spec.path)
        .sort(),
      ["./platform-cluster/dependencies", "./platform-cluster/resources"],
    );
    const secrets = mine.filter((r) => r.type === "kubernetes:core/v1:Secret");
    assert.equal(secrets.length, 2);
    for (const sec of secrets) assert.ok(sec.wire.includes(SECRET_SIG), `${sec.name} is not secret on the wire`);
    // The canary namespace Kratix writes to every destination is made here, so Flux only patches it.
    assert.ok(
      mine.some(
        (r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name: string }).name === "kratix-worker-system",
      ),
    );
    assert.equal(mine.filter((r) => r.type.startsWith("aws:")).length, 0);
  });
});

describe("DynamoDBPromise", () => {
  it("pulumi delivery: a protected, cluster-scoped Promise valid against Kratix's CRD", async () => {
    const p = new DynamoDBPromise("direct", { delivery: "pulumi", defaults: { defaultRegion: "us-east-1" } });
    await resolve(p.promiseName);
    await settle();
    const promise = named("direct").find((r) => r.type === "kubernetes:platform.kratix.io/v1alpha1:Promise")!;
    assert.equal(promise.protect, true);
    const { metadata, ...rest } = promise.inputs as { metadata: Record<string, unknown> };
    const { annotations: _a, ...meta } = metadata;
    assert.deepEqual(validateAgainstUpstream({ ...rest, metadata: meta }), []);
    assert.equal(meta.namespace, undefined);
    // The built-in roles get DynamoDBRequests (test/admission/table-guard.test.ts shows them on a real API server).
    const roles = named("direct").filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
    assert.deepEqual(
      roles.map((r) => (r.inputs.metadata as { name: string }).name).sort(),
      Object.values(teamRoleNames("aws-dynamodb-kratix")).sort(),
    );
  });
  it("kubevela delivery: the Application in the platform's namespace, which it makes and keeps on destroy; a user's namespace is theirs", async () => {
    const p = new DynamoDBPromise("via-vela", { defaults: { defaultRegion: "us-east-1" } });
    const own = new DynamoDBPromise("own-ns", { defaults: { defaultRegion: "us-east-1" }, applicationNamespace: "platform-team" });
    await resolve(p.promiseName);
    await resolve(own.promiseName);
    await settle();
    const application = (n: string) => named(n).find((r) => r.type === "kubernetes:core.oam.dev/v1beta1:Application")!;
    const namespaces = (n: string) => named(n).filter((r) => r.type === "kubernetes:core/v1:Namespace");
    assert.equal((application("via-vela").inputs.metadata as { namespace: string }).namespace, "dynamodb-platform");
    assert.deepEqual(
      namespaces("via-vela").map((r) => (r.inputs.metadata as { name: string }).name),
      ["dynamodb-platform"],
    );
    assert.equal(registered.get("via-vela-application-ns")?.retainOnDelete, true, "the platform's namespace is deleted on destroy");
    assert.equal((application("own-ns").inputs.metadata as { namespace: string }).namespace, "platform-team");
    assert.deepEqual(namespaces("own-ns"), [], "made a namespace the user named");
  });
  it("teamRoles: false grants the built-in roles nothing", async () => {
    const p = new DynamoDBPromise("no-roles", { delivery: "pulumi", defaults: { defaultRegion: "us-east-1" }, teamRoles: false });
    await resolve(p.promiseName);
    await settle();
    assert.equal(named("no-roles").filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").length, 0);
  });
  it("rejects bad platform defaults by name", () => {
    assert.throws(
      () => new DynamoDBPromise("bad-defaults", { defaults: { defaultRegion: "Oregon" } }),
      /defaults\.defaultRegion: "Oregon" is not an AWS region/,
    );
  });
  it("rejects a bad example table", () => {
    assert.throws(
      () =>
        new DynamoDBPromise("bad-example", { exampleTable: { ...propertiesFromSpec(DESIGN_USER_SESSIONS), billingMode: "PROVISIONED" } }),
      /exampleTable\.provisioned: required when billingMode is PROVISIONED/,
    );
  });
});

describe("the component package's arguments and tokens", () => {
  it("enums have exactly the API's values", () => {
    const pairs: [object, readonly string[]][] = [
      [args.BillingMode, rules.BILLING_MODES],
      [args.AttributeType, rules.ATTRIBUTE_TYPES],
      [args.KeyType, rules.KEY_TYPES],
      [args.ProjectionType, rules.PROJECTION_TYPES],
      [args.StreamViewType, rules.STREAM_VIEW_TYPES],
      [args.TableClass, rules.TABLE_CLASSES],
      [args.EncryptionType, rules.ENCRYPTION_TYPES],
      [args.DeletionPolicy, rules.DELETION_POLICIES],
    ];
    for (const [e, values] of pairs) assert.deepEqual(Object.values(e), [...values]);
  });
  it("types are <package>:index:<class>, each with an alias to its old token so existing stacks keep their URNs", async () => {
    const t = new DynamoDBTable("tokens", { table: propertiesFromSpec(DESIGN_USER_SESSIONS) });
    await resolve(t.tableArn);
    await settle();
    const own = reg.find((r) => r.name === "tokens" && !r.custom)!;
    assert.equal(own.type, "kratix-dynamodb-platform:index:DynamoDBTable");
    assert.equal(TOKEN_PREFIX, "kratix-dynamodb-platform:index");
    assert.deepEqual(own.aliasTypes, [`${OLD_TOKEN_PREFIX}:DynamoDBTable`]);
    for (const r of reg.filter((r) => !r.custom && r.type.startsWith("kratix-dynamodb")))
      assert.deepEqual(r.aliasTypes, [r.type.replace(TOKEN_PREFIX, OLD_TOKEN_PREFIX)], r.name);
  });
});

/** A platform with only what runs without controllers: the Promise applied by Pulumi, and the ACK chart (existing credentials). */
const smallPlatform = (extra: Partial<DynamoDBPlatformArgs> = {}) => ({
  defaults: { defaultRegion: "eu-west-1", tableNamePrefix: "team-" },
  install: { certManager: false, kratix: false, flux: false, ackController: true },
  stateStore: { mode: "none" as const },
  ackCredentials: { mode: "existingSecret" as const, secretName: "aws" },
  promiseDelivery: "pulumi" as const,
  ...extra,
});
const { region: _region, ...sessionsWithoutRegion } = propertiesFromSpec(DESIGN_USER_SESSIONS);

describe("DynamoDBTable takes its platform", () => {
  it("gets the platform's defaults, providers, and waits for its Promise and controller", async () => {
    const cluster = new k8s.Provider("linked-cluster", {});
    const platform = new DynamoDBPlatform("linked", smallPlatform(), { providers: { kubernetes: cluster } });
    const t = new DynamoDBTable("linked-sessions", { platform, table: sessionsWithoutRegion });
    assert.equal(await resolve(t.tableName), "team-user-sessions");
    assert.equal(await resolve(t.region), "eu-west-1");
    await resolve(t.tableArn);
    await settle();
    const request = reg.find((r) => r.name === "linked-sessions" && r.custom)!;
    assert.ok(request.provider.startsWith(`${await resolve(cluster.urn)}::`), request.provider);
    const waitsFor = await Promise.all(platform.tableDependencies.map((d) => resolve(d.urn)));
    assert.equal(waitsFor.length, 2);
    for (const urn of waitsFor) assert.ok(request.dependencies.includes(urn), urn);
  });
  it("refuses platform and platformDefaults together", () => {
    const platform = new DynamoDBPlatform("both", smallPlatform());
    assert.throws(
      () => new DynamoDBTable("both-t", { platform, platformDefaults: { defaultRegion: "eu-west-1" }, table: sessionsWithoutRegion }),
      /platformDefaults: give either platform .* or platformDefaults/,
    );
  });
  it("takes platformDefaults as an Output (another language's platform): checked when known, the request waits for its resources", async () => {
    const gate = new k8s.core.v1.Namespace("gate", { metadata: { name: "gate" } });
    const defaults = gate.metadata.apply(() => ({ defaultRegion: "ap-south-1", tableNamePrefix: "x-" }));
    const t = new DynamoDBTable("from-output", { platformDefaults: defaults, table: sessionsWithoutRegion });
    assert.equal(await resolve(t.tableName), "x-user-sessions");
    await resolve(t.tableArn);
    await settle();
    const request = reg.find((r) => r.name === "from-output" && r.custom)!;
    assert.ok(request.dependencies.includes(await resolve(gate.urn)));
  });
});

describe("DynamoDBPlatform", () => {
  it("passes its dependsOn and providers to every resource under it, its parts' children included", async () => {
    const cluster = new k8s.Provider("wrapped-cluster", {});
    const gate = new k8s.core.v1.Namespace("wrapped-gate", { metadata: { name: "wrapped-gate" } });
    const platform = new DynamoDBPlatform("wrapped", smallPlatform(), { providers: { kubernetes: cluster }, dependsOn: [gate] });
    await resolve(platform.promiseName);
    await settle();
    const [gateUrn, clusterUrn] = await Promise.all([resolve(gate.urn), resolve(cluster.urn)]);
    const under = reg.filter((r) => r.name.startsWith("wrapped-") && r.name !== "wrapped-gate" && r.name !== "wrapped-cluster");
    assert.ok(under.filter((r) => r.custom).length >= 4, under.map((r) => r.name).join(", "));
    for (const r of under) {
      assert.ok(r.dependencies.includes(gateUrn), `${r.type} ${r.name} does not wait for the platform's dependsOn`);
      if (r.type.startsWith("kubernetes:")) assert.ok(r.provider.startsWith(`${clusterUrn}::`), `${r.type} ${r.name}: ${r.provider}`);
    }
  });
  it("checks its flattened unions field by field, before registering anything", () => {
    const before = reg.length;
    const message = (a: Partial<DynamoDBPlatformArgs>) => {
      try {
        new DynamoDBPlatform("invalid", smallPlatform(a));
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    assert.match(message({ ackCredentials: { mode: "irsa" } }), /ackCredentials\.oidcProviderArn: is required with mode irsa/);
    assert.match(
      message({ ackCredentials: { mode: "accessKey", clusterName: "prod" } }),
      /ackCredentials\.clusterName: is not a field of mode accessKey/,
    );
    const bucket = message({ stateStore: { mode: "bucket", endpoint: "minio:9000" } });
    assert.match(bucket, /stateStore\.bucketName: is required with mode bucket/);
    assert.match(bucket, /stateStore\.credentials: is required with mode bucket/);
    assert.match(
      message({ stateStore: { mode: "s3", credentials: { mode: "irsa" } } }),
      /stateStore\.credentials\.oidcProviderArn: is required with mode irsa/,
    );
    assert.match(
      message({ stateStore: { mode: "bucket", endpoint: "m:9000", bucketName: "b", credentials: { accessKeyId: "AKID" } } }),
      /stateStore\.credentials\.secretAccessKey: is required with mode bucket/,
    );
    assert.match(message({ stateStore: { mode: "nfs" as never } }), /stateStore\.mode: must be one of s3, bucket, existing, none/);
    assert.equal(reg.length, before);
  });
  it("hands the flattened arguments to its parts as their own unions", async () => {
    const p = new DynamoDBPlatform(
      "flat",
      smallPlatform({
        ackCredentials: { mode: "irsa", oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/F` },
        stateStore: {
          mode: "bucket",
          endpoint: "minio:9000",
          bucketName: "kratix",
          insecure: true,
          credentials: pulumi.secret({ accessKeyId: "AKID", secretAccessKey: "mock-secret-access-key" }),
        },
        install: { certManager: false, kratix: false, flux: false, ackController: true },
      }),
    );
    await resolve(p.controllerRoleArn);
    await settle();
    const mine = named("flat");
    assert.ok(mine.some((r) => r.type === "aws:iam/role:Role"));
    const store = mine.find((r) => r.type.endsWith(":BucketStateStore"))!.inputs as { spec: Record<string, unknown> };
    assert.deepEqual([store.spec.bucketName, store.spec.endpoint, store.spec.insecure], ["kratix", "minio:9000", true]);
    // The platform's default region is the bucket's when none is given.
    assert.equal(await resolve(p.defaults), await resolve(p.defaults));
    // The platform's regions (here the default region alone) come with its defaults, to every request.
    assert.deepEqual(await resolve(p.defaults), { defaultRegion: "eu-west-1", tableNamePrefix: "team-", allowedRegions: ["eu-west-1"] });
  });
  it("with the guard, leaves a Pulumi-delivered Promise on the cluster when destroyed (the guard refuses its deletion)", async () => {
    const guarded = new DynamoDBPlatform("kept", smallPlatform({ breakGlassUsers: ["alice"] }));
    const unguarded = new DynamoDBPlatform("unkept", smallPlatform({ guardTables: false }));
    await Promise.all([resolve(guarded.promiseName), resolve(unguarded.promiseName)]);
    await settle();
    assert.equal(registered.get("kept-promise-promise")?.retainOnDelete, true);
    assert.equal(registered.get("unkept-promise-promise")?.retainOnDelete, false);
    const api = named("kept").find((r) => r.name === "kept-ack-api-guard")!;
    const vars = (api.inputs.spec as { variables: { name: string; expression: string }[] }).variables;
    assert.equal(vars.find((v) => v.name === "breakGlass")!.expression, '["alice"]');
    assert.equal(named("unkept").filter((r) => r.type.startsWith("kubernetes:admissionregistration.k8s.io/")).length, 0);
  });
  it("keeps resources out of its outputs: promise and tableDependencies are getters", () => {
    const proto = DynamoDBPlatform.prototype;
    for (const k of ["promise", "tableDependencies"]) assert.equal(typeof Object.getOwnPropertyDescriptor(proto, k)?.get, "function", k);
    assert.equal(typeof Object.getOwnPropertyDescriptor(DynamoDBTable.prototype, "request")?.get, "function");
  });
});
