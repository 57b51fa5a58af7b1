/**
 * A node:test reporter that prints one closing line, "N passed, N failed", from
 * the runner's own overall summary, so CI reads the result without parsing the
 * spec reporter's output.
 */
import type { TestEvent } from "node:test/reporters";

export default async function* summary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== "test:summary" || event.data.file !== undefined) continue;
    // @types/node 24 omits `failed`, which the runner does report.
    const { passed, failed, skipped, todo, cancelled } = event.data.counts as typeof event.data.counts & { failed: number };
    const extra = skipped + todo > 0 ? `, ${skipped + todo} skipped` : "";
    yield `\n${passed} passed, ${failed + cancelled} failed${extra}\n`;
  }
}
