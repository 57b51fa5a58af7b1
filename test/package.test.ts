/** The component package as another stack imports it: built to JavaScript, definitions beside it. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "mocha";
import { REPO_ROOT } from "./helpers/paths.ts";

const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(cmd, args, { cwd: REPO_ROOT }, (err, so, se) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${so}${se}` })),
  );

it("builds with declarations, and the built package loads its components and definitions in plain Node", async () => {
  const out = mkdtempSync(join(tmpdir(), "pkg-"));
  const tsc = await run(join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", out]);
  assert.equal(tsc.code, 0, tsc.out);
  cpSync(join(REPO_ROOT, "definitions"), join(out, "definitions"), { recursive: true });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(out, "node_modules")); // as an installed package finds its dependencies
  const script = `
    const pkg = await import(${JSON.stringify(join(out, "components", "index.js"))});
    const defs = await import(${JSON.stringify(join(out, "core", "kubevela", "definitions.js"))});
    console.log(JSON.stringify({ exports: Object.keys(pkg).sort(), definitions: defs.componentDefinitions().map((d) => d.metadata.name) }));`;
  const r = await run(process.execPath, ["--input-type=module", "--no-experimental-strip-types", "-e", script]);
  assert.equal(r.code, 0, r.out);
  const { exports, definitions } = JSON.parse(r.out.trim().split("\n").pop()!) as { exports: string[]; definitions: string[] };
  for (const name of [
    "DynamoDBPlatform",
    "DynamoDBTable",
    "DynamoDBPromise",
    "KubeVelaDefinitions",
    "KratixInstallation",
    "AckDynamoDBController",
  ])
    assert.ok(exports.includes(name), name);
  assert.deepEqual(definitions, ["kratix-promise-deployer", "aws-dynamodb-kratix"]);
});
