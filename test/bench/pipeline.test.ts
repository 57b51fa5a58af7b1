/** `./dev bench:pipeline` at its smallest: it runs, and prints its figures. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { figures, runBench, said } from "./run.ts";

describe("./dev bench:pipeline --runs 1 --sizes 1", () => {
  it("exits 0 and prints the cold-process and in-process figures", async function () {
    this.timeout(10 * 60_000);
    const r = await runBench("pipeline", ["--runs", "1", "--sizes", "1"], 9 * 60_000);
    assert.equal(r.code, 0, said(r));
    const f = figures(r) as {
      coldProcessMs: Record<string, number | Record<string, number>>;
      inProcess: { n: number; ms: number; perSecond: number }[];
    };
    assert.equal(f.coldProcessMs.runs, 1);
    for (const variant of ["nodeBaseline", "bundledConfigure", "imageConfigure", "sourceConfigure"]) {
      const m = f.coldProcessMs[variant] as { median: number; p90: number };
      assert.ok(m.median > 0 && m.p90 >= m.median, `${variant}: ${JSON.stringify(m)}`);
    }
    assert.equal(f.inProcess.length, 1);
    assert.equal(f.inProcess[0]!.n, 1);
    assert.ok(f.inProcess[0]!.perSecond > 0, JSON.stringify(f.inProcess));
  });
});
