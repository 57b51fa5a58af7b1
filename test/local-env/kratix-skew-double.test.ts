/** The Kratix skew double's decisions, on their own (the e2e runs it against real Kratix). */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { MANUAL_RECONCILIATION_LABEL, TERMINAL_DELAY_MS, declaredPermissions, rerunDue } from "../doubles/kratix-skew-double.ts";
import { renderPromise } from "../../core/render/promise.ts";

const at = Date.parse("2026-11-25T12:00:00Z");
const request = (
  o: {
    generation?: number;
    readyGeneration?: number;
    completed?: string;
    labels?: Record<string, string>;
    reason?: string;
    observedGeneration?: number;
  } = {},
) => ({
  metadata: { name: "orders", namespace: "default", uid: "u1", generation: o.generation ?? 2, ...(o.labels ? { labels: o.labels } : {}) },
  status: {
    ...(o.readyGeneration !== undefined ? { readyGeneration: o.readyGeneration } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.observedGeneration !== undefined ? { observedGeneration: o.observedGeneration } : {}),
    conditions: o.completed ? [{ type: "PipelineCompleted", status: "True", lastTransitionTime: o.completed }] : [],
  },
});

describe("kratix-skew-double", () => {
  it("reruns a completed workflow whose status is not ready for the current generation, after its backoff", () => {
    const done = new Date(at - 3_000).toISOString();
    assert.equal(rerunDue(request({ readyGeneration: 1, completed: done }), 0, at), true); // 2 s backoff passed
    assert.equal(rerunDue(request({ readyGeneration: 1, completed: done }), 1, at), false); // 4 s not yet
    assert.equal(rerunDue(request({ readyGeneration: 1, completed: new Date(at - 10_000).toISOString() }), 9, at), true); // capped at 10 s
  });
  it("waits as long as the status step asks (5 min) when ACK has given up on the Table", () => {
    assert.equal(TERMINAL_DELAY_MS, 5 * 60_000);
    const done = new Date(at - 60_000).toISOString();
    assert.equal(rerunDue(request({ readyGeneration: 1, completed: done }), 9, at, TERMINAL_DELAY_MS), false);
    assert.equal(
      rerunDue(request({ readyGeneration: 1, completed: new Date(at - 301_000).toISOString() }), 9, at, TERMINAL_DELAY_MS),
      true,
    );
  });
  it("leaves alone what is ready, still running or failed, or already marked", () => {
    const done = new Date(at - 60_000).toISOString();
    assert.equal(rerunDue(request({ readyGeneration: 2, completed: done }), 0, at), false);
    assert.equal(rerunDue(request({ readyGeneration: 1 }), 0, at), false);
    assert.equal(rerunDue(request({ completed: done, labels: { [MANUAL_RECONCILIATION_LABEL]: "true" } }), 0, at), false);
  });
  it("leaves an invalid generation alone (the step asks for no retry), reruns it once edited", () => {
    const done = new Date(at - 60_000).toISOString();
    assert.equal(rerunDue(request({ completed: done, reason: "InvalidRequest", observedGeneration: 2 }), 0, at), false);
    assert.equal(rerunDue(request({ generation: 3, completed: done, reason: "InvalidRequest", observedGeneration: 2 }), 0, at), true);
  });
  it("waits 5 min before asking again for a table name another request owns", () => {
    const taken = (ago: number) =>
      request({ completed: new Date(at - ago).toISOString(), reason: "TableNameTaken", observedGeneration: 2 });
    assert.equal(rerunDue(taken(60_000), 9, at), false);
    assert.equal(rerunDue(taken(301_000), 9, at), true);
  });
  it("grants exactly what the Promise's resource pipelines declare", () => {
    const promise = renderPromise({ pipelineImage: "example/pipeline:1" });
    assert.deepEqual(declaredPermissions(promise as never), {
      namespaced: [{ apiGroups: ["dynamodb.services.k8s.aws"], resources: ["tables"], verbs: ["get"] }],
      clusterWide: [
        { apiGroups: ["dynamodb.kratix.io"], resources: ["dynamodbrequests"], verbs: ["list"] },
        { apiGroups: [""], resources: ["namespaces"], verbs: ["get"] },
      ],
    });
  });
});
