/** The table-name ownership rule (core/kratix/table-claims.ts, core/kratix/ack-managed.ts), as pure functions. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import {
  claimOf,
  competingRequests,
  ownershipReads,
  ownershipRefusal,
  tableNameOwner,
  tableNameTakenMessage,
  type LiveTables,
  type TableClaim,
} from "../../core/kratix/table-claims.ts";
import { ACK_TABLE_FINALIZER, ackManages, arnNamesTable, holdsTable, type LiveTable } from "../../core/kratix/ack-managed.ts";
import type { DynamoDBRequest } from "../../core/api/types.ts";
import { DESIGN_USER_DATA, requestObject } from "../fixtures/corpus.ts";

const arn = "arn:aws:dynamodb:us-west-2:111122223333:table/user-data";
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
/** A Table as ACK leaves it: managed (its finalizer) or, without, refused ("Resource already exists") with the existing table's ARN. */
const table = (managed: boolean, tableArn = arn, extra: Partial<LiveTable["metadata"]> = {}): LiveTable => ({
  metadata: { ...(managed ? { finalizers: [ACK_TABLE_FINALIZER] } : {}), ...extra },
  status: {
    ackResourceMetadata: { arn: tableArn },
    conditions: managed ? [] : [{ type: "ACK.Terminal", status: "True", message: "Resource already exists" }],
  },
});
const claim = (r: unknown, defaults = {}, tables: LiveTables = new Map()) => claimOf(r, defaults, () => false, tables)!;
const ref = (c: TableClaim) => `${c.namespace}/${c.name}`;

