/**
 * What a pull request waits for: `pulumi preview` wall time of the program (index.ts)
 * with 1, 10 and 100 tables, under the real engine (the CLI, the Node.js language host, the
 * Kubernetes provider) against a control plane on this machine with the upstream CRDs.
 * Each size is its own stack made from Pulumi.local.yaml with N generated tables: the dev
 * stack's own config needs the AWS provider and an AWS account, which this machine has
 * neither of (the AWS resources are a handful, fixed, whatever N is).
 *
 * Usage: node bench/preview.ts [--sizes 1,10,100] [--runs 3] [--policy]
 *   --policy also times each preview with the policy pack (--policy-pack policy, the local stack's levels).
 * Only one run at a time: it starts its own control plane under .local/bench-preview.
 * `./dev test` runs it at its smallest (--sizes 1 --runs 1 --policy, test/bench/preview.test.ts)
 * when its tools are built.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { LOCAL_DIR, ROOT, projectWorkdir, pulumi, selectStack, startPreviewPlane } from "../local-env/index.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,100" },
    runs: { type: "string", default: "3" },
    policy: { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
const runs = Number(values.runs);
const PROJECT = "kratix-dynamodb-platform";
const work = join(LOCAL_DIR, "bench-preview");
const cwd = join(work, "project");

/** The local stack's config with `n` tables, each with a sort key and a GSI (a realistic request). */
function stackFile(n: number): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
  doc.config[`${PROJECT}:tables`] = Array.from({ length: n }, (_, i) => ({
    name: `bench-${i}`,
    table: {
      tableName: `bench-table-${i}`,
      attributeDefinitions: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
        { name: "status", type: "S" },
      ],
      keySchema: [
        { attributeName: "pk", keyType: "HASH" },
        { attributeName: "sk", keyType: "RANGE" },
      ],
      globalSecondaryIndexes: [
        { name: "by-status", keySchema: [{ attributeName: "status", keyType: "HASH" }], projection: { type: "KEYS_ONLY" } },
      ],
      tags: { team: "bench" },
    },
  }));
  const file = join(work, `Pulumi.bench-${n}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const { env, stop } = await startPreviewPlane(work);
try {
  console.log(`# pulumi preview of index.ts, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, ${runs} runs per size (median)`);
  console.log(`| tables | preview${values.policy ? " | with the policy pack" : ""} |`);
  console.log(`| ---: | ---: |${values.policy ? " ---: |" : ""}`);
  for (const n of sizes) {
    const stack = `bench-${n}`;
    projectWorkdir(cwd, stack, stackFile(n));
    await selectStack(stack, env, cwd);
    const time = async (extra: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await pulumi(["preview", "--stack", stack, ...extra], env, { cwd, timeoutMs: 900_000 });
        if (r.code !== 0) throw new Error(`preview of ${n} tables failed:\n${r.stdout}\n${r.stderr}`);
        ms.push(r.ms);
      }
      return median(ms);
    };
    const plain = await time([]);
    // The bench stacks are the local stack's config, so they are judged by its policy levels.
    const withPack = values.policy
      ? await time(["--policy-pack", "policy", "--policy-pack-config", "policy/stacks/local.json"])
      : undefined;
    console.log(`| ${n} | ${s(plain)} |${withPack !== undefined ? ` ${s(withPack)} |` : ""}`);
  }
} finally {
  await stop();
}
