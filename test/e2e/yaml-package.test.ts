/**
 * The component package from another language, under the real engine: the Pulumi YAML
 * program of examples/yaml, with the package installed from its packed tarball, on a bare
 * API server (control plane only). Pulumi's YAML language host (built from pulumi-yaml)
 * runs the program; the engine starts the package's provider through this project's
 * Node.js language host (RunPlugin), which serves the schema inferred from the TypeScript
 * declarations and constructs DynamoDBPlatform and DynamoDBTable.
 *
 * What it proves: the schema is served and YAML checks the program against it (a value
 * outside an enum is refused before anything runs); both components are built from YAML's
 * inputs, the table with the platform's defaults (name prefix, region) through the
 * platform's `defaults` output, which also orders the table after the platform; the API's
 * rules run inside the provider (a bad key fails preview naming the field); the objects
 * reach the API server; the table's ARN comes back to YAML from the request's status.
 * What it does not: no Kratix, pipeline or ACK runs here, so the test writes the request's
 * status itself, as the Promise's status step would (test/helpers/request-status.ts); the
 * platform is configured without charts, state store or AWS (installCharts, stateStoreMode
 * none, promiseDelivery pulumi), which the local-cluster e2e covers with the TypeScript program.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { LOCAL_DIR, pulumi, rawRequest, stopCluster } from "../../local-env/index.ts";
import { packageTestProject } from "../helpers/package.ts";
import { requestPath, statusStep } from "../helpers/request-status.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const dir = join(LOCAL_DIR, "yaml-package");
const TOOLS = [
  "pulumi",
  "pulumi-language-nodejs",
  "pulumi-language-yaml",
  "pulumi-resource-kubernetes",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
];
const PULUMI_TIMEOUT = 10 * 60_000;
const ACCOUNT = "123456789012";
const arnFor = (spec: { name: string; region?: string }) =>
  `arn:aws:dynamodb:${spec.region ?? "eu-west-1"}:${ACCOUNT}:table/team-a-${spec.name}`;

let path: string;
let kubeconfig: string;
let env: NodeJS.ProcessEnv;
const project = join(dir, "project");

const run = async (args: string[], cwd = project) => {
  const r = await pulumi(args, env, { cwd, timeoutMs: PULUMI_TIMEOUT });
  return { ...r, out: `${r.stdout}\n${r.stderr}` };
};
const ok = async (args: string[], cwd = project) => {
  const r = await run(args, cwd);
  assert.equal(r.code, 0, `pulumi ${args.join(" ")}:\n${r.out}`);
  return r;
};

/** A second YAML project beside the example, with the same installed package. */
async function badProject(name: string, resources: unknown): Promise<string> {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  writeFileSync(
    join(p, "Pulumi.yaml"),
    JSON.stringify({
      name,
      runtime: "yaml",
      packages: { "kratix-dynamodb-platform": "./node_modules/kratix-dynamodb-platform" },
      resources,
    }),
  );
  cpSync(join(project, "node_modules"), join(p, "node_modules"), { recursive: true, verbatimSymlinks: true });
  await ok(["stack", "select", "e2e", "--create"], p);
  return p;
}

const table = (keyAttribute: string, billingMode = "PAY_PER_REQUEST") => ({
  type: "kratix-dynamodb-platform:index:DynamoDBTable",
  properties: {
    platformDefaults: { defaultRegion: "eu-west-1" },
    waitForArn: false,
    accountId: ACCOUNT,
    table: {
      tableName: "orders",
      billingMode,
      attributeDefinitions: [{ name: "id", type: "S" }],
      keySchema: [{ attributeName: keyAttribute, keyType: "HASH" }],
    },
  },
});

