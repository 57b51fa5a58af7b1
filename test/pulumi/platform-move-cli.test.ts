/**
 * The platform-move guard under the real pulumi CLI (tools/build-tools.sh's v3.259.0 with
 * Pulumi's own Node.js language host) on a file backend, no cluster and no cloud: a stack's own
 * StackReference (`organization/<project>/<stack>` on a file backend) reads the previous update's
 * outputs in `preview` as in `up`.
 *
 * A small program in a scratch folder runs what index.ts runs before it registers anything (the
 * config parsed, the identity checked, `platformIdentity` exported), with the project's own
 * Pulumi.yaml (its config declarations): it is `up`dated with one prefix and state store folder,
 * then previewed with others. The real index.ts is then previewed against the same stack: it
 * fails in the guard before registering anything, so it needs no cluster or AWS either.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";
import { toolsPath } from "../../local-env/tools.ts";
import { run } from "../../local-env/process.ts";
import { projectWorkdir } from "../../local-env/pulumi.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

const STACK = "move";
let dir: string;
let guard: string; // the small program's folder
let real: string; // a folder with the repository's program
let env: NodeJS.ProcessEnv;
/** The output of the refused preview, which prints the commands that acknowledge the move. */
let refused = "";

const pulumi = (args: string[], cwd = guard) => run("pulumi", ["--non-interactive", ...args], { cwd, env, timeoutMs: 120_000 });
const ok = async (args: string[], cwd = guard) => {
  const r = await pulumi(args, cwd);
  assert.equal(r.code, 0, `pulumi ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
  return r;
};
const text = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
const identityOutput = async () =>
  JSON.parse((await ok(["stack", "output", "platformIdentity", "--json", "--stack", STACK])).stdout) as Record<string, string>;

/** The program: index.ts up to the point where it registers the platform. */
const repo = (path: string) => JSON.stringify(pathToFileURL(join(REPO_ROOT, path)).href);
const GUARD_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { readConfig } from ${repo("components/config.ts")};
import { checkPlatformIdentity } from ${repo("components/platform-identity.ts")};
import { PROJECT, parsePlatformConfig } from ${repo("core/config/platform-config.ts")};
import { platformIdentity as identityOf } from ${repo("core/config/platform-identity.ts")};
import { tableArgErrors } from ${repo("core/api/table-args.ts")};
const { config, errors } = parsePlatformConfig(readConfig(PROJECT), tableArgErrors);
if (errors.length > 0) throw new pulumi.RunError(JSON.stringify(errors));
const identity = identityOf(config);
await checkPlatformIdentity(identity, config.allowPlatformMove, "tableArns");
export const tableArns = {};
export const platformIdentity = identity;
`;

describe("the platform-move guard under the pulumi CLI (file backend)", () => {
  before(async function () {
    this.timeout(20 * 60_000);
    dir = await mkdtemp(join(tmpdir(), "platform-move-"));
    env = {
      ...process.env,
      PATH: await toolsPath(["pulumi", "pulumi-language-nodejs"]),
      PULUMI_HOME: join(dir, "home"),
      PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "platform-move-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      NO_COLOR: "1",
    };
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    await mkdir(join(dir, "state"));
    guard = join(dir, "guard");
    await mkdir(guard);
    await symlink(join(REPO_ROOT, "node_modules"), join(guard, "node_modules"));
    await writeFile(join(guard, "package.json"), JSON.stringify({ name: "platform-move-test", type: "module" }));
    // The project's Pulumi.yaml (its name, runtime and config declarations), running the small program.
    await writeFile(
      join(guard, "Pulumi.yaml"),
      readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8").replace(/^main: index\.ts$/m, "main: guard.ts"),
    );
    await writeFile(join(guard, "guard.ts"), GUARD_PROGRAM);
    await ok(["stack", "init", STACK]);
    for (const [key, value] of [
      ["defaultRegion", "us-west-2"],
      ["tableNamePrefix", "team-"],
      ["stateStore.mode", "s3"],
      ["stateStore.path", "platform"],
    ])
      await ok(["config", "set", "--path", `${PROJECT}:${key}`, value!]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pulumi up records the identity as the stack output platformIdentity", async function () {
    this.timeout(5 * 60_000);
    await ok(["up", "--yes"]);
    assert.deepEqual(await identityOutput(), {
      defaultRegion: "us-west-2",
      tableNamePrefix: "team-",
      "stateStore.mode": "s3",
      "stateStore.endpoint": "",
      "stateStore.bucketName": "",
      "stateStore.path": "platform",
      "stateStore.kind": "",
      "stateStore.name": "",
    });
    await ok(["preview", "--expect-no-changes"]);
  });

  it("pulumi preview with another tableNamePrefix and stateStore.path fails, naming both keys with their old and new values", async function () {
    this.timeout(5 * 60_000);
    await ok(["config", "set", `${PROJECT}:tableNamePrefix`, "teams-"]);
    await ok(["config", "set", "--path", `${PROJECT}:stateStore.path`, "platform-b"]);
    const r = await pulumi(["preview"]);
    assert.notEqual(r.code, 0, text(r));
    refused = text(r);
    assert.match(refused, /kratix-dynamodb-platform:tableNamePrefix: was "team-" at this stack's last update, now "teams-"/);
    assert.match(refused, /kratix-dynamodb-platform:stateStore\.path: was "platform" at this stack's last update, now "platform-b"/);
  });

  it("the real program (index.ts) fails the same preview before registering anything", async function () {
    this.timeout(5 * 60_000);
    real = projectWorkdir(join(dir, "real"), STACK, join(guard, `Pulumi.${STACK}.yaml`));
    const r = await pulumi(["preview", "--stack", STACK], real);
    assert.notEqual(r.code, 0, text(r));
    assert.match(text(r), /kratix-dynamodb-platform:tableNamePrefix: was "team-" at this stack's last update, now "teams-"/);
    assert.match(text(r), /kratix-dynamodb-platform:stateStore\.path: was "platform" at this stack's last update, now "platform-b"/);
    assert.doesNotMatch(text(r), /(kubernetes|aws):[a-z0-9.]+(\/[a-z0-9.]+)?:[A-Za-z]+ /, "a resource of the platform was registered");
  });

  it("pulumi up fails the same way and leaves the recorded identity as it was", async function () {
    this.timeout(5 * 60_000);
    const r = await pulumi(["up", "--yes"]);
    assert.notEqual(r.code, 0, text(r));
    assert.match(text(r), /kratix-dynamodb-platform:tableNamePrefix: was "team-"/);
    assert.equal((await identityOutput()).tableNamePrefix, "team-");
  });

  it("the commands the failure prints acknowledge the move: preview and up pass, and the new identity is recorded", async function () {
    this.timeout(5 * 60_000);
    const commands = [...refused.matchAll(/^\s*pulumi (config set --type string --path \S+ \S+)\s*$/gm)].map((m) => m[1]!.split(" "));
    assert.deepEqual(
      commands.map((c) => c[5]),
      [`${PROJECT}:allowPlatformMove.tableNamePrefix`, `${PROJECT}:allowPlatformMove.stateStore.path`],
      refused,
    );
    for (const c of commands) await ok(c);
    const preview = await ok(["preview"]);
    assert.match(text(preview), /tableNamePrefix moves from "team-" to "teams-", as allowPlatformMove\.tableNamePrefix acknowledges/);
    await ok(["up", "--yes"]);
    const recorded = await identityOutput();
    assert.equal(recorded.tableNamePrefix, "teams-");
    assert.equal(recorded["stateStore.path"], "platform-b");
  });
});
