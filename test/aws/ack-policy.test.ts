/** The ACK controller's IAM policy: only what the Table reconciler calls, on the platform's tables. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { ACK_TABLE_ACTIONS, ackDynamoDBPolicy } from "../../core/aws/ack-policy.ts";

describe("ACK controller IAM policy", () => {
  const policy = ackDynamoDBPolicy({ partition: "aws", accountId: "123456789012", regions: ["us-west-2"], tableNamePrefix: "team-" });
  it("grants no wildcard action or resource", () => {
    for (const st of policy.Statement) {
      assert.ok(!st.Action.some((a) => a === "*" || a.endsWith(":*")), st.Sid);
      assert.ok(!st.Resource.includes("*"), st.Sid);
    }
  });
  it("reads resource policies (ACK does on every reconcile) but cannot write them (the API never sets one)", () => {
    assert.ok(ACK_TABLE_ACTIONS.includes("dynamodb:GetResourcePolicy"));
    const actions = policy.Statement.flatMap((st) => st.Action);
    assert.deepEqual(
      actions.filter((a) => /(Put|Delete)ResourcePolicy$/.test(a)),
      [],
    );
  });
  it("scopes tables to the account, the regions and the name prefix", () => {
    const resources = policy.Statement.flatMap((st) => st.Resource).filter((r) => r.includes(":table/"));
    assert.ok(resources.length > 0);
    for (const r of resources) assert.match(r, /^arn:aws:dynamodb:us-west-2:123456789012:table\/team-\*/);
  });
});
