/** The pack judges each stack by its own file: policy/stacks/<stack>.json, read by the pack. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";

// From levels.ts, not pack.ts: importing the pack registers it and serves the engine.
import { stackLevels } from "../../policy/levels.ts";

describe("the policy pack's levels per stack", () => {
  it("a stack with a file gets its levels; one without is production (no relaxation)", () => {
    const local = JSON.parse(readFileSync(join(REPO_ROOT, "policy", "stacks", "local.json"), "utf8")) as unknown;
    assert.deepEqual(stackLevels("local"), local);
    assert.deepEqual(stackLevels("prod"), {});
    assert.deepEqual(stackLevels(undefined), {});
  });
  it("a stack name cannot reach outside stacks/", () => {
    assert.deepEqual(stackLevels("../package"), {});
    assert.deepEqual(stackLevels("local/../../package"), {});
  });
});
