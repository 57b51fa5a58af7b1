/**
 * Kratix's container contract, as files: the request comes in at
 * input/object.yaml, resources to schedule go to output/, and status.yaml and
 * workflow-control.yaml go to metadata/. Directories can be moved with
 * KRATIX_INPUT_DIR, KRATIX_OUTPUT_DIR and KRATIX_METADATA_DIR (tests, laptops).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
// js-yaml rather than the `yaml` package used elsewhere: the pipeline is a short-lived
// process per request, and js-yaml loads and parses several times faster from cold
// (docs/benchmarks.md). Both read and write plain YAML 1.2 for Kubernetes objects.
import { dump, load } from "js-yaml";

export interface KratixDirs {
  input: string;
  output: string;
  metadata: string;
}

export function kratixDirs(env: NodeJS.ProcessEnv = process.env): KratixDirs {
  return {
    input: env.KRATIX_INPUT_DIR ?? "/kratix/input",
    output: env.KRATIX_OUTPUT_DIR ?? "/kratix/output",
    metadata: env.KRATIX_METADATA_DIR ?? "/kratix/metadata",
  };
}

export async function readObject(dirs: KratixDirs): Promise<unknown> {
  const file = join(dirs.input, "object.yaml");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  return load(text);
}

const write = async (dir: string, name: string, value: unknown): Promise<void> => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), dump(value, { lineWidth: -1, noRefs: true }));
};

export const writeOutput = (dirs: KratixDirs, name: string, value: unknown) => write(dirs.output, name, value);
export const writeStatus = (dirs: KratixDirs, status: unknown) => write(dirs.metadata, "status.yaml", status);
/** Asks Kratix to run this pipeline again after `retryAfter` (a Go duration such as "30s"). */
export const writeRetry = (dirs: KratixDirs, retryAfter: string, message: string) =>
  write(dirs.metadata, "workflow-control.yaml", { retryAfter, message });