describe("what ACK manages (ACK v1.9.2: its finalizer, not an ARN)", () => {
  it("a Table holds its table only with ACK's finalizer, not being deleted, and the ARN of that table in that region", () => {
    assert.equal(holdsTable(table(true), "user-data", "us-west-2"), true);
    assert.equal(holdsTable(table(false), "user-data", "us-west-2"), false, "a squatter's Table carries the ARN too");
    assert.equal(holdsTable(table(true, arn, { deletionTimestamp: "2026-01-01T00:00:00Z" }), "user-data", "us-west-2"), false);
    assert.equal(holdsTable(table(true), "user-data", "eu-west-1"), false);
    assert.equal(holdsTable(table(true), "user-data-2", "us-west-2"), false);
    assert.equal(holdsTable(undefined, "user-data", "us-west-2"), false);
    assert.equal(ackManages({ metadata: { finalizers: ["something.else/x"] } }), false);
  });
  it("reads an ARN by its parts, not by its ending", () => {
    assert.equal(arnNamesTable("arn:aws-cn:dynamodb:cn-north-1:1:table/t", "t", "cn-north-1"), true);
    assert.equal(arnNamesTable("arn:aws:dynamodb:us-west-2:1:table/other-user-data", "user-data", "us-west-2"), false);
    assert.equal(arnNamesTable("arn:aws:dynamodb:us-west-2:1:table/t/stream/2026", "t", "us-west-2"), false);
    assert.equal(arnNamesTable("arn:aws:s3:us-west-2:1:table/t", "t", "us-west-2"), false);
    assert.equal(arnNamesTable(undefined, "t", "us-west-2"), false);
  });
});

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
  it("the request whose Table ACK manages keeps the name against an older one", () => {
    const tables = new Map([["team-a/new", table(true)]]);
    const holder = claim(request("new", "team-a", "2026-06-01T00:00:00Z"), {}, tables);
    const older = claim(request("old", "team-b", "2025-01-01T00:00:00Z"), {}, tables);
    assert.equal(holder.holds, true);
    assert.equal(ref(tableNameOwner(older, [holder, older])), "team-a/new");
    assert.equal(ref(tableNameOwner(holder, [holder, older])), "team-a/new");
  });
  it("a squatter whose status and Table carry the owner's ARN, but whose Table ACK refused, holds nothing", () => {
    // ACK copies an existing table's ARN into a Table it refuses to manage; the status step once copied it on into the request.
    const tables = new Map([["team-z/squat", table(false)]]);
    const squatter = claim(request("squat", "team-z", "2025-01-01T00:00:00Z", { status: { tableArn: arn } }), {}, tables);
    assert.equal(squatter.holds, false);
    const adopter = claimOf(request("back", "team-a", "2026-06-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, adopt: true }), {}, () => true)!;
    assert.equal(ref(tableNameOwner(squatter, [squatter, adopter])), "team-a/back", "the approved adoption is not blocked");
  });
  it("two requests made in the same second: exactly one owner, and both sides agree (namespace/name, byte order)", () => {
    const t = "2026-01-01T00:00:00Z";
    const [x, y] = [claim(request("x", "team-b", t)), claim(request("y", "team-a", t))];
    assert.equal(ref(tableNameOwner(x, [y])), "team-a/y");
    assert.equal(ref(tableNameOwner(y, [x])), "team-a/y");
    // Byte order, whatever the process's locale ("-" is 0x2d, before letters; a collation may ignore it).
    const [plain, dashed] = [claim(request("ab", "team-a", t)), claim(request("a-b", "team-a", t))];
    assert.equal(ref(tableNameOwner(plain, [dashed])), "team-a/a-b");
    assert.equal(ref(tableNameOwner(dashed, [plain])), "team-a/a-b");
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
    const gone = request("gone", "team-a", "2025-01-01T00:00:00Z", {
      metadata: { name: "gone", namespace: "team-a", deletionTimestamp: "2026-01-01T00:00:00Z" },
    });
    assert.equal(claimOf(gone, {}), undefined);
    assert.equal(claimOf(request("bad", "team-a", "2025-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, name: "a b" }), {}), undefined);
  });
  it("the refusal names the table, the region, the owner and the field to change", () => {
    const a = claim(request("a", "team-a", "2026-01-01T00:00:00Z"));
    const b = claim(request("b", "team-b", "2026-03-01T00:00:00Z"));
    assert.match(tableNameTakenMessage(b, a), /^table name user-data in us-west-2 belongs to DynamoDBRequest team-a\/a: .*spec\.name$/);
  });
  it("ownershipRefusal: none for the owner; TableNameTaken (generation, no retry) for the second; AdoptionNotApproved first", () => {
    const plan = { adopt: false, tableName: "user-data", region: "us-west-2" };
    const first = request("a", "team-a", "2026-01-01T00:00:00Z");
    const second = {
      ...request("b", "team-b", "2026-03-01T00:00:00Z"),
      metadata: { name: "b", namespace: "team-b", creationTimestamp: "2026-03-01T00:00:00Z", generation: 7 },
    };
    const now = new Date("2026-11-25T00:00:00Z");
    assert.equal(ownershipRefusal(first, plan, [second], new Map(), new Map(), {}, now), undefined);
    const taken = ownershipRefusal(second, plan, [first], new Map(), new Map(), {}, now)!;
    assert.equal(taken.status.reason, "TableNameTaken");
    assert.equal(taken.status.observedGeneration, 7);
    // A retry would keep render-table's Work as it was: the refusal must be published instead.
    assert.equal(taken.retryAfter, undefined);
    // The second holds the table (ACK manages its Table): it keeps the name.
    assert.equal(ownershipRefusal(second, plan, [first], new Map(), new Map([["team-b/b", table(true)]]), {}, now), undefined);
    const adopting = request("c", "team-c", "2026-05-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, adopt: true });
    const refused = ownershipRefusal(adopting, { ...plan, adopt: true }, [first], new Map([["team-c", {}]]), new Map(), {}, now)!;
    assert.equal(refused.status.reason, "AdoptionNotApproved");
  });
});

describe("what render-table reads for the rule", () => {
  const mine = request("mine", "team-a", "2026-01-01T00:00:00Z") as unknown as DynamoDBRequest;
  const plan = { tableName: "user-data", region: "us-west-2" };
  it("keeps, of each page, only the requests competing for the same table name", () => {
    const page = [
      mine,
      request("rival", "team-b", "2026-01-01T00:00:00Z"),
      request("adopter", "team-c", "2026-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, adopt: true }),
      request("other-name", "team-b", "2026-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, name: "orders" }),
      request("other-region", "team-b", "2026-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, region: "eu-west-1" }),
      request("invalid", "team-b", "2026-01-01T00:00:00Z", {}, { ...DESIGN_USER_DATA, billingMode: "PROVISIONED" }),
      { ...request("leaving", "team-b", "x"), metadata: { name: "leaving", namespace: "team-b", deletionTimestamp: "x" } },
      "not an object",
    ];
    const rivals = competingRequests(mine, plan, page, {});
    assert.deepEqual(
      rivals.map((r) => (r as DynamoDBRequest).metadata.name),
      ["rival", "adopter"],
    );
    // Then the approvals of adopting namespaces, and every competitor's Table.
    assert.deepEqual(ownershipReads(mine, rivals), {
      namespaces: ["team-c"],
      tables: [
        { namespace: "team-a", name: "mine" },
        { namespace: "team-b", name: "rival" },
        { namespace: "team-c", name: "adopter" },
      ],
    });
  });
});
