/**
 * KubeVela's own CUE engine for the tests: tools/go/controllers/cmd/vela-cue runs
 * KubeVela v1.10.9's code (CUE v0.9.2), the version vela-core runs, so a template
 * is rendered, its parameter schema generated and its status policies evaluated
 * exactly as the controller does. One process serves a whole test file over JSON
 * lines; close it in `after`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { toolsPath } from "../../local-env/tools.ts";

export class CueError extends Error {}

let engine: Promise<{ child: ChildProcessWithoutNullStreams; ask: (req: object) => Promise<Record<string, unknown>> }> | undefined;

function start() {
  return (engine ??= toolsPath(["vela-cue"]).then((PATH) => {
    const child = spawn("vela-cue", [], { env: { ...process.env, PATH }, stdio: ["pipe", "pipe", "pipe"] });
    const waiting: ((line: string) => void)[] = [];
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
    child.on("exit", (code) => {
      for (const w of waiting.splice(0)) w(JSON.stringify({ error: `vela-cue exited (${code}): ${stderr}` }));
    });
    // Answers come back in order, one line per request.
    const ask = (req: object) =>
      new Promise<Record<string, unknown>>((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as Record<string, unknown>));
        child.stdin.write(`${JSON.stringify(req)}\n`);
      });
    return { child, ask };
  }));
}

async function ask(req: object): Promise<Record<string, unknown>> {
  const answer = await (await start()).ask(req);
  if (typeof answer.error === "string") throw new CueError(answer.error);
  return answer;
}

export async function closeVelaCue(): Promise<void> {
  if (!engine) return;
  const { child } = await engine;
  engine = undefined;
  child.stdin.end();
  await new Promise((r) => child.once("close", r));
}

export interface RenderContext {
  name: string;
  namespace: string;
  appName?: string;
}

/** A component's `output`, as vela-core renders it from the template, the context and the properties. */
export async function renderTemplate(template: string, context: RenderContext, parameter: unknown): Promise<Record<string, unknown>> {
  const a = await ask({ op: "render", template, context: { appName: "app", ...context }, parameter });
  return a.output as Record<string, unknown>;
}

/** The parameter schema vela-core stores in the component-schema-<name> ConfigMap. */
export async function parameterSchema(template: string): Promise<JsonSchema> {
  return (await ask({ op: "schema", template })).schema as JsonSchema;
}

/** Health and status message, as vela-core derives them from the live object. */
export async function evalStatus(
  policies: { healthPolicy?: string; customStatus?: string },
  output: unknown,
  parameter: Record<string, unknown> = {},
): Promise<{ healthy: boolean; message: string }> {
  const a = await ask({ op: "status", ...policies, output, parameter });
  return { healthy: a.healthy === true, message: String(a.message ?? "") };
}

/** What `vela def apply` makes of a definition file. */
export async function definitionObject(source: string): Promise<Record<string, unknown>> {
  return (await ask({ op: "definition", source })).object as Record<string, unknown>;
}

export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  [k: string]: unknown;
}
