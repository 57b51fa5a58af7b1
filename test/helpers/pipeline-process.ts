/** Runs the real pipeline program as a child process on real files, as a Kratix Job would. */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { REPO_ROOT } from "./paths.ts";

export interface PipelineRun {
  code: number;
  stderr: string;
  /** Files written to output/, parsed. */
  output: Record<string, unknown>;
  /** Files written to metadata/, parsed. */
  metadata: Record<string, unknown>;
}

const readDir = async (dir: string): Promise<Record<string, unknown>> => {
  const files = await readdir(dir).catch(() => [] as string[]);
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, parse(await readFile(join(dir, f), "utf8"))])));
};

/** object.yaml's text exactly as given, for files no YAML writer would produce. */
export class RawYaml {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * Runs `main` (default: the TypeScript source; pass a bundle's main.mjs to test the image's build).
 * `timeoutMs` kills a process that runs longer (code is then -1).
 */
export async function runPipeline(
  step: string,
  object: unknown,
  env: Record<string, string> = {},
  main = join(REPO_ROOT, "pipeline", "main.ts"),
  timeoutMs = 0,
): Promise<PipelineRun> {
  const root = await mkdtemp(join(tmpdir(), "kratix-"));
  const dirs = { input: join(root, "input"), output: join(root, "output"), metadata: join(root, "metadata") };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  if (object !== undefined) await writeFile(join(dirs.input, "object.yaml"), object instanceof RawYaml ? object.text : stringify(object));
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [main, step],
      {
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: root,
          KRATIX_INPUT_DIR: dirs.input,
          KRATIX_OUTPUT_DIR: dirs.output,
          KRATIX_METADATA_DIR: dirs.metadata,
          ...env,
        },
      },
      (err, _stdout, stderr) => resolve({ code: err ? (err.killed ? -1 : typeof err.code === "number" ? err.code : 1) : 0, stderr }),
    );
  });
  return { code, stderr, output: await readDir(dirs.output), metadata: await readDir(dirs.metadata) };
}
