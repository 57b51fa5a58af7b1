/**
 * vela-core's chart (KubeVela v1.10.9's charts/vela-core, from its Go module: the version the
 * product pins) rendered by `helm template` with the product's values: Applications act as
 * their creators (decision 103). Without authentication the chart binds vela-core to
 * cluster-admin, so whoever may create an Application could do anything; with it, vela-core
 * impersonates the user its mutating webhook records, and that webhook must fail closed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import { velaCoreValues } from "../../core/install/helm-values.ts";
import { NAMESPACES } from "../../core/install/namespaces.ts";
import { CHARTS } from "../../core/install/versions.ts";
import { controllerCrdsDir } from "../../local-env/tools.ts";
import { helmTemplate } from "../helpers/helm-template.ts";

interface Obj {
  kind: string;
  metadata: { name: string };
  webhooks?: { name: string; failurePolicy: string }[];
  roleRef?: { name: string };
  subjects?: { kind: string; name: string }[];
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  spec?: { template?: { spec?: { serviceAccountName?: string; containers?: { name: string; args?: string[] }[] } } };
}

describe("vela-core's chart with the product's values", function () {
  this.timeout(20 * 60_000);
  let objects: Obj[] = [];
  let defaults: Obj[] = [];
  before(async function () {
    // The module's chart is the pinned release's (its Chart.yaml is unstamped in the module).
    const chart = join(await controllerCrdsDir().catch(() => "/nonexistent"), "charts", "vela-core");
    assert.equal(CHARTS.velaCore.version, "1.10.9", "the chart under test is KubeVela v1.10.9's: move both together");
    objects = await helmTemplate<Obj>(this, chart, "kubevela", NAMESPACES.vela, velaCoreValues());
    const { authentication: _, ...unauthenticated } = velaCoreValues();
    defaults = await helmTemplate<Obj>(this, chart, "kubevela", NAMESPACES.vela, {
      ...unauthenticated,
      admissionWebhooks: { enabled: true, certManager: { enabled: true } },
    });
  });
  const controller = (objs: Obj[]) => objs.find((o) => o.kind === "Deployment" && o.metadata.name === "kubevela-vela-core")!;
  const bindingsOf = (objs: Obj[], sa: string) =>
    objs.filter((o) => o.kind === "ClusterRoleBinding" && o.subjects?.some((s) => s.kind === "ServiceAccount" && s.name === sa));

  it("binds vela-core to no cluster-admin (the chart's choice without authentication, which the old values got)", () => {
    const sa = controller(objects).spec!.template!.spec!.serviceAccountName!;
    const bindings = bindingsOf(objects, sa);
    assert.equal(bindings.length, 1, JSON.stringify(bindings));
    assert.ok(
      bindingsOf(defaults, sa).some((b) => b.roleRef!.name === "cluster-admin"),
      "without authentication the chart binds cluster-admin",
    );
    // What it keeps: its own kinds (KubeVela's groups), reads, and impersonating whoever made an Application.
    const role = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === bindings[0]!.roleRef!.name)!;
    assert.ok(role.rules!.some((r) => r.verbs.includes("impersonate") && r.resources.includes("users") && r.resources.includes("groups")));
    const wildcard = role.rules!.filter((r) => r.resources.includes("*") || r.apiGroups.includes("*"));
    assert.deepEqual(
      wildcard.flatMap((r) => r.apiGroups).filter((g) => !g.endsWith("oam.dev")),
      [],
      "every wildcard rule is for KubeVela's own groups",
    );
  });
  it("impersonates the Application's creator with all of the creator's groups", () => {
    const args = controller(objects).spec!.template!.spec!.containers!.find((c) => c.name === "kubevela")!.args!;
    for (const flag of ["--feature-gates=AuthenticateApplication=true", "--authentication-with-user", "--authentication-group-pattern=*"])
      assert.ok(args.includes(flag), `${flag} not in ${args.join(" ")}`);
  });
  it("fails closed: every vela webhook is Fail, so no Application is admitted without the webhook recording its creator", () => {
    const webhooks = objects.filter((o) => o.kind.endsWith("WebhookConfiguration")).flatMap((o) => o.webhooks ?? []);
    assert.ok(
      webhooks.some((w) => w.name.startsWith("mutating.core.oam.dev.v1beta1.applications")),
      "the Application mutating webhook",
    );
    assert.deepEqual(
      webhooks.filter((w) => w.failurePolicy !== "Fail").map((w) => w.name),
      [],
    );
    const before = defaults.filter((o) => o.kind.endsWith("WebhookConfiguration")).flatMap((o) => o.webhooks ?? []);
    assert.ok(
      before.every((w) => w.failurePolicy === "Ignore"),
      "the chart's default with cert-manager is Ignore",
    );
  });
});
