/**
 * The policy pack (policy/) under the real engine: `pulumi preview --policy-pack policy`
 * (the CLI built from Go modules, our language host running the pack, the Kubernetes
 * provider) against a control plane on this machine with the upstream CRDs, no node. The
 * `local` stack passes with its policy config (policy/stacks/local.json, advisories only);
 * a stack that breaks the rules fails, naming them; the same stack passes once its config
 * relaxes the rules it breaks on purpose. (What the pack costs a preview is a benchmark, not a
 * test: `./dev bench:preview --policy`, smoke-run by test/bench/preview.test.ts.)
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { parse, stringify } from "yaml";
import { LOCAL_DIR, ROOT, projectWorkdir, pulumi, selectStack, startPreviewPlane } from "../../local-env/index.ts";
import { RULES } from "../../policy/rules.ts";

const SKIP = process.env.KDDB_SKIP_E2E === "1";
const work = join(LOCAL_DIR, "policy-pack");
const cwd = join(work, "project");
const PROJECT = "kratix-dynamodb-platform";
/** The rules the violating stack breaks (the other two need AWS or resources the program never makes). */
const BROKEN = ["dynamodb-tables-retained", "dynamodb-deletion-protection", "pipeline-image-pinned-by-digest", "table-name-prefix-set"];

let env: NodeJS.ProcessEnv;
let stop: (() => Promise<void>) | undefined;
const p = (args: string[]) => pulumi(args, env, { cwd, timeoutMs: 300_000 });
const preview = (stack: string, config?: string) =>
  p(["preview", "--stack", stack, "--policy-pack", "policy", ...(config ? ["--policy-pack-config", config] : [])]);
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
/** The policy lines of a preview: `- [mandatory] [severity: high]  <policy>  (<type>: <name>)`. */
const violations = (text: string, level: "mandatory" | "advisory") =>
  [...text.matchAll(new RegExp(`\\[${level}\\](?: \\[severity: \\w+\\])?\\s+([a-z0-9-]+)\\s+\\(`, "g"))].map((m) => m[1]!);

/**
 * The local stack turned into one that breaks the rules a production stack keeps: a table whose
 * request deletes the AWS table with it (deletionPolicy Delete), tables without deletion protection,
 * the pipeline image by tag (these two as the local stack has them) and no table name prefix.
 */
function violatingStackFile(): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
  const tables = doc.config[`${PROJECT}:tables`] as { name: string; table: Record<string, unknown> }[];
  delete doc.config[`${PROJECT}:tableNamePrefix`];
  doc.config[`${PROJECT}:tables`] = [
    ...tables,
    {
      name: "scratch",
      table: {
        tableName: "scratch",
        attributeDefinitions: [{ name: "id", type: "S" }],
        keySchema: [{ attributeName: "id", keyType: "HASH" }],
        deletionPolicy: "Delete",
      },
    },
  ];
  const file = join(work, "Pulumi.violating.yaml");
  writeFileSync(file, stringify(doc));
  return file;
}

(SKIP ? describe.skip : describe)("the policy pack under pulumi preview, against a local API server", () => {
  before(async () => {
    ({ env, stop } = await startPreviewPlane(work));
    projectWorkdir(cwd, "local", join(ROOT, "Pulumi.local.yaml"));
    await selectStack("local", env, cwd);
    projectWorkdir(cwd, "violating", violatingStackFile());
    await selectStack("violating", env, cwd);
  });
  after(async () => {
    await stop?.();
  });

  it("passes the local stack with `--policy-pack policy` alone (the pack reads policy/stacks/local.json): the image only advised", async () => {
    const r = await preview("local");
    const text = output(r);
    assert.equal(r.code, 0, `preview of local failed:\n${text}`);
    assert.match(text, /kratix-dynamodb@v0\.1\.0/, "the pack did not run");
    assert.deepEqual(violations(text, "mandatory"), [], text);
    // The local stack names a prefix (it scopes ACK's IAM policy in the emulated AWS), so only the image is advised on.
    assert.deepEqual([...new Set(violations(text, "advisory"))].sort(), ["pipeline-image-pinned-by-digest"], text);
  });

  it("fails a stack that breaks the rules, as production (no relaxations), naming every rule it breaks", async () => {
    const r = await preview("violating");
    const text = output(r);
    assert.notEqual(r.code, 0, `preview of a violating stack passed:\n${text}`);
    assert.deepEqual([...new Set(violations(text, "mandatory"))].sort(), [...BROKEN].sort(), text);
    assert.match(text, /DynamoDBRequest default\/scratch \(table scratch\): deletionPolicy is Delete/, text);
    assert.match(text, /image localhost\/kratix-dynamodb-pipeline:dev is not pinned by digest/, text);
    for (const name of BROKEN) assert.ok(RULES.some((rule) => rule.name === name));
  });

  it("fails the same stack with the local (non-production) config on the one rule it keeps: tables are retained", async () => {
    const r = await preview("violating", "policy/stacks/local.json");
    const text = output(r);
    assert.notEqual(r.code, 0, text);
    assert.deepEqual([...new Set(violations(text, "mandatory"))], ["dynamodb-tables-retained"], text);
  });

  it("passes the same stack once its config allows deletion", async () => {
    const config = join(work, "allows-deletion.json");
    const local = JSON.parse(readFileSync(join(ROOT, "policy", "stacks", "local.json"), "utf8")) as Record<string, string>;
    writeFileSync(config, JSON.stringify({ ...local, "dynamodb-tables-retained": "disabled" }));
    const r = await preview("violating", config);
    assert.equal(r.code, 0, output(r));
  });
});
