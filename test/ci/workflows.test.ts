/**
 * The GitHub workflows in .github/workflows/: actionlint on every file (built by
 * tools/build-tools.sh like the other tools: a missing actionlint fails these tests), the rules
 * that make pull-request previews safe by construction (docs/pr-preview.md), each shown to fail on
 * a broken copy, and the commands the workflows run checked against the ones the tests run here.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";
import { toolsPath } from "../../local-env/tools.ts";
import { run } from "../../local-env/process.ts";
import { PREVIEW_PASSPHRASE } from "../../cli/preview-copy.ts";
import {
  checkoutWithoutCredentials,
  concurrency,
  devCommands,
  eachJob,
  forkGuards,
  githubWriteScopes,
  jobRunsOnPullRequests,
  minimalPermissions,
  noPrivilegedPullRequestTriggers,
  noPullRequestCodeWithWriteToken,
  noSecretsForPullRequests,
  parseWorkflow,
  pinnedActions,
  pulumiPreviewRuns,
  pulumiSteps,
  shellCommands,
  type Workflow,
  type WorkflowFile,
} from "./workflow-rules.ts";

const WORKFLOWS_DIR = join(REPO_ROOT, ".github", "workflows");
const files: WorkflowFile[] = readdirSync(WORKFLOWS_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => ({ file: `.github/workflows/${f}`, text: readFileSync(join(WORKFLOWS_DIR, f), "utf8") }));
const workflows = files.map(parseWorkflow);
const byName = (file: string) => workflows.find((w) => w.file === `.github/workflows/${file}`)!;
const stacksList = JSON.parse(readFileSync(join(REPO_ROOT, ".github", "pulumi-stacks.json"), "utf8")) as {
  preview: string[];
  up: string[];
};
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
const devScript = readFileSync(join(REPO_ROOT, "dev"), "utf8");

/** The real files with one edit: the rule under test must then report something. */
function broken(file: string, from: string | RegExp, to: string): Workflow[] {
  const f = files.find((x) => x.file === `.github/workflows/${file}`)!;
  const text = f.text.replace(from, to);
  assert.notEqual(text, f.text, `the edit ${String(from)} does not apply to ${file}`);
  return files.map((x) => parseWorkflow(x === f ? { ...x, text } : x));
}

