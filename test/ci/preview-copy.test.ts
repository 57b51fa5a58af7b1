/**
 * The preview copy (cli/preview-copy.ts): what pull-request previews run against instead of a
 * stack's state and passphrase. The redaction as functions, then the whole round under the real
 * pulumi CLI on two file backends: a stack with secrets in its config and state is published
 * without its passphrase, and `pulumi preview` of the same program against the copy, with the
 * redacted stack file and the public passphrase, sees no change and no secret. And publishing never
 * touches the stack: one backend in two spellings is refused before pulumi runs, a stack at --to
 * that is not a preview copy is refused, and a publish to another backend runs only `stack export`
 * against the stack's, whose every file stays byte-identical.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "mocha";
import { parse } from "yaml";
import { REPO_ROOT } from "../helpers/paths.ts";
import { toolsPath } from "../../local-env/tools.ts";
import { run } from "../../local-env/process.ts";
import {
  PREVIEW_PASSPHRASE,
  REDACTED,
  assertDifferentBackends,
  backendIdentity,
  publishPreviewCopy,
  redactDeployment,
  redactStackConfig,
  redactStackFile,
} from "../../cli/preview-copy.ts";

const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

describe("preview copy: redacting a stack file", () => {
  it("removes the secrets provider settings and replaces each secure value, keeping everything else", () => {
    const text = readFileSync(join(REPO_ROOT, "Pulumi.local.yaml"), "utf8");
    const r = redactStackConfig(text);
    assert.deepEqual(r.redacted, ["kratix-dynamodb-platform:stateStoreCredentials.secretAccessKey"]);
    assert.doesNotMatch(r.text, /\bsecure:|encryptionsalt|v1:/);
    const before = parse(text) as { config: Record<string, unknown> };
    const after = parse(r.text) as Record<string, unknown> & { config: Record<string, unknown> };
    assert.deepEqual(Object.keys(after), ["config"]);
    const creds = "kratix-dynamodb-platform:stateStoreCredentials";
    assert.deepEqual(after.config[creds], { accessKeyId: "local-state-store", secretAccessKey: REDACTED });
    assert.deepEqual({ ...after.config, [creds]: null }, { ...before.config, [creds]: null });
    // Comments and quoting stay: the attribute types are still quoted strings.
    assert.match(r.text, /^# The embedded default/);
    assert.match(r.text, /type: "S"/);
  });

  it("leaves a keyless stack file as it is", () => {
    const text = readFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
    assert.equal(redactStackConfig(text).text, text);
  });

  it("drops every secrets provider setting", () => {
    const text = "secretsprovider: awskms://alias/x\nencryptedkey: abc\nconfig:\n  p:a:\n    b:\n      - secure: v1:x\n";
    const r = redactStackConfig(text);
    assert.doesNotMatch(r.text, /secretsprovider|encryptedkey|secure/);
    assert.deepEqual(parse(r.text), { config: { "p:a": { b: [REDACTED] } } });
    assert.deepEqual(r.redacted, ["p:a.b[0]"]);
  });
});

describe("preview copy: redacting an exported deployment", () => {
  it("replaces every secret, wherever it is, and sets the copy's secrets provider", () => {
    const exported = {
      version: 3,
      deployment: {
        secrets_providers: { type: "passphrase", state: { salt: "real-salt" } },
        resources: [
          { urn: "a", outputs: { plain: "x", s: { ...SIG, ciphertext: "v1:real" } } },
          { urn: "b", inputs: { nested: [{ k: { ...SIG, plaintext: '"shown"' } }] } },
        ],
      },
    };
    const { exported: out, secrets } = redactDeployment(exported, "copy-salt");
    assert.equal(secrets, 2);
    const text = JSON.stringify(out);
    assert.doesNotMatch(text, /ciphertext|real|shown/);
    assert.deepEqual((out.deployment as { secrets_providers: unknown }).secrets_providers, {
      type: "passphrase",
      state: { salt: "copy-salt" },
    });
    assert.deepEqual((out.deployment as { resources: { outputs?: unknown }[] }).resources[0]!.outputs, {
      plain: "x",
      s: { ...SIG, plaintext: JSON.stringify(REDACTED) },
    });
    assert.equal(out.version, 3);
  });

  it("refuses what is not an export", () => {
    assert.throws(() => redactDeployment({ checkpoint: {} }, "s"), /not an exported deployment/);
  });
});

describe("preview copy: telling the stack's backend from the preview backend (--from, --to)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "preview-copy-backends-"));
    await mkdir(join(dir, "x", "state"), { recursive: true });
    await mkdir(join(dir, "x", "other"));
    await symlink(join(dir, "x", "state"), join(dir, "link"));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const oneBackend = /^Error: --from .* and --to .* are one backend \(.*\): the preview copy would replace or remove the stack's own state/;

  it("takes one backend in two spellings for one: a directory by its real path, a bucket and prefix, a Pulumi Cloud host", async () => {
    const state = join(dir, "x", "state");
    const home = userInfo().homedir;
    const pairs: [string, string][] = [
      [`file://${state}`, `file://${state}/`],
      [`file://${state}`, `file://${dir}/x/./state`],
      [`file://${state}`, `file://${dir}//x/state//`],
      [`file://${state}`, `file://${dir}/x/other/../state`],
      [`file://${state}`, `file://${dir}/link`], // a symlink to it
      [`file://${state}`, `FILE://${state}`], // another case: go-cloud reads it as a URL...
      [`file://${state}`, `FILE://localhost${state}`], // ...and ignores its host
      [`file://${state}`, `file://${state}?no_tmp_dir=true`],
      [`file://${state}`, `file://${dir}/x?prefix=state/`], // go-cloud's prefix
      [`file://${state}`, `file://${dir}/x/st%61te`],
      [`file://${state}/not-yet`, `file://${dir}/link/not-yet/`], // not there yet, under a symlink
      [`file://${home}/.kddb-preview-copy-test`, "file://~/.kddb-preview-copy-test/"],
      ["s3://state-bucket/stacks", "s3://state-bucket/stacks/"],
      ["s3://state-bucket", "s3://state-bucket/"],
      ["s3://state-bucket/stacks?region=us-west-2&awssdk=v2", "s3://state-bucket/stacks?awssdk=v2&region=us-west-2"],
      ["s3://state-bucket/stacks?region=us-west-2", "S3://State-Bucket//stacks?endpoint=https://s3.us-west-2.amazonaws.com&profile=p"],
      ["s3://state-bucket/stacks", "s3://state-bucket?prefix=stacks/"],
      ["s3://state-bucket/stacks", "s3://state-bucket/%73tacks"],
      ["gs://state-bucket/p", "gs://state-bucket/p/"],
      ["azblob://state/p?storage_account=acct", "azblob://state/p/"],
      ["https://api.pulumi.com", "https://app.pulumi.com/"],
      ["https://api.pulumi.com", "HTTPS://API.PULUMI.COM:443/"],
      ["https://pulumi.example.com", "http://pulumi.example.com./api"],
    ];
    for (const [a, b] of pairs) {
      await assert.rejects(assertDifferentBackends(a, b), oneBackend, `${a} and ${b}`);
      await assert.rejects(assertDifferentBackends(b, a), oneBackend, `${b} and ${a}`);
    }
  });

  it("takes other directories, buckets, prefixes and hosts for other backends", async () => {
    const pairs: [string, string][] = [
      [`file://${dir}/x/state`, `file://${dir}/x/other`],
      [`file://${dir}/x/state`, `file://${dir}/x/state/copy`],
      [`file://${dir}/x/state`, `file://${dir}/x?prefix=state-copy/`],
      ["s3://state-bucket", "s3://preview-bucket"],
      ["s3://state-bucket/state", "s3://state-bucket/preview"],
      ["s3://state-bucket", "gs://state-bucket"],
      [`file://${dir}/x/state`, "s3://state-bucket"],
      ["https://api.pulumi.com", "https://pulumi.example.com"],
      ["s3://state-bucket", "https://api.pulumi.com"],
    ];
    for (const [a, b] of pairs) await assertDifferentBackends(a, b);
  });

  it("refuses a backend it cannot compare: a relative path, a fragment, key=, another scheme, nothing", async () => {
    for (const url of [
      "file://state",
      "file://./state",
      "FILE://./state",
      `file://${dir}/x#state`,
      "s3://b?key=k",
      "s3:///p",
      "postgres://db/state",
      "mem://",
      "ftp://host/x",
      "",
    ]) {
      await assert.rejects(
        backendIdentity(url, "--to"),
        (e: Error) => e.message.startsWith(`--to ${JSON.stringify(url)}: `) && e.message.includes("the preview copy takes"),
        url,
      );
    }
  });
});

describe("preview copy under the pulumi CLI (file backends)", () => {
  const REAL_PASSPHRASE = "the-stack-passphrase";
  const SECRET_CONFIG = "hunter2-config-secret";
  const SECRET_OUTPUT = "state-secret-value";
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let deploy: string; // the "main" working copy
  let pr: string; // the pull request's working copy
  let stateUrl: string;
  let copyUrl: string;
  let logged: NodeJS.ProcessEnv; // env whose pulumi logs each call (its PULUMI_BACKEND_URL and arguments) to pulumiLog
  let pulumiLog: string;
  const calls = async () => (await readFile(pulumiLog, "utf8").catch(() => "")).split("\n").filter(Boolean);
  const checkpoint = () => join(dir, "state", ".pulumi", "stacks", "preview-copy-test", "ci.json");
  /** Every file under a folder, by its hash. */
  const tree = async (root: string) =>
    Object.fromEntries(
      await Promise.all(
        (await readdir(root, { withFileTypes: true, recursive: true }))
          .filter((e) => e.isFile())
          .map(async (e) => {
            const f = join(e.parentPath, e.name);
            return [
              relative(root, f),
              createHash("sha256")
                .update(await readFile(f))
                .digest("hex"),
            ] as const;
          }),
      ),
    );

  const pulumi = (args: string[], cwd: string, extra: NodeJS.ProcessEnv) => {
    const e: NodeJS.ProcessEnv = { ...env, ...extra };
    for (const k of Object.keys(extra)) if (extra[k] === undefined) delete e[k];
    return run("pulumi", ["--non-interactive", ...args], { cwd, env: e });
  };
  const project = async (where: string) => {
    await mkdir(where, { recursive: true });
    await symlink(join(REPO_ROOT, "node_modules"), join(where, "node_modules"));
    await writeFile(join(where, "package.json"), JSON.stringify({ name: "preview-copy-test", type: "module" }));
    await writeFile(
      join(where, "Pulumi.yaml"),
      "name: preview-copy-test\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.mjs\n",
    );
    await writeFile(
      join(where, "index.mjs"),
      [
        'import * as pulumi from "@pulumi/pulumi";',
        "const cfg = new pulumi.Config();",
        'export const plain = "visible";',
        // Known to the stack's state only: the pull request's program runs without STATE_SECRET.
        "export const fromState = pulumi.secret(process.env.STATE_SECRET ?? 'unknown to the pull request');",
        'export const fromConfig = cfg.requireSecret("password");',
        "",
      ].join("\n"),
    );
  };

  before(async function () {
    this.timeout(20 * 60_000);
    dir = await mkdtemp(join(tmpdir(), "preview-copy-test-"));
    const PATH = await toolsPath(["pulumi", "pulumi-language-nodejs"]);
    env = {
      ...process.env,
      PATH,
      PULUMI_HOME: join(dir, "home"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    delete env.PULUMI_CONFIG_PASSPHRASE;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    delete env.PULUMI_BACKEND_URL;
    stateUrl = `file://${join(dir, "state")}`;
    copyUrl = `file://${join(dir, "copy")}`;
    await mkdir(join(dir, "state"));
    await mkdir(join(dir, "copy"));
    deploy = join(dir, "main");
    pr = join(dir, "pr");
    await project(deploy);
    await project(pr);
    const real = { PULUMI_BACKEND_URL: stateUrl, PULUMI_CONFIG_PASSPHRASE: REAL_PASSPHRASE, STATE_SECRET: SECRET_OUTPUT };
    for (const args of [
      ["stack", "init", "ci"],
      ["config", "set", "--stack", "ci", "--secret", "password", SECRET_CONFIG],
      ["up", "--stack", "ci", "--yes"],
    ]) {
      const r = await pulumi(args, deploy, real);
      assert.equal(r.code, 0, `pulumi ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    }
    // The real pulumi behind a wrapper that logs each call.
    const realPulumi = (await run("bash", ["-c", "command -v pulumi"], { env })).stdout.trim();
    assert.ok(realPulumi, "pulumi on PATH");
    pulumiLog = join(dir, "pulumi-calls.log");
    await mkdir(join(dir, "wrapper"));
    await writeFile(
      join(dir, "wrapper", "pulumi"),
      `#!/bin/sh\nprintf '%s %s\\n' "$PULUMI_BACKEND_URL" "$*" >> '${pulumiLog}'\nexec '${realPulumi}' "$@"\n`,
    );
    await chmod(join(dir, "wrapper", "pulumi"), 0o755);
    // With the stack's passphrase too: publish must drop it.
    logged = { ...env, PATH: `${join(dir, "wrapper")}:${env.PATH}`, PULUMI_CONFIG_PASSPHRASE: REAL_PASSPHRASE };
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("publishes the copy without the stack's passphrase, twice (the second keeps the copy's salt)", async function () {
    this.timeout(5 * 60_000);
    // The stack's passphrase in the environment: publish must drop it, not use it.
    const withPassphrase = { ...env, PULUMI_CONFIG_PASSPHRASE: REAL_PASSPHRASE };
    const publish = () => publishPreviewCopy({ projectDir: deploy, stack: "ci", from: stateUrl, to: copyUrl, env: withPassphrase });
    {
      const first = await publish();
      assert.ok(first.secrets >= 2, `secrets redacted: ${first.secrets}`);
      const saltOf = async () =>
        (
          JSON.parse(await readFile(join(dir, "copy", ".pulumi", "stacks", "preview-copy-test", "ci.json"), "utf8")) as {
            checkpoint: { latest: { secrets_providers: { state: { salt: string } } } };
          }
        ).checkpoint.latest.secrets_providers.state.salt;
      const salt = await saltOf();
      const second = await publish();
      assert.equal(second.secrets, first.secrets);
      assert.equal(await saltOf(), salt);
    }
  });

  it("holds no secret of the stack, in plaintext or in the stack's ciphertext", async () => {
    const files = async (d: string): Promise<string[]> =>
      (await readdir(d, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const copy = (await Promise.all((await files(join(dir, "copy"))).map((f) => readFile(f, "utf8")))).join("\n");
    assert.ok(copy.length > 0);
    assert.doesNotMatch(copy, new RegExp(`${SECRET_CONFIG}|${SECRET_OUTPUT}`));
    const state = await readFile(join(dir, "state", ".pulumi", "stacks", "preview-copy-test", "ci.json"), "utf8");
    const realCiphertexts = [...state.matchAll(/"ciphertext": ?"([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(realCiphertexts.length >= 2);
    for (const c of realCiphertexts) assert.ok(!copy.includes(c), "a ciphertext of the stack's own key is in the copy");
  });

  it("lets the pull request's preview run on the redacted stack file and the public passphrase, with no change", async function () {
    this.timeout(5 * 60_000);
    await writeFile(join(pr, "Pulumi.ci.yaml"), await readFile(join(deploy, "Pulumi.ci.yaml"), "utf8"));
    assert.deepEqual(await redactStackFile(pr, "ci"), ["preview-copy-test:password"]);
    const r = await pulumi(["preview", "--stack", "ci", "--show-secrets"], pr, {
      PULUMI_BACKEND_URL: copyUrl,
      PULUMI_CONFIG_PASSPHRASE: PREVIEW_PASSPHRASE,
    });
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 unchanged/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(`${SECRET_CONFIG}|${SECRET_OUTPUT}`));
  });

  it("is no way into the stack: the public passphrase opens neither the stack's state nor its stack file", async function () {
    this.timeout(5 * 60_000);
    const r = await pulumi(["preview", "--stack", "ci"], deploy, {
      PULUMI_BACKEND_URL: stateUrl,
      PULUMI_CONFIG_PASSPHRASE: PREVIEW_PASSPHRASE,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /incorrect passphrase/);
    // And the stack itself still previews with its own passphrase, unchanged by the copy.
    const own = await pulumi(["preview", "--stack", "ci"], deploy, {
      PULUMI_BACKEND_URL: stateUrl,
      PULUMI_CONFIG_PASSPHRASE: REAL_PASSPHRASE,
    });
    assert.equal(own.code, 0, `${own.stdout}${own.stderr}`);
    assert.match(own.stdout, /1 unchanged/);
  });

  it("refuses one backend in two spellings before running pulumi at all: the stack's checkpoint stays byte-identical", async function () {
    this.timeout(2 * 60_000);
    const before = await readFile(checkpoint());
    const files = await tree(join(dir, "state"));
    await rm(pulumiLog, { force: true });
    await symlink(join(dir, "state"), join(dir, "state-link"));
    const spellings = [
      `${stateUrl}/`,
      `file://${dir}/./state`,
      `file://${dir}//state`,
      `file://${dir}/copy/../state`,
      `FILE://${dir}/state`,
      `file://${dir}/state-link`,
      `${stateUrl}?no_tmp_dir=true`,
      `file://${dir}?prefix=state/`,
    ];
    for (const to of spellings) {
      await assert.rejects(
        publishPreviewCopy({ projectDir: deploy, stack: "ci", from: stateUrl, to, env: logged }),
        (e: Error) => e.message.startsWith(`--from ${stateUrl} and --to ${to} are one backend`),
        to,
      );
    }
    // The command line: exit 1, naming both flags.
    const cli = await run(
      process.execPath,
      [join(REPO_ROOT, "cli", "preview-copy.ts"), "publish", "--stack", "ci", "--from", stateUrl, "--to", `file://${dir}/state-link/`],
      { env: logged, cwd: REPO_ROOT },
    );
    assert.equal(cli.code, 1, `${cli.stdout}${cli.stderr}`);
    assert.match(cli.stderr, /^--from \S+ and --to \S+ are one backend .*Nothing was run\.$/m);
    assert.deepEqual(await calls(), [], "no pulumi command ran");
    assert.ok((await readFile(checkpoint())).equals(before), "the stack's checkpoint changed");
    assert.deepEqual(await tree(join(dir, "state")), files);
  });

  it("publishes into another backend with only pulumi stack export run against the stack's: its checkpoint stays byte-identical", async function () {
    this.timeout(5 * 60_000);
    const before = await readFile(checkpoint());
    const files = await tree(join(dir, "state"));
    await rm(pulumiLog, { force: true });
    await mkdir(join(dir, "copy2"));
    const to = `file://${join(dir, "copy2")}`;
    // A first publish (stack init there), then a later one (replacing the earlier copy).
    for (let i = 0; i < 2; i++) await publishPreviewCopy({ projectDir: deploy, stack: "ci", from: stateUrl, to, env: logged });
    const log = await calls();
    const onStack = log.filter((l) => l.startsWith(`${stateUrl} `));
    assert.equal(onStack.length, 2, log.join("\n"));
    for (const l of onStack) assert.match(l, /^\S+ --non-interactive stack export --stack ci --file \S+$/);
    assert.ok(log.some((l) => l.startsWith(`${to} --non-interactive stack import`)));
    assert.ok((await readFile(checkpoint())).equals(before), "the stack's checkpoint changed");
    assert.deepEqual(await tree(join(dir, "state")), files);
  });

  it("replaces no stack at --to that the preview passphrase does not open (the stack's state under another name), changing nothing there", async function () {
    this.timeout(5 * 60_000);
    // A byte copy of the stack's backend stands for the stack reached through a name no URL
    // comparison sees through (another endpoint of the same bucket, a mount of it).
    const mirror = join(dir, "mirror");
    await cp(join(dir, "state"), mirror, { recursive: true });
    const files = await tree(mirror);
    const before = await tree(join(dir, "state"));
    await rm(pulumiLog, { force: true });
    await assert.rejects(
      publishPreviewCopy({ projectDir: deploy, stack: "ci", from: stateUrl, to: `file://${mirror}`, env: logged }),
      /^Error: the stack ci at --to file:\S+ is not a preview copy: the preview passphrase does not open it \(.*incorrect passphrase.*\)\. Nothing was changed\./,
    );
    const log = await calls();
    assert.deepEqual(
      log.filter((l) => / stack (import|init|rm)\b/.test(l)),
      [],
      "no stack was created, imported or removed",
    );
    assert.deepEqual(await tree(mirror), files);
    assert.deepEqual(await tree(join(dir, "state")), before);
  });
});
