/**
 * `npm run render` as a process, with no passphrase, cluster or cloud: what it writes is
 * what the program (index.ts) registers, every object valid against the real schemas, and
 * no secret anywhere.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { REPO_ROOT } from "../helpers/paths.ts";
import { PIPELINE_IDENTITY_GUARD_NAMES } from "../../core/install/pipeline-identity-guard.ts";
import { resolve, settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { CrdValidator, validateAgainstUpstream, type Crd } from "../helpers/crd-validator.ts";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { PROJECT } from "../../core/config/platform-config.ts";
import { PLACEHOLDER, PLACEHOLDER_PATTERN, readStackConfig } from "../../cli/program-under-mocks.ts";
import { API_GUARD_NAME, TABLE_GUARD_NAME } from "../../core/install/table-guard.ts";

type Obj = Record<string, unknown>;
interface Doc {
  file: string;
  /** The Pulumi resource the render says this is. */
  type: string;
  name: string;
  obj: Obj;
}
interface Rendered {
  files: string[];
  docs: Doc[];
  /** Every YAML file's text, concatenated (README.md lists the placeholders). */
  text: string;
}

/** What a fork's pull request has: no passphrase, no kubeconfig, no cloud credentials. */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: join(tmpdir(), "no-such-kubeconfig") };
  for (const k of Object.keys(env)) if (/^(PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN|PULUMI_BACKEND_URL|AWS_)/.test(k)) delete env[k];
  return env;
}
const exec = (args: string[]) =>
  new Promise<void>((resolve, reject) =>
    execFile(process.execPath, args, { env: bareEnv() }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return (await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])))).flat();
}

async function read(dir: string): Promise<Rendered> {
  const rendered: Rendered = { files: [], docs: [], text: "" };
  for (const path of (await walk(dir)).sort()) {
    const file = relative(dir, path);
    const text = await readFile(path, "utf8");
    rendered.files.push(file);
    if (!file.endsWith(".yaml")) continue;
    rendered.text += text;
    if (file === "aws.yaml" || file === "other.yaml") {
      for (const e of parse(text) as { type: string; name: string; inputs: Obj }[])
        rendered.docs.push({ file, type: e.type, name: e.name, obj: e.inputs });
      continue;
    }
    for (const chunk of text.split(/^---\n/m)) {
      const [, type, name] = /^# (\S+) (\S+)/m.exec(chunk) ?? [];
      assert.ok(type && name, `${file}: an object without the comment naming its resource`);
      rendered.docs.push({ file, type, name, obj: parse(chunk) as Obj });
    }
  }
  return rendered;
}

const requestCrd = new CrdValidator(dynamoDBRequestCRD() as unknown as Crd);
const objects = (r: Rendered) => r.docs.filter((d) => d.file.startsWith("kubernetes/"));
let dev: Rendered;
let local: Rendered;
let review: Rendered;
let registered: Registration[];

/** A stack only this test renders: the Promise applied by Pulumi, access keys everywhere, a plaintext key the program makes secret. */
const CANARY = { id: "AKIACANARYACCESSKEYID", secret: "canary-secret-access-key-do-not-render" };
const reviewStack = {
  config: {
    "aws:region": "eu-west-1",
    [`${PROJECT}:defaultRegion`]: "eu-west-1",
    [`${PROJECT}:tableNamePrefix`]: "review-",
    [`${PROJECT}:promiseDelivery`]: "pulumi",
    [`${PROJECT}:pipelineImage`]: "registry.example/kratix-dynamodb-pipeline:9.9.9",
    [`${PROJECT}:install`]: { velaCore: false, certManager: false, kratix: false, flux: false, ackController: true },
    [`${PROJECT}:ackCredentials`]: { mode: "accessKey" },
    [`${PROJECT}:stateStore`]: { mode: "bucket", endpoint: "minio.example:9000", bucketName: "kratix" },
    [`${PROJECT}:stateStoreCredentials`]: { accessKeyId: CANARY.id, secretAccessKey: CANARY.secret },
  },
};

