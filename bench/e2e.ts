/**
 * End-to-end figures on the local control plane, in one run:
 *   - `pulumi up` of the `local` stack from empty, and a no-change `pulumi preview`;
 *   - `kubectl apply --server-side` of the same objects (from `npm run render -- --stack local`)
 *     on the same, emptied server, first apply and no-change re-apply;
 *   - the ratios Pulumi / kubectl.
 * Usage: node bench/e2e.ts [--runs 3]     (needs the tools; kubectl from PATH or tools/build-tools.sh kubectl)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  LOCAL_TOOLS,
  ROOT,
  prepareCluster,
  projectWorkdir,
  pulumi,
  pulumiEnv,
  run,
  selectStack,
  startCluster,
  stopCluster,
  toolsPath,
} from "../cli/local-env.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), "kddb-bench-"));
const pathWithKubectl = await toolsPath(false, [...LOCAL_TOOLS, "kubectl"]);
const cluster = await startCluster(join(work, "cluster"), { ...process.env, PATH: pathWithKubectl });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  await prepareCluster(cluster.kubeconfig);
  const env = pulumiEnv(pathWithKubectl, cluster.kubeconfig, join(work, "state"));
  const cwd = projectWorkdir(join(work, "project"), "local", join(ROOT, "Pulumi.local.yaml"));
  await selectStack("local", env, cwd);
  const rendered = join(work, "render");
  const r = await run(process.execPath, [join(ROOT, "cli", "render.ts"), "--stack", "local", "--out", rendered]);
  if (r.code !== 0) throw new Error(r.stderr);
  const kubectl = (args: string[]) => run("kubectl", args, { env });
  const must = <T extends { code: number; stdout: string; stderr: string }>(x: T, what: string): T => {
    if (x.code !== 0) throw new Error(`${what} failed:\n${x.stdout}\n${x.stderr}`);
    return x;
  };
  const sample = { pulumiUp: [] as number[], pulumiPreview: [] as number[], kubectlApply: [] as number[], kubectlReapply: [] as number[] };
  for (let i = 0; i < runs; i++) {
    sample.pulumiUp.push(must(await pulumi(["up", "--yes", "--skip-preview", "--stack", "local"], env, { cwd }), "pulumi up").ms);
    sample.pulumiPreview.push(
      must(await pulumi(["preview", "--expect-no-changes", "--stack", "local"], env, { cwd }), "pulumi preview").ms,
    );
    must(await pulumi(["state", "unprotect", "--all", "--yes", "--stack", "local"], env, { cwd }), "unprotect");
    must(await pulumi(["destroy", "--yes", "--stack", "local"], env, { cwd }), "pulumi destroy");
    // The CRD first (as Pulumi orders it), then everything else.
    const apply = async () => {
      const t = performance.now();
      must(await kubectl(["apply", "--server-side", "-f", join(rendered, "kratix", "dynamodbrequests-crd.yaml")]), "kubectl apply CRD");
      must(await kubectl(["wait", "--for=condition=Established", "crd/dynamodbrequests.dynamodb.kratix.io"]), "kubectl wait");
      must(await kubectl(["apply", "--server-side", "-f", join(rendered, "kubevela"), "-f", join(rendered, "requests")]), "kubectl apply");
      return performance.now() - t;
    };
    sample.kubectlApply.push(await apply());
    sample.kubectlReapply.push(await apply());
    must(
      await kubectl([
        "delete",
        "-f",
        join(rendered, "requests"),
        "-f",
        join(rendered, "kubevela"),
        "-f",
        join(rendered, "kratix", "dynamodbrequests-crd.yaml"),
      ]),
      "kubectl delete",
    );
  }
  const m = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, Math.round(median(v))])) as Record<keyof typeof sample, number>;
  console.log(
    JSON.stringify(
      {
        machine: { cpus: cpus().length, loadavg1m: +loadavg()[0]!.toFixed(2), node: process.version },
        runs,
        medianMs: m,
        ratios: {
          upVsApply: +(m.pulumiUp / m.kubectlApply).toFixed(1),
          previewVsReapply: +(m.pulumiPreview / m.kubectlReapply).toFixed(1),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await stopCluster(join(work, "cluster"));
}
