/**
 * The preview copy of a stack: what pull-request previews run against instead of the stack's own
 * state and secrets provider, so that no pull request ever needs the stack's passphrase
 * (docs/pr-preview.md has the threat model).
 *
 *   npm run preview-copy -- publish --stack dev --from <state backend URL> --to <preview backend URL>
 *     On the default branch, after `pulumi up`: exports the stack's state (ciphertext, so no
 *     passphrase is needed), replaces every secret value with "[redacted]", and imports the result
 *     into the preview backend under the same stack name, encrypted with PREVIEW_PASSPHRASE (public).
 *   npm run preview-copy -- config --stack dev
 *     In the preview job, before `pulumi preview`: rewrites this working copy's Pulumi.<stack>.yaml
 *     without its secrets provider settings and with every secure value replaced by "[redacted]".
 *
 * `pulumi preview` then runs with PULUMI_CONFIG_PASSPHRASE=PREVIEW_PASSPHRASE against the copy.
 * Everything the copy holds is readable by whoever may run a preview: that is the point.
 */
import { mkdtemp, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMap, isPair, isScalar, isSeq, parseDocument, visit, type YAMLSeq } from "yaml";
import { run } from "../local-env/process.ts";

/** Not a secret: it encrypts only placeholders. The preview workflow sets it as a literal. */
export const PREVIEW_PASSPHRASE = "kddb-preview-copy-not-a-secret";
export const REDACTED = "[redacted]";

/** How Pulumi marks a secret value in a deployment (resource/sig.go). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Stack-file keys that name or unlock the stack's secrets provider. */
const PROVIDER_KEYS = ["encryptionsalt", "encryptedkey", "secretsprovider"];

/**
 * An exported deployment (`pulumi stack export`, version 3 or 4) with every secret replaced by a
 * plaintext "[redacted]" secret, and its secrets provider set to a passphrase provider with `salt`
 * (the preview copy's), so that `pulumi stack import` re-encrypts the placeholders with it.
 */