before(async () => {
  const out = await mkdtemp(join(tmpdir(), "render-"));
  const localOut = await mkdtemp(join(tmpdir(), "render-local-"));
  const reviewOut = await mkdtemp(join(tmpdir(), "render-review-"));
  const reviewDir = await mkdtemp(join(tmpdir(), "render-stack-"));
  await copyFile(join(REPO_ROOT, "Pulumi.yaml"), join(reviewDir, "Pulumi.yaml"));
  await writeFile(join(reviewDir, "Pulumi.review.yaml"), stringify(reviewStack));
  await Promise.all([
    exec([join(REPO_ROOT, "cli", "render.ts"), "--stack", "dev", "--out", out]),
    exec([join(REPO_ROOT, "cli", "render.ts"), "--stack", "local", "--out", localOut]),
    exec([join(REPO_ROOT, "cli", "render.ts"), "--stack", "review", "--out", reviewOut, "--config-dir", reviewDir]),
  ]);
  [dev, local, review] = await Promise.all([read(out), read(localOut), read(reviewOut)]);

  // The program itself with the dev stack's config, here, under the tests' own mocks (which,
  // unlike the render's, make up ARNs and names as AWS would).
  registered = await setupMocks(PROJECT);
  const { config, secretKeys } = readStackConfig(REPO_ROOT, "dev");
  pulumi.runtime.setAllConfig(config, secretKeys);
  const program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
  await resolve(program.tableArns!);
  await settle();
});

const SECRET = Symbol("secret");
/** A registration's inputs from the wire, each leaf of a secret as SECRET. */
function plain(v: unknown, secret = false): unknown {
  if (Array.isArray(v)) return v.map((x) => plain(x, secret));
  if (v !== null && typeof v === "object") {
    const o = v as Obj;
    if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return plain(o.value, true);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x, secret)]));
  }
  return secret && v !== null ? SECRET : v;
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/**
 * Where the rendered value differs from the registered one. A placeholder for what is known at
 * deploy stands for any value; the secret placeholder must be exactly where a secret is; a policy
 * the render shows as an object is the registered JSON text.
 */
function differences(rendered: unknown, registered: unknown, path: string): string[] {
  if (registered === SECRET) return rendered === PLACEHOLDER.secret ? [] : [`${path}: a secret rendered as ${JSON.stringify(rendered)}`];
  if (rendered === PLACEHOLDER.secret) return [`${path}: not a secret, rendered as one`];
  if (typeof rendered === "string" && PLACEHOLDER_PATTERN.test(rendered)) {
    if (rendered === PLACEHOLDER.unknown || /^<known at deploy: [^<>]*>$/.test(rendered))
      return registered === undefined ? [`${path}: missing`] : [];
    const pattern = new RegExp(`^${rendered.split(PLACEHOLDER_PATTERN).map(escape).join(".+")}$`);
    return typeof registered === "string" && pattern.test(registered) ? [] : [`${path}: ${JSON.stringify(registered)} is not ${rendered}`];
  }
  if (typeof registered === "string" && rendered !== null && typeof rendered === "object") {
    try {
      return differences(rendered, JSON.parse(registered) as unknown, path);
    } catch {
      return [`${path}: ${registered} rendered as an object`];
    }
  }
  if (Array.isArray(rendered) && Array.isArray(registered)) {
    if (rendered.length !== registered.length) return [`${path}: ${rendered.length} items, registered ${registered.length}`];
    return rendered.flatMap((x, i) => differences(x, registered[i], `${path}[${i}]`));
  }
  if (
    rendered !== null &&
    typeof rendered === "object" &&
    registered !== null &&
    typeof registered === "object" &&
    !Array.isArray(registered)
  ) {
    const keys = new Set([...Object.keys(rendered), ...Object.keys(registered)]);
    return [...keys].flatMap((k) => differences((rendered as Obj)[k], (registered as Obj)[k], `${path}.${k}`));
  }
  return rendered === registered ? [] : [`${path}: ${JSON.stringify(registered)} rendered as ${JSON.stringify(rendered)}`];
}

