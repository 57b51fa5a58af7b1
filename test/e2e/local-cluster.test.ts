/**
 * End to end, for real: the Pulumi CLI (built from Go modules), the Kubernetes
 * provider and a kube-apiserver on 127.0.0.1, with KubeVela's vela-core and the
 * Kratix platform controller reconciling what the `local` stack makes. The chain
 * under test: Pulumi applies the definitions and the kratix-platform Application,
 * vela-core renders the Promise from it, Kratix makes the DynamoDBRequest CRD from
 * the Promise's API and starts a pipeline Job per request. No node runs pods
 * here (docs/local.md). A failing test prints the tail of the controllers' logs
 * (all of them are in .local/e2e/cluster/*.log).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, parseAllDocuments, stringify } from "yaml";
import {
  LOCAL_DIR,
  ROOT,
  kubeClient,
  projectWorkdir,
  pulumi,
  pulumiEnv,
  selectStack,
  startLocalEnvironment,
  waitUntil,
  type LocalEnvironment,
} from "../../local-env/index.ts";
import { KRATIX_PROMISE_LABEL, REQUEST_CRD, readChain } from "../../local-env/chain.ts";
import { BAD, GOOD, requestObject } from "../fixtures/corpus.ts";
import { validateSpec } from "../../core/api/validate.ts";
import { IMAGES } from "../../core/install/versions.ts";
import { PIPELINES } from "../../core/render/promise.ts";
import { PLATFORM_APPLICATION, PROMISE_COMPONENT } from "../../core/render/application.ts";
import { DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION, loadDefinition } from "../../core/kubevela/definitions.ts";
import { renderDynamoDBRequest, type TableProperties } from "../../core/render/dynamodb-request.ts";
import { closeVelaCue, parameterSchema } from "../helpers/vela-cue.ts";
import { completeKratixDeleteJobs } from "../doubles/kratix-jobs-succeed.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const work = join(LOCAL_DIR, "e2e");
const clusterDir = join(work, "cluster");
const localConfig = join(ROOT, "Pulumi.local.yaml");
const PROMISE = "aws-dynamodb-kratix";
const PIPELINE_SA = `${PROMISE}-resource-pipeline`;
let local: LocalEnvironment;
let env: NodeJS.ProcessEnv;

const cwd = join(work, "project");
/** A stack in the test's own project folder, with the given config file as its stack file. */
async function stack(name: string, configFile = localConfig): Promise<void> {
  projectWorkdir(cwd, name, configFile);
  await selectStack(name, env, cwd);
}
const p = (args: string[], timeoutMs = 300_000) => pulumi(args, env, { cwd, timeoutMs });
const up = (name: string) => p(["up", "--yes", "--skip-preview", "--stack", name]);
const preview = (name: string, extra: string[] = []) => p(["preview", "--stack", name, ...extra]);
const kube = () => kubeClient(local.kubeconfig);

/** A test whose failure message ends with the controllers' logs. */
function chainIt(name: string, fn: () => Promise<void>) {
  it(name, async () => {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      // node:test prints the stack, which holds the message as it was when the error was made.
      const context = `\n\nApplication statuses:\n${await applicationStatuses()}\n\n${local.controllerLogs()}`;
      e.message += context;
      e.stack = `${e.stack}${context}`;
      throw e;
    }
  });
}

/** Every Application's status.status, services and workflow step messages, for a failure message. */
async function applicationStatuses(): Promise<string> {
  const apps = (await kube()
    .custom.listClusterCustomObject({ group: "core.oam.dev", version: "v1beta1", plural: "applications" })
    .catch((e: Error) => ({ items: [], error: e.message }))) as { items: Live[] };
  return apps.items
    .map((a) => {
      const st = a.status ?? {};
      return `${a.metadata.namespace}/${a.metadata.name}: ${JSON.stringify({ status: st.status, services: st.services, workflow: (st.workflow as { steps?: unknown } | undefined)?.steps })}`;
    })
    .join("\n");
}

