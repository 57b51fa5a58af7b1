/**
 * The program with long-lived access keys (ACK and the state store in accessKey mode, the
 * dev stack's keyless default turned off): every key stays a Pulumi secret end to end.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "mocha";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { SECRET_SIG, resolve, settle, setupMocks, type Registration } from "../helpers/pulumi-mocks.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { PROJECT } from "../../core/config/platform-config.ts";

let reg: Registration[];
const byType = (t: string) => reg.filter((r) => r.type === t);

before(async () => {
  reg = await setupMocks(PROJECT);
  const stack = parse(readFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  const config = {
    ...stack.config,
    [`${PROJECT}:stateStore`]: { mode: "s3", credentials: { mode: "accessKey" } },
    [`${PROJECT}:ackCredentials`]: { mode: "accessKey" },
  };
  for (const [k, v] of Object.entries(config)) pulumi.runtime.setConfig(k, typeof v === "string" ? v : JSON.stringify(v));
  const program = (await import("../../index.ts")) as unknown as Record<string, pulumi.Output<unknown>>;
  await resolve(program.tableArns!);
  await settle();
});

describe("the program with access keys (accessKey modes)", () => {
  it("makes one IAM user per reader, ACK's, Kratix's (read-write) and Flux's (read-only)", () => {
    assert.equal(byType("aws:iam/user:User").length, 3);
    assert.equal(byType("aws:iam/accessKey:AccessKey").length, 3);
  });
  it("keeps every key secret end to end: the Secrets' data is secret on the wire", () => {
    const secrets = byType("kubernetes:core/v1:Secret");
    assert.deepEqual(secrets.map((s) => (s.inputs.metadata as { name: string }).name).sort(), [
      "ack-dynamodb-user-secrets",
      "flux-state-store-credentials",
      "kratix-state-store-credentials",
    ]);
    for (const s of secrets) assert.ok(s.wire.includes(SECRET_SIG), `${s.name} is not secret`);
  });
  it("points Kratix and Flux at their Secrets", () => {
    const store = byType("kubernetes:platform.kratix.io/v1alpha1:BucketStateStore")[0]!.inputs.spec as Record<string, unknown>;
    assert.equal(store.authMethod, "accessKey");
    assert.deepEqual(store.secretRef, { name: "kratix-state-store-credentials", namespace: "kratix-platform-system" });
    const source = byType("kubernetes:source.toolkit.fluxcd.io/v1:Bucket")[0]!.inputs.spec as Record<string, unknown>;
    assert.deepEqual(source.secretRef, { name: "flux-state-store-credentials" });
    assert.deepEqual(byType("kubernetes:core/v1:ServiceAccountPatch"), []);
  });
});
