/**
 * End to end, for real: the Pulumi CLI (built from Go modules), the Kubernetes
 * provider and a kube-apiserver on 127.0.0.1, with the `local` stack's config.
 * Needs the tools from tools/build-tools.sh (built on first use, then cached).
 */
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import {
  ROOT,
  kubeClient,
  prepareCluster,
  projectWorkdir,
  pulumi,
  pulumiEnv,
  run,
  selectStack,
  startCluster,
  stopCluster,
  toolsPath,
} from "../../cli/local-env.ts";
import { BAD, GOOD, requestObject } from "../fixtures/corpus.ts";
import { validateSpec } from "../../core/api/validate.ts";
import { renderEnvironment } from "../../core/render/environment.ts";
import { parsePlatformConfig } from "../../core/config/platform-config.ts";
import { tableArgErrors } from "../../components/dynamodb-table.ts";

const work = mkdtempSync(join(tmpdir(), "kddb-e2e-"));
const clusterDir = join(work, "cluster");
const localConfig = join(ROOT, "Pulumi.local.yaml");
let env: NodeJS.ProcessEnv;
let kubeconfig: string;

const cwd = join(work, "project");
/** A stack in the test's own project folder, with the given config file as its stack file. */
async function stack(name: string, configFile = localConfig): Promise<void> {
  projectWorkdir(cwd, name, configFile);
  await selectStack(name, env, cwd);
}
const p = (args: string[]) => pulumi(args, env, { cwd, timeoutMs: 300_000 });
const up = (name: string) => p(["up", "--yes", "--skip-preview", "--stack", name]);
const preview = (name: string, extra: string[] = []) => p(["preview", "--stack", name, ...extra]);