describe("GitHub workflows (.github/workflows)", () => {
  it("are the three workflows: pr-preview, pulumi-up, pipeline-image", () => {
    assert.deepEqual(
      files.map((f) => f.file),
      [".github/workflows/pipeline-image.yml", ".github/workflows/pr-preview.yml", ".github/workflows/pulumi-up.yml"],
    );
  });

  it("pass actionlint (shellcheck on the run scripts when shellcheck is on PATH)", async function () {
    this.timeout(20 * 60_000);
    // Builds actionlint when it is missing (CI builds it in .ci/run): a failed build fails this test.
    const PATH = await toolsPath(["actionlint"]);
    const env = { ...process.env, PATH };
    const version = (await run("actionlint", ["-version"], { env })).stdout.split("\n")[0] ?? "";
    const lint = await run("actionlint", ["-no-color", "-pyflakes=", ...files.map((f) => f.file)], { env, cwd: REPO_ROOT });
    assert.match(version, /^v1\.7\.12$/, `actionlint -version: ${version}`);
    assert.equal(lint.code, 0, `actionlint:\n${lint.stdout}${lint.stderr}`);
  });

  it("never run pull-request code with the base repository's secrets (no pull_request_target, no workflow_run)", () => {
    assert.deepEqual(noPrivilegedPullRequestTriggers(workflows), []);
    assert.ok(noPrivilegedPullRequestTriggers(broken("pr-preview.yml", /^ {2}pull_request:$/m, "  pull_request_target:")).length > 0);
  });

  it("run no pull-request code in a job whose token can write to GitHub: no checkout, no repository code, the artifact only read as text", () => {
    assert.deepEqual(noPullRequestCodeWithWriteToken(workflows), []);
    // The one such job is the comment job; the jobs that run the pull request's code write nothing.
    const writers = eachJob(workflows).filter(({ wf, job }) => jobRunsOnPullRequests(wf, job) && githubWriteScopes(job).length > 0);
    assert.deepEqual(
      writers.map((w) => w.at),
      [".github/workflows/pr-preview.yml jobs.comment"],
    );
    const comment = /(\n {2}comment:\n[\s\S]*?\n {4}steps:\n)/;
    const step = (text: string) => `$1      - run: ${text}\n`;
    for (const [edit, to] of [
      // The preview job given the write scope back: it checks out and runs the pull request.
      [/(\n {2}preview:[\s\S]*?permissions:\n\s+contents: read)/, "$1\n      pull-requests: write"],
      [/(\n {2}render:[\s\S]*?permissions:\n\s+contents:) read/, "$1 write"],
      // The comment job made to run code: a checkout, an action, the repository's or the artifact's code.
      [comment, "$1      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n"],
      [comment, "$1      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0\n"],
      [comment, step("./dev setup --no-node-packages")],
      [comment, step("npm ci")],
      [comment, step('bash "$RUNNER_TEMP/preview/preview.txt"')],
      [comment, step('source "$RUNNER_TEMP/preview/preview.txt"')],
      [comment, step('echo "$(node -e 1)"')],
      [comment, step("jq . x | sh")],
      [comment, step('gh pr review --approve "$PR"')],
      [comment, step('gh api --method POST "repos/$GITHUB_REPOSITORY/pulls/$PR/reviews" -f event=APPROVE')],
      [comment, step('gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR/comments" -f body="$(tail -c 100 x)"')],
      [comment, step('jq -r .env "$RUNNER_TEMP/preview/preview.txt" >> "$GITHUB_ENV"')],
      [comment, step("echo ${{ github.event.pull_request.title }}")],
      [/(\n {2}comment:[\s\S]*?\n {8}env:\n)/, "$1          BASH_ENV: ${{ runner.temp }}/preview/preview.txt\n"],
      [
        /(\n {2}comment:[\s\S]*?)\n {6}- name: Comment the preview/,
        "$1\n      - shell: node {0}\n        run: process.exit(0)\n      - name: Comment the preview",
      ],
    ] as [RegExp, string][]) {
      assert.ok(noPullRequestCodeWithWriteToken(broken("pr-preview.yml", edit, to)).length > 0, `${String(edit)} -> ${to}`);
    }
  });

  it("read the commands of a script as the shell does (for the rule above)", () => {
    assert.deepEqual(
      shellCommands(
        [
          'size="$(stat -c %s "$out")" # a comment: rm -rf /',
          'tail -c "$n" f | LC_ALL=C tr -d \'x\' > "$text" 2>&1',
          '[ -n "$id" ] || x=1 && y="`whoami`"',
          "jq -r '$(not run) `nor this`' <(cat f) >> out",
          "if [ a ]; then gh api x; else : > f; fi",
        ].join("\n"),
      ),
      [
        ["stat", "-c", "%s", "$out"],
        ["tail", "-c", "$n", "f"],
        ["tr", "-d", "x"],
        ["[", "-n", "$id", "]"],
        ["whoami"],
        ["cat", "f"],
        ["jq", "-r", "$(not run) `nor this`", "$(...)"],
        ["[", "a", "]"],
        ["gh", "api", "x"],
        [":"],
      ],
    );
    assert.throws(() => shellCommands("cat <<EOF\nx\nEOF"), /heredoc/);
    assert.throws(() => shellCommands('echo "$(date'), /unterminated|no closing/);
  });

  it("grant nothing at the top and, per job, only the write scopes a step of that job needs", () => {
    assert.deepEqual(minimalPermissions(workflows), []);
    assert.ok(minimalPermissions(broken("pr-preview.yml", "permissions: {}", "permissions: write-all")).length > 0);
    assert.ok(minimalPermissions(broken("pr-preview.yml", /(render:[\s\S]*?permissions:\n\s+contents:) read/, "$1 write")).length > 0);
    assert.ok(minimalPermissions(broken("pr-preview.yml", / {6}- name: Comment the preview[\s\S]*$/, "")).length > 0);
    assert.ok(
      minimalPermissions(broken("pipeline-image.yml", /(build:[\s\S]*?permissions:\n\s+contents: read)/, "$1\n      id-token: write"))
        .length > 0,
    );
  });

  it("guard every job that can see a secret or an OIDC token against forks (or keep it off pull requests, in an environment)", () => {
    assert.deepEqual(forkGuards(workflows), []);
    assert.ok(forkGuards(broken("pr-preview.yml", "github.event.pull_request.head.repo.full_name == github.repository &&", "")).length > 0);
    assert.ok(
      forkGuards(broken("pr-preview.yml", "github.actor != 'dependabot[bot]' &&", "github.actor != 'dependabot[bot]' ||")).length > 0,
    );
    assert.ok(forkGuards(broken("pulumi-up.yml", /(up:[\s\S]*?)\n {4}environment: pulumi-\$\{\{ matrix\.stack \}\}/, "$1")).length > 0);
    // The fork guard is on the preview job, the one that holds an OIDC token on pull requests.
    const preview = byName("pr-preview.yml").jobs.preview!;
    assert.match(String(preview.if), /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    assert.equal((preview.permissions as Record<string, string>)["id-token"], "write");
  });

  it("give pull-request jobs no secret: no secrets.*, the public preview-copy passphrase only, preview-* environments only", () => {
    assert.deepEqual(noSecretsForPullRequests(workflows, PREVIEW_PASSPHRASE), []);
    const preview = byName("pr-preview.yml").jobs.preview!;
    const passphrases = (preview.steps ?? []).map((s) => s.env?.PULUMI_CONFIG_PASSPHRASE).filter(Boolean);
    assert.deepEqual(passphrases, [PREVIEW_PASSPHRASE], "the preview step gets the literal preview-copy passphrase");
    assert.ok(
      noSecretsForPullRequests(
        broken(
          "pr-preview.yml",
          `PULUMI_CONFIG_PASSPHRASE: ${PREVIEW_PASSPHRASE}`,
          "PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        ),
        PREVIEW_PASSPHRASE,
      ).length > 0,
    );
    assert.ok(
      noSecretsForPullRequests(broken("pr-preview.yml", "environment: preview-${{", "environment: pulumi-${{"), PREVIEW_PASSPHRASE).length >
        0,
    );
    assert.ok(
      noSecretsForPullRequests(broken("pulumi-up.yml", "branches: [main]", "branches: [main, 'feature/**']"), PREVIEW_PASSPHRASE).length >
        0,
    );
  });

  it("hold the stack's passphrase only in the up job: environment pulumi-<stack>, pushes to main", () => {
    const holders = eachJob(workflows).filter(({ job }) => JSON.stringify(job).includes("secrets.PULUMI_CONFIG_PASSPHRASE"));
    assert.deepEqual(
      holders.map((h) => h.at),
      [".github/workflows/pulumi-up.yml jobs.up"],
    );
    assert.equal(holders[0]!.job.environment, "pulumi-${{ matrix.stack }}");
    // The preview copy is published without it.
    const copy = byName("pulumi-up.yml").jobs["preview-copy"]!;
    assert.doesNotMatch(JSON.stringify(copy), /PULUMI_CONFIG_PASSPHRASE/);
  });

  it("pin every action by full commit SHA, with its release as a comment", () => {
    assert.deepEqual(pinnedActions(workflows), []);
    assert.ok(pinnedActions(broken("pr-preview.yml", /actions\/checkout@[0-9a-f]{40} # v7\.0\.1/, "actions/checkout@v7")).length > 0);
    assert.ok(pinnedActions(broken("pr-preview.yml", /(pulumi\/actions@[0-9a-f]{40}) # v7\.0\.0/, "$1")).length > 0);
  });

  it("check out without leaving the token in .git/config", () => {
    assert.deepEqual(checkoutWithoutCredentials(workflows), []);
    assert.ok(checkoutWithoutCredentials(broken("pr-preview.yml", "persist-credentials: false", "persist-credentials: true")).length > 0);
  });

  it("have concurrency groups; jobs that write a stack's state queue on pulumi-state-<stack> and are never cancelled", () => {
    assert.deepEqual(concurrency(workflows), []);
    assert.ok(
      concurrency(
        broken(
          "pulumi-up.yml",
          /(up:[\s\S]*?concurrency:\n\s+group: pulumi-state-\$\{\{ matrix\.stack \}\}\n\s+cancel-in-progress:) false/,
          "$1 true",
        ),
      ).length > 0,
    );
    assert.equal(
      byName("pr-preview.yml").concurrency && (byName("pr-preview.yml").concurrency as Record<string, unknown>)["cancel-in-progress"],
      true,
    );
  });

  it("run ./dev commands that exist: setup (and the option it takes) or an npm script", () => {
    const cmds = devCommands(workflows);
    assert.deepEqual([...new Set(cmds.map((c) => c.cmd))].sort(), ["preview-copy", "render", "setup"]);
    for (const c of cmds) {
      if (c.cmd === "setup") {
        assert.match(devScript, /^\s+setup\)$/m, "./dev has a setup command");
        for (const a of c.args) assert.ok(devScript.includes(`= ${a} ]`), `${c.at}: ./dev setup does not take ${a}`);
      } else {
        assert.ok(c.cmd in pkg.scripts, `${c.at}: ./dev ${c.cmd} is not a package.json script`);
        assert.equal(c.args[0], "--", `${c.at}: ${c.line}: arguments go after --`);
      }
    }
  });

  it("render with the command line test/render runs: node cli/render.ts --stack <stack> --out <dir>", () => {
    const renders = devCommands(workflows).filter((c) => c.cmd === "render");
    assert.equal(renders.length, 1);
    assert.equal(pkg.scripts.render, "node cli/render.ts");
    const args = renders[0]!.args.slice(1);
    assert.deepEqual(
      args.filter((a) => a.startsWith("--")),
      ["--stack", "--out"],
    );
    assert.equal(args[1], "$STACK");
    const renderTest = readFileSync(join(REPO_ROOT, "test", "render", "environment.test.ts"), "utf8");
    assert.match(renderTest, /join\(REPO_ROOT, "cli", "render\.ts"\), "--stack", "dev", "--out", \w+\]/);
    // The artifact is what was rendered.
    const render = byName("pr-preview.yml").jobs.render!;
    const upload = (render.steps ?? []).find((s) => /^actions\/upload-artifact@/.test(s.uses ?? ""))!;
    assert.equal(upload.with?.path, "out/render/${{ matrix.stack }}");
    assert.equal(render.env?.STACK, "${{ matrix.stack }}");
  });

  it("run the policy pack at policy/, with policy/stacks/<stack>.json when that file exists, on preview and up", () => {
    const steps = pulumiSteps(workflows);
    assert.deepEqual(
      steps.map((s) => s.step.with?.command),
      ["up"],
    );
    const previews = pulumiPreviewRuns(workflows);
    assert.deepEqual(
      previews.map((p) => p.line),
      [
        'pulumi preview --stack "$STACK" --non-interactive --diff --color never --policy-pack policy "${config[@]}" 2>&1 | tee out/preview/preview.txt',
      ],
    );
    const checks = [
      ...steps.map(({ step, job, at }) => ({ job, at, packs: step.with?.policyPacks, config: step.with?.policyPackConfigs })),
      ...previews.map(({ step, job, at }) => {
        assert.match(step.run ?? "", /^\[ -z "\$POLICY_CONFIG" \] \|\| config=\(--policy-pack-config "\$POLICY_CONFIG"\)$/m, at);
        return { job, at, packs: /--policy-pack (\S+)/.exec(step.run ?? "")?.[1], config: step.env?.POLICY_CONFIG };
      }),
    ];
    for (const { job, at, packs, config } of checks) {
      assert.equal(packs, "policy", at);
      assert.equal(config, "${{ steps.policy.outputs.config }}", at);
      const policyStep = (job.steps ?? []).find((s) => s.id === "policy")!;
      assert.match(policyStep.run ?? "", /\[ ! -f "policy\/stacks\/\$STACK\.json" \] \|\| config="policy\/stacks\/\$STACK\.json"/, at);
    }
    if (existsSync(join(REPO_ROOT, "policy")))
      assert.ok(existsSync(join(REPO_ROOT, "policy", "PulumiPolicy.yaml")), "policy/ is a policy pack");
  });

  it("preview against the preview copy with a redacted stack file; up against the stack's state", () => {
    const [preview] = pulumiPreviewRuns(workflows);
    const [up] = pulumiSteps(workflows).filter((s) => s.step.with?.command === "up");
    assert.equal(preview!.step.env?.PULUMI_BACKEND_URL, "${{ vars.PREVIEW_BACKEND_URL }}");
    assert.equal(up!.step.with?.["cloud-url"], "${{ vars.STATE_BACKEND_URL }}");
    const steps = preview!.job.steps ?? [];
    const redact = steps.findIndex((s) => s.run === './dev preview-copy -- config --stack "$STACK"');
    assert.ok(redact >= 0 && redact < steps.indexOf(preview!.step), "the stack file is redacted before pulumi preview");
    // The CLI is the version of the installed @pulumi/pulumi, installed by pulumi/actions (no command: install only).
    const install = steps.findIndex((s) => /^pulumi\/actions@/.test(s.uses ?? ""));
    assert.ok(install >= 0 && install < steps.indexOf(preview!.step));
    assert.deepEqual(steps[install]!.with, { "pulumi-version": "${{ steps.policy.outputs.pulumi }}" });
    assert.ok(
      devCommands([byName("pulumi-up.yml")]).some(
        (c) => c.line === './dev preview-copy -- publish --stack "$STACK" --from "$STATE_BACKEND_URL" --to "$PREVIEW_BACKEND_URL"',
      ),
    );
  });

  it("post the preview from a job of its own: the preview job uploads its output, the comment job downloads it and alone can write", () => {
    const { preview, comment } = byName("pr-preview.yml").jobs;
    assert.deepEqual(preview!.permissions, { contents: "read", "id-token": "write" });
    assert.deepEqual(comment!.permissions, { "pull-requests": "write" });
    assert.deepEqual(comment!.needs, ["stacks", "preview"]);
    assert.match(String(comment!.if), /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    assert.match(String(comment!.if), /!cancelled\(\)/, "a failed preview is commented too");
    const upload = (preview!.steps ?? []).find((s) => /^actions\/upload-artifact@/.test(s.uses ?? ""))!;
    const download = (comment!.steps ?? []).find((s) => /^actions\/download-artifact@/.test(s.uses ?? ""))!;
    assert.equal(upload.with?.name, "preview-${{ matrix.stack }}");
    assert.equal(upload.with?.path, "out/preview/preview.txt");
    assert.equal(download.with?.name, upload.with?.name);
    assert.equal(download.with?.path, "${{ runner.temp }}/preview");
    const post = (comment!.steps ?? []).find((s) => /gh api --method POST/.test(s.run ?? ""))!;
    const run = post.run ?? "";
    assert.match(run, /\[ -f "\$out" \] && \[ ! -L "\$out" \]/, "reads a regular file only");
    assert.match(run, /tail -c "\$limit" "\$out" \| LC_ALL=C tr -d '\\000-\\010\\013-\\037\\177'/, "bounded, control characters dropped");
    assert.match(run, /limit=60000\n/, "within GitHub's 65,536 characters a comment");
    assert.match(
      run,
      /\(\[range\(\[\$longest \+ 1, 3\] \| max\)\] \| map\("`"\) \| add\) as \$fence/,
      "a fence longer than any run of backticks",
    );
    assert.equal(post.env?.PR, "${{ github.event.pull_request.number }}", "the pull request from the event, not from the artifact");
  });

  it("put the Node that ./dev setup chose on PATH before pulumi runs the program", () => {
    for (const { job, step, at } of [...pulumiSteps(workflows), ...pulumiPreviewRuns(workflows)]) {
      const steps = job.steps ?? [];
      const i = steps.findIndex((s) =>
        /source scripts\/node-env\.sh\nensure_node\ndirname "\$\(command -v node\)" >> "\$GITHUB_PATH"/.test(s.run ?? ""),
      );
      const setup = steps.findIndex((s) => s.run === "./dev setup --no-node-packages");
      assert.ok(setup >= 0 && i > setup && i < steps.indexOf(step), `${at}: Node is exported through $GITHUB_PATH after ./dev setup`);
    }
  });

  it("list only stacks that exist and that a runner can reach (.github/pulumi-stacks.json)", () => {
    assert.deepEqual(Object.keys(stacksList).sort(), ["preview", "up"]);
    for (const s of [...stacksList.preview, ...stacksList.up]) {
      assert.ok(existsSync(join(REPO_ROOT, `Pulumi.${s}.yaml`)), `Pulumi.${s}.yaml`);
      assert.notEqual(s, "local", "the local stack runs against a cluster on this machine, not from a runner");
    }
    for (const s of stacksList.up)
      assert.ok(stacksList.preview.includes(s), `${s} is deployed on merge, so it is previewed in pull requests`);
  });

  it("build the pipeline image for amd64 and arm64 from the repository root, and print the digest to pin", () => {
    const { build, publish } = byName("pipeline-image.yml").jobs;
    for (const job of [build!, publish!]) {
      const b = (job.steps ?? []).find((s) => /^docker\/build-push-action@/.test(s.uses ?? ""))!;
      assert.equal(b.with?.context, ".");
      assert.equal(b.with?.file, "pipeline/Dockerfile");
      assert.equal(b.with?.platforms, "linux/amd64,linux/arm64");
    }
    assert.match(readFileSync(join(REPO_ROOT, "pipeline", "Dockerfile"), "utf8"), /docker build -f pipeline\/Dockerfile .* \.\n/);
    const digest = (publish!.steps ?? []).find((s) => s.env?.DIGEST)!;
    assert.equal(digest.env?.DIGEST, "${{ steps.build.outputs.digest }}");
    assert.match(digest.run ?? "", /pipelineImage \$pin/);
  });
});
