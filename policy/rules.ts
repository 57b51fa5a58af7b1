/**
 * The rules of the kratix-dynamodb policy pack, as pure functions of one
 * resource the way the Pulumi engine hands it to a policy: type token, URN and
 * input properties (after the provider's Check). policy/pack.ts is the thin
 * @pulumi/policy shell over them; test/policy/ feeds them the registrations the
 * components really make, under Pulumi's mocks.
 *
 * Whether a rule binds a stack is not decided here: every rule is mandatory by
 * default, and a stack's policy pack config (policy/stacks/<stack>.json, or a
 * Pulumi Cloud policy group's config) relaxes the rules that do not apply to it
 * (docs/policy.md). This folder imports nothing from outside itself, so it can
 * be published as it is (`pulumi policy publish policy`).
 */

/** One resource as a policy sees it. */
export interface PolicyInput {
  /** Type token, e.g. kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest. */
  type: string;
  /** Its URN: the qualified type in it names every parent's type. */
  urn: string;
  /** Input properties. Unknown values (preview) are Pulumi's unknown markers. */
  props: Record<string, unknown>;
}

export interface CheckOptions {
  /**
   * Whether Pulumi secrets are visible in `props` as the wire's secret markers (as they are in
   * the program's own registrations). Policies run by the engine get plain values: @pulumi/policy
   * unwraps secrets before a validation sees them, so the rule that needs secrecy skips that part.
   */
  secrecyVisible?: boolean;
}

export interface Rule {
  /** The policy's name: what a violation, the pack config and docs/policy.md call it. */
  name: string;
  description: string;
  severity: "low" | "medium" | "high" | "critical";
  /** What to do about a violation. */
  remediation: string;
  /** The violations of one resource, one message each; none when the rule is kept or does not apply. */
  check(r: PolicyInput, o?: CheckOptions): string[];
}

// ---- What the rules look for (test/policy/constants.test.ts checks these against core/) ----------

/** The request API (the Promise's CRD). */
export const REQUEST_GROUP = "dynamodb.kratix.io";
export const REQUEST_KIND = "DynamoDBRequest";
/** ACK's Table and the annotation through which it keeps or deletes the AWS table. */
export const ACK_GROUP = "dynamodb.services.k8s.aws";
export const ACK_TABLE_KIND = "Table";
export const ACK_DELETION_POLICY_ANNOTATION = "services.k8s.aws/deletion-policy";
/** KubeVela's Application and this project's two component types. */
export const KUBEVELA_GROUP = "core.oam.dev";
export const TABLE_COMPONENT = "aws-dynamodb-kratix";
export const PROMISE_COMPONENT = "kratix-promise-deployer";
/** Kratix's Promise. */
export const KRATIX_GROUP = "platform.kratix.io";
export const PROMISE_KIND = "Promise";
/** The pipeline environment variable through which the Promise hands the platform's table name prefix. */
export const TABLE_NAME_PREFIX_ENV = "TABLE_NAME_PREFIX";
/** The type name (any package) of the component that installs the ACK controller with its credentials. */
export const ACK_CONTROLLER_COMPONENT = "AckDynamoDBController";
/** ACK's DynamoDB chart (oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart). */
export const ACK_CHART = "dynamodb-chart";

/** Pulumi's wire encoding of a secret: {[SIG_KEY]: SECRET_SIG, value}. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Pulumi's markers for values not known yet (preview), one per kind of value. */
export const UNKNOWN_VALUES: ReadonlySet<string> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

// ---- Reading resources ------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
export const isUnknown = (v: unknown): boolean => typeof v === "string" && UNKNOWN_VALUES.has(v);
export const isSecretMarker = (v: unknown): v is { value: unknown } => isObj(v) && v[SIG_KEY] === SECRET_SIG;