(SKIP ? describe.skip : describe)("a Pulumi YAML program using the component package (examples/yaml)", () => {
  before(async () => {
    ({ path, kubeconfig, env } = await packageTestProject(dir, project, TOOLS, (p) =>
      cpSync(join(REPO_ROOT, "examples", "yaml", "Pulumi.yaml"), join(p, "Pulumi.yaml")),
    ));
  });
  after(async () => {
    if (path) await stopCluster(join(dir, "cluster"), { ...process.env, PATH: path });
  });

  it("refuses a value outside the schema's enum before building anything", async () => {
    const p = await badProject("bad-enum", { orders: table("id", "MONTHLY") });
    const r = await run(["preview"], p);
    assert.notEqual(r.code, 0);
    // YAML's own type check, against the enum the schema inferred from components/args.ts.
    assert.match(r.out, /billingMode: Cannot assign type 'string' to type 'kratix-dynamodb-platform:index:BillingMode'/);
    assert.match(r.out, /Allowed values are PayPerRequest \("PAY_PER_REQUEST"\), Provisioned \("PROVISIONED"\)/);
    assert.doesNotMatch(r.out, /kubernetes:dynamodb.kratix.io\/v1alpha1:DynamoDBRequest/);
  });

  it("refuses a table the API refuses, naming the field, from inside the provider", async () => {
    const p = await badProject("bad-key", { orders: table("orderId") });
    const r = await run(["preview"], p);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /DynamoDBTable "orders" is invalid/);
    assert.match(r.out, /table\.keySchema\[0\]\.attributeName: "orderId" is not in attributeDefinitions/);
  });

  it("previews both components and their objects", async () => {
    const r = await ok(["preview", "--json"]);
    const steps = (JSON.parse(r.stdout) as { steps: { op: string; urn: string }[] }).steps;
    const created = steps.filter((s) => s.op === "create").map((s) => s.urn.split("::").slice(2).join("::"));
    for (const want of [
      "kratix-dynamodb-platform:index:DynamoDBPlatform::platform",
      "kratix-dynamodb-platform:index:DynamoDBTable::orders",
      "kratix-dynamodb-platform:index:DynamoDBTable$kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest::orders",
    ])
      assert.ok(created.includes(want), `${want} not in ${created.join(", ")}`);
    assert.ok(
      created.some((u) => u.endsWith("kubernetes:platform.kratix.io/v1alpha1:Promise::platform-promise-promise")),
      created.join(", "),
    );
  });

  it("up: the Promise and the request reach the API server, and the table's ARN comes back to YAML from the request's status", async () => {
    const step = statusStep(kubeconfig, "default", "orders", arnFor);
    const r = await run(["up", "--yes", "--skip-preview"]);
    const writes = await step.stop();
    assert.equal(r.code, 0, r.out);
    assert.ok(writes >= 1, "the status was never written");

    const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, string>;
    assert.deepEqual(outputs, {
      ordersTableArn: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/team-a-orders`,
      ordersTableName: "team-a-orders",
      ordersArnSource: "status",
      promiseName: "aws-dynamodb-kratix",
    });
    const request = JSON.parse((await rawRequest(kubeconfig, "GET", requestPath("default", "orders"))).body) as {
      spec: { name: string; keySchema: unknown[]; tags: Record<string, string>; deletionPolicy: string };
    };
    assert.equal(request.spec.name, "orders");
    assert.deepEqual(request.spec.keySchema, [
      { attributeName: "customerId", keyType: "HASH" },
      { attributeName: "orderId", keyType: "RANGE" },
    ]);
    assert.equal(request.spec.deletionPolicy, "Retain");
    const promise = await rawRequest(kubeconfig, "GET", "/apis/platform.kratix.io/v1alpha1/promises/aws-dynamodb-kratix");
    assert.equal(promise.status, 200, promise.body);
    assert.match(promise.body, /"name":"TABLE_NAME_PREFIX","value":"team-a-"/);

    // The table waits for the platform: its request depends on the platform, through the defaults output.
    const state = JSON.parse((await ok(["stack", "export"])).stdout) as {
      deployment: { resources: { urn: string; dependencies?: string[] }[] };
    };
    const urn = (suffix: string) => state.deployment.resources.find((x) => x.urn.endsWith(suffix))!;
    const platformUrn = urn("::kratix-dynamodb-platform:index:DynamoDBPlatform::platform").urn;
    assert.ok(urn("DynamoDBRequest::orders").dependencies?.includes(platformUrn), JSON.stringify(urn("DynamoDBRequest::orders")));
  });

  it("a second preview changes nothing", async () => {
    await ok(["preview", "--expect-no-changes"]);
  });

  it("destroy removes the request and the Promise", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal((await rawRequest(kubeconfig, "GET", requestPath("default", "orders"))).status, 404);
    assert.equal((await rawRequest(kubeconfig, "GET", "/apis/platform.kratix.io/v1alpha1/promises/aws-dynamodb-kratix")).status, 404);
  });
});
