/**
 * The policy pack's shell and settings, without the engine: the pack started as its own
 * process (policy/index.js) and asked over gRPC what the engine asks (GetAnalyzerInfo,
 * Analyze); the per-stack configs in policy/stacks/; the names the rules look for,
 * against the code that makes them. (test/e2e/policy-pack.test.ts runs it under `pulumi preview`.)
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";
import {
  ACK_CONTROLLER_COMPONENT,
  ACK_DELETION_POLICY_ANNOTATION,
  ACK_GROUP,
  ENFORCEMENT_LEVELS,
  PROMISE_COMPONENT,
  REQUEST_GROUP,
  REQUEST_KIND,
  RULES,
  SECRET_SIG,
  SIG_KEY,
  TABLE_COMPONENT,
  TABLE_NAME_PREFIX_ENV,
  UNKNOWN_VALUES,
  ACK_CHART,
} from "../../policy/rules.ts";
import { API_GROUP, API_KIND } from "../../core/api/rules.ts";
import { ACK_DELETION_POLICY_ANNOTATION as CORE_ACK_ANNOTATION, ACK_TABLE_API_VERSION } from "../../core/render/ack-table.ts";
import { DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION } from "../../core/kubevela/definitions.ts";
import { ENV_TABLE_NAME_PREFIX } from "../../core/kratix/env.ts";
import { CHARTS } from "../../core/install/versions.ts";
import { SECRET_SIG as MOCKS_SECRET_SIG } from "../helpers/pulumi-mocks.ts";

const POLICY_DIR = join(REPO_ROOT, "policy");
// The protobuf and gRPC modules @pulumi/pulumi itself uses (the pack's messages must be theirs).
const sdkRequire = createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
/* eslint-disable @typescript-eslint/no-explicit-any */
const grpc = sdkRequire("@grpc/grpc-js") as any;
const analyzerPb = sdkRequire("./proto/analyzer_pb.js") as any;
const analyzerGrpc = sdkRequire("./proto/analyzer_grpc_pb.js") as any;
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb.js") as any;
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb.js") as any;
const rpc = sdkRequire("./runtime/rpc.js") as { specialSigKey: string; specialSecretSig: string };
const policyProxy = createRequire(import.meta.url)("@pulumi/policy/proxy.js") as Record<string, unknown>;
/* eslint-enable @typescript-eslint/no-explicit-any */

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"]; // pulumirpc.EnforcementLevel's order
let pack: ChildProcess;
let client: { [method: string]: (req: unknown, cb: (err: Error | null, res: any) => void) => void; close(): void }; // eslint-disable-line @typescript-eslint/no-explicit-any
const call = <T>(method: string, req: unknown) =>
  new Promise<T>((resolve, reject) => client[method]!(req, (err, res) => (err ? reject(err) : resolve(res as T))));

describe("the pack as a process, asked over gRPC what the engine asks", () => {
  before(async () => {
    pack = spawn(process.execPath, ["index.js"], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      pack.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      pack.once("exit", (code) => reject(new Error(`the pack exited with ${code}`)));
    });
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client?.close();
    pack?.kill();
  });

  it("serves every rule, mandatory, with the version of its package.json", async () => {
    const info = await call<{
      getName(): string;
      getVersion(): string;
      getPoliciesList(): { getName(): string; getEnforcementlevel(): number }[];
    }>("getAnalyzerInfo", new Empty());
    assert.equal(info.getName(), "kratix-dynamodb");
    assert.equal(info.getVersion(), (JSON.parse(readFileSync(join(POLICY_DIR, "package.json"), "utf8")) as { version: string }).version);
    assert.deepEqual(
      info.getPoliciesList().map((p) => [p.getName(), LEVELS[p.getEnforcementlevel()]]),
      RULES.map((r) => [r.name, "mandatory"]),
    );
  });

  it("judges what is known of a resource in preview, without skipping it for an unknown field", async () => {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType("kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest");
    req.setUrn("urn:pulumi:prod::p::kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest::scratch");
    req.setName("scratch");
    req.setOptions(new analyzerPb.AnalyzerResourceOptions());
    req.setProperties(
      Struct.fromJavaScript({
        apiVersion: "dynamodb.kratix.io/v1alpha1",
        kind: "DynamoDBRequest",
        metadata: { name: "scratch", namespace: "default", annotations: [...UNKNOWN_VALUES][2] },
        spec: { name: "scratch", deletionPolicy: "Delete" },
      }),
    );
    const res = await call<{ getDiagnosticsList(): { getPolicyname(): string; getMessage(): string; getEnforcementlevel(): number }[] }>(
      "analyze",
      req,
    );
    assert.deepEqual(
      // The SDK puts the policy's description before the rule's message.
      res.getDiagnosticsList().map((d) => [d.getPolicyname(), LEVELS[d.getEnforcementlevel()], d.getMessage().split("\n").at(-1)]),
      [
        [
          "dynamodb-tables-retained",
          "mandatory",
          "DynamoDBRequest default/scratch (table scratch): deletionPolicy is Delete, so deleting it deletes the AWS table and its data",
        ],
        [
          "dynamodb-deletion-protection",
          "mandatory",
          "DynamoDBRequest default/scratch (table scratch): deletionProtection is not true in a production stack",
        ],
      ],
    );
  });
});