describe("npm run render --stack dev", () => {
  it("writes Kubernetes objects by namespace, patches apart, each chart by release, AWS resources in aws.yaml", () => {
    for (const f of [
      "README.md",
      "aws.yaml",
      "kubernetes/cluster.yaml",
      "kubernetes/default.yaml",
      "kubernetes/vela-system.yaml",
      "kubernetes/flux-system.yaml",
      "kubernetes/flux-system.patches.yaml",
      "kubernetes/kratix-platform-system.patches.yaml",
      "helm/dynamodb-platform-ack-chart.yaml",
      "helm/dynamodb-platform-kratix-kratix.yaml",
    ]) {
      assert.ok(dev.files.includes(f), `missing ${f}`);
    }
    assert.equal(dev.files.filter((f) => f.startsWith("helm/")).length, 5);
  });
  it("is what the program registers: every resource it creates, once, with its inputs", () => {
    const key = (x: { type: string; name: string }) => `${x.type} ${x.name}`;
    const created = registered.filter((r) => r.custom || r.remote);
    assert.deepEqual(dev.docs.map(key).sort(), created.map(key).sort());
    for (const r of created) {
      const doc = dev.docs.find((d) => key(d) === key(r))!;
      assert.deepEqual(differences(doc.obj, plain(r.inputs), key(r)), [], `${doc.file}: ${key(r)}`);
    }
    // Only what AWS or the cluster decides is left open.
    assert.match(dev.text, /<known at deploy: dynamodb-platform-ack-role\.arn>/);
    assert.ok(!dev.text.includes(PLACEHOLDER.unknown), "a value the render cannot name");
  });
  it("every object of a kind with an upstream CRD validates against it, unknown fields as errors", () => {
    let checked = 0;
    for (const { file, obj } of objects(dev)) {
      if (!/kratix\.io|oam\.dev|services\.k8s\.aws/.test(String(obj.apiVersion)) || obj.kind === "DynamoDBRequest") continue;
      assert.deepEqual(validateAgainstUpstream(obj), [], `${file}: ${String(obj.kind)}`);
      checked++;
    }
    assert.ok(checked >= 5, `only ${checked} objects checked`);
  });
  it("every DynamoDBRequest validates against the generated CRD", () => {
    const requests = objects(dev).filter((o) => o.obj.kind === "DynamoDBRequest");
    assert.equal(requests.length, 2);
    for (const r of requests) assert.deepEqual(requestCrd.validate(r.obj), [], r.file);
  });
  it("the Promise in the Application is the one the components create", () => {
    type App = { spec: { components: { name: string; properties: Obj }[] } };
    const promiseOf = (app: App) => app.spec.components.find((c) => c.name === "dynamodb-promise")!.properties;
    const app = objects(dev).find((o) => o.obj.kind === "Application")!;
    const reg = registered.find((r) => r.type === "kubernetes:core.oam.dev/v1beta1:Application")!;
    assert.deepEqual(promiseOf(app.obj as unknown as App), promiseOf(reg.inputs as unknown as App));
    assert.equal(
      ((promiseOf(app.obj as unknown as App).api as Obj).metadata as { name: string }).name,
      "dynamodbrequests.dynamodb.kratix.io",
    );
  });
  it("guards ACK Tables, the platform's APIs and the pipelines' identities: seven admission policies and their Deny bindings", () => {
    const guard = objects(dev)
      .filter((o) => /^ValidatingAdmissionPolicy/.test(String(o.obj.kind)))
      .map((o) => o.obj);
    const named = (kind: string, name: string) => guard.find((o) => o.kind === kind && (o.metadata as { name: string }).name === name)!;
    const policyNames = [TABLE_GUARD_NAME, API_GUARD_NAME, ...Object.values(PIPELINE_IDENTITY_GUARD_NAMES)].sort();
    assert.deepEqual(
      guard
        .filter((o) => o.kind === "ValidatingAdmissionPolicy")
        .map((o) => (o.metadata as { name: string }).name)
        .sort(),
      policyNames,
    );
    assert.equal(guard.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding").length, policyNames.length);
    const tables = named("ValidatingAdmissionPolicy", TABLE_GUARD_NAME).spec as {
      variables: { name: string; expression: string }[];
      validations: { expression: string }[];
    };
    assert.equal(
      tables.variables.find((v) => v.name === "writers")!.expression,
      '["system:serviceaccount:flux-system:kratix-dynamodb-applier", "system:serviceaccount:ack-system:ack-dynamodb-controller"]',
    );
    // The dev stack's prefix (Pulumi.dev.yaml tableNamePrefix: dev-).
    assert.ok(tables.validations.some((v) => v.expression.includes('object.spec.tableName.startsWith("dev-")')));
    const apis = named("ValidatingAdmissionPolicy", API_GUARD_NAME).spec as { variables: { name: string; expression: string }[] };
    assert.equal(apis.variables.find((v) => v.name === "breakGlass")!.expression, "[]");
    for (const name of policyNames)
      assert.deepEqual((named("ValidatingAdmissionPolicyBinding", name).spec as { validationActions: string[] }).validationActions, [
        "Deny",
      ]);
  });
  it("Flux applies Kratix's output as a service account that may manage ACK Tables and Kratix's canary, nothing else", () => {
    const all = objects(dev).map((o) => o.obj);
    const kustomizations = all.filter((o) => o.kind === "Kustomization").map((o) => o.spec as Obj);
    assert.equal(kustomizations.length, 2);
    for (const k of kustomizations) assert.equal(k.serviceAccountName, "kratix-dynamodb-applier");
    // Uninstalling the platform must not delete every team's Tables with the Kustomizations.
    for (const k of kustomizations) assert.deepEqual([k.prune, k.deletionPolicy], [true, "Orphan"]);
    const named = (kind: string) =>
      all.find((o) => o.kind === kind && (o.metadata as { name?: string }).name === "kratix-dynamodb-applier")!;
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
    assert.ok(all.some((o) => o.kind === "Namespace" && (o.metadata as { name: string }).name === "kratix-worker-system"));
    const binding = named("ClusterRoleBinding") as { subjects: { name: string; namespace: string }[] };
    assert.deepEqual(
      binding.subjects.map((x) => `${x.namespace}/${x.name}`),
      ["flux-system/kratix-dynamodb-applier"],
    );
  });
  it("is keyless: no Secret, the controllers' service accounts patched with their roles, IAM in aws.yaml", () => {
    assert.deepEqual(
      objects(dev).filter((o) => o.obj.kind === "Secret"),
      [],
    );
    const patches = dev.docs.filter((d) => d.file.endsWith(".patches.yaml"));
    assert.deepEqual(patches.map((p) => `${String(p.obj.kind)} ${(p.obj.metadata as { name: string }).name}`).sort(), [
      "Deployment kratix-platform-controller-manager",
      "Deployment source-controller",
      "ServiceAccount kratix-platform-controller-manager",
      "ServiceAccount source-controller",
    ]);
    const aws = dev.docs.filter((d) => d.file === "aws.yaml");
    assert.deepEqual(aws.filter((d) => d.type === "aws:iam/role:Role").length, 3);
    const policy = aws.find((d) => d.type === "aws:iam/policy:Policy")!.obj.policy as { Statement: { Resource: string[] }[] };
    assert.deepEqual(policy.Statement[0]!.Resource, [
      "arn:<known at deploy: AWS partition>:dynamodb:us-west-2:<known at deploy: AWS account id>:table/dev-*",
      "arn:<known at deploy: AWS partition>:dynamodb:us-west-2:<known at deploy: AWS account id>:table/dev-*/index/*",
    ]);
  });
});

describe("npm run render --stack local (the S3-compatible state store of ./dev local)", () => {
  it("renders without the stack's passphrase: its secure key reaches the Secrets as a placeholder only", () => {
    const stackFile = readFileSync(join(REPO_ROOT, "Pulumi.local.yaml"), "utf8");
    const ciphertext = /^\s+secure: (\S+)$/m.exec(stackFile)![1]!;
    assert.ok(!local.text.includes(ciphertext));
    const secrets = objects(local).filter((o) => o.obj.kind === "Secret");
    assert.equal(secrets.length, 2);
    for (const s of secrets) {
      assert.equal(s.obj.data, undefined);
      for (const v of Object.values(s.obj.stringData as Obj)) assert.equal(v, PLACEHOLDER.secret);
    }
    // The program keeps every secure value a secret: its placeholder never shows.
    assert.ok(!local.text.includes("<secret config:"));
  });
  it("points Kratix and Flux at the bucket, with the local poll interval and the destination's folder", () => {
    const kind = (k: string) =>
      objects(local)
        .filter((d) => d.obj.kind === k)
        .map((d) => d.obj.spec as Obj);
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
        ["./platform-cluster/dependencies", "5s"],
        ["./platform-cluster/resources", "5s"],
      ],
    );
    assert.equal(local.files.filter((f) => f.startsWith("helm/")).length, 0);
  });
});

