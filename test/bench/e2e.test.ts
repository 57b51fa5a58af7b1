/**
 * `./dev bench:e2e` at its smallest: one run, one table, on the whole local chain. It starts a
 * whole local environment of its own (node, Flux, ACK, the AWS emulator), whose state store's
 * port and node bridge are fixed, so it never runs beside the whole-chain e2e:
 *
 * @exclusive local-environment (scripts/run-tests.ts runs one such file at a time)
 *
 * Skipped, naming what is missing, when the tools it runs are not built yet.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "mocha";
import { LOCAL_TOOLS } from "../../local-env/index.ts";
import { figures, missingTools, runBench, said } from "./run.ts";

describe("./dev bench:e2e --runs 1 --tables 1", () => {
  it("exits 0 and prints the time to the last ARN and the pipeline pods' times", async function () {
    const skip = (why: string) => {
      this.test!.title += ` (skipped: ${why})`;
      this.skip();
    };
    if (process.env.KDDB_SKIP_E2E === "1") skip("KDDB_SKIP_E2E=1");
    const tools = missingTools(LOCAL_TOOLS);
    if (tools.length) skip(`not built yet: ${tools.join(", ")}; tools/build-tools.sh ${tools.join(" ")}`);
    if (process.getuid?.() !== 0) skip("the local node (containerd, kubelet) runs as root");
    const python = process.env.KDDB_PYTHON ?? "python3";
    if (spawnSync(python, ["-c", "import moto.server, flask"]).status !== 0)
      skip(`no moto server for ${python} (pip install "moto[server]")`);
    this.timeout(45 * 60_000);
    const r = await runBench("e2e", ["--runs", "1", "--tables", "1"], 44 * 60_000);
    assert.equal(r.code, 0, said(r));
    const f = figures(r) as {
      runs: number;
      tables: number;
      medianMs: Record<string, number>;
      pipelinePodSeconds: Record<string, { runs: number }>;
    };
    assert.equal(f.runs, 1);
    assert.equal(f.tables, 1);
    for (const k of ["environment", "upToPromiseAvailable", "upToLastArn", "preview"])
      assert.ok(f.medianMs[k]! > 0, `${k}: ${JSON.stringify(f.medianMs)}`);
    assert.ok(Object.keys(f.pipelinePodSeconds).length > 0, `no pipeline pod timed: ${JSON.stringify(f)}`);
  });
});
