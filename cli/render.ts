/**
 * Writes what a stack's `pulumi up` would create, for review and without a cluster,
 * AWS or the stack's passphrase: `npm run render -- [--stack dev] [--out out/render]`.
 * Nothing here decides what the environment holds: the program itself (index.ts)
 * runs under Pulumi's mocks as a preview (cli/program-under-mocks.ts), and every
 * resource it registers is written out from its inputs, secrets as placeholders.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { PLACEHOLDER, fromWire, readStackConfig, runProgram, type Registration } from "./program-under-mocks.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface RenderedFile {
  path: string;
  text: string;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** YAML 1.1 as Kubernetes clients read it: strings such as "N", "y" or "on" stay quoted strings. */
const yaml = (v: unknown) => stringify(v, { version: "1.1", lineWidth: 0 });

/** "type name" of the component a registration belongs to, from its parent's URN. */
function component(r: Registration): string | undefined {
  if (!r.parent) return undefined;
  const [, , qualifiedType, ...name] = r.parent.split("::");
  return `${qualifiedType!.split("$").pop()} ${name.join("::")}`;
}

/** The comment above each object: which resource of the program it is, so a reviewer can find it. */
const header = (r: Registration) => `# ${r.type} ${r.name}${r.protect ? " (protected)" : ""}${component(r) ? ` in ${component(r)}` : ""}\n`;

/** A Kubernetes object's fields in the order people read them. */
function k8sObject(r: Registration): Obj {
  const o = fromWire(r.inputs) as Obj;
  // The Kubernetes provider treats a Secret's data as secret whether or not the program did.
  if (r.type === "kubernetes:core/v1:Secret")
    for (const field of ["data", "stringData"])
      if (isObject(o[field])) o[field] = Object.fromEntries(Object.keys(o[field]).map((k) => [k, PLACEHOLDER.secret]));
  const { apiVersion, kind, metadata, ...rest } = o;
  return { apiVersion, kind, metadata, ...rest };
}

