/** Adoption of a retained table: the API's field, the Table's ACK annotations, the platform team's approval. */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { ADOPTABLE_TABLES_ANNOTATION, adoptableTables, adoptionRefusal } from "../../core/kratix/adoption.ts";
import { claimOf, tableNameOwner } from "../../core/kratix/table-claims.ts";
import { configureRequest } from "../../core/kratix/steps.ts";
import { validateAgainstUpstream } from "../helpers/crd-validator.ts";
import { DESIGN_USER_DATA, requestObject } from "../fixtures/corpus.ts";

const adopting = { ...DESIGN_USER_DATA, adopt: true };
const approve = (...names: string[]) => ({ [ADOPTABLE_TABLES_ANNOTATION]: names.join(", ") });

describe("adopting a retained table", () => {
  it("renders ACK's adoption annotations (adopt: never create), naming the table as AWS knows it", () => {
    const c = configureRequest(requestObject(adopting as never, "back", "team-a"), { tableNamePrefix: "dev-" });
    assert.ok(c.ok);
    const a = c.table.metadata.annotations;
    assert.equal(a["services.k8s.aws/adoption-policy"], "adopt");
    assert.deepEqual(JSON.parse(a["services.k8s.aws/adoption-fields"]!), { tableName: "dev-user-data" });
    assert.deepEqual(validateAgainstUpstream(c.table as never), []);
    // Without adopt, no adoption annotation at all.
    const plain = configureRequest(requestObject(DESIGN_USER_DATA as never, "new", "team-a"), {});
    assert.ok(plain.ok);
    assert.equal(plain.table.metadata.annotations["services.k8s.aws/adoption-policy"], undefined);
  });
  it("needs the platform team's approval on the namespace, for that table name", () => {
    const plan = { adopt: true, tableName: "dev-user-data", region: "us-west-2" };
    assert.match(
      adoptionRefusal(plan, "team-a", undefined)!,
      /^spec\.adopt: adopting table dev-user-data in us-west-2 needs the platform team's approval: .*dynamodb\.kratix\.io\/adoptable-tables of namespace team-a; checked again when the request changes or is labelled kratix\.io\/manual-reconciliation=true$/,
    );
    assert.ok(adoptionRefusal(plan, "team-a", approve("dev-orders")));
    assert.equal(adoptionRefusal(plan, "team-a", approve("dev-orders", "dev-user-data")), undefined);
    assert.equal(adoptionRefusal({ ...plan, adopt: false }, "team-a", undefined), undefined);
    assert.deepEqual([...adoptableTables({ [ADOPTABLE_TABLES_ANNOTATION]: " a,b  c ,," })], ["a", "b", "c"]);
  });
  it("an approved adopter owns the name against an older request; an unapproved one claims nothing (no squatting)", () => {
    const req = (name: string, ns: string, created: string, spec: object) => ({
      ...requestObject(spec as never, name, ns),
      metadata: { name, namespace: ns, creationTimestamp: created },
    });
    const approved = (ns: string, t: string) => ns === "team-a" && t === "user-data";
    const squatter = claimOf(req("squat", "team-z", "2025-01-01T00:00:00Z", DESIGN_USER_DATA), {}, approved)!;
    const adopter = claimOf(req("back", "team-a", "2026-06-01T00:00:00Z", adopting), {}, approved)!;
    assert.equal(adopter.approvedAdoption, true);
    assert.equal(tableNameOwner(squatter, [adopter]).name, "back");
    assert.equal(claimOf(req("sneaky", "team-z", "2024-01-01T00:00:00Z", adopting), {}, approved), undefined);
  });
});
