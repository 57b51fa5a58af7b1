/**
 * The preview copy (cli/preview-copy.ts): what pull-request previews run against instead of a
 * stack's state and passphrase. The redaction as functions, then the whole round under the real
 * pulumi CLI on two file backends: a stack with secrets in its config and state is published
 * without its passphrase, and `pulumi preview` of the same program against the copy, with the
 * redacted stack file and the public passphrase, sees no change and no secret.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { parse } from "yaml";
import { REPO_ROOT } from "../helpers/paths.ts";
import { toolsPath } from "../../local-env/tools.ts";
import { run } from "../../local-env/process.ts";
import {
  PREVIEW_PASSPHRASE,
  REDACTED,
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
});
