/** The Promise's pipelines: each asks for no more than it uses, and runs where Pod Security `restricted` is enforced. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { PIPELINE_RESOURCES, PIPELINES, renderPromise, resourcePipelineName } from "../../core/render/promise.ts";
import { releasePipelineServiceAccount } from "../../core/install/table-guard.ts";
import { NAMESPACES } from "../../core/install/namespaces.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";

interface Permission {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNamespace?: string;
}
interface Container {
  name: string;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  env?: { name: string; value?: string }[];
}
interface Pipeline {
  metadata: { name: string };
  spec: { containers: Container[]; rbac?: { permissions: Permission[] } };
}
type Workflows = { config?: { pipelineNamespace?: string }; resource: Record<string, Pipeline[]> };

const workflows = (o: Parameters<typeof renderPromise>[0] = { pipelineImage: "i:1" }) =>
  JSON.parse(JSON.stringify(renderPromise(o).spec.workflows)) as Workflows;
const pipelines = (w: Workflows) => Object.values(w.resource).flat();
const byName = (w: Workflows, name: string) => pipelines(w).find((p) => p.metadata.name === name)!;

describe("Promise pipelines' permissions", () => {
  it("render-table decides ownership, so it reads every request's name, namespaces' approvals and the competing Tables; nothing else", () => {
    assert.deepEqual(byName(workflows(), PIPELINES.render).spec.rbac?.permissions, [
      // Every request's table name, in every namespace: a name belongs to one request (core/kratix/table-claims.ts).
      { apiGroups: ["dynamodb.kratix.io"], resources: ["dynamodbrequests"], verbs: ["list"], resourceNamespace: "*" },
      // Adoption approvals are namespace annotations.
      { apiGroups: [""], resources: ["namespaces"], verbs: ["get"], resourceNamespace: "*" },
      // Whether ACK manages the request's Table and its rivals', in their namespaces.
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get"], resourceNamespace: "*" },
    ]);
  });
  it("table-status gets its request's Table and writes its connection ConfigMap, in the request's namespace; report-delete gets and patches the Table there (the release mark)", () => {
    const w = workflows();
    assert.deepEqual(byName(w, PIPELINES.status).spec.rbac?.permissions, [
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get"] },
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "update"] },
    ]);
    // Kratix binds a permission without resourceNamespace in the namespace the pipeline runs in: the request's.
    assert.deepEqual(byName(w, PIPELINES.delete).spec.rbac?.permissions, [
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get", "patch"] },
    ]);
  });
  it("no pipeline may write anything through its permissions but report-delete's patch of Tables and table-status's ConfigMaps (never cluster-wide); none lists or watches Tables", () => {
    for (const p of [...pipelines(workflows()), ...pipelines(workflows({ pipelineImage: "i:1", pipelineNamespace: NAMESPACES.pipelines }))])
      for (const r of p.spec.rbac?.permissions ?? []) {
        const writes = r.verbs.filter((v) => v !== "get" && v !== "list");
        if (p.metadata.name === PIPELINES.delete) assert.deepEqual([r.resources, writes], [["tables"], ["patch"]]);
        else if (p.metadata.name === PIPELINES.status && writes.length)
          assert.deepEqual([r.resources, writes], [["configmaps"], ["create", "update"]]);
        else assert.deepEqual(writes, [], `${p.metadata.name}: ${r.verbs.join(",")}`);
        if (r.resources.includes("tables")) assert.ok(!r.verbs.includes("list") && !r.verbs.includes("watch"), p.metadata.name);
        // report-delete's patch reaches every namespace from a pipeline namespace: the table guard lets it add the release mark only.
        const guarded = p.metadata.name === PIPELINES.delete;
        assert.equal(r.resourceNamespace === "*" && writes.length > 0 && !guarded, false, `${p.metadata.name} writes cluster-wide`);
      }
  });
  it("the table guard releases by the service account Kratix gives report-delete", () => {
    assert.equal(resourcePipelineName("aws-dynamodb-kratix", "delete", PIPELINES.delete), releasePipelineServiceAccount());
    assert.equal(releasePipelineServiceAccount(), "aws-dynamodb-kratix-resource-delete-report-delete");
  });
});

describe("where the pipelines run (spec.workflows.config.pipelineNamespace)", () => {
  it("off by default: Kratix 224e148 mixes up two requests of one name in a shared pipeline namespace", () => {
    assert.equal(workflows().config, undefined);
  });
  it("when set: the namespace is passed on, and table-status's get reaches the request's namespace from there", () => {
    const w = workflows({ pipelineImage: "i:1", pipelineNamespace: NAMESPACES.pipelines });
    assert.deepEqual(w.config, { pipelineNamespace: "kratix-dynamodb-pipelines" });
    // Kratix binds a permission without resourceNamespace in the pipeline's own namespace, where no Table is.
    assert.deepEqual(byName(w, PIPELINES.status).spec.rbac?.permissions, [
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get"], resourceNamespace: "*" },
    ]);
    // No connection ConfigMap from there (it would take every namespace's ConfigMaps), and the step is told so.
    assert.deepEqual(byName(w, PIPELINES.status).spec.containers[0]?.env?.find((e) => e.name === "CONNECTION_CONFIGMAP")?.value, "off");
    // The table guard then takes the pipeline namespace's report-delete as the releaser (tableGuard pipelineNamespace).
    assert.deepEqual(byName(w, PIPELINES.delete).spec.rbac?.permissions, [
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get", "patch"], resourceNamespace: "*" },
    ]);
    assert.deepEqual(validateAgainstUpstream(renderPromise({ pipelineImage: "i:1", pipelineNamespace: NAMESPACES.pipelines })), []);
  });
});

/**
 * What Pod Security Admission's `restricted` level (v1.25+) checks in a pod, for the fields a
 * Kratix pipeline pod has: every container (init ones included) non-root, without privilege
 * escalation, dropping ALL capabilities, with the RuntimeDefault (or Localhost) seccomp
 * profile, not privileged; and only volume types it allows.
 */
