/**
 * The validator and the CRD agree: every good request passes the generated CRD
 * (structural schema + CEL, evaluated as the API server would), every bad one
 * fails it at the same field (or a parent of it, since CEL rules report where
 * they are attached), and every CEL rule in the CRD is broken by some case.
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { dynamoDBRequestCRD } from "../../core/api/schema.ts";
import { validateSpec } from "../../core/api/validate.ts";
import { CROSS_FIELD_RULES } from "../../core/api/cross-field-rules.ts";
import { CrdValidator, celErrors, type Crd } from "../helpers/crd-validator.ts";
import { BAD, DESIGN_USER_DATA, GOOD, requestObject } from "../fixtures/corpus.ts";

const crd = dynamoDBRequestCRD() as unknown as Crd;
const server = new CrdValidator(crd);

describe("generated CRD agrees with the validator", () => {
  for (const c of GOOD) {
    it(`CRD accepts: ${c.name}`, () => assert.deepEqual(server.validate(requestObject(c.spec)), []));
  }
  for (const c of BAD) {
    it(`CRD rejects at the validator's field: ${c.name}`, () => {
      const errors = server.validate(requestObject(c.spec));
      assert.ok(errors.length > 0, "the CRD accepted a request the validator rejects");
      const ours = validateSpec(c.spec)[0]!.path;
      const theirs = errors[0]!.path;
      assert.ok(
        ours === theirs || ours.startsWith(`${theirs}.`) || ours.startsWith(`${theirs}[`),
        `validator names ${ours}, CRD names ${theirs}`,
      );
    });
  }

  it("every cross-field rule's CEL is broken by at least one bad case, and only where its TypeScript twin is", () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const brokenMessages = new Set(BAD.flatMap((c) => celErrors(schema, requestObject(c.spec), "").map((e) => e.message)));
    const missing = CROSS_FIELD_RULES.filter((r) => !brokenMessages.has(r.message)).map((r) => r.id);
    assert.deepEqual(missing, [], "rules no bad case exercises");
  });

  it("refuses ACK's tag keys (a user's tag would replace ACK's own) in CEL and TypeScript alike, in any letter case", () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const rule = CROSS_FIELD_RULES.find((r) => r.id === "tag-key-reserved")!;
    const withTag = (key: string) => ({ ...DESIGN_USER_DATA, tags: { [key]: "v" } }) as unknown as Record<string, unknown>;
    for (const key of [
      "services.k8s.aws/namespace",
      "services.k8s.aws/controller-version",
      "Services.K8s.AWS/anything",
      "app.kubernetes.io/managed-by",
    ]) {
      assert.ok(
        celErrors(schema, requestObject(withTag(key)), "").some((e) => e.message === rule.message),
        `CEL accepts ${key}`,
      );
      assert.ok(twinFails(rule.id, withTag(key)), `TypeScript accepts ${key}`);
      assert.deepEqual(
        validateSpec(withTag(key)).map((e) => e.path),
        [`spec.tags[${JSON.stringify(key)}]`],
      );
    }
    // Neighbours that are not ACK's stay open.
    for (const key of ["services.k8s.aws", "k8s.aws/namespace", "app.kubernetes.io/name", "my.services.k8s.aws/x"]) {
      assert.ok(!celErrors(schema, requestObject(withTag(key)), "").some((e) => e.message === rule.message), `CEL refuses ${key}`);
      assert.deepEqual(validateSpec(withTag(key)), [], key);
    }
  });

  it("gives each rule its own message, so a server error points at one rule", () => {
    assert.equal(new Set(CROSS_FIELD_RULES.map((r) => r.message)).size, CROSS_FIELD_RULES.length);
  });

  it("CEL and TypeScript give the same verdict per rule on every well-shaped case", () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    let compared = 0;
    for (const c of [...GOOD, ...BAD]) {
      const wellShaped = server.validate(requestObject(c.spec)).every((e) => e.source === "cel");
      if (!wellShaped) continue; // cross-field rules assume a well-shaped spec, on both sides
      const cel = new Set(celErrors(schema, requestObject(c.spec), "").map((e) => e.message));
      for (const rule of CROSS_FIELD_RULES) {
        assert.equal(cel.has(rule.message), twinFails(rule.id, c.spec), `${c.name}: rule ${rule.id}`);
        compared++;
      }
    }
    assert.ok(compared > CROSS_FIELD_RULES.length * 20, `only ${compared} comparisons`);
  });
});

/** Whether the TypeScript twin of one rule fails somewhere in the spec. */
function twinFails(id: string, spec: Record<string, unknown>): boolean {
  const rule = CROSS_FIELD_RULES.find((r) => r.id === id)!;
  const at = (value: unknown, path: readonly string[], p: string): { v: unknown; p: string }[] => {
    if (path.length === 0) return value === undefined ? [] : [{ v: value, p }];
    const [step, ...rest] = path;
    if (step === "*") return Array.isArray(value) ? value.flatMap((x, i) => at(x, rest, `${p}[${i}]`)) : [];
    return at((value as Record<string, unknown>)?.[step!], rest, `${p}.${step!}`);
  };
  return rule.at.some((loc) => at(spec, loc, "spec").some(({ v, p }) => rule.check(v as never, p).length > 0));
}
