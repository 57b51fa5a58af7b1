/**
 * Reads a KubeVela definition written in `vela def` CUE format (the files in
 * definitions/components/, which CLI users apply with `vela def apply`) and
 * turns it into the ComponentDefinition object `vela def apply` would create:
 * the header's name, description, workload and status policies, and the body
 * of `template:` (with the file's imports first) as the CUE template.
 *
 * The header is read with a few anchored patterns rather than a CUE evaluator,
 * so the Pulumi program needs no CUE runtime; test/definitions/ evaluates the
 * whole file with CUE and checks this reading against it.
 */
export const VELA_SYSTEM_NAMESPACE = "vela-system";

export interface VelaDefinitionHeader {
  name: string;
  type: string;
  description: string;
  workloadType: string;
  healthPolicy?: string;
  customStatus?: string;
}

export interface ParsedVelaDefinition extends VelaDefinitionHeader {
  /** The CUE template as stored in spec.schematic.cue.template. */
  template: string;
}

function required(text: string, re: RegExp, what: string, file: string): string {
  const m = re.exec(text);
  if (!m?.[1]) throw new Error(`${file}: no ${what} found in the definition header`);
  return m[1];
}

/** A CUE multi-line raw string (#"""…"""#): the closing line's indentation is removed from every line. */
function rawBlock(text: string, field: string): string | undefined {
  const m = new RegExp(`${field}:\\s*#"""\\n([\\s\\S]*?)\\n([ \\t]*)"""#`).exec(text);
  if (!m) return undefined;
  const indent = m[2]!;
  return m[1]!
    .split("\n")
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
    .join("\n");
}

export function parseVelaDefinition(source: string, file = "definition"): ParsedVelaDefinition {
  const templateStart = source.search(/^template:\s*\{\s*$/m);
  if (templateStart < 0) throw new Error(`${file}: no top-level "template: {" block`);
  const header = source.slice(0, templateStart);
  const lines = source.slice(templateStart).split("\n");
  const close = lines.findLastIndex((l) => l === "}");
  if (close < 1) throw new Error(`${file}: the template block is not closed by a "}" line`);
  const body = lines
    .slice(1, close)
    .map((l) => l.replace(/^\t/, ""))
    .join("\n");
  const imports = /^import\s+(\([\s\S]*?\)|"[^"]+")/m.exec(header)?.[0];
  const healthPolicy = rawBlock(header, "healthPolicy");
  const customStatus = rawBlock(header, "customStatus");
  return {
    name: required(header, /^"([a-z0-9-]+)":\s*\{/m, "name", file),
    type: required(header, /^\s*type:\s*"([a-z-]+)"/m, "type", file),
    description: required(header, /^\s*description:\s*"((?:[^"\\]|\\.)*)"/m, "description", file),
    workloadType: required(header, /workload:\s*type:\s*"([^"]+)"/, "workload type", file),
    ...(healthPolicy ? { healthPolicy } : {}),
    ...(customStatus ? { customStatus } : {}),
    template: imports ? `${imports}\n\n${body}\n` : `${body}\n`,
  };
}

/** The ComponentDefinition (core.oam.dev/v1beta1) for a parsed definition. */
export function renderComponentDefinition(def: ParsedVelaDefinition, namespace = VELA_SYSTEM_NAMESPACE) {
  if (def.type !== "component") throw new Error(`${def.name} is a ${def.type} definition, not a component`);
  return {
    apiVersion: "core.oam.dev/v1beta1",
    kind: "ComponentDefinition",
    metadata: {
      name: def.name,
      namespace,
      annotations: { "definition.oam.dev/description": def.description },
    },
    spec: {
      workload: { type: def.workloadType },
      ...(def.healthPolicy || def.customStatus
        ? {
            status: {
              ...(def.healthPolicy ? { healthPolicy: def.healthPolicy } : {}),
              ...(def.customStatus ? { customStatus: def.customStatus } : {}),
            },
          }
        : {}),
      schematic: { cue: { template: def.template } },
    },
  };
}
