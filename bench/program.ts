/**
 * Program-evaluation benchmark: the whole program (index.ts) under Pulumi's
 * mocks with 1, 10, 100 and 1,000 tables, each size in a fresh process.
 * Reports wall time from import to all table ARNs resolved, and peak RSS.
 *
 * Usage: node bench/program.ts [--sizes 1,10,100,1000] [--runs 3] [--floor]
 *   --floor measures a bare component with one child per table instead (the design's floor).
 * `./dev test` runs it at its smallest (--sizes 1 --runs 1, test/bench/program.test.ts).
 * Targets (issue 3): under 2 ms per extra table, 1,000 tables under 5 s.
 */
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Output } from "@pulumi/pulumi";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,100,1000" },
    runs: { type: "string", default: "3" },
    child: { type: "string" },
    floor: { type: "boolean", default: false },
  },
});

if (values.child && values.floor) {
  // The floor of this design under the same mocks: per table, a bare ComponentResource
  // with one CustomResource child and one registered output, and nothing else.
  const n = Number(values.child);
  const pulumi = await import("@pulumi/pulumi");
  const k8s = await import("@pulumi/kubernetes");
  const { setupMocks, resolve } = await import("../test/helpers/pulumi-mocks.ts");
  await setupMocks("floor");
  class Bare extends pulumi.ComponentResource {
    readonly out: Output<string>;
    constructor(name: string) {
      super("floor:index:Bare", name, {}, {});
      const r = new k8s.apiextensions.CustomResource(
        name,
        { apiVersion: "a.b/v1", kind: "K", metadata: { name, namespace: "d" }, spec: { name } },
        { parent: this },
      );
      this.out = r.metadata.name as Output<string>;
      this.registerOutputs({ out: this.out });
    }
  }
  const t0 = performance.now();
  const all = Array.from({ length: n }, (_, i) => new Bare(`t${i}`));
  await resolve(pulumi.all(all.map((b) => b.out)));
  console.log(JSON.stringify({ n, ms: performance.now() - t0, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

if (values.child) {
  // One measurement, in this fresh process.
  const n = Number(values.child);
  const pulumi = await import("@pulumi/pulumi");
  const { setupMocks, resolve } = await import("../test/helpers/pulumi-mocks.ts");
  const { PROJECT } = await import("../core/config/platform-config.ts");
  await setupMocks(PROJECT);
  const tables = Array.from({ length: n }, (_, i) => ({
    name: `table-${i}`,
    table: {
      tableName: `bench-table-${i}`,
      billingMode: i % 2 ? "PROVISIONED" : "PAY_PER_REQUEST",
      ...(i % 2 ? { provisioned: { readCapacity: 5, writeCapacity: 5 } } : {}),
      attributeDefinitions: [
        { name: "pk", type: "S" },
        { name: "sk", type: "N" },
      ],
      keySchema: [
        { attributeName: "pk", keyType: "HASH" },
        { attributeName: "sk", keyType: "RANGE" },
      ],
    },
  }));
  pulumi.runtime.setConfig(`${PROJECT}:defaultRegion`, "us-east-1");
  // Required with the ACK controller's own IAM policy (the default install): it covers bench-* only.
  pulumi.runtime.setConfig(`${PROJECT}:tableNamePrefix`, "bench-");
  pulumi.runtime.setConfig(`${PROJECT}:tables`, JSON.stringify(tables));
  const t0 = performance.now();
  const program = (await import("../index.ts")) as unknown as { tableArns: Output<Record<string, string>> };
  const arns = await resolve(program.tableArns);
  const ms = performance.now() - t0;
  const missing = tables.filter((t) => !arns[t.name]?.startsWith("arn:aws:dynamodb:")).map((t) => t.name);
  if (Object.keys(arns).length !== n || missing.length)
    throw new Error(`expected ${n} table ARNs, got ${Object.keys(arns).length}; none for ${missing.slice(0, 5).join(", ")}`);
  console.log(JSON.stringify({ n, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  // The mocks leave registrations in flight that Pulumi's exit check counts; the measurement is done.
  process.exit(0);
}

const sizes = values.sizes!.split(",").map(Number);
const runs = Number(values.runs);
const self = fileURLToPath(import.meta.url);
const results = sizes.map((n) => {
  const samples = Array.from({ length: runs }, () => {
    const r = spawnSync(process.execPath, [self, "--child", String(n), ...(values.floor ? ["--floor"] : [])], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    const line = r.stdout
      .trim()
      .split("\n")
      .find((l) => l.startsWith('{"n":'));
    // Not the exit status: Pulumi's exit check fails the child for the mocks' registrations still in flight.
    if (!line) throw new Error(`n=${n} failed:\n${r.stderr}`);
    return JSON.parse(line) as { ms: number; maxRssMiB: number };
  });
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { tables: n, medianMs: Math.round(ms), peakRssMiB: Math.round(Math.max(...samples.map((s) => s.maxRssMiB))) };
});
const first = results[0]!;
const last = results[results.length - 1]!;
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, loadavg1m: +loadavg()[0]!.toFixed(2), node: process.version },
      runs,
      results,
      ...(last.tables > first.tables
        ? { msPerExtraTable: +((last.medianMs - first.medianMs) / (last.tables - first.tables)).toFixed(2) }
        : {}),
    },
    null,
    2,
  ),
);
