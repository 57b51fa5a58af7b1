/**
 * The preview copy of a stack: what pull-request previews run against instead of the stack's own
 * state and secrets provider, so that no pull request ever needs the stack's passphrase
 * (docs/pr-preview.md has the threat model).
 *
 *   npm run preview-copy -- publish --stack dev --from <state backend URL> --to <preview backend URL>
 *     On the default branch, after `pulumi up`: exports the stack's state (ciphertext, so no
 *     passphrase is needed), replaces every secret value with "[redacted]", and imports the result
 *     into the preview backend under the same stack name, encrypted with PREVIEW_PASSPHRASE (public).
 *     Refused, before anything runs, when --from and --to are one backend however spelt; and it
 *     replaces a stack at --to only if that stack is an earlier preview copy (never removes one).
 *   npm run preview-copy -- config --stack dev
 *     In the preview job, before `pulumi preview`: rewrites this working copy's Pulumi.<stack>.yaml
 *     without its secrets provider settings and with every secure value replaced by "[redacted]".
 *
 * `pulumi preview` then runs with PULUMI_CONFIG_PASSPHRASE=PREVIEW_PASSPHRASE against the copy.
 * Everything the copy holds is readable by whoever may run a preview: that is the point.
 */
import { mkdtemp, readFile, realpath, rm, stat, writeFile, copyFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { basename, dirname, isAbsolute, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMap, isPair, isScalar, isSeq, parseDocument, stringify, visit, type YAMLSeq } from "yaml";
import { run } from "./process.ts";

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

/**
 * What a backend URL resolves to, so that two spellings of one backend compare equal: `publish`
 * must never write to the stack's own backend (it would import the redacted state over the stack,
 * or remove it). Read as the pulumi CLI reads it (pkg/backend/diy `massageBlobPath`, go-cloud's
 * URL openers, httpstate), and where a spelling is ambiguous, toward "the same":
 *
 * - `file://`: the directory the state lives in, by its real path (symlinks resolved) and, when it
 *   exists, its device and inode (bind mounts, case-insensitive file systems). As Pulumi does,
 *   `file://` is followed by a path (`file://x` is relative, `~` is the home directory), the query
 *   is dropped except go-cloud's `prefix`; `FILE://` (another case) goes to go-cloud as a URL.
 * - `s3://`, `gs://`, `azblob://`: the bucket (or container) and the key prefix (the path, after
 *   go-cloud's `prefix` parameter), whatever the endpoint, region, profile or parameter order.
 * - `https://`, `http://`: the Pulumi Cloud host (`app.pulumi.com` and `pulumi.com` are
 *   `api.pulumi.com`), whatever the scheme, port or path.
 *
 * Anything else (a relative path, a fragment, `key=`, `postgres://`, `mem://`, another scheme) is
 * refused: the copy cannot tell it apart from the stack's backend.
 */
export interface BackendIdentity {
  /** Equal for every spelling of one backend. */
  key: string;
  /** A `file://` backend's directory by device and inode (of its deepest existing folder, and the path below that). */
  inode?: string;
}

const OBJECT_STORES = ["s3", "gs", "azblob"];
const PULUMI_CLOUD_HOSTS = ["api.pulumi.com", "app.pulumi.com", "pulumi.com", "www.pulumi.com"];
const SUPPORTED = "file:// (an absolute path), s3://, gs://, azblob:// or a Pulumi Cloud https:// URL";

export async function backendIdentity(url: string, flag = "backend"): Promise<BackendIdentity> {
  const refuse = (why: string): never => {
    throw new Error(`${flag} ${JSON.stringify(url)}: ${why}; the preview copy takes ${SUPPORTED}, so that it can tell two backends apart`);
  };
  if (!url.trim()) refuse("empty");
  if (url.includes("#")) refuse("a URL with a fragment (#), which Pulumi and go-cloud read differently");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "file") return fileBackendIdentity(url, refuse);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return refuse("not a URL");
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return refuse("a malformed %-escape");
    }
  };
  if (scheme && OBJECT_STORES.includes(scheme)) {
    if (u.searchParams.has("key")) refuse("go-cloud's key= makes a bucket of one object, not a backend");
    const bucket = decode(u.hostname).toLowerCase();
    if (!bucket) refuse("no bucket");
    // The prefix go-cloud applies (?prefix=) then the one Pulumi applies (the path). WHATWG URL
    // parsing drops "." and ".." segments, which S3 keeps: that only makes more URLs "the same".
    const prefix = (u.searchParams.get("prefix") ?? "") + decode(u.pathname).replace(/^\/+/, "");
    const normal = posix.normalize(`/${prefix}`).replace(/^\/+|\/+$/g, "");
    return { key: `${scheme}://${bucket}/${normal}` };
  }
  if (scheme === "https" || scheme === "http") {
    let host = u.hostname.replace(/\.$/, "");
    if (PULUMI_CLOUD_HOSTS.includes(host)) host = "api.pulumi.com";
    return { key: `pulumi-cloud://${host}` };
  }
  return refuse(`the ${scheme ?? "missing"} scheme`);
}