/** Counts objects of the local stack's kinds on the server. */
async function serverObjects() {
  const { objects } = kubeClient(kubeconfig);
  const count = async (apiVersion: string, kind: string, namespace?: string) =>
    (await objects.list(apiVersion, kind, namespace).catch(() => ({ items: [] }))).items
      .map((o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`)
      .sort();
  return {
    definitions: await count("core.oam.dev/v1beta1", "ComponentDefinition", "vela-system"),
    applications: await count("core.oam.dev/v1beta1", "Application"),
    requests: await count("dynamodb.kratix.io/v1alpha1", "DynamoDBRequest").catch(() => []),
  };
}

before(async () => {
  if (process.env.KDDB_SKIP_E2E === "1") return;
  const path = await toolsPath();
  const cluster = await startCluster(clusterDir, { ...process.env, PATH: path });
  kubeconfig = cluster.kubeconfig;
  await prepareCluster(kubeconfig);
  env = pulumiEnv(path, kubeconfig, join(work, "state"));
  await stack("e2e");
});
after(async () => {
  if (process.env.KDDB_SKIP_E2E === "1") return;
  await stopCluster(clusterDir, env);
});

describe("the local stack on a real API server", { skip: process.env.KDDB_SKIP_E2E === "1" ? "KDDB_SKIP_E2E=1" : false }, () => {
  it("preview on an empty cluster lists the expected creates", async () => {
    const r = await preview("e2e", ["--json"]);
    assert.equal(r.code, 0, r.stderr);
    const steps = (JSON.parse(r.stdout) as { steps: { op: string; urn: string }[] }).steps;
    const creates = steps.filter((s) => s.op === "create").map((s) => s.urn.split("::").slice(-2).join("::"));
    for (const expected of [
      "kubernetes:core.oam.dev/v1beta1:ComponentDefinition::dynamodb-platform-vela-aws-dynamodb-kratix",
      "kubernetes:core.oam.dev/v1beta1:ComponentDefinition::dynamodb-platform-vela-kratix-promise-deployer",
      "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::dynamodb-platform-promise-api",
      "kubernetes:core.oam.dev/v1beta1:Application::dynamodb-platform-promise-application",
      "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest::user-sessions",
      "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest::orders",
    ]) {
      assert.ok(
        creates.some((c) => c.endsWith(expected)),
        `preview does not create ${expected}:\n${creates.join("\n")}`,
      );
    }
    assert.deepEqual(await serverObjects(), { definitions: [], applications: [], requests: [] }, "preview changed the cluster");
  });

  it("pulumi up succeeds and the API server holds every object", async () => {
    const r = await up("e2e");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const state = JSON.parse((await p(["stack", "export", "--stack", "e2e"])).stdout) as {
      deployment: { resources: { type: string; protect?: boolean }[] };
    };
    assert.equal(
      state.deployment.resources.find((x) => x.type.endsWith(":Application"))?.protect,
      true,
      "the Application is not protected",
    );
    assert.deepEqual(await serverObjects(), {
      definitions: ["vela-system/aws-dynamodb-kratix", "vela-system/kratix-promise-deployer"],
      applications: ["default/kratix-platform"],
      requests: ["default/orders", "default/user-sessions"],
    });
    const outputs = JSON.parse((await p(["stack", "output", "--json", "--stack", "e2e"])).stdout) as Record<string, Record<string, string>>;
    assert.deepEqual(outputs.tableArns, {
      orders: "arn:aws:dynamodb:us-west-2:000000000000:table/orders",
      "user-sessions": "arn:aws:dynamodb:us-west-2:000000000000:table/user-sessions",
    });
    assert.deepEqual(outputs.tableArnSources, { orders: "computed", "user-sessions": "computed" });
  });

  it("the server accepted the generated CRD as structural, with its CEL rules compiled", async () => {
    const crd = await kubeClient(kubeconfig).crds.readCustomResourceDefinition({ name: "dynamodbrequests.dynamodb.kratix.io" });
    const conditions = Object.fromEntries((crd.status?.conditions ?? []).map((c) => [c.type, c.status]));
    assert.equal(conditions.Established, "True");
    assert.equal(conditions.NonStructuralSchema, undefined);
  });

  it("a second preview shows no changes", async () => {
    const r = await preview("e2e", ["--expect-no-changes"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });

  it("the server accepts the Promise the Application carries (server-side dry run)", async () => {
    const { config } = parsePlatformConfig({ promiseDelivery: "pulumi", defaultRegion: "us-west-2" }, tableArgErrors);
    const promise = renderEnvironment(config).find((f) => f.path === "kratix/promise.yaml")!.objects![0] as object;
    const created = (await kubeClient(kubeconfig).custom.createClusterCustomObject({
      group: "platform.kratix.io",
      version: "v1alpha1",
      plural: "promises",
      body: promise,
      dryRun: "All",
      fieldValidation: "Strict",
    })) as { metadata: { name: string } };
    assert.equal(created.metadata.name, "aws-dynamodb-kratix");
  });

  it("the server's CEL rules agree with the validator on the corpus (server-side dry runs)", async () => {
    const { custom } = kubeClient(kubeconfig);
    const dryRun = (body: object) =>
      custom.createNamespacedCustomObject({
        group: "dynamodb.kratix.io",
        version: "v1alpha1",
        namespace: "default",
        plural: "dynamodbrequests",
        body,
        dryRun: "All",
        fieldValidation: "Strict",
      });
    for (const c of GOOD) await dryRun(requestObject(c.spec, "good", "default"));
    for (const c of BAD) {
      const refused = await dryRun(requestObject(c.spec, "bad", "default")).then(
        () => undefined,
        (e: { body?: string; message?: string }) => String(e.body ?? e.message),
      );
      assert.ok(refused, `the API server accepted a bad request: ${c.name}`);
      const ours = validateSpec(c.spec)[0]!.path;
      const status = JSON.parse(refused) as { message?: string; details?: { causes?: { field?: string }[] } };
      // Validation errors list their fields as causes; strict decoding names unknown fields in the message.
      const fields = [
        ...(status.details?.causes ?? []).map((x) => x.field ?? ""),
        ...[...String(status.message).matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]!),
      ];
      assert.ok(
        fields.some((f) => f === ours || ours.startsWith(`${f}.`) || ours.startsWith(`${f}[`) || f.startsWith(ours)),
        `${c.name}: validator names ${ours}, server names ${fields.join(", ")}:\n${refused}`,
      );
    }
  });

  it("a bad table in stack config fails preview naming the key, and nothing is created", async () => {
    const config = parse(readFileSync(localConfig, "utf8")) as { config: Record<string, unknown> };
    const tables = config.config["kratix-dynamodb-platform:tables"] as { table: Record<string, unknown> }[];
    tables[1]!.table.keySchema = [
      { attributeName: "customerId", keyType: "HASH" },
      { attributeName: "sku", keyType: "RANGE" },
    ];
    const bad = join(work, "Pulumi.bad.yaml");
    writeFileSync(bad, stringify(config));
    await stack("bad", bad);
    const r = await preview("bad");
    assert.notEqual(r.code, 0);
    assert.match(
      `${r.stdout}${r.stderr}`,
      /kratix-dynamodb-platform:tables\[1\]\.table\.keySchema\[1\]\.attributeName: "sku" is not in attributeDefinitions/,
    );
    const state = await p(["stack", "export", "--stack", "bad"]);
    assert.ok(!state.stdout.includes("kubernetes:"), "the failed preview recorded resources");
  });

  it("pulumi destroy is refused while the Promise's owner is protected, then removes what the stack made", async () => {
    const refused = await p(["destroy", "--yes", "--stack", "e2e"]);
    assert.notEqual(refused.code, 0);
    assert.match(`${refused.stdout}${refused.stderr}`, /protected/);
    // Requests still carry deletionPolicy Retain when they go: ACK would keep the tables.
    const { objects } = kubeClient(kubeconfig);
    const live = await objects.list("dynamodb.kratix.io/v1alpha1", "DynamoDBRequest", "default");
    assert.ok(
      live.items.length === 2 &&
        live.items.every((i) => (i as unknown as { spec: { deletionPolicy: string } }).spec.deletionPolicy === "Retain"),
    );
    const unprotect = await p(["state", "unprotect", "--all", "--yes", "--stack", "e2e"]);
    assert.equal(unprotect.code, 0, unprotect.stderr);
    const r = await p(["destroy", "--yes", "--stack", "e2e"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(await serverObjects(), { definitions: [], applications: [], requests: [] });
    // What the stack did not make stays: the namespace and the upstream CRDs.
    await kubeClient(kubeconfig).core.readNamespace({ name: "vela-system" });
    await kubeClient(kubeconfig).crds.readCustomResourceDefinition({ name: "promises.platform.kratix.io" });
  });

  it("converges after the API server is killed during pulumi up: no duplicates, nothing lost", async () => {
    await stack("fault");
    const upRun = up("fault");
    // Kill the server while the engine is creating resources, then bring it back.
    await new Promise((r) => setTimeout(r, 2500));
    await run("bash", [join(ROOT, "tools", "local-cluster.sh"), "kill-apiserver", clusterDir], { env });
    const interrupted = await upRun;
    const restart = await run("bash", [join(ROOT, "tools", "local-cluster.sh"), "restart-apiserver", clusterDir], { env });
    assert.equal(restart.code, 0, restart.stderr);
    let again = await up("fault");
    if (again.code !== 0 && /pending|already exists/i.test(`${again.stdout}${again.stderr}`)) {
      // Operations the engine had in flight when the server died: reconcile state with the cluster, then retry.
      await p(["refresh", "--yes", "--clear-pending-creates", "--stack", "fault"]);
      again = await up("fault");
    }
    assert.equal(again.code, 0, `first run exit ${interrupted.code}; second:\n${again.stdout}\n${again.stderr}`);
    assert.deepEqual(await serverObjects(), {
      definitions: ["vela-system/aws-dynamodb-kratix", "vela-system/kratix-promise-deployer"],
      applications: ["default/kratix-platform"],
      requests: ["default/orders", "default/user-sessions"],
    });
    const noChanges = await preview("fault", ["--expect-no-changes"]);
    assert.equal(noChanges.code, 0, `${noChanges.stdout}\n${noChanges.stderr}`);
  });
});
