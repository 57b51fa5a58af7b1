/** Type checking, linting and formatting are tests like any other: CI counts them. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "./helpers/paths.ts";

const bin = (name: string) => join(REPO_ROOT, "node_modules", ".bin", name);
const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(cmd, args, { cwd: REPO_ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );

describe("code quality", { concurrency: true }, () => {
  it("type-checks (tsc --noEmit, strict)", async () => {
    const r = await run(bin("tsc"), ["--noEmit", "-p", "."]);
    assert.equal(r.code, 0, r.out);
  });
  it("lints clean (eslint)", async () => {
    const r = await run(bin("eslint"), ["."]);
    assert.equal(r.code, 0, r.out);
  });
  it("is formatted (prettier --check)", async () => {
    const r = await run(bin("prettier"), ["--check", "."]);
    assert.equal(r.code, 0, r.out);
  });
});
