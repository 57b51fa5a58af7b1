/**
 * The npm package in a team's TypeScript stack, under the real engine: examples/consumer-ts,
 * with the package installed from its packed tarball (JavaScript and declarations only; Node
 * strips no types inside node_modules), on a bare API server (control plane only).
 *
 * What it proves: the tarball alone runs (nothing read from this repository at run time); the
 * table takes its platform (the explicit Kubernetes provider given to the platform, the wait on
 * the Promise, the platform's prefix and region); the platform passes its own dependsOn to every
 * resource under it; and a stack made with the old type tokens (kratix-dynamodb:index:*) updates
 * in place to the new ones through the components' aliases: same objects on the API server (same
 * uids), nothing replaced. What it does not: no Kratix, pipeline or ACK runs here, so the test
 * writes the request's status as the Promise's status step would (test/helpers/request-status.ts).
 */
import assert from "node:assert/strict";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { LOCAL_DIR, pulumi, rawRequest, stopCluster } from "../../local-env/index.ts";
import { packageTestProject } from "../helpers/package.ts";
import { requestPath, statusStep } from "../helpers/request-status.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { OLD_TOKEN_PREFIX, TOKEN_PREFIX } from "../../components/token.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const dir = join(LOCAL_DIR, "consumer-package");
const TOOLS = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "etcd", "kube-apiserver", "kube-controller-manager"];
const PULUMI_TIMEOUT = 10 * 60_000;
const ACCOUNT = "123456789012";
const NAMESPACE = "team-a";
const arnFor = (spec: { name: string; region?: string }) =>
  `arn:aws:dynamodb:${spec.region ?? "eu-west-1"}:${ACCOUNT}:table/team-a-${spec.name}`;
const PROMISE = "/apis/platform.kratix.io/v1alpha1/promises/aws-dynamodb-kratix";

let path: string;
let kubeconfig: string;
let env: NodeJS.ProcessEnv;
const project = join(dir, "project");

const run = async (args: string[]) => {
  const r = await pulumi(args, env, { cwd: project, timeoutMs: PULUMI_TIMEOUT });
  return { ...r, out: `${r.stdout}\n${r.stderr}` };
};
const ok = async (args: string[]) => {
  const r = await run(args);
  assert.equal(r.code, 0, `pulumi ${args.join(" ")}:\n${r.out}`);
  return r;
};
interface StateResource {
  urn: string;
  type: string;
  parent?: string;
  provider?: string;
  dependencies?: string[];
  custom?: boolean;
}
const exportState = async () => JSON.parse((await ok(["stack", "export"])).stdout) as { deployment: { resources: StateResource[] } };
const uid = async (path: string) =>
  (JSON.parse((await rawRequest(kubeconfig, "GET", path)).body) as { metadata: { uid: string } }).metadata.uid;

/** `pulumi up` while the stand-in status step answers for the table's request. */
async function up(): Promise<void> {
  const step = statusStep(kubeconfig, NAMESPACE, "orders", arnFor);
  const r = await run(["up", "--yes", "--skip-preview"]);
  await step.stop();
  assert.equal(r.code, 0, r.out);
}

(SKIP ? describe.skip : describe)("a TypeScript stack using the package from its tarball (examples/consumer-ts)", () => {
  before(async () => {
    ({ path, kubeconfig, env } = await packageTestProject(dir, project, TOOLS, (p) =>
      cpSync(join(REPO_ROOT, "examples", "consumer-ts"), p, { recursive: true }),
    ));
  });
  after(async () => {
    if (path) await stopCluster(join(dir, "cluster"), { ...process.env, PATH: path });
  });

  it("up: the platform and a table from the packed package, the ARN back from the request's status", async () => {
    await up();
    const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, string>;
    assert.deepEqual(outputs, {
      ordersTableArn: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/team-a-orders`,
      ordersTableName: "team-a-orders",
      ordersArnSource: "status",
      promiseName: "aws-dynamodb-kratix",
    });
    assert.equal((await rawRequest(kubeconfig, "GET", requestPath(NAMESPACE, "orders"))).status, 200);
    assert.equal((await rawRequest(kubeconfig, "GET", PROMISE)).status, 200);
  });

  it("the table took its platform's provider and waits for its Promise; the platform's dependsOn reaches every resource under it", async () => {
    const { resources } = (await exportState()).deployment;
    const find = (type: string, name: string) => {
      const r = resources.find((x) => x.type === type && x.urn.endsWith(`::${name}`));
      assert.ok(r, `no ${type} ${name} in the state`);
      return r;
    };
    const provider = find("pulumi:providers:kubernetes", "cluster");
    const namespace = find("kubernetes:core/v1:Namespace", "team-a");
    const promise = find("kubernetes:platform.kratix.io/v1alpha1:Promise", "dynamodb-promise-promise");
    const request = find("kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest", "orders");
    assert.ok(request.provider?.startsWith(`${provider.urn}::`), `request's provider: ${request.provider}`);
    assert.ok(request.dependencies?.includes(promise.urn), `request's dependencies: ${request.dependencies}`);
    const platform = find(`${TOKEN_PREFIX}:DynamoDBPlatform`, "dynamodb");
    const under = (r: StateResource): boolean => r.parent === platform.urn || resources.some((p) => p.urn === r.parent && under(p));
    const inside = resources.filter(under);
    assert.ok(inside.length >= 3, inside.map((r) => r.urn).join("\n"));
    for (const r of inside) {
      assert.ok(r.dependencies?.includes(namespace.urn), `${r.urn} does not wait for the platform's dependsOn`);
      if (r.custom) assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.urn}: ${r.provider}`);
    }
  });

  it("a stack made with the old type tokens updates in place: aliases keep every URN's resource, nothing is replaced", async () => {
    const before = { request: await uid(requestPath(NAMESPACE, "orders")), promise: await uid(PROMISE) };
    // The state as version 0.1.0 wrote it: every token of this package under its old prefix.
    const old = JSON.stringify(await exportState()).replaceAll(`${TOKEN_PREFIX}:`, `${OLD_TOKEN_PREFIX}:`);
    assert.ok(old.includes(`${OLD_TOKEN_PREFIX}:DynamoDBTable`));
    const file = join(dir, "old-state.json");
    writeFileSync(file, old);
    await ok(["stack", "import", "--file", file]);

    const preview = JSON.parse((await ok(["preview", "--json"])).stdout) as { steps?: { op: string; urn: string }[] };
    const changed = (preview.steps ?? []).filter((s) => !["same", "refresh"].includes(s.op));
    assert.deepEqual(
      changed.map((s) => `${s.op} ${s.urn}`),
      [],
      "the aliases should map every old URN to its new one",
    );
    await up();
    const state = JSON.stringify(await exportState());
    assert.ok(!state.includes(`${OLD_TOKEN_PREFIX}:`), "the state still has old tokens");
    assert.deepEqual({ request: await uid(requestPath(NAMESPACE, "orders")), promise: await uid(PROMISE) }, before);
  });

  it("destroy removes what it made", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal((await rawRequest(kubeconfig, "GET", requestPath(NAMESPACE, "orders"))).status, 404);
    assert.equal((await rawRequest(kubeconfig, "GET", PROMISE)).status, 404);
  });
});
