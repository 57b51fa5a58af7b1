/** `npm run render` as a process, and every object it writes checked against the real schemas. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { before, describe, it } from "mocha";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../helpers/paths.ts";
import { CrdValidator, validateAgainstUpstream, type Crd } from "../helpers/crd-validator.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { renderEnvironment } from "../../core/render/environment.ts";
import { parsePlatformConfig } from "../../core/config/platform-config.ts";
import { tableArgErrors } from "../../components/dynamodb-table.ts";

const requestCrd = new CrdValidator(dynamoDBRequestCRD() as unknown as Crd);
let out: string;
const objects: { file: string; obj: Record<string, unknown> }[] = [];

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return (await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])))).flat();
}

before(async () => {
  out = await mkdtemp(join(tmpdir(), "render-"));
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [join(REPO_ROOT, "cli", "render.ts"), "--stack", "dev", "--out", out], (err, _o, stderr) =>
      err ? reject(new Error(stderr)) : resolve(),
    ),
  );
  for (const file of (await walk(out)).filter((f) => f.endsWith(".yaml"))) {
    for (const doc of parseAllDocuments(await readFile(file, "utf8")))
      objects.push({ file: relative(out, file), obj: doc.toJS() as Record<string, unknown> });
  }
});

describe("npm run render", () => {
  it("writes the definitions, the Application, Kratix wiring, Helm values and every request", () => {
    const files = new Set(objects.map((o) => o.file));
    for (const f of [
      "kubevela/aws-dynamodb-kratix.yaml",
      "kubevela/kratix-promise-deployer.yaml",
      "kubevela/kratix-platform-application.yaml",
      "kratix/state-store.yaml",
      "flux/state-store-source.yaml",
      "helm/charts.yaml",
      "helm/ack-dynamodb.values.yaml",
      "ack/table-guard.yaml",
      "requests/default-orders.yaml",
      "requests/default-user-sessions.yaml",
    ]) {
      assert.ok(files.has(f), `missing ${f}`);
    }
  });
  it("every object of a kind with an upstream CRD validates against it, unknown fields as errors", () => {
    const kinds = objects.filter(
      (o) =>
        typeof o.obj.apiVersion === "string" &&
        /kratix\.io|oam\.dev|fluxcd|services\.k8s\.aws/.test(String(o.obj.apiVersion)) &&
        o.obj.kind !== "DynamoDBRequest",
    );
    let checked = 0;
    for (const { file, obj } of kinds) {
      if (/fluxcd/.test(String(obj.apiVersion))) continue; // no Flux CRDs in shared/upstream-crds
      assert.deepEqual(validateAgainstUpstream(obj), [], file);
      checked++;
    }
    assert.ok(checked >= 5, `only ${checked} objects checked`);
  });
  it("every DynamoDBRequest validates against the generated CRD", () => {
    const requests = objects.filter((o) => o.obj.kind === "DynamoDBRequest");
    assert.equal(requests.length, 2);
    for (const r of requests) assert.deepEqual(requestCrd.validate(r.obj), [], r.file);
  });
  it("the Application's Promise and example table render as valid objects", () => {
    const app = objects.find((o) => o.obj.kind === "Application")!.obj as {
      spec: { components: { properties: Record<string, unknown> }[] };
    };
    const api = app.spec.components[0]!.properties.api as Record<string, unknown>;
    assert.equal((api.metadata as { name: string }).name, "dynamodbrequests.dynamodb.kratix.io");
  });
  it("guards ACK Tables: the admission policy and its Deny binding, writers the platform's service accounts", () => {
    const guard = objects.filter((o) => o.file === "ack/table-guard.yaml").map((o) => o.obj);
    assert.deepEqual(
      guard.map((o) => o.kind),
      ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
    );
    const spec = guard[0]!.spec as { variables: { name: string; expression: string }[] };
    assert.equal(
      spec.variables.find((v) => v.name === "writers")!.expression,
      '["system:serviceaccount:flux-system:kratix-dynamodb-applier", "system:serviceaccount:ack-system:ack-dynamodb-controller"]',
    );
    assert.deepEqual((guard[1]!.spec as { validationActions: string[] }).validationActions, ["Deny"]);
  });
  it("Flux applies Kratix's output as a service account that may manage ACK Tables and Kratix's canary, nothing else", () => {
    const kustomizations = objects.filter((o) => o.obj.kind === "Kustomization").map((o) => o.obj.spec as Record<string, unknown>);
    assert.equal(kustomizations.length, 2);
    for (const k of kustomizations) assert.equal(k.serviceAccountName, "kratix-dynamodb-applier");
    // Uninstalling the platform must not delete every team's Tables with the Kustomizations.
    for (const k of kustomizations) assert.deepEqual([k.prune, k.deletionPolicy], [true, "Orphan"]);
    const named = (kind: string) =>
      objects.find((o) => o.obj.kind === kind && (o.obj.metadata as { name?: string }).name === "kratix-dynamodb-applier")!.obj;
    const role = named("ClusterRole") as {
      rules: { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[];
    };
    // Tables; and the canary Namespace Kratix writes to every destination, by name and only
    // get/patch (the platform creates it, so applying it never needs create).
    assert.deepEqual(
      role.rules.map((r) => [r.apiGroups, r.resources, r.resourceNames ?? "any"]),
      [
        [["dynamodb.services.k8s.aws"], ["tables"], "any"],
        [[""], ["namespaces"], ["kratix-worker-system"]],
      ],
    );
    assert.deepEqual(role.rules[1]!.verbs, ["get", "patch"]);
    const canaryRole = named("Role") as { metadata: { namespace: string }; rules: { resources: string[] }[] };
    assert.equal(canaryRole.metadata.namespace, "kratix-worker-system");
    assert.deepEqual(
      canaryRole.rules.map((r) => r.resources),
      [["configmaps"]],
    );
    assert.ok(objects.some((o) => o.obj.kind === "Namespace" && (o.obj.metadata as { name: string }).name === "kratix-worker-system"));
    const binding = named("ClusterRoleBinding") as {
      subjects: { name: string; namespace: string }[];
    };
    assert.deepEqual(
      binding.subjects.map((x) => `${x.namespace}/${x.name}`),
      ["flux-system/kratix-dynamodb-applier"],
    );
  });
  it("never writes a credential: Secrets hold placeholders only", () => {
    const secrets = objects.filter((o) => o.obj.kind === "Secret");
    assert.ok(secrets.length >= 3);
    for (const s of secrets) {
      for (const v of Object.values(s.obj.stringData as Record<string, string>)) assert.match(v, /set by Pulumi at deploy time/);
      assert.equal(s.obj.data, undefined);
    }
  });
  it("pulumi delivery renders the Promise itself, valid and cluster-scoped", () => {
    const { config } = parsePlatformConfig({ promiseDelivery: "pulumi", defaultRegion: "eu-west-1" }, tableArgErrors);
    const promise = renderEnvironment(config).find((f) => f.path === "kratix/promise.yaml")!.objects![0] as Record<string, unknown>;
    assert.deepEqual(validateAgainstUpstream(promise), []);
  });
});

describe("npm run render --stack local (the S3-compatible state store of ./dev local)", () => {
  it("points Kratix and Flux at the bucket, with the local poll interval and Kratix v0.125.0's folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "render-local-"));
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [join(REPO_ROOT, "cli", "render.ts"), "--stack", "local", "--out", dir], (err, _o, stderr) =>
        err ? reject(new Error(stderr)) : resolve(),
      ),
    );
    const docs = (await walk(dir))
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> }));
    const kind = (k: string) => docs.filter((d) => d.kind === k).map((d) => d.spec);
    assert.deepEqual(
      kind("BucketStateStore").map((s) => [s.endpoint, s.insecure]),
      [["127.0.0.1:19000", true]],
    );
    assert.deepEqual(
      kind("Bucket").map((s) => [s.provider, s.endpoint, s.interval]),
      [["generic", "127.0.0.1:19000", "5s"]],
    );
    assert.deepEqual(
      kind("Kustomization")
        .map((s) => [s.path, s.interval])
        .sort(),
      [
        ["./platform-cluster/platform-cluster/dependencies", "5s"],
        ["./platform-cluster/platform-cluster/resources", "5s"],
      ],
    );
  });
});