/** A value with Pulumi's secret markers taken off (what a policy run by the engine sees). */
export function plain(v: unknown): unknown {
  if (isSecretMarker(v)) return plain(v.value);
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const obj = (v: unknown): Obj => {
  const p = plain(v);
  return isObj(p) ? p : {};
};
const list = (v: unknown): unknown[] => {
  const p = plain(v);
  return Array.isArray(p) ? p : [];
};
const str = (v: unknown): string | undefined => {
  const p = plain(v);
  return typeof p === "string" && !isUnknown(p) ? p : undefined;
};

/** The API group and kind of a Kubernetes resource's type token (kubernetes:<group>/<version>:<kind>; core/v1 is group "core"). */
export function k8sKind(type: string): { group: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+)\/[^/:]+:([^:]+)$/.exec(type);
  return m ? { group: m[1]!, kind: m[2]! } : undefined;
}
const isKind = (r: PolicyInput, group: string, kind: string) => {
  const k = k8sKind(r.type);
  return k?.group === group && k.kind === kind;
};

/** The types of a resource's ancestors and its own, outermost first, from its URN. */
export function typeChain(urn: string): string[] {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts[2]!.split("$") : [];
}

/** `<kind> <namespace>/<name>` for messages. */
function describe(r: PolicyInput): string {
  const meta = obj(r.props.metadata);
  const name = str(meta.name);
  const ns = str(meta.namespace);
  const kind = (r.type.startsWith("kubernetes:") ? str(r.props.kind) : undefined) ?? k8sKind(r.type)?.kind ?? r.type;
  return name ? `${kind} ${ns ? `${ns}/` : ""}${name}` : kind;
}

/** A table asked for by this resource, with the fields the rules read. */
interface TableAsk {
  where: string;
  deletionPolicy?: string;
  deletionProtection?: unknown;
}

/** The tables a resource asks for: a DynamoDBRequest, the aws-dynamodb-kratix components of an Application, or an ACK Table. */
export function tablesOf(r: PolicyInput): TableAsk[] {
  if (isKind(r, REQUEST_GROUP, REQUEST_KIND)) {
    const spec = obj(r.props.spec);
    const table = str(spec.name);
    return [
      {
        where: `${describe(r)}${table ? ` (table ${table})` : ""}`,
        deletionPolicy: str(spec.deletionPolicy) ?? "Retain",
        deletionProtection: plain(spec.deletionProtection),
      },
    ];
  }
  if (isKind(r, KUBEVELA_GROUP, "Application")) {
    return list(obj(r.props.spec).components)
      .map(obj)
      .filter((c) => str(c.type) === TABLE_COMPONENT)
      .map((c) => {
        const p = obj(c.properties);
        return {
          where: `${describe(r)} component ${str(c.name) ?? "?"} (table ${str(p.tableName) ?? "?"})`,
          deletionPolicy: str(p.deletionPolicy) ?? "Retain",
          deletionProtection: plain(p.deletionProtection),
        };
      });
  }
  if (isKind(r, ACK_GROUP, ACK_TABLE_KIND)) {
    const policy = str(obj(obj(r.props.metadata).annotations)[ACK_DELETION_POLICY_ANNOTATION]);
    const spec = obj(r.props.spec);
    return [
      {
        where: `ACK ${describe(r)}${str(spec.tableName) ? ` (table ${str(spec.tableName)})` : ""}`,
        // ACK's own default is the controller's (this project's chart values: retain).
        deletionPolicy: policy === "delete" ? "Delete" : "Retain",
        deletionProtection: plain(spec.deletionProtectionEnabled),
      },
    ];
  }
  return [];
}

interface PipelineContainer {
  where: string;
  image?: string;
  env: Obj[];
}

/**
 * The containers of the Promise's pipelines: from a Kratix Promise, or from the
 * kratix-promise-deployer component of a KubeVela Application (which carries the
 * Promise's workflows as properties).
 */