describe("the per-stack policy configs (policy/stacks/<stack>.json)", () => {
  const names = new Set(RULES.map((r) => r.name));
  const configs = readdirSync(join(POLICY_DIR, "stacks")).filter((f) => f.endsWith(".json"));
  const read = (f: string) => JSON.parse(readFileSync(join(POLICY_DIR, "stacks", f), "utf8")) as Record<string, unknown>;

  it("exist for the repository's stacks, local and dev", () => {
    assert.deepEqual(configs.sort(), ["dev.json", "local.json"]);
    for (const f of configs) assert.ok(readdirSync(REPO_ROOT).includes(`Pulumi.${f.replace(/\.json$/, "")}.yaml`), f);
  });
  it("name only the pack's policies, with valid levels (the engine ignores a misspelt policy name)", () => {
    for (const f of configs) {
      for (const [policy, value] of Object.entries(read(f))) {
        assert.ok(names.has(policy), `${f}: ${policy} is not a policy of the pack`);
        const level = typeof value === "string" ? value : (value as { enforcementLevel?: string }).enforcementLevel;
        assert.ok((ENFORCEMENT_LEVELS as readonly string[]).includes(level ?? ""), `${f}: ${policy}: ${JSON.stringify(value)}`);
      }
    }
  });
  it("relax for the non-production stacks only what they need: deletion protection off, the image by tag advised", () => {
    for (const f of configs) {
      const c = read(f);
      assert.equal(c["dynamodb-deletion-protection"], "disabled", f);
      assert.equal(c["pipeline-image-pinned-by-digest"], "advisory", f);
      // Tables stay retained, credentials never plain, and neither stack uses access keys (local: existingSecret, dev: irsa).
      for (const kept of ["dynamodb-tables-retained", "no-plaintext-credentials", "ack-credentials-not-access-key"])
        assert.equal(c[kept], undefined, `${f}: ${kept}`);
    }
    // Only the local stack (no AWS account, an emulator) may go without a table name prefix.
    assert.equal(read("local.json")["table-name-prefix-set"], "advisory");
    assert.equal(read("dev.json")["table-name-prefix-set"], undefined);
  });
});

describe("the pack's package (policy/package.json)", () => {
  const json = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  it("pins the SDKs at the repository's versions, and its lockfile (npm ci --prefix policy, as CI runs it) agrees", () => {
    const pack = json(join(POLICY_DIR, "package.json"));
    const root = json(join(REPO_ROOT, "package.json"));
    const lock = json(join(POLICY_DIR, "package-lock.json"));
    const rootVersions = { ...root.dependencies, ...root.devDependencies, ...root.peerDependencies } as Record<string, string>;
    assert.deepEqual(Object.keys(pack.dependencies).sort(), ["@pulumi/policy", "@pulumi/pulumi"]);
    for (const [name, version] of Object.entries(pack.dependencies as Record<string, string>)) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is not pinned`);
      assert.ok(rootVersions[name]?.includes(version), `${name}: policy/ has ${version}, the repository ${rootVersions[name]}`);
      assert.equal(lock.packages[`node_modules/${name}`]?.version, version, `policy/package-lock.json: ${name}`);
    }
    assert.deepEqual(lock.packages[""].dependencies, pack.dependencies);
    assert.equal(pack.main, "index.js");
    assert.equal(pack.type, "module");
  });
});

describe("what the rules look for", () => {
  it("is what the code makes: API, ACK annotation and group, component types, env variable, chart, component type", () => {
    assert.equal(REQUEST_GROUP, API_GROUP);
    assert.equal(REQUEST_KIND, API_KIND);
    assert.equal(ACK_DELETION_POLICY_ANNOTATION, CORE_ACK_ANNOTATION);
    assert.equal(`${ACK_GROUP}/v1alpha1`, ACK_TABLE_API_VERSION);
    assert.equal(TABLE_COMPONENT, DYNAMODB_DEFINITION);
    assert.equal(PROMISE_COMPONENT, PROMISE_DEPLOYER_DEFINITION);
    assert.equal(TABLE_NAME_PREFIX_ENV, ENV_TABLE_NAME_PREFIX);
    assert.ok(CHARTS.ackDynamoDB.chart.endsWith(`/${ACK_CHART}`));
    assert.match(
      readFileSync(join(REPO_ROOT, "components", "ack-controller.ts"), "utf8"),
      new RegExp(`TOKEN_PREFIX}:${ACK_CONTROLLER_COMPONENT}\``),
    );
  });
  it("uses Pulumi's own markers for secrets and unknown values", () => {
    assert.equal(SIG_KEY, rpc.specialSigKey);
    assert.equal(SECRET_SIG, rpc.specialSecretSig);
    assert.equal(SECRET_SIG, MOCKS_SECRET_SIG);
    const unknowns = Object.entries(policyProxy)
      .filter(([k]) => /^unknown\w+Value$/.test(k))
      .map(([, v]) => v);
    assert.deepEqual(new Set(unknowns), UNKNOWN_VALUES);
  });
});
