/** Type checking, linting and formatting are tests like any other: CI counts them. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import { REPO_ROOT } from "./helpers/paths.ts";

const bin = (name: string) => join(REPO_ROOT, "node_modules", ".bin", name);
const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(cmd, args, { cwd: REPO_ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );

// The three checks are independent and slow: start them together, test each result.
const checks = {
  tsc: () => run(bin("tsc"), ["--noEmit", "-p", "."]),
  eslint: () => run(bin("eslint"), ["."]),
  prettier: () => run(bin("prettier"), ["--check", "."]),
};
let results: Record<keyof typeof checks, Promise<{ code: number; out: string }>>;

describe("code quality", () => {
  before(() => {
    results = { tsc: checks.tsc(), eslint: checks.eslint(), prettier: checks.prettier() };
  });
  it("type-checks (tsc --noEmit, strict)", async () => {
    const r = await results.tsc;
    assert.equal(r.code, 0, r.out);
  });
  it("lints clean (eslint)", async () => {
    const r = await results.eslint;
    assert.equal(r.code, 0, r.out);
  });
  it("is formatted (prettier --check)", async () => {
    const r = await results.prettier;
    assert.equal(r.code, 0, r.out);
  });
});