describe("npm run render of a stack with access keys and the Promise applied by Pulumi", () => {
  it("never writes a value the program marks secret, nor an access key AWS would make", () => {
    assert.ok(!review.text.includes(CANARY.id) && !review.text.includes(CANARY.secret));
    const secrets = objects(review).filter((o) => o.obj.kind === "Secret");
    assert.deepEqual(secrets.map((s) => (s.obj.metadata as { name: string }).name).sort(), [
      "ack-dynamodb-user-secrets",
      "flux-state-store-credentials",
      "kratix-state-store-credentials",
    ]);
    for (const s of secrets) for (const v of Object.values(s.obj.stringData as Obj)) assert.equal(v, PLACEHOLDER.secret);
    const aws = review.docs.filter((d) => d.file === "aws.yaml").map((d) => d.type);
    assert.ok(aws.includes("aws:iam/user:User") && aws.includes("aws:iam/accessKey:AccessKey"));
  });
  it("renders the Promise itself, valid, cluster-scoped and running the stack's pipeline image", () => {
    const promise = objects(review).find((o) => o.obj.kind === "Promise")!;
    assert.equal(promise.file, "kubernetes/cluster.yaml");
    assert.equal((promise.obj.metadata as Obj).namespace, undefined);
    assert.deepEqual(validateAgainstUpstream(promise.obj), []);
    assert.match(JSON.stringify(promise.obj.spec), /"image":"registry\.example\/kratix-dynamodb-pipeline:9\.9\.9"/);
    assert.equal(objects(review).filter((o) => o.obj.kind === "Application").length, 0);
  });
});
