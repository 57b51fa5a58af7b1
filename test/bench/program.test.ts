/** `./dev bench:program` at its smallest: it runs the program with one table, and prints its figures. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { figures, runBench, said } from "./run.ts";

describe("./dev bench:program --sizes 1 --runs 1", () => {
  it("exits 0 and prints the time and peak RSS of the program with one table", async function () {
    this.timeout(10 * 60_000);
    const r = await runBench("program", ["--sizes", "1", "--runs", "1"], 9 * 60_000);
    assert.equal(r.code, 0, said(r));
    const f = figures(r) as { runs: number; results: { tables: number; medianMs: number; peakRssMiB: number }[] };
    assert.equal(f.runs, 1);
    assert.equal(f.results.length, 1);
    assert.equal(f.results[0]!.tables, 1);
    assert.ok(f.results[0]!.medianMs > 0 && f.results[0]!.peakRssMiB > 0, JSON.stringify(f.results));
  });
});

describe("./dev bench:program --sizes 1 --runs 1 --floor", () => {
  it("exits 0 and prints the floor's figures (a bare component per table)", async function () {
    this.timeout(10 * 60_000);
    const r = await runBench("program", ["--sizes", "1", "--runs", "1", "--floor"], 9 * 60_000);
    assert.equal(r.code, 0, said(r));
    const f = figures(r) as { results: { tables: number; medianMs: number }[] };
    assert.deepEqual(
      f.results.map((x) => x.tables),
      [1],
    );
    assert.ok(f.results[0]!.medianMs > 0, JSON.stringify(f.results));
  });
});