export function promisePipelines(r: PolicyInput): { promise: string; workflows: Obj; containers: PipelineContainer[] }[] {
  const found: { promise: string; workflows: Obj }[] = [];
  if (isKind(r, KRATIX_GROUP, PROMISE_KIND)) found.push({ promise: describe(r), workflows: obj(obj(r.props.spec).workflows) });
  if (isKind(r, KUBEVELA_GROUP, "Application")) {
    for (const c of list(obj(r.props.spec).components).map(obj)) {
      if (str(c.type) !== PROMISE_COMPONENT) continue;
      const p = obj(c.properties);
      found.push({
        promise: `${describe(r)} component ${str(c.name) ?? "?"} (Promise ${str(p.name) ?? "?"})`,
        workflows: obj(p.workflows),
      });
    }
  }
  return found.map(({ promise, workflows }) => {
    const containers: PipelineContainer[] = [];
    for (const [scope, actions] of Object.entries(workflows)) {
      for (const [action, pipelines] of Object.entries(obj(actions))) {
        for (const pipeline of list(pipelines).map(obj)) {
          const spec = obj(pipeline.spec);
          for (const c of [...list(spec.containers), ...list(spec.initContainers)].map(obj)) {
            containers.push({
              where: `${scope}.${action} pipeline ${str(obj(pipeline.metadata).name) ?? "?"} container ${str(c.name) ?? "?"}`,
              ...(str(c.image) !== undefined ? { image: str(c.image)! } : {}),
              env: list(c.env).map(obj),
            });
          }
        }
      }
    }
    return { promise, workflows, containers };
  });
}

// ---- The rules ------------------------------------------------------------------------------------

export const DIGEST = /@sha256:[a-f0-9]{64}$/;

export const tablesRetained: Rule = {
  name: "dynamodb-tables-retained",
  description:
    "DynamoDB tables keep deletionPolicy Retain: deleting a request, a Table object or the stack never deletes an AWS table and its data (unless the stack's policy config allows deletion).",
  severity: "high",
  remediation:
    "Leave deletionPolicy out (Retain is the default) or set it to Retain. A stack that may delete its tables (a sandbox) says so in its policy pack config: set this policy to disabled there.",
  check(r) {
    const out = tablesOf(r)
      .filter((t) => t.deletionPolicy === "Delete")
      .map((t) => `${t.where}: deletionPolicy is Delete, so deleting it deletes the AWS table and its data`);
    const chart = str(obj(r.props).chart);
    if (r.type === "kubernetes:helm.sh/v4:Chart" && chart?.includes(ACK_CHART) && str(obj(r.props.values).deletionPolicy) === "delete") {
      out.push(
        `ACK controller chart: deletionPolicy delete makes the controller delete the AWS table of every Table object that goes away`,
      );
    }
    return out;
  },
};

export const deletionProtection: Rule = {
  name: "dynamodb-deletion-protection",
  description: "Every DynamoDB table of a production stack has deletionProtection on, so AWS itself refuses to delete it.",
  severity: "high",
  remediation:
    "Set deletionProtection: true on the table (DynamoDBTable's table, the aws-dynamodb-kratix component's properties, a DynamoDBRequest's spec). Non-production stacks set this policy to disabled in their policy pack config.",
  check(r) {
    return tablesOf(r)
      .filter((t) => t.deletionProtection !== true && !isUnknown(t.deletionProtection))
      .map((t) => `${t.where}: deletionProtection is not true in a production stack`);
  },
};

export const pipelineImageDigest: Rule = {
  name: "pipeline-image-pinned-by-digest",
  description:
    "The Promise's pipeline image is pinned by digest (image@sha256:...): a tag can be moved, and the pipeline writes every table's definition.",
  severity: "high",
  remediation:
    "Set pipelineImage to <registry>/kratix-dynamodb-pipeline@sha256:<digest> (the image workflow prints the digest to pin). Non-production stacks whose image is built on the machine set this policy to advisory.",
  check(r) {
    return promisePipelines(r).flatMap((p) => {
      const byImage = new Map<string, string[]>();
      for (const c of p.containers) {
        if (c.image !== undefined && !DIGEST.test(c.image)) byImage.set(c.image, [...(byImage.get(c.image) ?? []), c.where]);
      }
      return [...byImage].map(([image, where]) => `${p.promise}: image ${image} is not pinned by digest (${where.join("; ")})`);
    });
  },
};

