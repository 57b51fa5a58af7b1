/** The bundle the image runs (scripts/build-pipeline.ts), not only the source: every step, as a process. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";
import { runPipeline } from "../helpers/pipeline-process.ts";
import { startFakeApiServer, type FakeApiServer } from "../helpers/fake-apiserver.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { BAD, DESIGN_USER_DATA, EVERYTHING, GOOD, requestObject } from "../fixtures/corpus.ts";
import { TABLE_OUTPUT_FILE } from "../../pipeline/main.ts";
import { configureRequest } from "../../core/kratix/steps.ts";
import { ACK_TABLE_FINALIZER } from "../../core/kratix/ack-managed.ts";
import { RELEASE_FIELD_MANAGER, RELEASED_ANNOTATION } from "../../core/kratix/release.ts";

const out = mkdtempSync(join(tmpdir(), "bundle-"));
const main = join(out, "main.mjs");
let api: FakeApiServer;

before(async () => {
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [join(REPO_ROOT, "scripts", "build-pipeline.ts"), out], (err, _o, se) =>
      err ? reject(new Error(se)) : resolve(),
    ),
  );
  api = await startFakeApiServer();
});
after(async () => api.close());

describe("the bundled pipeline", () => {
  it("configure loads the Kubernetes client chunk, decides, and writes a valid ACK Table (validator compiled ahead of time)", async () => {
    const run = await runPipeline(
      "configure",
      requestObject(EVERYTHING as never, "orders", "team-a"),
      { KUBECONFIG: api.kubeconfig },
      main,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(validateAgainstUpstream(run.output[TABLE_OUTPUT_FILE] as Record<string, unknown>), []);
  });
  it("configure refuses a bad request with the field path, in the log and the request's status", async () => {
    const bad = BAD.find((c) => c.name === "key attribute not defined")!;
    const run = await runPipeline("configure", requestObject(bad.spec), { KUBECONFIG: api.kubeconfig }, main);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.stderr.includes(`${bad.path}: `), run.stderr);
    assert.ok(String((run.metadata["status.yaml"] as Record<string, unknown>).message).includes(`${bad.path}: `));
    assert.deepEqual(run.output, {});
  });
  it("the precompiled validator reads the tag pattern as Unicode (\\p{L}), as the API server does", async () => {
    const good = GOOD.find((c) => c.name.startsWith("tags in any script"))!;
    const ok = await runPipeline("configure", requestObject(good.spec, "tags", "team-a"), { KUBECONFIG: api.kubeconfig }, main);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = BAD.find((c) => c.name === "tag value with a character AWS refuses")!;
    const run = await runPipeline("configure", requestObject(bad.spec), { KUBECONFIG: api.kubeconfig }, main);
    assert.equal((run.metadata["status.yaml"] as Record<string, unknown>).reason, "InvalidRequest");
    assert.ok(run.stderr.includes(`${bad.path}: `), run.stderr);
  });
  it("status loads the Kubernetes client chunk and reads the Table", async () => {
    api.tables.set("default/t", {
      status: { tableStatus: "ACTIVE", ackResourceMetadata: { arn: "arn:aws:dynamodb:us-west-2:1:table/user-data" } },
    });
    const run = await runPipeline("status", requestObject(DESIGN_USER_DATA as never, "t"), { KUBECONFIG: api.kubeconfig }, main);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.output, {});
    assert.equal((run.metadata["status.yaml"] as Record<string, unknown>).tableArn, "arn:aws:dynamodb:us-west-2:1:table/user-data");
  });
  it("configure asks Kratix to retry when the API server keeps failing (the error crosses the chunks as itself)", async () => {
    api.fail(/dynamodbrequests/, Infinity, 503);
    const run = await runPipeline("configure", requestObject(DESIGN_USER_DATA as never, "t"), { KUBECONFIG: api.kubeconfig }, main);
    api.reset();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.output, {});
    assert.equal((run.metadata["status.yaml"] as Record<string, unknown>).reason, "ClusterReadFailed");
    assert.ok(run.metadata["workflow-control.yaml"]);
  });
  it("delete loads the Kubernetes client chunk, marks its request's Table released (a merge patch), and reports what happens to the table", async () => {
    const request = requestObject(DESIGN_USER_DATA as never, "gone", "team-a");
    const deleted = { ...request, metadata: { ...request.metadata, uid: "uid-gone" } };
    const rendered = configureRequest(deleted, {});
    assert.ok(rendered.ok);
    api.tables.set("team-a/gone", { ...rendered.table, metadata: { ...rendered.table.metadata, finalizers: [ACK_TABLE_FINALIZER] } });
    const run = await runPipeline("delete", deleted, { KUBECONFIG: api.kubeconfig }, main);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      api.patches.map((p) => [p.contentType, p.fieldManager]),
      [["application/merge-patch+json", RELEASE_FIELD_MANAGER]],
    );
    assert.equal((api.tables.get("team-a/gone") as typeof rendered.table).metadata.annotations[RELEASED_ANNOTATION], "uid-gone");
    assert.match(run.stderr, /deletionPolicy Retain/);
    api.reset();
  });
});
