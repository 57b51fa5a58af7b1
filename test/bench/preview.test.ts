/**
 * `./dev bench:preview` at its smallest: one table, one run, with and without the policy pack,
 * under the real engine against a control plane of its own. Skipped, naming what is missing,
 * when the tools it runs are not built yet (it would build them first: half an hour of Go on
 * 2 cores) or the CRDs it applies cannot be had; and with the e2e (KDDB_SKIP_E2E=1).
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { PREVIEW_TOOLS } from "../../local-env/index.ts";
import { findCrds, type CrdSet } from "../helpers/crd-validator.ts";
import { missingTools, runBench, said } from "./run.ts";

describe("./dev bench:preview --sizes 1 --runs 1 --policy", () => {
  it("exits 0 and prints the preview time of one table, with and without the pack", async function () {
    if (process.env.KDDB_SKIP_E2E === "1") {
      this.test!.title += " (skipped: KDDB_SKIP_E2E=1)";
      this.skip();
    }
    const tools = missingTools(PREVIEW_TOOLS);
    if (tools.length) {
      this.test!.title += ` (skipped: not built yet: ${tools.join(", ")}; tools/build-tools.sh ${tools.join(" ")})`;
      this.skip();
    }
    const crds = (["kubevela", "kratix", "flux", "ack"] as CrdSet[]).map(findCrds).find((c) => "missing" in c);
    if (crds && "missing" in crds) {
      this.test!.title += ` (skipped: ${crds.missing})`;
      this.skip();
    }
    this.timeout(20 * 60_000);
    const r = await runBench("preview", ["--sizes", "1", "--runs", "1", "--policy"], 19 * 60_000);
    assert.equal(r.code, 0, said(r));
    // The table's row: | tables | preview | with the policy pack |
    assert.match(r.stdout, /^\| 1 \| \d+\.\d s \| \d+\.\d s \|$/m, said(r));
  });
});
