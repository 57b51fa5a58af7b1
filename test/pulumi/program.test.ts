/**
 * The full program (index.ts) with the dev stack's own config, under Pulumi's mocks whose
 * cluster reports each request's table ARN as the chain would (test/helpers/chain-mocks.ts).
 */
import assert from "node:assert/strict";
import { SPEC_DIGEST_ANNOTATION, specDigest } from "../../core/api/spec-digest.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ACCOUNT, resolve, settle, type Registration } from "../helpers/pulumi-mocks.ts";
import { TABLE_ACCOUNT, setupChainMocks } from "../helpers/chain-mocks.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { validateAgainstUpstream, CrdValidator, type Crd } from "../helpers/crd-validator.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

let reg: Registration[];
let program: Record<string, pulumi.Output<unknown>>;
const byType = (t: string) => reg.filter((r) => r.type === t);
const one = (t: string, name?: string) => {
  const found = byType(t).filter((r) => !name || r.name === name);
  assert.equal(found.length, 1, `expected one ${t} ${name ?? ""}, got ${found.map((f) => f.name).join(", ")}`);
  return found[0]!;
};

before(async () => {
  reg = await setupChainMocks(PROJECT);
  const stack = parse(readFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  for (const [k, v] of Object.entries(stack.config)) pulumi.runtime.setConfig(k, typeof v === "string" ? v : JSON.stringify(v));
  program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
  await resolve(program.tableArns!);
  await settle();
});

describe("the program with Pulumi.dev.yaml", () => {
  it("exports each table's ARN as the chain reported it: the prefixed table in its region (keys: program-outputs.test.ts)", async () => {
    // Pulumi.dev.yaml: prefix dev-, region us-west-2 (user-sessions names it, orders takes the default);
    // its request names equal its table names, so program-outputs.test.ts checks the keys.
    assert.deepEqual(await resolve(program.tableArns!), {
      "user-sessions": `arn:aws:dynamodb:us-west-2:${TABLE_ACCOUNT}:table/dev-user-sessions`,
      orders: `arn:aws:dynamodb:us-west-2:${TABLE_ACCOUNT}:table/dev-orders`,
    });
    assert.deepEqual(await resolve(program.tableArnSources!), { "user-sessions": "status", orders: "status" });
    assert.deepEqual(await resolve(program.tableNames!), { "user-sessions": "dev-user-sessions", orders: "dev-orders" });
  });
  it("exports what an operator needs", async () => {
    assert.equal(await resolve(program.promiseName!), "aws-dynamodb-kratix");
    assert.equal(await resolve(program.applicationName!), "kratix-platform");
    assert.deepEqual(await resolve(program.namespaces!), {
      kubevela: "vela-system",
      kratix: "kratix-platform-system",
      flux: "flux-system",
      ack: "ack-system",
      application: "dynamodb-platform",
    });
  });
  it("installs both ComponentDefinitions in vela-system", () => {
    const defs = byType("kubernetes:core.oam.dev/v1beta1:ComponentDefinition");
    assert.deepEqual(defs.map((d) => (d.inputs.metadata as { name: string }).name).sort(), [
      "aws-dynamodb-kratix",
      "kratix-promise-deployer",
    ]);
    for (const d of defs) assert.equal((d.inputs.metadata as { namespace: string }).namespace, "vela-system");
  });
  it("creates the kratix-platform Application, protected, after the definitions", () => {
    const app = one("kubernetes:core.oam.dev/v1beta1:Application");
    assert.equal(app.protect, true);
    const defs = byType("kubernetes:core.oam.dev/v1beta1:ComponentDefinition").map((d) => d.urn);
    for (const urn of defs) assert.ok(app.dependencies.includes(urn!), `Application does not wait for ${urn}`);
    const components = (app.inputs.spec as { components: { name: string; dependsOn?: string[] }[] }).components;
    assert.deepEqual(
      components.map((c) => c.name),
      ["dynamodb-promise", "example-dynamodb-table"],
    );
    assert.deepEqual(components[1]!.dependsOn, ["dynamodb-promise"]);
  });
  it("waits for the controller and Kratix before the Promise, and for the Promise before requests", () => {
    const app = one("kubernetes:core.oam.dev/v1beta1:Application");
    const ackChart = reg.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name.endsWith("-ack-chart"))!;
    const kratixChart = reg.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name.endsWith("-kratix"))!;
    assert.ok(app.dependencies.includes(ackChart.urn!) && app.dependencies.includes(kratixChart.urn!));
    for (const request of byType("kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest")) {
      assert.ok(request.dependencies.includes(app.urn!), `${request.name} does not wait for the Promise`);
      assert.ok(request.dependencies.includes(ackChart.urn!), `${request.name} does not wait for the controller`);
    }
  });
  it("creates one valid DynamoDBRequest per table, waiting until the table carrying its spec is ready", () => {
    const crd = new CrdValidator(dynamoDBRequestCRD() as unknown as Crd);
    const requests = byType("kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest");
    assert.deepEqual(requests.map((r) => r.name).sort(), ["orders", "user-sessions"]);
    for (const r of requests) {
      const { status: _s, ...obj } = r.inputs;
      assert.deepEqual(crd.validate(obj), []);
      const annotations = (r.inputs.metadata as { annotations: Record<string, string> }).annotations;
      const digest = specDigest(r.inputs.spec);
      assert.equal(annotations[SPEC_DIGEST_ANNOTATION], digest);
      assert.equal(annotations["pulumi.com/waitFor"], `jsonpath={.status.settledSpecDigest}=${digest}`);
    }
  });
  it("installs vela-core and Kratix once cert-manager's webhook serves (its start-up check Job, a hook helm.v4.Chart skips)", () => {
    const chart = (c: string) => byType("kubernetes:helm.sh/v4:Chart").find((r) => r.inputs.chart === c)!;
    const check = one("kubernetes:batch/v1:Job");
    assert.equal(check.inputs.metadata && (check.inputs.metadata as { namespace: string }).namespace, "cert-manager");
    const container = (check.inputs.spec as { template: { spec: { containers: { image: string; args: string[] }[] } } }).template.spec
      .containers[0]!;
    // The check image is the chart's own, at the chart's version.
    assert.equal(container.image, `quay.io/jetstack/cert-manager-startupapicheck:${String(chart("cert-manager").inputs.version)}`);
    assert.deepEqual(container.args.slice(0, 2), ["check", "api"]);
    assert.ok(chart("vela-core").dependencies.includes(check.urn!), "vela-core does not wait for the check");
    assert.ok(chart("kratix").dependencies.includes(check.urn!), "Kratix does not wait for the check");
    // The check runs after the chart, with its own RBAC: a dry-run Certificate create, nothing else.
    const checkPart = (t: string) => byType(t).find((r) => r.name.endsWith("-cert-manager-check"))!;
    const binding = checkPart("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    assert.ok(check.dependencies.includes(binding.urn!));
    const role = checkPart("kubernetes:rbac.authorization.k8s.io/v1:Role");
    assert.ok(role.dependencies.includes(chart("cert-manager").urn!));
    assert.deepEqual(role.inputs.rules, [{ apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["create"] }]);
  });
  it("installs every chart pinned, ACK with retain", () => {
    const charts = byType("kubernetes:helm.sh/v4:Chart");
    assert.deepEqual(charts.map((c) => c.inputs.chart).sort(), [
      "cert-manager",
      "flux2",
      "kratix",
      "oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart",
      "vela-core",
    ]);
    for (const c of charts) assert.match(String(c.inputs.version), /^v?\d+\.\d+\.\d+$/);
    const ack = charts.find((c) => String(c.inputs.chart).includes("dynamodb-chart"))!;
    const values = ack.inputs.values as Record<string, Record<string, unknown>>;
    assert.equal(values.deletionPolicy, "retain");
    assert.equal(values.enableCrossNamespace, false, "an ACK object may reach into another team's namespace");
    // Keyless (IRSA): no credentials file, the service account names the role.
    assert.deepEqual(values.aws, { region: "us-west-2" });
    assert.match(
      String((values.serviceAccount as { annotations: Record<string, string> }).annotations["eks.amazonaws.com/role-arn"]),
      /^arn:aws:/,
    );
  });
  it("is keyless: no IAM user, no access key, no Secret; each controller's role trusts only its own service account", () => {
    assert.deepEqual(byType("aws:iam/user:User"), []);
    assert.deepEqual(byType("aws:iam/accessKey:AccessKey"), []);
    assert.deepEqual(byType("kubernetes:core/v1:Secret"), []);
    const trusted = byType("aws:iam/role:Role").map((r) => {
      const doc = JSON.parse(String(r.inputs.assumeRolePolicy)) as {
        Statement: { Principal: { Federated: string }; Condition: { StringEquals: Record<string, string> } }[];
      };
      assert.equal(doc.Statement.length, 1);
      assert.match(doc.Statement[0]!.Principal.Federated, /:oidc-provider\//);
      return Object.entries(doc.Statement[0]!.Condition.StringEquals).find(([k]) => k.endsWith(":sub"))![1];
    });
    assert.deepEqual(trusted.sort(), [
      "system:serviceaccount:ack-system:ack-dynamodb-controller",
      "system:serviceaccount:flux-system:source-controller",
      "system:serviceaccount:kratix-platform-system:kratix-platform-controller-manager",
    ]);
    // Kratix and Flux read the bucket with the identity IRSA gives their pods.
    const store = one("kubernetes:platform.kratix.io/v1alpha1:BucketStateStore").inputs.spec as Record<string, unknown>;
    assert.equal(store.authMethod, "IAM");
    assert.equal(store.secretRef, undefined);
    const source = one("kubernetes:source.toolkit.fluxcd.io/v1:Bucket").inputs.spec as Record<string, unknown>;
    assert.equal(source.provider, "aws");
    assert.equal(source.secretRef, undefined);
    // The role reaches each controller: its service account, and its pods (recreated so EKS injects the token).
    for (const [sa, deployment] of [
      ["kratix-platform-controller-manager", "kratix-platform-controller-manager"],
      ["source-controller", "source-controller"],
    ]) {
      const saPatch = byType("kubernetes:core/v1:ServiceAccountPatch").find((r) => (r.inputs.metadata as { name: string }).name === sa)!;
      assert.ok((saPatch.inputs.metadata as { annotations: Record<string, string> }).annotations["eks.amazonaws.com/role-arn"]);
      const dPatch = byType("kubernetes:apps/v1:DeploymentPatch").find((r) => (r.inputs.metadata as { name: string }).name === deployment)!;
      assert.ok(dPatch.dependencies.includes(saPatch.urn!), `${deployment} may restart before its service account names the role`);
    }
  });
  it("grants least privilege: no dynamodb:* and no Resource *", () => {
    for (const p of byType("aws:iam/policy:Policy")) {
      const doc = JSON.parse(String(p.inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
      for (const s of doc.Statement) {
        assert.ok(!s.Action.some((a) => a === "*" || a === "dynamodb:*"));
        assert.ok(!s.Resource.includes("*"));
        assert.ok(s.Resource.every((r) => r.startsWith(`arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/dev-`)));
      }
    }
  });
  it("wires Kratix to this cluster: state store, Destination cluster-role=master, Flux source and Kustomizations", () => {
    const dest = one("kubernetes:platform.kratix.io/v1alpha1:Destination");
    assert.deepEqual((dest.inputs.metadata as { labels: unknown }).labels, { "cluster-role": "master" });
    one("kubernetes:platform.kratix.io/v1alpha1:BucketStateStore");
    one("kubernetes:source.toolkit.fluxcd.io/v1:Bucket");
    assert.equal(byType("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization").length, 2);
  });
  it("parents every resource under a component of this package or the stack", () => {
    const components = new Set(reg.filter((r) => !r.custom).map((r) => r.urn));
    for (const r of reg) {
      if (r.type === "pulumi:pulumi:Stack") continue;
      assert.ok(
        r.parent === "" || components.has(r.parent) || r.parent.includes("pulumi:pulumi:Stack"),
        `${r.type} ${r.name} has parent ${r.parent}`,
      );
      if (r.custom && r.type !== "pulumi:providers:kubernetes")
        assert.ok(
          !r.parent.includes("pulumi:pulumi:Stack::") || r.type.startsWith("kratix-dynamodb"),
          `${r.name} is not inside a component`,
        );
    }
  });
});

// Each against the CRDs of the version that runs (test/helpers/crd-validator.ts, findCrds), unknown
// fields as errors; a test whose CRDs cannot be had here is skipped, naming what is missing.
describe("the program's objects against the upstream CRDs", () => {
  const validates = (types: string[]) => {
    for (const t of types) assert.ok(byType(t).length > 0, `no ${t}`);
    for (const o of types.flatMap(byType)) assert.deepEqual(validateAgainstUpstream(o.inputs), [], `${o.type} ${o.name}`);
  };
  it("the ComponentDefinitions and the Application: KubeVela's", () => {
    validates(["kubernetes:core.oam.dev/v1beta1:ComponentDefinition", "kubernetes:core.oam.dev/v1beta1:Application"]);
  });
  it("the BucketStateStore and the Destination: Kratix 224e148's", () => {
    validates(["kubernetes:platform.kratix.io/v1alpha1:BucketStateStore", "kubernetes:platform.kratix.io/v1alpha1:Destination"]);
  });
  it("the Bucket and the Kustomizations: Flux's", () => {
    validates(["kubernetes:source.toolkit.fluxcd.io/v1:Bucket", "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"]);
  });
});
