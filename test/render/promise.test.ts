/** The Promise's pipelines ask for no more than they use. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { PIPELINES, renderPromise } from "../../core/render/promise.ts";

describe("Promise pipelines' permissions", () => {
  it("the status step may only get ACK Tables (one by name) and list requests (table-name ownership)", () => {
    const promise = renderPromise({ pipelineImage: "i:1" });
    const pipelines = JSON.parse(JSON.stringify(promise.spec.workflows)) as {
      resource: Record<
        string,
        { metadata: { name: string }; spec: { rbac?: { permissions: { resources: string[]; verbs: string[] }[] } } }[]
      >;
    };
    const all = Object.values(pipelines.resource).flat();
    const status = all.find((p) => p.metadata.name === PIPELINES.status)!;
    assert.deepEqual(status.spec.rbac?.permissions, [
      { apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get"] },
      // The table-name ownership check reads every request, in every namespace; nothing else cluster-wide.
      { apiGroups: ["dynamodb.kratix.io"], resources: ["dynamodbrequests"], verbs: ["list"], resourceNamespace: "*" },
      // Adoption approvals are namespace annotations.
      { apiGroups: [""], resources: ["namespaces"], verbs: ["get"], resourceNamespace: "*" },
    ]);
    for (const p of all.filter((x) => x !== status)) assert.equal(p.spec.rbac, undefined, `${p.metadata.name} asks for permissions`);
  });
});
