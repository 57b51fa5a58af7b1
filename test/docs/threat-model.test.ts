/**
 * docs/threat-model.md: every attack has a control and the test that proves it, and every test
 * it names exists (a renamed or deleted test fails here, not silently in the document).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";

interface Row {
  attack: string;
  control: string;
  test: string;
}

function rows(): Row[] {
  const lines = readFileSync(join(REPO_ROOT, "docs", "threat-model.md"), "utf8").split("\n");
  const cellsOf = (line: string) =>
    line
      .trim()
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
  const header = lines.findIndex((l) => l.trim().startsWith("|") && cellsOf(l).join(",") === "attack,control,test");
  assert.ok(header >= 0, "docs/threat-model.md has no | attack | control | test | table");
  const out: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const cells = cellsOf(line);
    assert.equal(cells.length, 3, `not three cells: ${line}`);
    out.push({ attack: cells[0]!, control: cells[1]!, test: cells[2]! });
  }
  return out;
}

/** A test cell: `file`: "title or case rule"[, "another"]. */
function citation(cell: string): { file: string; titles: string[] } | undefined {
  const m = /^`([^`]+)`: ("[^"]+"(?:, "[^"]+")*)$/.exec(cell);
  return m ? { file: m[1]!, titles: [...m[2]!.matchAll(/"([^"]+)"/g)].map((t) => t[1]!) } : undefined;
}

/** The admission cases a cases file exports (each array of objects with an `expect`), by name and by rule. */
async function admissionCases(path: string): Promise<Set<string>> {
  const mod = (await import(path)) as Record<string, unknown>;
  const cases = Object.values(mod)
    .filter(Array.isArray)
    .flat()
    .filter((c): c is { name: string; expect: string } => typeof c === "object" && c !== null && "expect" in c && "name" in c);
  return new Set(cases.flatMap((c) => [c.name, c.expect]));
}

describe("docs/threat-model.md", () => {
  const table = rows();

  it("has a row per attack, each with a control, and a test or the word open", () => {
    assert.ok(table.length >= 20, `only ${table.length} rows`);
    for (const r of table) {
      assert.ok(r.attack && r.control, `an empty cell: ${JSON.stringify(r)}`);
      if (r.test === "—") assert.match(r.control, /\*\*open\*\*/, `${r.attack}: no test, and not marked open`);
      else assert.ok(citation(r.test), `${r.attack}: the test cell is not \`file\`: "title": ${r.test}`);
    }
  });

  it("every test it names exists, under that title (or, in the admission cases, that case or rule)", async () => {
    for (const r of table) {
      const cited = citation(r.test);
      if (!cited) continue;
      const path = join(REPO_ROOT, cited.file);
      assert.ok(existsSync(path), `${r.attack}: ${cited.file} does not exist`);
      // The admission cases are data: a case is cited by its name, a rule by the cases that expect it.
      const known = cited.file.endsWith("cases.ts") ? await admissionCases(path) : undefined;
      const text = readFileSync(path, "utf8");
      for (const title of cited.titles)
        assert.ok(
          known ? known.has(title) : text.includes(title),
          `${r.attack}: ${cited.file} has no case or test ${JSON.stringify(title)}`,
        );
    }
  });
});
