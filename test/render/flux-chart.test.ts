/**
 * The Flux chart (flux2 2.18.3, the chart the product installs) rendered by `helm template`
 * with the product's values (core/install/helm-values.ts fluxValues): Flux is locked down for
 * tenants. Without it, the chart adds Flux's kinds to the built-in `edit` role and
 * kustomize-controller applies a Kustomization that names no service account as itself,
 * cluster-admin, so a team with `edit` in its namespace could apply anything anywhere.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "mocha";
import { fluxValues } from "../../core/install/helm-values.ts";
import { NAMESPACES } from "../../core/install/namespaces.ts";
import { helmTemplate, upstreamChart } from "../helpers/helm-template.ts";

interface Obj {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  roleRef?: { name: string };
  subjects?: { name: string }[];
  spec?: { template?: { spec?: { containers?: { name: string; args?: string[] }[] } } };
}

const chart = upstreamChart("flux2-chart-2.18.3", "charts", "flux2");

describe("the Flux chart with the product's values", function () {
  this.timeout(20 * 60_000);
  let objects: Obj[] = [];
  before(async function () {
    objects = await helmTemplate<Obj>(this, chart, "flux", NAMESPACES.flux, fluxValues());
  });

  it("adds nothing of Flux's to the built-in view, edit and admin roles", () => {
    const aggregated = objects.filter((o) =>
      Object.keys(o.metadata.labels ?? {}).some((l) => l.startsWith("rbac.authorization.k8s.io/aggregate-to-")),
    );
    assert.deepEqual(
      aggregated.map((o) => o.metadata.name),
      [],
    );
  });

  it("runs kustomize-controller as its namespace's default service account for Kustomizations that name none", () => {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "kustomize-controller");
    const args = deployment?.spec?.template?.spec?.containers?.find((c) => c.name === "manager")?.args ?? [];
    assert.ok(args.includes("--default-service-account=default"), JSON.stringify(args));
  });

  it("binds no cluster-admin to Flux's controllers: they only impersonate the applier a Kustomization names", () => {
    const bindings = objects.filter((o) => o.kind === "ClusterRoleBinding");
    assert.ok(bindings.length > 0);
    assert.deepEqual(
      bindings.filter((b) => b.roleRef?.name === "cluster-admin").map((b) => b.metadata.name),
      [],
    );
    assert.ok(
      bindings.some((b) => b.subjects?.some((s) => s.name === "kustomize-controller") && /impersonator/.test(b.roleRef?.name ?? "")),
      JSON.stringify(bindings.map((b) => [b.metadata.name, b.roleRef?.name])),
    );
  });
});
