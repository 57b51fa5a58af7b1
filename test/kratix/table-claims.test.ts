/** The table-name ownership rule (core/kratix/table-claims.ts), as pure functions. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import {
  adoptingNamespaces,
  claimOf,
  ownershipRefusal,
  tableNameOwner,
  tableNameTakenMessage,
  type TableClaim,
} from "../../core/kratix/table-claims.ts";
import { DESIGN_USER_DATA, requestObject } from "../fixtures/corpus.ts";

const request = (
  name: string,
  namespace: string,
  created: unknown,
  extra: Record<string, unknown> = {},
  spec: object = DESIGN_USER_DATA,
) => {
  const r = requestObject(spec as never, name, namespace);
  return { ...r, metadata: { ...r.metadata, creationTimestamp: created }, ...extra };
};
const claim = (r: unknown, defaults = {}) => claimOf(r, defaults)!;
const ref = (c: TableClaim) => `${c.namespace}/${c.name}`;

describe("table-name ownership", () => {
  it("the oldest request owns a name, from either side", () => {
    const a = claim(request("a", "team-a", "2026-01-01T00:00:00Z"));
    const b = claim(request("b", "team-b", "2026-03-01T00:00:00Z"));
    assert.equal(ref(tableNameOwner(a, [a, b])), "team-a/a");
    assert.equal(ref(tableNameOwner(b, [a, b])), "team-a/a");
  });
  it("reads creationTimestamp as a string (the API server) or a Date (js-yaml on Kratix's input file)", () => {
    const a = claim(request("a", "team-a", new Date("2026-05-01T00:00:00Z")));
    const b = claim(request("b", "team-b", "2026-03-01T00:00:00Z"));
    assert.equal(ref(tableNameOwner(a, [b])), "team-b/b");
  });
  it("the request holding the table (its ARN in status) keeps it against an older one", () => {
    const arn = "arn:aws:dynamodb:us-west-2:111122223333:table/user-data";
    const holder = claim(request("new", "team-a", "2026-06-01T00:00:00Z", { status: { tableArn: arn } }));
    const older = claim(request("old", "team-b", "2025-01-01T00:00:00Z"));
    assert.equal(holder.holds, true);
    assert.equal(ref(tableNameOwner(older, [holder, older])), "team-a/new");
    // An ARN of another region does not count.
    const elsewhere = claim(
      request("x", "team-c", "2026-06-01T00:00:00Z", { status: { tableArn: arn.replace("us-west-2", "eu-west-1") } }),
    );
    assert.equal(elsewhere.holds, false);
  });
  it("ties break on namespace/name, the same for every run", () => {
    const t = "2026-01-01T00:00:00Z";
    const [x, y] = [claim(request("x", "team-b", t)), claim(request("y", "team-a", t))];
    assert.equal(ref(tableNameOwner(x, [y])), "team-a/y");
    assert.equal(ref(tableNameOwner(y, [x])), "team-a/y");
  });
  it("other names, other regions, the platform's prefix", () => {
    const a = claim(request("a", "team-a", "2026-01-01T00:00:00Z"));
    const otherRegion = claim(request("b", "team-b", "2025-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, region: "eu-west-1" }));
    const otherName = claim(request("c", "team-c", "2025-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, name: "user-data-2" }));
    assert.equal(ref(tableNameOwner(a, [otherRegion, otherName])), "team-a/a");
    // The name that counts is the one DynamoDB sees: with the platform's prefix.
    assert.equal(claim(request("a", "team-a", "2026-01-01T00:00:00Z"), { tableNamePrefix: "dev-" }).tableName, "dev-user-data");
  });
  it("requests being deleted and invalid requests claim nothing", () => {
    assert.equal(
      claimOf(
        request("gone", "team-a", "2025-01-01T00:00:00Z", {
          metadata: { name: "gone", namespace: "team-a", deletionTimestamp: "2026-01-01T00:00:00Z" },
        }),
        {},
      ),
      undefined,
    );
    assert.equal(claimOf(request("bad", "team-a", "2025-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, name: "a b" }), {}), undefined);
  });
  it("the refusal names the table, the region, the owner and the field to change", () => {
    const a = claim(request("a", "team-a", "2026-01-01T00:00:00Z"));
    const b = claim(request("b", "team-b", "2026-03-01T00:00:00Z"));
    assert.match(tableNameTakenMessage(b, a), /^table name user-data in us-west-2 belongs to DynamoDBRequest team-a\/a: .*spec\.name$/);
  });
  it("ownershipRefusal: none for the owner; TableNameTaken (5m, generation) for the second; AdoptionNotApproved first", () => {
    const plan = { adopt: false, tableName: "user-data", region: "us-west-2" };
    const first = request("a", "team-a", "2026-01-01T00:00:00Z");
    const second = {
      ...request("b", "team-b", "2026-03-01T00:00:00Z"),
      metadata: { name: "b", namespace: "team-b", creationTimestamp: "2026-03-01T00:00:00Z", generation: 7 },
    };
    const now = new Date("2026-11-25T00:00:00Z");
    assert.equal(ownershipRefusal(first, plan, [first, second], new Map(), {}, now), undefined);
    const taken = ownershipRefusal(second, plan, [first, second], new Map(), {}, now)!;
    assert.equal(taken.status.reason, "TableNameTaken");
    assert.equal(taken.status.observedGeneration, 7);
    assert.equal(taken.retryAfter, "5m");
    const adopting = request("c", "team-c", "2026-05-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, adopt: true });
    assert.deepEqual(adoptingNamespaces([first, adopting]), ["team-c"]);
    const refused = ownershipRefusal(adopting, { ...plan, adopt: true }, [first], new Map([["team-c", {}]]), {}, now)!;
    assert.equal(refused.status.reason, "AdoptionNotApproved");
  });
});