export const ackNoAccessKey: Rule = {
  name: "ack-credentials-not-access-key",
  description:
    "In a production stack the ACK controller gets AWS credentials from a role (irsa or podIdentity), not from an IAM user's long-lived access key (ackCredentials mode accessKey).",
  severity: "high",
  remediation:
    "Set ackCredentials to {mode: irsa, oidcProviderArn} or {mode: podIdentity, clusterName}. Non-production stacks set this policy to disabled in their policy pack config.",
  check(r) {
    const chain = typeChain(r.urn);
    if (r.type !== "aws:iam/accessKey:AccessKey" || !chain.slice(0, -1).some((t) => t.endsWith(`:${ACK_CONTROLLER_COMPONENT}`))) return [];
    return [`the ACK controller's credentials are an IAM user's access key (ackCredentials mode accessKey): ${r.urn}`];
  },
};

export const tableNamePrefix: Rule = {
  name: "table-name-prefix-set",
  description:
    "The Promise puts a non-empty prefix before every table name, which tells the platform's tables apart in the account and scopes the ACK controller's IAM policy to them.",
  severity: "medium",
  remediation: "Set the stack's tableNamePrefix (e.g. prod-) or the platform's defaults.tableNamePrefix.",
  check(r) {
    return promisePipelines(r)
      .filter((p) => Object.keys(p.workflows).length > 0)
      .filter((p) => {
        const values = p.containers.flatMap((c) => c.env.filter((e) => str(e.name) === TABLE_NAME_PREFIX_ENV).map((e) => plain(e.value)));
        return !values.some((v) => isUnknown(v) || (typeof v === "string" && v !== ""));
      })
      .map((p) => `${p.promise}: no table name prefix (${TABLE_NAME_PREFIX_ENV} is not set on its pipelines)`);
  },
};

// ---- Plaintext credentials -------------------------------------------------------------------------

/** Keys whose string value is itself a credential (compared lower-case, without - and _). References (secretName, secretRef, ...) are not. */
export const CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  "secretaccesskey",
  "awssecretaccesskey",
  "sessiontoken",
  "awssessiontoken",
  "password",
  "passwd",
  "apikey",
  "privatekey",
  "clientsecret",
  "accesstoken",
  "authtoken",
  "bearertoken",
]);
/** Environment variable names whose value is a credential. */
export const CREDENTIAL_ENV =
  /(^|_)(SECRET_ACCESS_KEY|SESSION_TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CLIENT_SECRET|ACCESS_TOKEN|AUTH_TOKEN|SECRET|TOKEN)$/i;