interface Live {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}
const names = (items: { metadata?: { namespace?: string; name?: string } }[]) =>
  items.map((o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`).sort();

/** The stack's kinds on the server, in the namespace the local stack uses. */
async function serverObjects(namespace = "default") {
  const { objects } = kube();
  const list = async (apiVersion: string, kind: string, ns?: string) =>
    names((await objects.list(apiVersion, kind, ns).catch(() => ({ items: [] }))).items);
  return {
    definitions: await list("core.oam.dev/v1beta1", "ComponentDefinition", "vela-system"),
    applications: await list("core.oam.dev/v1beta1", "Application", namespace),
    requests: await list("dynamodb.kratix.io/v1alpha1", "DynamoDBRequest", namespace),
  };
}
const getApplication = async (name: string, namespace = "default") =>
  (await kube().custom.getNamespacedCustomObject({
    group: "core.oam.dev",
    version: "v1beta1",
    namespace,
    plural: "applications",
    name,
  })) as Live;
const getPromise = async () =>
  (await kube().custom.getClusterCustomObject({
    group: "platform.kratix.io",
    version: "v1alpha1",
    plural: "promises",
    name: PROMISE,
  })) as Live;
const promiseImages = (promise: Live) =>
  JSON.stringify(promise.spec.workflows)
    .match(/"image":"[^"]+"/g)!
    .map((m) => m.slice(9, -1));
const listRequests = async (namespace: string) =>
  (
    (await kube().custom.listNamespacedCustomObject({
      group: "dynamodb.kratix.io",
      version: "v1alpha1",
      namespace,
      plural: "dynamodbrequests",
    })) as {
      items: Live[];
    }
  ).items;
/** Kratix's pipeline Jobs for one request. */
const jobsOf = async (namespace: string, request: string) =>
  (await kube().batch.listNamespacedJob({ namespace, labelSelector: `kratix.io/resource-name=${request}` })).items;

async function stackState(name: string) {
  return JSON.parse((await p(["stack", "export", "--stack", name])).stdout) as {
    deployment: {
      resources: { urn: string; type: string; protect?: boolean; outputs?: Record<string, unknown> }[];
      pending_operations?: unknown[];
    };
  };
}

/**
 * A spec without the schema extensions: the provider records x-kubernetes-* keys in
 * its outputs as x_kubernetes_* (it applies them as they are, as the server shows).
 */
function withoutSchemaExtensions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSchemaExtensions);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !k.startsWith("x-kubernetes-") && !k.startsWith("x_kubernetes_"))
        .map(([k, x]) => [k, withoutSchemaExtensions(x)]),
    );
  return v;
}

/** Every Kubernetes object in the stack's state: no URN twice, and each on the server with the spec Pulumi recorded. */
async function assertStateMatchesServer(name: string): Promise<void> {
  const state = await stackState(name);
  const urns = state.deployment.resources.map((r) => r.urn);
  assert.equal(new Set(urns).size, urns.length, "a URN appears twice in the state");
  const { objects } = kube();
  for (const r of state.deployment.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
    const o = r.outputs as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: unknown };
    const live = (await objects.read({
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace! },
    })) as unknown as {
      spec?: unknown;
    };
    assert.deepEqual(
      withoutSchemaExtensions(live.spec),
      withoutSchemaExtensions(o.spec),
      `${r.urn}: the server's spec differs from Pulumi's state`,
    );
  }
}

describe("the local stack with vela-core and Kratix reconciling", { skip: SKIP ? "KDDB_SKIP_E2E=1" : false }, () => {
  // Inside the suite, so a failed start is reported against it (a top-level hook's failure is not shown).
  before(async () => {
    rmSync(work, { recursive: true, force: true });
    local = await startLocalEnvironment(clusterDir);
    env = pulumiEnv(local.path, local.kubeconfig, join(work, "state"));
    await stack("e2e");
  });
  after(async () => {
    await closeVelaCue();
    await local?.stop();
  });

  chainIt("preview on an empty cluster lists the expected creates and changes nothing", async () => {
    const r = await preview("e2e", ["--json"]);
    assert.equal(r.code, 0, r.stderr);
    const steps = (JSON.parse(r.stdout) as { steps: { op: string; urn: string }[] }).steps;
    const creates = steps.filter((s) => s.op === "create").map((s) => s.urn.split("::").slice(-2).join("::"));
    for (const expected of [
      "kubernetes:core.oam.dev/v1beta1:ComponentDefinition::dynamodb-platform-vela-aws-dynamodb-kratix",
      "kubernetes:core.oam.dev/v1beta1:ComponentDefinition::dynamodb-platform-vela-kratix-promise-deployer",
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

  chainIt("pulumi up: vela-core renders the Promise, Kratix makes it Available and its CRD, then the requests are made", async () => {
    const started = performance.now();
    const r = await up("e2e");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const chain = await readChain(local.kubeconfig);
    // The Promise component is healthy because Kratix says the Promise is Available.
    const promiseService = chain.application?.services.find((s) => s.name === PROMISE_COMPONENT);
    assert.equal(promiseService?.healthy, true, JSON.stringify(chain.application));
    assert.equal(chain.promise?.status, "Available");
    // vela-core wrote the Promise (Pulumi did not), and Kratix made the CRD from its API.
    assert.ok(chain.promise?.managers.includes("kubevela"), `Promise managers: ${chain.promise?.managers.join(", ")}`);
    assert.ok(!chain.promise?.managers.some((m) => m.startsWith("pulumi")), "Pulumi wrote the Promise");
    assert.equal(chain.crd?.promiseLabel, PROMISE);
    assert.ok(chain.crd?.managers.includes("kratix"), `CRD managers: ${chain.crd?.managers.join(", ")}`);
    const crd = await kube().crds.readCustomResourceDefinition({ name: REQUEST_CRD });
    assert.ok(
      crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.status!.properties!.conditions,
      "Kratix's status schema is missing",
    );
    assert.deepEqual(
      chain.requests.filter((q) => q.namespace === "default").map((q) => q.name),
      ["example-dynamodb-table", "orders", "user-sessions"],
    );
    const state = await stackState("e2e");
    assert.equal(
      state.deployment.resources.find((x) => x.type.endsWith(":Application"))?.protect,
      true,
      "the Application is not protected",
    );
    assert.ok(!state.deployment.resources.some((x) => x.type.endsWith(":CustomResourceDefinition")), "Pulumi made a CRD");
    const outputs = JSON.parse((await p(["stack", "output", "--json", "--stack", "e2e"])).stdout) as Record<string, Record<string, string>>;
    assert.deepEqual(outputs.tableArns, {
      orders: "arn:aws:dynamodb:us-west-2:000000000000:table/orders",
      "user-sessions": "arn:aws:dynamodb:us-west-2:000000000000:table/user-sessions",
    });
    assert.deepEqual(outputs.tableArnSources, { orders: "computed", "user-sessions": "computed" });
    console.log(`# pulumi up to the Promise Available and the requests made: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  chainIt("KubeVela stores each definition's parameter schema, with the +usage texts, as its own engine makes it", async () => {
    for (const name of [DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION]) {
      const cm = await waitUntil(`ConfigMap component-schema-${name}`, () =>
        kube().core.readNamespacedConfigMap({ namespace: "vela-system", name: `component-schema-${name}` }),
      );
      const stored = JSON.parse(cm.data!["openapi-v3-json-schema"]!) as Record<string, unknown>;
      // test/definitions/cue.test.ts compares this schema with the API, field by field.
      assert.deepEqual(stored, await parameterSchema(loadDefinition(name).template));
      const descriptions = Object.values(stored.properties as Record<string, { description?: string }>).map((x) => x.description);
      assert.ok(descriptions.every(Boolean), `${name}: a parameter without a description`);
    }
  });

  chainIt("Kratix starts a render-table Job per request, with the Promise's image, service account and RBAC", async () => {
    for (const request of ["orders", "user-sessions"]) {
      const jobs = await waitUntil(`Kratix's Job for ${request}`, async () => {
        const j = await jobsOf("default", request);
        return j.length ? j : undefined;
      });
      assert.equal(jobs.length, 1, `jobs for ${request}: ${names(jobs).join(", ")}`);
      const job = jobs[0]!;
      assert.equal(job.metadata!.labels!["kratix.io/pipeline-name"], PIPELINES.render);
      assert.equal(job.metadata!.labels![KRATIX_PROMISE_LABEL], PROMISE);
      const pod = job.spec!.template.spec!;
      assert.equal(pod.serviceAccountName, PIPELINE_SA);
      const ours = pod.initContainers!.find((c) => c.image === IMAGES.pipeline);
      assert.ok(ours, `no container runs ${IMAGES.pipeline}: ${pod.initContainers!.map((c) => c.image).join(", ")}`);
      assert.deepEqual(ours.args, ["configure"]);
    }
    // Kratix v0.125.0's RBAC for resource pipelines: the request kind and Works (docs/decisions.md: the
    // newer Kratix the chart installs also grants the Promise's own rbac.permissions, ACK Tables).
    const role = await kube().rbac.readNamespacedRole({ namespace: "default", name: PIPELINE_SA });
    assert.ok(role.rules!.some((r) => r.resources!.includes("dynamodbrequests") && r.verbs.includes("get")));
    const binding = await kube().rbac.readNamespacedRoleBinding({ namespace: "default", name: PIPELINE_SA });
    assert.deepEqual(
      binding.subjects!.map((s) => `${s.kind}/${s.name}`),
      [`ServiceAccount/${PIPELINE_SA}`],
    );
    await kube().core.readNamespacedServiceAccount({ namespace: "default", name: PIPELINE_SA });
  });

  chainIt("a second preview, refreshed from the cluster, shows no changes", async () => {
    const r = await preview("e2e", ["--refresh", "--expect-no-changes"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });

  chainIt("the CRD Kratix made refuses the corpus' bad requests where the validator does, naming the same field", async () => {
    const { custom } = kube();
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

  chainIt(
    "examples/: each Application becomes the DynamoDBRequest its properties describe; the invalid one is refused, naming the field",
    async () => {
      const namespace = "team-a";
      await kube().core.createNamespace({ body: { metadata: { name: namespace } } });
      const read = (dir: string) =>
        readdirSync(join(ROOT, "examples", dir)).flatMap((f) =>
          parseAllDocuments(readFileSync(join(ROOT, "examples", dir, f), "utf8")).map(
            (d) => d.toJS() as { metadata: { name: string }; spec: { components: { name: string; properties: TableProperties }[] } },
          ),
        );
      const good = read("applications");
      const [invalid] = read("invalid");
      assert.ok(good.length >= 4 && invalid);
      for (const app of [...good, invalid!]) await kube().objects.create({ ...app, metadata: { ...app.metadata, namespace } } as never);
      for (const app of good) {
        for (const c of app.spec.components) {
          const live = await waitUntil(`DynamoDBRequest ${namespace}/${c.name}`, async () =>
            (await listRequests(namespace)).find((r) => r.metadata.name === c.name),
          );
          assert.deepEqual(live.spec, renderDynamoDBRequest({ name: c.name, namespace }, c.properties).spec, `${app.metadata.name}: spec`);
        }
      }
      const message = await waitUntil(
        "the invalid Application's error",
        async () => {
          const a = await getApplication(invalid!.metadata.name, namespace);
          const steps = ((a.status?.workflow as { steps?: { message?: string }[] } | undefined)?.steps ?? []).filter((s) => s.message);
          return steps.length ? steps.map((s) => s.message).join("\n") : undefined;
        },
        60_000,
      );
      assert.match(message, /spec\.keySchema: Invalid value/);
      assert.match(message, /every keySchema attributeName must be declared in attributeDefinitions/);
      assert.ok(!(await listRequests(namespace)).some((r) => r.metadata.name === invalid!.spec.components[0]!.name));
    },
  );

  chainIt("a bad table in stack config fails preview naming the key, and nothing is created", async () => {
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
    await stack("e2e");
  });

  chainIt(
    "a new pipelineImage reaches the Promise vela-core writes, with vela-core and Kratix down during pulumi up; the next up converges",
    async () => {
      const image = "kratix-dynamodb-pipeline:0.1.1-e2e";
      const before = await getPromise();
      const beforeApp = await getApplication(PLATFORM_APPLICATION);
      assert.ok(promiseImages(before).every((i) => i === IMAGES.pipeline));
      // Both controllers die before the engine changes the Application, and come back while it runs.
      await local.kill("vela-core");
      await local.kill("kratix");
      assert.equal((await p(["config", "set", "pipelineImage", image, "--stack", "e2e"])).code, 0);
      const first = up("e2e");
      const app = await waitUntil("the new publishVersion on the server", async () => {
        const a = await getApplication(PLATFORM_APPLICATION);
        const v = a.metadata.annotations?.["app.oam.dev/publishVersion"];
        return v !== beforeApp.metadata.annotations?.["app.oam.dev/publishVersion"] ? a : undefined;
      });
      assert.ok(app);
      await local.restart("vela-core");
      await waitUntil("vela-core to write the new image into the Promise", async () =>
        promiseImages(await getPromise()).every((i) => i === image) ? true : undefined,
      );
      await local.restart("kratix");
      const r = await first;
      assert.equal(r.code, 0, `the interrupted up failed:\n${r.stdout}\n${r.stderr}`);
      await waitUntil("Kratix to reconcile the new Promise", async () => {
        const pr = await getPromise();
        return pr.status?.status === "Available" && pr.status.observedGeneration === pr.metadata.generation ? true : undefined;
      });
      const again = await up("e2e");
      assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
      const noChanges = await preview("e2e", ["--refresh", "--expect-no-changes"]);
      assert.equal(noChanges.code, 0, `${noChanges.stdout}\n${noChanges.stderr}`);
      await assertStateMatchesServer("e2e");
      // Nothing duplicated: one Promise, one CRD (Kratix's), the stack's requests once each, and for
      // each request at most one Job per Promise revision (Kratix labels them with its hash).
      const promises = (await kube().custom.listClusterCustomObject({
        group: "platform.kratix.io",
        version: "v1alpha1",
        plural: "promises",
      })) as {
        items: Live[];
      };
      assert.deepEqual(
        promises.items.map((x) => x.metadata.name),
        [PROMISE],
      );
      assert.deepEqual((await serverObjects()).requests, ["default/example-dynamodb-table", "default/orders", "default/user-sessions"]);
      for (const request of ["orders", "user-sessions"]) {
        const jobs = await jobsOf("default", request);
        const hashes = jobs.map((j) => `${j.metadata!.labels!["kratix.io/hash"]}/${j.metadata!.labels!["kratix.io/pipeline-name"]}`);
        assert.equal(new Set(hashes).size, hashes.length, `${request}: two Jobs for one revision: ${names(jobs).join(", ")}`);
      }
    },
  );

  chainIt(
    "pulumi destroy is refused while the Promise's owner is protected, then removes what the stack made and keeps the Promise",
    async () => {
      const refused = await p(["destroy", "--yes", "--stack", "e2e"]);
      assert.notEqual(refused.code, 0);
      assert.match(`${refused.stdout}${refused.stderr}`, /protected/);
      // Requests still carry deletionPolicy Retain when they go: ACK would keep the tables.
      const live = await listRequests("default");
      assert.ok(live.length === 3 && live.every((i) => i.spec.deletionPolicy === "Retain"));
      const unprotect = await p(["state", "unprotect", "--all", "--yes", "--stack", "e2e"]);
      assert.equal(unprotect.code, 0, unprotect.stderr);
      // Kratix holds each deleted request until its delete pipeline has run: the stand-in plays the node.
      const node = completeKratixDeleteJobs(local.kubeconfig);
      const r = await p(["destroy", "--yes", "--stack", "e2e"]);
      const deletePipelines = await node.stop();
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.ok(deletePipelines >= 2, `Kratix ran ${deletePipelines} delete pipelines`);
      await waitUntil("vela-core to delete the Application's example request", async () =>
        (await serverObjects()).requests.length === 0 ? true : undefined,
      );
      assert.deepEqual(await serverObjects(), { definitions: [], applications: [], requests: [] });
      // Retained: the Promise (the Application's keep-promise policy), so other teams' requests and their
      // CRD stay served; the namespace and the upstream CRDs the stack did not make.
      assert.equal((await getPromise()).status?.status, "Available");
      await kube().crds.readCustomResourceDefinition({ name: REQUEST_CRD });
      assert.ok((await listRequests("team-a")).length >= 4, "the examples' requests were lost");
      await kube().core.readNamespace({ name: "vela-system" });
    },
  );

  chainIt(
    "the API server killed while pulumi up waits: the engine rides it out or fails, and the next up converges, state and cluster in step",
    async () => {
      await stack("fault");
      // vela-core is down, so the engine is certainly waiting on the Application when the server dies.
      await local.kill("vela-core");
      // Interrupted (SIGINT) if it is still waiting a minute after the server is back.
      const first = p(["up", "--yes", "--skip-preview", "--stack", "fault"], 75_000);
      await waitUntil("the Application on the server", async () => ((await serverObjects()).applications.length ? true : undefined));
      assert.ok((await serverObjects()).requests.length === 0, "the requests were made before the Promise was ready");
      await local.kill("kube-apiserver");
      await new Promise((r) => setTimeout(r, 3000));
      await local.restart("kube-apiserver");
      await local.restart("vela-core");
      const interrupted = await first;
      console.log(`# the up during the API server outage exited ${interrupted.code} after ${(interrupted.ms / 1000).toFixed(0)} s`);
      let again = await up("fault");
      let recovery = interrupted.code === 0 ? "none needed: the engine rode out the outage" : "a plain second pulumi up";
      if (again.code !== 0 && /pending|already exists/i.test(`${again.stdout}${again.stderr}`)) {
        // Operations the engine had in flight when the server died: reconcile state with the cluster, then retry.
        recovery = "pulumi refresh --clear-pending-creates, then pulumi up";
        await p(["refresh", "--yes", "--clear-pending-creates", "--stack", "fault"]);
        again = await up("fault");
      }
      console.log(`# recovery after the API server kill: ${recovery}`);
      assert.equal(again.code, 0, `first run exit ${interrupted.code}; second:\n${again.stdout}\n${again.stderr}`);
      assert.deepEqual(await serverObjects(), {
        definitions: ["vela-system/aws-dynamodb-kratix", "vela-system/kratix-promise-deployer"],
        applications: ["default/kratix-platform"],
        requests: ["default/example-dynamodb-table", "default/orders", "default/user-sessions"],
      });
      await assertStateMatchesServer("fault");
      const state = await stackState("fault");
      assert.ok(!state.deployment.pending_operations?.length, "pending operations left in the state");
      const noChanges = await preview("fault", ["--refresh", "--expect-no-changes"]);
      assert.equal(noChanges.code, 0, `${noChanges.stdout}\n${noChanges.stderr}`);
    },
  );
});
