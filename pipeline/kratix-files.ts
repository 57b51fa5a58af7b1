/**
 * Kratix's container contract, as files: the request comes in at
 * input/object.yaml, resources to schedule go to output/, and status.yaml and
 * workflow-control.yaml go to metadata/. Directories can be moved with
 * KRATIX_INPUT_DIR, KRATIX_OUTPUT_DIR and KRATIX_METADATA_DIR (tests, laptops).
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
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

/** No Kubernetes object is larger: the API server refuses request bodies over 3 MiB. */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;
/**
 * Values (objects, lists, scalars) a document may hold once YAML aliases are expanded.
 * A DynamoDBRequest, metadata and all, has a few hundred; a handful of nested aliases
 * in a few hundred bytes can stand for billions, which validating or printing would
 * then walk (js-yaml shares aliased values instead of copying them, so parsing alone
 * stays cheap, but has no alias limit of its own).
 */
export const MAX_OBJECT_VALUES = 100_000;

/** How many values `root` holds with every alias expanded: linear in the distinct values, stops past `max`. */
function expandedValues(root: unknown, max: number): number {
  const memo = new Map<object, number>();
  const count = (v: unknown): number => {
    if (v === null || typeof v !== "object") return 1;
    const known = memo.get(v);
    if (known !== undefined) return known;
    memo.set(v, Infinity); // a value inside itself (which js-yaml cannot build) counts as too many
    let n = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      n += count(child);
      if (n > max) break;
    }
    memo.set(v, n);
    return n;
  };
  return count(root);
}

/** Reads input/object.yaml within bounds; every problem names the file. */
export async function readObject(dirs: KratixDirs): Promise<unknown> {
  const file = join(dirs.input, "object.yaml");
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_OBJECT_BYTES) throw new Error(`it is ${size} bytes; no Kubernetes object is larger than ${MAX_OBJECT_BYTES} bytes`);
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = load(text, { filename: file });
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  if (expandedValues(doc, MAX_OBJECT_VALUES) > MAX_OBJECT_VALUES)
    throw new Error(
      `${file} holds more than ${MAX_OBJECT_VALUES} values once its YAML aliases are expanded; a DynamoDBRequest holds a few hundred`,
    );
  return doc;
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
