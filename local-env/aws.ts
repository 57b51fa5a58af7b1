/**
 * The AWS side of the local environment: an emulated AWS (moto, with IAM enforced:
 * local-env/emulators/aws.py) and ACK's own DynamoDB controller (v1.9.2, built from its
 * upstream tree) against it, as its own identity.
 *
 * What stands in for what, and why:
 *   - AWS is moto's server. The harness makes two IAM users in it before it serves a request:
 *     `ack`, whose only policy is exactly what core/aws/ack-policy.ts renders for the local
 *     stack, and `harness` (everything), with which the tests read the emulator. Their keys go
 *     where the product's `existingSecret` mode takes them from: a Secret in ack-system (the
 *     stack's `ackCredentials.secretName`), as an ini file with a profile.
 *   - ACK runs as a process (as the other controllers do, until the installs are on), with
 *     what its chart would give its pod: the chart (helm/ of the same tree) is rendered with
 *     the product's values (core/install/helm-values.ts ackValues) plus the emulator's
 *     endpoints; its ServiceAccount and RBAC are applied; the process gets a token of that
 *     service account, never the admin kubeconfig, and the Deployment's own args and env.
 *   - The admission guards `AckDynamoDBController` makes beside the chart (core/install/ack-guards.ts)
 *     are applied as it makes them, so the chain runs under them: tools/local-cluster.sh gives
 *     the parts they look for the identities production gives them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, type TableDescription } from "@aws-sdk/client-dynamodb";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { ackDynamoDBPolicy, iniCredentials, type PolicyDocument } from "../core/aws/ack-policy.ts";
import { ackValues } from "../core/install/helm-values.ts";
import { ACK_SERVICE_ACCOUNT, NAMESPACES } from "../core/install/namespaces.ts";
import { restartProcess } from "./cluster.ts";
import { freePort } from "./ports.ts";
import { applyObjects, ensureNamespace, kubeClient, rawRequest } from "./kube.ts";
import { ackGuards } from "../core/install/ack-guards.ts";
import { ROOT } from "./paths.ts";
import { run } from "./process.ts";

export const AWS_EMULATOR = "aws-emulator";
export const ACK_CONTROLLER = "ack-controller";
/** The account moto answers as. */
export const EMULATED_ACCOUNT = "123456789012";
/** The Secret the local stack names (`ackCredentials: {mode: existingSecret, secretName}`), and its ini profile. */
export const ACK_CREDENTIALS_PROFILE = "default";

export const ACK_TREE = "ack-dynamodb-controller-v1.9.2";
export const upstreamSrc = () => process.env.KDDB_UPSTREAM_SRC ?? join(ROOT, "..", "shared", "upstream-src");
export const ackChartDir = () => join(upstreamSrc(), ACK_TREE, "helm");

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where the emulator listens and the keys of its two users (DIR/aws.json, written at start). */
export interface EmulatedAws {
  endpoint: string;
  region: string;
  users: { ack: AwsCredentials; harness: AwsCredentials };
}

const awsFile = (dir: string) => join(dir, "aws.json");
export const readEmulatedAws = (dir: string): EmulatedAws => JSON.parse(readFileSync(awsFile(dir), "utf8")) as EmulatedAws;

/** The local stack's settings the ACK policy is scoped by (Pulumi.local.yaml). */
export interface AckPolicySettings {
  region: string;
  regions: string[];
  tableNamePrefix?: string;
  kmsKeyArns?: string[];
  /** The stack's existingSecret name. */
  secretName: string;
}

