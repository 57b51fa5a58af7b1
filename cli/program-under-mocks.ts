/**
 * The Pulumi program (index.ts) run without an engine, a cloud or a cluster,
 * under `pulumi.runtime.setMocks`, and what it registers as the engine would
 * receive it. `render` writes these registrations out; the tests
 * (test/helpers/pulumi-mocks.ts) record them the same way.
 *
 * A stack's config is read from its files as the pulumi CLI hands it to the
 * program (Pulumi.yaml's defaults, then Pulumi.<stack>.yaml); a `secure:` value,
 * which only the stack's secrets provider can decrypt, becomes a placeholder, so
 * no passphrase is needed. The run is a preview: what AWS or the cluster fills
 * in at deploy time is a named placeholder (an ARN, a bucket's name, the account
 * id) or unknown, never a made-up value.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

/** One registerResource call as the engine receives it. */
export interface Registration {
  type: string;
  name: string;
  /** A custom resource (false for components, remote ones included). */
  custom: boolean;
  /** A component the provider implements (e.g. kubernetes:helm.sh/v4:Chart). */
  remote: boolean;
  /** The parent's URN ("" at the top). */
  parent: string;
  dependencies: string[];
  protect: boolean;
  /** The provider reference (`<provider urn>::<id>`), "" for the default provider. */
  provider: string;
  /** The types of the aliases sent (alias specs naming a type). */
  aliasTypes: string[];
  /** The inputs in their wire form: secrets wrapped with Pulumi's signature, unknowns as its sentinel. */
  inputs: Record<string, unknown>;
  /** The same, as JSON text. */
  wire: string;
  urn?: string;
}

/**
 * Records every registration from now on: wraps the resource monitor that
 * `pulumi.runtime.setMocks` installed (call it right after setMocks). The
 * returned list fills as the program registers resources.
 */
export function recordRegistrations(): Registration[] {
  type Req = {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getRemote(): boolean;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getProvider(): string;
    getAliasesList(): { getSpec(): { getType(): string } | undefined }[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  };
  type Cb = (err: unknown, resp?: { getUrn(): string }) => void;
  const recorded: Registration[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: Cb): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const wire = req.getObject()?.toJavaScript() ?? {};
    const r: Registration = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      remote: req.getRemote(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      protect: req.getProtect(),
      provider: req.getProvider(),
      aliasTypes: req
        .getAliasesList()
        .map((a) => a.getSpec()?.getType() ?? "")
        .filter(Boolean),
      inputs: wire,
      wire: JSON.stringify(wire),
    };
    recorded.push(r);
    original(req, (err, resp) => {
      if (resp) r.urn = resp.getUrn();
      cb(err, resp);
    });
  };
  return recorded;
}

/** Placeholders: every one is a string in angle brackets, so `<` at a value's start or inside an ARN marks one. */
export const PLACEHOLDER = {
  /** A Pulumi secret (a leaf of it: the shape of a secret object is kept). */
  secret: "<secret: not rendered>",
  /** A value nobody knows before deploying, without a name. */
  unknown: "<known at deploy>",
  /** A value AWS or the cluster fills in at deploy time. */
  atDeploy: (what: string) => `<known at deploy: ${what}>`,
  /** What the program is given for a `secure:` stack config value. */
  secretConfig: (path: string) => `<secret config: ${path}>`,
};
/** Matches a placeholder inside a string. */
export const PLACEHOLDER_PATTERN = /<(?:secret: not rendered|known at deploy(?:: [^<>]*)?|secret config: [^<>]*)>/;

export interface StackConfig {
  project: string;
  stack: string;
  /** `project:key` → the value as the pulumi CLI passes it (a string; objects and lists as JSON). */
  config: Record<string, string>;
  /** The keys holding a `secure:` value, as PULUMI_CONFIG_SECRET_KEYS lists them. */
  secretKeys: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A stack's config as `pulumi preview` gives it to the program: Pulumi.<stack>.yaml's
 * values over Pulumi.yaml's defaults, every `secure:` value replaced by a placeholder
 * (no secrets provider is asked, so no passphrase is needed).
 */
export function readStackConfig(dir: string, stack: string): StackConfig {
  const project = parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, unknown> };
  const stackFile = join(dir, `Pulumi.${stack}.yaml`);
  const doc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const full = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
  const values = new Map<string, unknown>();
  for (const [key, decl] of Object.entries(project.config ?? {})) {
    // Pulumi.yaml declares a key as {type, default, value, …} or, short, as its default value.
    const value = isObject(decl) ? (decl.value ?? decl.default) : decl;
    if (value !== undefined) values.set(full(key), value);
  }
  for (const [key, value] of Object.entries(doc.config ?? {})) values.set(full(key), value);

  const secretKeys: string[] = [];
  const config: Record<string, string> = {};
  for (const [key, value] of values) {
    let secret = false;
    const replace = (v: unknown, path: string): unknown => {
      if (isObject(v) && Object.keys(v).length === 1 && "secure" in v) {
        secret = true;
        return PLACEHOLDER.secretConfig(path);
      }
      if (Array.isArray(v)) return v.map((x, i) => replace(x, `${path}[${i}]`));
      if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x, `${path}.${k}`)]));
      return v;
    };
    const plain = replace(value, key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (secret) secretKeys.push(key);
  }
  return { project: project.name, stack, config, secretKeys };
}