async function fileBackendIdentity(url: string, refuse: (why: string) => never): Promise<BackendIdentity> {
  const q = url.indexOf("?");
  const head = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  let path: string;
  if (head.startsWith("file://")) {
    // Pulumi's reading: the rest is a path; ~ is the user's home directory (os/user, not $HOME).
    path = head.slice("file://".length);
    if (path.startsWith("~")) path = path === "~" ? userInfo().homedir : join(userInfo().homedir, path.slice(2));
  } else {
    // Another case of the scheme: go-cloud's fileblob reads the URL's path and ignores its host,
    // except "." (a relative path).
    const m = /^file:(?:\/\/([^/]*))?(.*)$/i.exec(head)!;
    path = m[1] === "." ? m[2]!.replace(/^\//, "") : m[2]!;
  }
  // go-cloud opens the %-decoded path.
  try {
    path = decodeURIComponent(path);
  } catch {
    refuse("a malformed %-escape");
  }
  if (!isAbsolute(path)) refuse("a relative path, which the pulumi CLI would read from its own working folder");
  if (query.has("key")) refuse("go-cloud's key= makes a bucket of one object, not a backend");
  // go-cloud's ?prefix= puts every key under it: "sub/" is a folder, "p" a file-name prefix.
  const prefix = query.get("prefix") ?? "";
  const namePrefix = prefix.endsWith("/") ? "" : basename(prefix);
  const below = resolve(path, namePrefix ? dirname(prefix) : prefix);
  // The deepest folder that exists, by real path and inode, and the rest of the path below it.
  let existing = below;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      const st = await stat(real);
      const tail = [...rest, ...(namePrefix ? [`${namePrefix}*`] : [])].join("/");
      return { key: `file://${join(real, tail)}`, inode: `${st.dev}:${st.ino}/${tail}` };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(existing) === existing) throw e;
      rest.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
}

/** Refuses, naming both flags, when `from` and `to` are one backend however they are spelt. */
export async function assertDifferentBackends(from: string, to: string): Promise<void> {
  const [a, b] = await Promise.all([backendIdentity(from, "--from"), backendIdentity(to, "--to")]);
  if (a.key === b.key || (a.inode !== undefined && a.inode === b.inode)) {
    throw new Error(
      `--from ${from} and --to ${to} are one backend (${a.key}): the preview copy would replace or remove the stack's own state. ` +
        "Give --to the preview backend: another directory, bucket, prefix or Pulumi Cloud. Nothing was run.",
    );
  }
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
 *
 * It never writes to the stack itself: `from` and `to` must resolve to different backends
 * (`assertDifferentBackends`, before anything runs), the only command run against `from` is
 * `pulumi stack export`, and a stack already at `to` is replaced only when it is a preview copy:
 * a passphrase stack that the public passphrase opens, which the stack's own never is. Nothing is
 * ever removed; a stack at `to` that is not a copy stops the publish.
 */
export async function publishPreviewCopy(opts: {
  projectDir: string;
  stack: string;
  from: string;
  to: string;
  /** The environment the pulumi CLI runs in (default this process's); its passphrase settings are dropped. */
  env?: NodeJS.ProcessEnv;
}): Promise<{ secrets: number; resources: number }> {
  await assertDifferentBackends(opts.from, opts.to);
  const base = opts.env ?? process.env;
  const scratch = await mkdtemp(join(tmpdir(), "kddb-preview-copy-"));
  try {
    await copyFile(join(opts.projectDir, "Pulumi.yaml"), join(scratch, "Pulumi.yaml"));
    const source = join(scratch, "source.json");
    await pulumi(["stack", "export", "--stack", opts.stack, "--file", source], scratch, pulumiEnv(base, opts.from));

    const copyEnv = pulumiEnv(base, opts.to, PREVIEW_PASSPHRASE);
    const stacks = JSON.parse(await pulumi(["stack", "ls", "--json"], scratch, copyEnv)) as { name: string }[];
    let salt: string;
    if (stacks.some((s) => s.name === opts.stack || s.name.endsWith(`/${opts.stack}`))) {
      salt = await previewCopySalt(scratch, opts.stack, opts.to, copyEnv);
    } else {
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

/**
 * The salt of an earlier preview copy at `to`, to keep; refuses (changing nothing) a stack there
 * that is not one. A copy is a passphrase stack that the public passphrase opens: `pulumi config
 * set --secret` in the scratch folder, with the stack's salt, checks the passphrase against it
 * (`incorrect passphrase` otherwise) and writes nothing but the scratch stack file.
 */
async function previewCopySalt(scratch: string, stack: string, to: string, copyEnv: NodeJS.ProcessEnv): Promise<string> {
  const notACopy = (why: string) =>
    new Error(
      `the stack ${stack} at --to ${to} is not a preview copy: ${why}. Nothing was changed. If --to is the stack's own backend under ` +
        "another name, give the preview backend; if it is an old copy, remove it by hand (pulumi stack rm).",
    );
  const previous = join(scratch, "previous.json");
  await pulumi(["stack", "export", "--stack", stack, "--file", previous], scratch, copyEnv);
  const provider = (
    JSON.parse(await readFile(previous, "utf8")) as {
      deployment?: { secrets_providers?: { type?: string; state?: { salt?: unknown } } };
    }
  ).deployment?.secrets_providers;
  const salt = provider?.state?.salt;
  if (provider?.type !== "passphrase" || typeof salt !== "string" || !salt) {
    throw notACopy(`its secrets provider is ${provider?.type ?? "none"}, not a passphrase`);
  }
  const file = stackFile(scratch, stack);
  await writeFile(file, stringify({ encryptionsalt: salt }));
  const probe = await run("pulumi", ["--non-interactive", "config", "set", "--secret", "--stack", stack, "preview-copy-probe", REDACTED], {
    cwd: scratch,
    env: copyEnv,
  });
  await rm(file, { force: true });
  if (probe.code !== 0) {
    const said = (probe.stderr || probe.stdout).trim().split("\n").pop() ?? "";
    throw notACopy(`the preview passphrase does not open it (${said})`);
  }
  return salt;
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
