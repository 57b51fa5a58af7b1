/**
 * The test runner (scripts/run-tests.ts), as CI runs it: files two at a time, except that two
 * files naming the same `@exclusive` thing (the local environment) never run at once, while
 * other files keep running beside them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";

const dir = join(REPO_ROOT, ".local", "run-tests-probe");
/** Spelt in two parts so that this file itself names nothing exclusive to the runner. */
const EXCLUSIVE = "@" + "exclusive";

/** A test file that records when it ran, then sleeps. */
function probe(name: string, exclusive: boolean): string {
  const file = join(dir, `${name}.test.ts`);
  writeFileSync(
    file,
    [
      `/** A probe of the runner${exclusive ? ` (${EXCLUSIVE} probe-resource)` : ""}. */`,
      `import { appendFileSync } from "node:fs";`,
      `import { it } from "mocha";`,
      `it("${name}", async () => {`,
      `  const start = Date.now();`,
      `  await new Promise((r) => setTimeout(r, 1500));`,
      `  appendFileSync(${JSON.stringify(join(dir, "times"))}, JSON.stringify({ name: "${name}", start, end: Date.now() }) + "\\n");`,
      `});`,
      "",
    ].join("\n"),
  );
  return relative(REPO_ROOT, file);
}

describe("scripts/run-tests.ts", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("never runs two files naming the same exclusive thing at once, and runs other files beside them", function () {
    this.timeout(120_000);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = [probe("a-exclusive", true), probe("b-exclusive", true), probe("c-free", false)];
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "scripts", "run-tests.ts"), ...files], {
      cwd: REPO_ROOT,
      env: { ...process.env, KDDB_TEST_JOBS: "2" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^3 passed, 0 failed$/m);
    const times = Object.fromEntries(
      readFileSync(join(dir, "times"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { name: string; start: number; end: number })
        .map((t) => [t.name, t]),
    );
    const overlap = (x: { start: number; end: number }, y: { start: number; end: number }) => x.start < y.end && y.start < x.end;
    assert.ok(!overlap(times["a-exclusive"]!, times["b-exclusive"]!), JSON.stringify(times));
    assert.ok(
      overlap(times["c-free"]!, times["a-exclusive"]!) || overlap(times["c-free"]!, times["b-exclusive"]!),
      `the free file waited too: ${JSON.stringify(times)}`,
    );
  });

  it("marks the files that start a local environment exclusive", () => {
    for (const file of ["test/e2e/local-cluster.test.ts", "test/bench/e2e.test.ts"])
      assert.match(readFileSync(join(REPO_ROOT, file), "utf8"), new RegExp(`${EXCLUSIVE} local-environment\\b`), file);
  });
});