/** What an AWS resource's outputs are before it exists: the ones the program reads, each a named placeholder. */
const AWS_OUTPUTS: Record<string, string[]> = {
  "*": ["arn", "name"],
  "aws:s3/bucket:Bucket": ["bucket", "bucketDomainName", "bucketRegionalDomainName"],
  "aws:iam/role:Role": ["uniqueId"],
  "aws:iam/user:User": ["uniqueId"],
  "aws:iam/accessKey:AccessKey": ["secret"],
};

/** Answers for the invokes the program makes during a preview (it reads the caller's account and partition). */
const INVOKES: Record<string, Record<string, string>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": {
    id: PLACEHOLDER.atDeploy("AWS account id"),
    accountId: PLACEHOLDER.atDeploy("AWS account id"),
    arn: PLACEHOLDER.atDeploy("caller ARN"),
    userId: PLACEHOLDER.atDeploy("caller user id"),
  },
  "aws:index/getPartition:getPartition": {
    id: PLACEHOLDER.atDeploy("AWS partition"),
    partition: PLACEHOLDER.atDeploy("AWS partition"),
    dnsSuffix: PLACEHOLDER.atDeploy("AWS DNS suffix"),
    reverseDnsPrefix: PLACEHOLDER.atDeploy("AWS reverse DNS prefix"),
  },
};

/**
 * Mocks for a preview with nothing behind it: a resource's outputs are its inputs;
 * an AWS resource also gets its id, ARN, name… as placeholders naming the resource
 * (`<known at deploy: dynamodb-platform-ack-role.arn>`), so policies and annotations
 * built from them stay readable; every other output is unknown. A stack reference (the
 * program reads its own previous outputs: components/platform-identity.ts) finds no
 * outputs: a render knows no state, so it renders as a first update would.
 */
export const previewMocks: pulumi.runtime.Mocks = {
  newResource(args) {
    if (args.type === "pulumi:pulumi:StackReference")
      return { id: String(args.inputs.name), state: { name: args.inputs.name, outputs: {}, secretOutputNames: [] } };
    const state: Record<string, unknown> = { ...args.inputs };
    if (!args.type.startsWith("aws:")) return { id: undefined, state };
    for (const p of [...AWS_OUTPUTS["*"]!, ...(AWS_OUTPUTS[args.type] ?? [])]) state[p] ??= PLACEHOLDER.atDeploy(`${args.name}.${p}`);
    return { id: PLACEHOLDER.atDeploy(`${args.name}.id`), state };
  },
  call(args) {
    const answer = INVOKES[args.token];
    if (!answer) throw new Error(`the program invokes ${args.token}, which cli/program-under-mocks.ts does not answer: add it to INVOKES`);
    return answer;
  },
};

let ran = false;

/**
 * Runs the program once, as a preview of `config`'s stack, and returns everything it
 * registered, after every registration has completed. Once per process: Node keeps
 * the program's module, so a second run would register nothing.
 */
export async function runProgram(config: StackConfig): Promise<Registration[]> {
  if (ran) throw new Error("runProgram runs the program once per process");
  ran = true;
  // "organization": what a file or S3 backend calls every stack's organization.
  await pulumi.runtime.setMocks(previewMocks, config.project, config.stack, true, "organization");
  const recorded = recordRegistrations();
  pulumi.runtime.setAllConfig(config.config, config.secretKeys);
  await import(new URL("../index.ts", import.meta.url).href);
  await pulumi.runtime.disconnect();
  return recorded;
}

/**
 * A value in its wire form as plain data for review: each leaf of a secret becomes
 * the secret placeholder (keys and shape kept), an unknown the unknown placeholder,
 * a resource reference its URN, an asset or archive a placeholder; object keys sorted.
 */
export function fromWire(value: unknown, inSecret = false): unknown {
  const rt = pulumi.runtime;
  if (value === rt.unknownValue) return inSecret ? PLACEHOLDER.secret : PLACEHOLDER.unknown;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, inSecret));
  if (isObject(value)) {
    const sig = value[rt.specialSigKey];
    if (sig === rt.specialSecretSig) return fromWire(value.value, true);
    if (sig === rt.specialResourceSig) return inSecret ? PLACEHOLDER.secret : `<resource: ${String(value.urn)}>`;
    if (sig === rt.specialAssetSig || sig === rt.specialArchiveSig) return inSecret ? PLACEHOLDER.secret : "<asset or archive>";
    if (sig === rt.specialOutputValueSig)
      return "value" in value
        ? fromWire(value.value, inSecret || value.secret === true)
        : inSecret
          ? PLACEHOLDER.secret
          : PLACEHOLDER.unknown;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, fromWire(value[k], inSecret)]),
    );
  }
  if (value === null || value === undefined) return value;
  return inSecret ? PLACEHOLDER.secret : value;
}
