/** Label values the platform writes, from settings rather than requests: valid, or refused where they are set. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { isLabelValue, labelValue } from "../../core/k8s/metadata.ts";
import { renderPromise } from "../../core/render/promise.ts";
import { destination } from "../../core/install/kratix-objects.ts";
import { parsePlatformConfig } from "../../core/config/platform-config.ts";
import { tableArgErrors } from "../../core/api/table-args.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";

describe("labelValue", () => {
  it("keeps a valid value as it is", () => {
    for (const v of ["", "orders", "a".repeat(63), "A_b.c-1"]) assert.equal(labelValue(v), v);
  });
  it("shortens anything else to a valid value, deterministically and distinctly", () => {
    const inputs = [
      "a".repeat(64),
      "a".repeat(253),
      `${"a".repeat(252)}b`,
      "-x-",
      "über",
      "a/b",
      `${"a".repeat(51)}.-_${"b".repeat(20)}`,
      "...",
    ];
    const out = inputs.map(labelValue);
    for (const [i, v] of out.entries()) assert.ok(isLabelValue(v), `${inputs[i]} -> ${v}`);
    assert.equal(new Set(out).size, inputs.length);
    assert.deepEqual(inputs.map(labelValue), out);
    assert.match(labelValue("a".repeat(64)), /^a{52}-[0-9a-f]{10}$/);
  });
});

describe("label values from the platform's settings", () => {
  it("renderPromise refuses a version that is not a label value", () => {
    assert.throws(() => renderPromise({ pipelineImage: "i:1", version: "v1.2.3+build.7" }), /kratix\.io\/promise-version/);
    assert.throws(() => renderPromise({ pipelineImage: "i:1", version: `v1.2.3-${"r".repeat(60)}` }), /at most 63/);
    assert.deepEqual(validateAgainstUpstream(renderPromise({ pipelineImage: "i:1", version: "v1.2.3-rc.1" })), []);
  });
  it("renderPromise refuses destination selectors that no label can match", () => {
    assert.throws(
      () => renderPromise({ pipelineImage: "i:1", destinationSelectors: [{ matchLabels: { env: "dev/eu" } }] }),
      /destinationSelectors\[0\]\.matchLabels\.env/,
    );
  });
  it("destination refuses labels that are not label values", () => {
    assert.throws(() => destination({ labels: { "cluster-role": "x".repeat(64) } }), /cluster-role/);
  });
  it("the program's config names promiseVersion when it cannot be the label", () => {
    const { errors } = parsePlatformConfig({ promiseVersion: "v1.2.3+build.7", tableNamePrefix: "team-" }, tableArgErrors);
    assert.deepEqual(
      errors.map((e) => e.path),
      ["kratix-dynamodb-platform:promiseVersion"],
    );
    assert.deepEqual(parsePlatformConfig({ promiseVersion: "v2.0.1", tableNamePrefix: "team-" }, tableArgErrors).errors, []);
  });
});
