/**
 * Does for each DynamoDBRequest what Kratix does in a cluster: runs the real
 * pipeline program (configure) on the request's files, in a folder per
 * request, and collects the ACK Table and status it writes. Used by
 * `./dev local` where no Kratix runs.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { DynamoDBRequest } from "../core/api/types.ts";
import { TABLE_OUTPUT_FILE } from "../pipeline/main.ts";

export interface SimulatedRun {
  request: string;
  exitCode: number;
  stderr: string;
  table?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export function runConfigure(request: DynamoDBRequest, workDir: string, root: string, env: Record<string, string> = {}): SimulatedRun {
  const id = `${request.metadata.namespace ?? "default"}-${request.metadata.name}`;
  const dir = join(workDir, id);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["input", "output", "metadata"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "input", "object.yaml"), stringify(request));
  const r = spawnSync(process.execPath, [join(root, "pipeline", "main.ts"), "configure"], {
    env: {
      PATH: process.env.PATH ?? "",
      KRATIX_INPUT_DIR: join(dir, "input"),
      KRATIX_OUTPUT_DIR: join(dir, "output"),
      KRATIX_METADATA_DIR: join(dir, "metadata"),
      ...env,
    },
    encoding: "utf8",
  });
  const read = (f: string) => {
    try {
      return parse(readFileSync(f, "utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const table = read(join(dir, "output", TABLE_OUTPUT_FILE));
  const status = read(join(dir, "metadata", "status.yaml"));
  return { request: id, exitCode: r.status ?? 1, stderr: r.stderr, ...(table ? { table } : {}), ...(status ? { status } : {}) };
}
