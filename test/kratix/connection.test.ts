import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { connectionConfigMap, connectionConfigMapName, connectionWrite } from "../../core/kratix/connection.ts";

const owner = { namespace: "team-a", name: "orders", uid: "u-1", promiseName: "aws-dynamodb-kratix" };
const details = { tableName: "p-orders", tableArn: "arn:aws:dynamodb:us-west-2:1:table/p-orders", region: "us-west-2" };

describe("connection ConfigMap", () => {
  it("is named <request>-connection; a name too long for the suffix keeps a prefix and a hash, within 253 characters", () => {
    assert.equal(connectionConfigMapName("orders"), "orders-connection");
    const long = "a".repeat(250);
    const name = connectionConfigMapName(long);
    assert.ok(name.length <= 253, String(name.length));
    assert.match(name, /^a+-[0-9a-f]{10}-connection$/);
    assert.notEqual(connectionConfigMapName(`${long}b`), connectionConfigMapName(`${long}c`), "two long names, two ConfigMaps");
  });
  it("is created when there is none, replaced on the version read when its details changed, left when they did not", () => {
    const desired = connectionConfigMap(owner, details);
    assert.equal(connectionWrite(undefined, desired).write, "create");
    const live = { metadata: { resourceVersion: "4", ownerReferences: [{ kind: "DynamoDBRequest", uid: "u-1" }] }, data: desired.data };
    assert.deepEqual(connectionWrite(live, desired), { write: "none" });
    const stale = { ...live, data: { ...desired.data, TABLE_ARN: "old" } };
    const replace = connectionWrite(stale, desired);
    assert.equal(replace.write, "replace");
    assert.equal(replace.write === "replace" && replace.configMap.metadata.resourceVersion, "4");
  });
  it("is not the request's when another object owns it, or nothing does (a team's own, or a request of that name made again)", () => {
    const desired = connectionConfigMap(owner, details);
    for (const ownerReferences of [undefined, [], [{ kind: "DynamoDBRequest", uid: "u-0" }], [{ kind: "Deployment", uid: "u-1" }]])
      assert.equal(connectionWrite({ metadata: { ...(ownerReferences ? { ownerReferences } : {}) }, data: {} }, desired).write, "foreign");
  });
});