export function localStackAckSettings(stackFile = join(ROOT, "Pulumi.local.yaml")): AckPolicySettings {
  const config = (parseYaml(readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> }).config;
  const get = <T>(key: string) => config[`kratix-dynamodb-platform:${key}`] as T | undefined;
  const region = get<string>("defaultRegion") ?? "us-east-1";
  const credentials = get<{ mode: string; secretName?: string }>("ackCredentials");
  if (credentials?.mode !== "existingSecret" || !credentials.secretName)
    throw new Error(`${stackFile}: the local environment gives ACK its keys as the existingSecret mode does; ackCredentials must say so`);
  return {
    region,
    regions: get<string[]>("ackAllowedRegions") ?? [region],
    ...(get<string>("tableNamePrefix") ? { tableNamePrefix: get<string>("tableNamePrefix")! } : {}),
    ...(get<string[]>("kmsKeyArns") ? { kmsKeyArns: get<string[]>("kmsKeyArns")! } : {}),
    secretName: credentials.secretName,
  };
}

/** The policy the product would attach to ACK's identity for these settings, in the emulated account. */
export const ackPolicyFor = (s: AckPolicySettings): PolicyDocument =>
  ackDynamoDBPolicy({ partition: "aws", accountId: EMULATED_ACCOUNT, regions: s.regions, ...pick(s, "tableNamePrefix", "kmsKeyArns") });

function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<Pick<T, K>>;
}

const EVERYTHING: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Sid: "Harness", Effect: "Allow", Action: ["*"], Resource: ["*"] }],
};

/** The Python with moto's server, or a clear error naming the install. */
async function motoPython(env: NodeJS.ProcessEnv): Promise<string> {
  const python = process.env.KDDB_PYTHON ?? "python3";
  const r = await run(python, ["-c", "import moto.server, flask"], { env });
  if (r.code !== 0)
    throw new Error(
      `the AWS emulator needs moto's server for ${python}: pip install "moto[server]" (moto 5.2.1 is what is tested)\n${r.stderr}`,
    );
  return python;
}

/** Starts the AWS emulator (if not running) with ACK's user limited to `policy`. */
export async function startAwsEmulator(dir: string, env: NodeJS.ProcessEnv, region: string, policy: PolicyDocument): Promise<EmulatedAws> {
  if (existsSync(awsFile(dir)) && running(dir, AWS_EMULATOR)) return readEmulatedAws(dir);
  const python = await motoPython(env);
  const port = await freePort();
  const policies = join(dir, "aws-policies");
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, "ack.json"), JSON.stringify(policy, null, 2));
  writeFileSync(join(policies, "harness.json"), JSON.stringify(EVERYTHING));
  const credentialsFile = join(dir, "aws-users.json");
  const cmd = [
    "env",
    "-u",
    "AWS_CA_BUNDLE",
    python,
    join(ROOT, "local-env", "emulators", "aws.py"),
    "--port",
    String(port),
    "--credentials-out",
    credentialsFile,
    "--policy",
    `ack=${join(policies, "ack.json")}`,
    "--policy",
    `harness=${join(policies, "harness.json")}`,
  ];
  writeFileSync(join(dir, `${AWS_EMULATOR}.cmd`), `${cmd.join("\n")}\n`);
  // moto's own API (not an AWS service: no signature) answers once the server is up.
  writeFileSync(join(dir, `${AWS_EMULATOR}.health`), `http://127.0.0.1:${port}/moto-api/data.json\n`);
  await restartProcess(dir, AWS_EMULATOR as never, env);
  const users = JSON.parse(readFileSync(credentialsFile, "utf8")) as EmulatedAws["users"];
  const aws: EmulatedAws = { endpoint: `http://127.0.0.1:${port}`, region, users };
  writeFileSync(awsFile(dir), JSON.stringify(aws, null, 2));
  return aws;
}

function running(dir: string, name: string): boolean {
  const pidFile = join(dir, `${name}.pid`);
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8")), 0);
    return true;
  } catch {
    return false;
  }
}

/** The chart's values for the local environment: the product's, pointed at the emulator. */
export function localAckValues(s: AckPolicySettings, aws: EmulatedAws) {
  const product = ackValues({ region: s.region, credentials: { mode: "existingSecret", secretName: s.secretName } });
  return {
    ...product,
    aws: {
      ...product.aws,
      endpoint_url: aws.endpoint,
      identity_endpoint_url: aws.endpoint,
      allow_unsafe_aws_endpoint_urls: true,
    },
  };
}