function restrictedViolations(pod: { containers: Container[]; initContainers: Container[]; volumes: Record<string, unknown>[] }): string[] {
  const problems: string[] = [];
  for (const c of [...pod.initContainers, ...pod.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot must be true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (sc.privileged === true) problems.push(`${where}: privileged`);
    const caps = sc.capabilities as { drop?: string[]; add?: string[] } | undefined;
    if (!caps?.drop?.includes("ALL")) problems.push(`${where}: capabilities must drop ALL`);
    if ((caps?.add ?? []).some((a) => a !== "NET_BIND_SERVICE")) problems.push(`${where}: adds capabilities`);
    const seccomp = (sc.seccompProfile as { type?: string } | undefined)?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`${where}: seccompProfile must be RuntimeDefault`);
  }
  const allowed = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
  for (const v of pod.volumes)
    for (const k of Object.keys(v).filter((k) => k !== "name"))
      if (!allowed.includes(k)) problems.push(`volume ${String(v.name)}: ${k} is not allowed`);
  return problems;
}

describe("the pipeline pod under Pod Security `restricted`", () => {
  // Kratix 224e148's own containers in every pipeline pod (api/v1alpha1/pipeline_types.go kratixSecurityContext).
  const kratixSecurityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
    privileged: false,
  };
  // Its volumes (pipeline_factory.go defaultPipelineVolumes, defaultVolumes): emptyDirs and a ConfigMap.
  const volumes = [
    { name: "shared-input", emptyDir: {} },
    { name: "shared-output", emptyDir: {} },
    { name: "shared-metadata", emptyDir: {} },
    { name: "promise-scheduling", configMap: { name: "destination-selectors-aws-dynamodb-kratix" } },
  ];
  for (const p of pipelines(workflows())) {
    it(`${p.metadata.name}: admitted (our container as the Promise sets it, Kratix's as 224e148 sets them)`, () => {
      const pod = {
        initContainers: [{ name: "reader", securityContext: kratixSecurityContext }, ...p.spec.containers],
        containers: [{ name: "status-writer", securityContext: kratixSecurityContext }],
        volumes,
      };
      assert.deepEqual(restrictedViolations(pod), []);
      // And the check bites: without our seccomp profile, the pod would be refused.
      const { seccompProfile: _s, ...without } = p.spec.containers[0]!.securityContext!;
      assert.deepEqual(restrictedViolations({ ...pod, initContainers: [{ name: "x", securityContext: without }] }), [
        "container x: seccompProfile must be RuntimeDefault",
      ]);
    });
  }
  it("every pipeline container has CPU and memory requests and limits, and a read-only root filesystem", () => {
    for (const p of pipelines(workflows()))
      for (const c of p.spec.containers) {
        assert.deepEqual(c.resources, PIPELINE_RESOURCES, p.metadata.name);
        for (const kind of ["requests", "limits"] as const) assert.deepEqual(Object.keys(c.resources![kind]!).sort(), ["cpu", "memory"]);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      }
  });
  it("the Promise with them is valid against Kratix's CRD", () => {
    assert.deepEqual(validateAgainstUpstream(renderPromise({ pipelineImage: "i:1" })), []);
  });
});

describe("the platform's allowed regions in the Promise (decision 106)", () => {
  const promise = renderPromise({
    pipelineImage: "i:1",
    defaults: { defaultRegion: "us-west-2", allowedRegions: ["us-west-2", "us-east-1"] },
  });
  it("the API's CRD refuses any other region (the API server names spec.region and the allowed values)", () => {
    const spec = (
      promise.spec.api.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec as { properties: Record<string, { enum?: unknown }> }
    ).properties;
    assert.deepEqual(spec.region!.enum, ["us-west-2", "us-east-1"]);
    assert.equal(
      (
        renderPromise({ pipelineImage: "i:1" }).spec.api.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec as {
          properties: Record<string, { enum?: unknown }>;
        }
      ).properties.region!.enum,
      undefined,
      "no list, no enum",
    );
  });
  it("every pipeline gets them, as ALLOWED_REGIONS", () => {
    const w = JSON.parse(JSON.stringify(promise.spec.workflows)) as {
      resource: Record<string, { spec: { containers: { env?: { name: string; value: string }[] }[] } }[]>;
    };
    for (const p of Object.values(w.resource).flat())
      for (const c of p.spec.containers) assert.equal(c.env?.find((e) => e.name === "ALLOWED_REGIONS")?.value, "us-west-2,us-east-1");
  });
  it("the Promise with them is valid against Kratix's CRD", () => assert.deepEqual(validateAgainstUpstream(promise as never), []));
});