/** An AWS resource's inputs, JSON documents (policies) shown as the objects they hold. */
function awsInputs(r: Registration): unknown {
  const json = (v: unknown): unknown => {
    if (typeof v === "string" && /^\s*[[{]/.test(v)) {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }
    if (Array.isArray(v)) return v.map(json);
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
    return v;
  };
  return json(fromWire(r.inputs));
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");

/**
 * The files for a program's registrations. Kubernetes objects go by namespace (what lands
 * where, as a cluster admin reviews it, and unchanged when code moves an object between
 * components): `kubernetes/<namespace>.yaml`, `kubernetes/cluster.yaml` for objects with no
 * namespace, `kubernetes/<namespace>.patches.yaml` for patches of objects others create.
 * Each Helm chart (its reference and values) in `helm/<resource name>.yaml`; AWS resources in
 * `aws.yaml`; anything else in `other.yaml`. Objects sorted by kind and name.
 */
export function layout(stack: string, registrations: Registration[]): RenderedFile[] {
  const k8s = new Map<string, { key: string; text: string }[]>();
  const files: RenderedFile[] = [];
  const aws: { key: string; entry: Obj }[] = [];
  const other: { key: string; entry: Obj }[] = [];
  for (const r of registrations) {
    if (!r.custom && !r.remote) continue; // components: their children are what gets created
    if (r.type.startsWith("kubernetes:helm.sh/")) {
      let path = `helm/${safe(r.name)}.yaml`;
      for (let i = 2; files.some((f) => f.path === path); i++) path = `helm/${safe(r.name)}-${i}.yaml`;
      files.push({ path, text: `${header(r)}${yaml(fromWire(r.inputs))}` });
      continue;
    }
    if (r.type.startsWith("kubernetes:") && r.custom && typeof r.inputs.kind === "string") {
      const o = k8sObject(r);
      const meta = isObject(o.metadata) ? o.metadata : undefined;
      const ns = meta ? (typeof meta.namespace === "string" ? safe(meta.namespace) : "cluster") : "namespace-unknown";
      const path = `kubernetes/${ns}${r.type.endsWith("Patch") ? ".patches" : ""}.yaml`;
      const key = [o.kind, meta?.name, r.type, r.name].map(String).join("\0");
      k8s.set(path, [...(k8s.get(path) ?? []), { key, text: `${header(r)}${yaml(o)}` }]);
      continue;
    }
    const entry: Obj = {
      type: r.type,
      name: r.name,
      ...(component(r) ? { component: component(r) } : {}),
      ...(r.protect ? { protect: true } : {}),
    };
    const key = `${r.type}\0${r.name}`;
    if (r.type.startsWith("aws:")) aws.push({ key, entry: { ...entry, inputs: awsInputs(r) } });
    // A provider's inputs (a kubeconfig, credentials) are not rendered.
    else if (r.type.startsWith("pulumi:providers:")) other.push({ key, entry });
    else other.push({ key, entry: { ...entry, inputs: fromWire(r.inputs) } });
  }
  const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  for (const [path, docs] of k8s)
    files.push({
      path,
      text: docs
        .sort(byKey)
        .map((d) => d.text)
        .join("---\n"),
    });
  const list = (what: string, entries: { key: string; entry: Obj }[]) =>
    `# ${what} of stack ${stack}, as \`pulumi up\` would create them\n${yaml(entries.sort(byKey).map((e) => e.entry))}`;
  files.push({ path: "aws.yaml", text: list("AWS resources", aws) });
  if (other.length) files.push({ path: "other.yaml", text: list("Other resources", other) });
  files.push({ path: "README.md", text: readme(stack) });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const readme = (stack: string) => `# Render of stack \`${stack}\`

Every resource that \`pulumi up\` of \`Pulumi.${stack}.yaml\` would create, from the program
itself (index.ts, run under Pulumi's mocks as a preview by \`./dev render\`), as its inputs:

- \`kubernetes/<namespace>.yaml\`: the Kubernetes objects of each namespace; \`kubernetes/cluster.yaml\`:
  those with no namespace; \`kubernetes/<namespace>.patches.yaml\`: fields patched into objects that
  others (the charts) create.
- \`helm/<resource name>.yaml\`: each Helm chart as its pinned reference and values (not expanded).
- \`aws.yaml\`: the AWS resources, policies shown as objects.

Each object's comment names the Pulumi resource and its component. Placeholders:
\`${PLACEHOLDER.secret}\` for every value the program marks secret (and a Secret's data);
\`${PLACEHOLDER.atDeploy("x.arn")}\` for what AWS or the cluster fills in (here resource x's ARN),
\`${PLACEHOLDER.unknown}\` where the program cannot name it; \`${PLACEHOLDER.secretConfig("key")}\` for a
\`secure:\` config value (the render has no passphrase).
`;

/** Renders stack `stack` (its files in `configDir`) into `out`, replacing what was there; returns the paths written. */
export async function render(stack: string, out: string, configDir = root): Promise<string[]> {
  const registrations = await runProgram(readStackConfig(configDir, stack));
  const files = layout(stack, registrations);
  await rm(out, { recursive: true, force: true });
  for (const f of files) {
    const path = join(out, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.text);
  }
  return files.map((f) => f.path);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "dev" },
      out: { type: "string", default: "out/render" },
      // The folder of Pulumi.yaml and Pulumi.<stack>.yaml, when not this project's.
      "config-dir": { type: "string", default: root },
    },
  });
  const out = resolve(values.out!);
  const fail = (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  };
  process.on("unhandledRejection", fail);
  render(values.stack!, out, resolve(values["config-dir"]!)).then(
    (paths) => console.log(`rendered stack ${values.stack} into ${out}:\n${paths.map((p) => `  ${p}`).join("\n")}`),
    fail,
  );
}