export function redactDeployment(exported: unknown, salt: string): { exported: Record<string, unknown>; secrets: number } {
  const doc = exported as { version?: number; deployment?: Record<string, unknown> };
  if (!doc || typeof doc !== "object" || !doc.deployment || typeof doc.deployment !== "object") {
    throw new Error("not an exported deployment: no `deployment` object");
  }
  let secrets = 0;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (o[SECRET_SIG_KEY] === SECRET_SIG) {
        secrets++;
        return { [SECRET_SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(REDACTED) };
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const deployment = walk(doc.deployment) as Record<string, unknown>;
  deployment.secrets_providers = { type: "passphrase", state: { salt } };
  return { exported: { ...doc, deployment }, secrets };
}

/**
 * A stack file (Pulumi.<stack>.yaml) without its secrets provider settings and with each secure
 * value replaced by the plaintext "[redacted]" (still read as a secret by `requireSecret`);
 * comments and the other values' styles are kept. Returns the config paths it redacted.
 */
export function redactStackConfig(text: string): { text: string; redacted: string[] } {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`invalid stack file: ${doc.errors[0]!.message}`);
  for (const k of PROVIDER_KEYS) doc.delete(k);
  const redacted: string[] = [];
  const config = doc.get("config", true);
  if (isMap(config)) {
    visit(config, {
      Map(key, node, path) {
        if (!(node.items.length === 1 && isScalar(node.items[0]!.key) && node.items[0]!.key.value === "secure")) return undefined;
        // The config path: map keys, and indexes where a secure value is a list item.
        const names: string[] = [];
        [...path, node].forEach((n, i) => {
          if (isPair(n) && isScalar(n.key)) names.push(String(n.key.value));
          else if (isSeq(path[i - 1]) && i > 0) names.push(`[${(path[i - 1] as YAMLSeq).items.indexOf(n)}]`);
        });
        redacted.push(names.join(".").replace(/\.\[/g, "["));
        return doc.createNode(REDACTED);
      },
    });
  }
  return { text: doc.toString({ lineWidth: 0 }), redacted };
}

/** Where a stack's file is in a project folder. */
export const stackFile = (projectDir: string, stack: string) => join(projectDir, `Pulumi.${stack}.yaml`);

/** `config`: rewrites the working copy's stack file in place; returns the redacted paths. */
export async function redactStackFile(projectDir: string, stack: string): Promise<string[]> {
  const file = stackFile(projectDir, stack);
  const { text, redacted } = redactStackConfig(await readFile(file, "utf8"));
  await writeFile(file, text);
  return redacted;
}

/** The environment for the pulumi CLI against one backend; never with the stack's own passphrase. */
function pulumiEnv(base: NodeJS.ProcessEnv, backend: string, passphrase?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PULUMI_BACKEND_URL: backend, PULUMI_SKIP_UPDATE_CHECK: "true" };
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (passphrase !== undefined) env.PULUMI_CONFIG_PASSPHRASE = passphrase;
  return env;
}

async function pulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run("pulumi", ["--non-interactive", ...args], { cwd, env });
  if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * `publish`: the stack's state from `from`, redacted, into the same stack name at `to`. Runs the
 * pulumi CLI in a scratch folder holding only the project file (so the working copy's stack file,
 * with the real secrets provider, is never read), without any passphrase for `from`.
 */
export async function publishPreviewCopy(opts: {
  projectDir: string;
  stack: string;
  from: string;
  to: string;
  /** The environment the pulumi CLI runs in (default this process's); its passphrase settings are dropped. */
  env?: NodeJS.ProcessEnv;
}): Promise<{ secrets: number; resources: number }> {
  const base = opts.env ?? process.env;
  const scratch = await mkdtemp(join(tmpdir(), "kddb-preview-copy-"));
  try {
    await copyFile(join(opts.projectDir, "Pulumi.yaml"), join(scratch, "Pulumi.yaml"));
    const source = join(scratch, "source.json");
    await pulumi(["stack", "export", "--stack", opts.stack, "--file", source], scratch, pulumiEnv(base, opts.from));

    const copyEnv = pulumiEnv(base, opts.to, PREVIEW_PASSPHRASE);
    const stacks = JSON.parse(await pulumi(["stack", "ls", "--json"], scratch, copyEnv)) as { name: string }[];
    let salt: string | undefined;
    if (stacks.some((s) => s.name === opts.stack || s.name.endsWith(`/${opts.stack}`))) {
      // An earlier copy: keep its salt (exporting needs no passphrase either).
      const previous = join(scratch, "previous.json");
      await pulumi(["stack", "export", "--stack", opts.stack, "--file", previous], scratch, copyEnv);
      const prev = JSON.parse(await readFile(previous, "utf8")) as {
        deployment?: { secrets_providers?: { type?: string; state?: { salt?: string } } };
      };
      if (prev.deployment?.secrets_providers?.type === "passphrase") salt = prev.deployment.secrets_providers.state?.salt;
      if (!salt) await pulumi(["stack", "rm", "--stack", opts.stack, "--force", "--yes"], scratch, copyEnv);
    }
    if (!salt) {
      await pulumi(["stack", "init", opts.stack, "--secrets-provider", "passphrase"], scratch, copyEnv);
      const created = parseDocument(await readFile(stackFile(scratch, opts.stack), "utf8")).get("encryptionsalt");
      if (typeof created !== "string") throw new Error(`pulumi stack init wrote no encryptionsalt for the preview copy of ${opts.stack}`);
      salt = created;
    }

    const { exported, secrets } = redactDeployment(JSON.parse(await readFile(source, "utf8")), salt);
    const redacted = join(scratch, "redacted.json");
    await writeFile(redacted, JSON.stringify(exported));
    await pulumi(["stack", "import", "--stack", opts.stack, "--file", redacted], scratch, copyEnv);
    const resources = ((exported.deployment as { resources?: unknown[] }).resources ?? []).length;
    return { secrets, resources };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { stack: { type: "string" }, from: { type: "string" }, to: { type: "string" } },
  });
  const projectDir = fileURLToPath(new URL("..", import.meta.url));
  const [cmd] = positionals;
  const fail = (m: string) => {
    console.error(m);
    process.exit(1);
  };
  if (!values.stack) fail("--stack is required");
  const stack = values.stack!;
  if (cmd === "config") {
    redactStackFile(projectDir, stack).then(
      (paths) =>
        console.log(
          `Pulumi.${stack}.yaml: secrets provider settings removed; ${paths.length} secure value(s) redacted${paths.length ? `: ${paths.join(", ")}` : ""}`,
        ),
      (e: unknown) => fail((e as Error).message),
    );
  } else if (cmd === "publish") {
    if (!values.from || !values.to) fail("publish needs --from <state backend URL> and --to <preview backend URL>");
    if (values.from === values.to) fail("--from and --to must be different backends: the copy would replace the stack's own state");
    publishPreviewCopy({ projectDir, stack, from: values.from!, to: values.to! }).then(
      (r) =>
        console.log(
          `preview copy of ${stack} published to ${values.to}: ${r.resources} resource(s), ${r.secrets} secret value(s) redacted`,
        ),
      (e: unknown) => fail((e as Error).message),
    );
  } else {
    fail("usage: preview-copy (config --stack S | publish --stack S --from URL --to URL)");
  }
}