/** `helm template` of ACK's chart with these values, as objects. */
export async function renderAckChart(env: NodeJS.ProcessEnv, values: unknown, workDir: string): Promise<KubernetesObject[]> {
  const valuesFile = join(workDir, "ack-values.json");
  writeFileSync(valuesFile, JSON.stringify(values, null, 2));
  const r = await run("helm", ["template", "ack-dynamodb", ackChartDir(), "--namespace", NAMESPACES.ack, "--values", valuesFile], { env });
  if (r.code !== 0) throw new Error(`helm template of ACK's chart (${ackChartDir()}) failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as KubernetesObject)
    .filter((o) => o?.kind);
}

interface Container {
  args?: string[];
  env?: { name: string; value?: string | null; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

/** The controller's command line as the chart's Deployment runs it: its args with `$(VAR)` expanded from its env. */
export function deploymentCommandLine(deployment: KubernetesObject, namespace: string): { args: string[]; env: Record<string, string> } {
  const container = (deployment as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec
    .containers[0]!;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = namespace;
    // A variable with no value is defined and empty (the chart's ACK_WATCH_NAMESPACE in cluster scope).
    else if (!e.valueFrom) env[e.name] = e.value ?? "";
  }
  const args = (container.args ?? []).map((a) => a.replace(/\$\(([A-Z0-9_]+)\)/g, (m, v: string) => env[v] ?? m));
  return { args, env };
}

const IDENTITY_KINDS = new Set(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);

/** Creates (or replaces) the chart's identity objects: its ServiceAccount and RBAC. */
const applyIdentity = (kubeconfig: string, objects: KubernetesObject[]) =>
  applyObjects(
    kubeconfig,
    objects.filter((x) => IDENTITY_KINDS.has(x.kind!)),
  );

/** A kubeconfig for the service account, with a token from the TokenRequest API (as a projected token would be). */
async function serviceAccountKubeconfig(adminKubeconfig: string, namespace: string, name: string, file: string): Promise<void> {
  const r = await rawRequest(adminKubeconfig, "POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { expirationSeconds: 7 * 24 * 3600 },
  });
  if (r.status !== 201) throw new Error(`token for ${namespace}/${name}: ${r.status} ${r.body}`);
  const token = (JSON.parse(r.body) as { status: { token: string } }).status.token;
  const admin = parseYaml(readFileSync(adminKubeconfig, "utf8")) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const cluster = admin.clusters[0]!;
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [cluster],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: cluster.name, user: name, namespace } }],
    "current-context": name,
  };
  writeFileSync(file, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
}

/** The existingSecret the stack names: the ack user's keys as an ini file (ackValues' secretKey "credentials"). */
async function writeCredentialsSecret(kubeconfig: string, secretName: string, creds: AwsCredentials): Promise<void> {
  const core = kubeClient(kubeconfig).core;
  const body = {
    metadata: { name: secretName, namespace: NAMESPACES.ack },
    stringData: { credentials: iniCredentials(ACK_CREDENTIALS_PROFILE, creds.accessKeyId, creds.secretAccessKey) },
  };
  await core.deleteNamespacedSecret({ name: secretName, namespace: NAMESPACES.ack }).catch(() => undefined);
  await core.createNamespacedSecret({ namespace: NAMESPACES.ack, body });
}

/**
 * Starts ACK's controller (if not running): the chart's identity and command line, the
 * stack's credentials Secret, a token of the chart's service account.
 */
export async function startAckController(dir: string, env: NodeJS.ProcessEnv, s: AckPolicySettings, aws: EmulatedAws): Promise<void> {
  if (running(dir, ACK_CONTROLLER)) return;
  const kubeconfig = join(dir, "kubeconfig");
  await ensureNamespace(kubeconfig, NAMESPACES.ack);
  const objects = await renderAckChart(env, localAckValues(s, aws), dir);
  await applyIdentity(kubeconfig, objects);
  // The admission guards the product makes with ACK's controller (guardTables, on by default), as
  // it makes them: the table, API and pipeline identity guards (core/install/ack-guards.ts).
  await applyObjects(
    kubeconfig,
    ackGuards({ namespace: NAMESPACES.ack, ...(s.tableNamePrefix ? { tableNamePrefix: s.tableNamePrefix } : {}) }) as KubernetesObject[],
  );
  await writeCredentialsSecret(kubeconfig, s.secretName, aws.users.ack);
  const deployment = objects.find((o) => o.kind === "Deployment");
  if (!deployment) throw new Error("ACK's chart rendered no Deployment");
  const { args, env: chartEnv } = deploymentCommandLine(deployment, NAMESPACES.ack);
  // The Secret's ini, where the chart mounts it for the pod.
  const credentialsFile = join(dir, "ack-credentials.ini");
  writeFileSync(credentialsFile, iniCredentials(ACK_CREDENTIALS_PROFILE, aws.users.ack.accessKeyId, aws.users.ack.secretAccessKey), {
    mode: 0o600,
  });
  const ackKubeconfig = join(dir, "ack.kubeconfig");
  await serviceAccountKubeconfig(kubeconfig, NAMESPACES.ack, ACK_SERVICE_ACCOUNT, ackKubeconfig);
  const [metrics, healthz] = [await freePort(), await freePort()];
  const binary = await which("ack-dynamodb-controller", env);
  const cmd = [
    "env",
    "-u",
    "AWS_CA_BUNDLE", // the AWS SDK in ACK fails every call when it is set ("unable to add custom RootCAs")
    "-u",
    "AWS_PROFILE",
    `KUBECONFIG=${ackKubeconfig}`,
    ...Object.entries(chartEnv)
      .filter(([k]) => k !== "AWS_SHARED_CREDENTIALS_FILE")
      .map(([k, v]) => `${k}=${v}`),
    `AWS_SHARED_CREDENTIALS_FILE=${credentialsFile}`,
    binary,
    ...args,
    // The pod's ports, on loopback.
    "--metrics-addr",
    `127.0.0.1:${metrics}`,
    "--healthz-addr",
    `127.0.0.1:${healthz}`,
  ];
  writeFileSync(join(dir, `${ACK_CONTROLLER}.cmd`), `${cmd.join("\n")}\n`);
  writeFileSync(join(dir, `${ACK_CONTROLLER}.health`), `http://127.0.0.1:${healthz}/healthz\n`);
  await restartProcess(dir, ACK_CONTROLLER as never, env);
}

async function which(tool: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run("bash", ["-c", `command -v ${tool}`], { env });
  if (r.code !== 0) throw new Error(`${tool} is not on PATH (tools/build-tools.sh ${tool})`);
  return r.stdout.trim();
}

/** A DynamoDB client of the emulator, as one of its users (the harness by default: it may read everything). */
export function emulatedDynamoDB(aws: EmulatedAws, region = aws.region, user: keyof EmulatedAws["users"] = "harness"): DynamoDBClient {
  return new DynamoDBClient({ endpoint: aws.endpoint, region, credentials: aws.users[user], maxAttempts: 2 });
}

/** DescribeTable of one table in the emulator, or undefined when it does not exist. */
export async function describeEmulatedTable(aws: EmulatedAws, tableName: string, region?: string): Promise<TableDescription | undefined> {
  const client = emulatedDynamoDB(aws, region);
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    throw e;
  } finally {
    client.destroy();
  }
}

/** ACK's Table CRD, from the chart of the controller that runs (its helm/crds). */
export const ackTableCrdFile = () => join(ackChartDir(), "crds", "dynamodb.services.k8s.aws_tables.yaml");
