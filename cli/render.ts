/**
 * Writes every Kubernetes object of a stack's environment as YAML, without a
 * cluster or AWS: `npm run render -- [--stack dev] [--out out/render]`.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { renderEnvironment } from "../core/render/environment.ts";
import { loadStackConfig } from "./stack-config.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

export async function render(stack: string, out: string): Promise<string[]> {
  const files = renderEnvironment(loadStackConfig(root, stack));
  await rm(out, { recursive: true, force: true });
  for (const f of files) {
    const path = join(out, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.text ?? f.objects!.map((o) => stringify(o, { lineWidth: 0 })).join("---\n"));
  }
  return files.map((f) => f.path);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { stack: { type: "string", default: "dev" }, out: { type: "string", default: "out/render" } } });
  const out = resolve(values.out!);
  render(values.stack!, out).then(
    (paths) => console.log(`rendered stack ${values.stack} into ${out}:\n${paths.map((p) => `  ${p}`).join("\n")}`),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