/** Values that are credentials wherever they appear. */
export const CREDENTIAL_VALUES: { what: string; pattern: RegExp }[] = [
  { what: "an AWS access key id", pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { what: "an AWS credentials file with a secret key", pattern: /aws_secret_access_key\s*=\s*\S/i },
  { what: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

const normalizeKey = (k: string) => k.toLowerCase().replace(/[-_]/g, "");

/**
 * Credentials in a resource's inputs. In Kubernetes objects they belong in one place only,
 * a Secret's data and stringData, where (with secrecy visible) every value must be a Pulumi
 * secret, so it is encrypted in the state and hidden in previews. Anywhere else in the
 * cluster (a ConfigMap, a container's env, Helm values, a custom resource's spec, an
 * annotation) a credential is readable by anyone who may read the object, so it is flagged
 * whether or not Pulumi holds it as a secret. Other resources (a cloud API's password
 * input, say) are flagged only where secrecy is visible and the value is not a secret:
 * their providers mark such inputs secret themselves.
 */
export function plaintextCredentials(r: PolicyInput, o: CheckOptions = {}): string[] {
  const out: string[] = [];
  const where = describe(r);
  // A Secret made with @pulumi/kubernetes's Secret class, or as a raw v1 object (a CustomResource, whose type is kubernetes:v1:Secret).
  const isSecretObject = r.type === "kubernetes:core/v1:Secret" || (str(r.props.apiVersion) === "v1" && str(r.props.kind) === "Secret");
  const inCluster = r.type.startsWith("kubernetes:");
  const flagged = (inSecret: boolean) => inCluster || (o.secrecyVisible === true && !inSecret);
  const walk = (v: unknown, path: string, inSecret: boolean): void => {
    if (isSecretMarker(v)) return walk(v.value, path, true);
    if (isUnknown(v)) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`, inSecret));
    if (isObj(v)) {
      // A container env entry: {name: AWS_SECRET_ACCESS_KEY, value: ...} (valueFrom is a reference).
      const name = str(v.name);
      const value = plain(v.value);
      if (name && CREDENTIAL_ENV.test(name) && typeof value === "string" && value !== "" && !isUnknown(value) && flagged(inSecret)) {
        out.push(`${where}: ${path}.value: the environment variable ${name} holds a credential in plain text (use valueFrom.secretKeyRef)`);
      }
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (isSecretObject && !path && (k === "data" || k === "stringData")) {
          if (o.secrecyVisible) checkSecretData(x, p, false);
          continue;
        }
        const xv = plain(x);
        if (CREDENTIAL_KEYS.has(normalizeKey(k)) && typeof xv === "string" && xv !== "" && !isUnknown(xv)) {
          if (flagged(inSecret || isSecretMarker(x))) {
            out.push(
              `${where}: ${p} holds a credential in plain text (${inCluster ? "keep it in a Kubernetes Secret and refer to it" : "make it a Pulumi secret"})`,
            );
          }
          continue;
        }
        walk(x, p, inSecret);
      }
      return;
    }
    if (typeof v === "string" && flagged(inSecret)) {
      for (const c of CREDENTIAL_VALUES) {
        if (c.pattern.test(v)) {
          out.push(
            `${where}: ${path} holds ${c.what} in plain text (${inCluster ? "keep it in a Kubernetes Secret and refer to it" : "make it a Pulumi secret"})`,
          );
        }
      }
    }
  };
  /** Every value of a Secret's data/stringData must be a Pulumi secret (the map as a whole, or each value). */
  const checkSecretData = (v: unknown, path: string, inSecret: boolean): void => {
    if (isSecretMarker(v) || inSecret) return;
    if (isUnknown(v) || v === undefined || v === null) return;
    if (!isObj(v)) {
      out.push(`${where}: ${path} is not a Pulumi secret (wrap it in pulumi.secret, or read it with config.requireSecret)`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (!isSecretMarker(x) && !isUnknown(x)) {
        out.push(`${where}: ${path}.${k} is not a Pulumi secret (wrap it in pulumi.secret, or read it with config.requireSecret)`);
      }
    }
  };
  walk(r.props, "", false);
  return out;
}

export const noPlaintextCredentials: Rule = {
  name: "no-plaintext-credentials",
  description:
    "No credential in plain text in any resource input: credentials live only in Kubernetes Secrets' data, as Pulumi secrets, and everything else refers to them.",
  severity: "critical",
  remediation:
    "Put the credential in a Kubernetes Secret (its value a Pulumi secret: pulumi.secret, config.requireSecret) and refer to it (secretRef, valueFrom.secretKeyRef, the chart's secretName).",
  check: plaintextCredentials,
};

/** Every rule, in the order the pack lists them. */
export const RULES: readonly Rule[] = [
  tablesRetained,
  deletionProtection,
  pipelineImageDigest,
  ackNoAccessKey,
  tableNamePrefix,
  noPlaintextCredentials,
];

/** The enforcement levels a policy pack config may give. */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
