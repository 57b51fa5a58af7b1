/**
 * A chart from ../shared/upstream-src rendered by `helm template` (the helm the local environment
 * builds, the version Pulumi's helm.v4.Chart links), for tests of the product's values against the
 * chart the product installs. A missing chart skips the suite, naming it; with
 * KDDB_REQUIRE_CRDS=1 (CI) it fails instead.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "mocha";
import { parseAllDocuments } from "yaml";
import { upstreamSrc } from "../../local-env/aws.ts";
import { run } from "../../local-env/process.ts";
import { toolsPath } from "../../local-env/tools.ts";

/** The chart's folder under ../shared/upstream-src. */
export const upstreamChart = (...path: string[]) => join(upstreamSrc(), ...path);

/** Every object `helm template` renders for `chart` with `values` (empty documents left out). */
export async function helmTemplate<T extends { kind?: string }>(
  ctx: Context,
  chart: string,
  release: string,
  namespace: string,
  values: unknown,
): Promise<T[]> {
  if (!existsSync(chart)) {
    const why = `no chart at ${chart} (../shared/upstream-src)`;
    if (process.env.KDDB_REQUIRE_CRDS === "1") throw new Error(`${why}; KDDB_REQUIRE_CRDS=1 needs it`);
    ctx.test!.parent!.title += ` (skipped: ${why})`;
    ctx.skip();
  }
  const work = mkdtempSync(join(tmpdir(), "kddb-helm-template-"));
  try {
    const file = join(work, "values.json");
    writeFileSync(file, JSON.stringify(values));
    const PATH = await toolsPath(["helm"]);
    const r = await run("helm", ["template", release, chart, "--namespace", namespace, "--values", file], {
      env: { ...process.env, PATH },
    });
    assert.equal(r.code, 0, r.stderr);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as T)
      .filter((o) => o?.kind);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
