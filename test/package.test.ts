/**
 * The package as npm publishes it: `npm pack` (which builds dist/ first), its contents
 * and manifest, and the tarball installed into a consumer project, where it loads in
 * plain Node, type-checks the TypeScript example against its declarations, and serves
 * the component package's schema that Pulumi infers from those declarations.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "mocha";
import { installPackage, packPackage, type Packed } from "./helpers/package.ts";
import { REPO_ROOT } from "./helpers/paths.ts";

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<{ code: number; out: string; stdout: string }>((resolve) =>
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}`, stdout }),
    ),
  );

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  exports?: Record<string, { types: string; default: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
/** Whether x.y.z is in a range of the two forms the manifest uses: ^x.y.z, and >=x.y.z <n. */
function satisfies(version: string, range: string): boolean {
  const v = version.split(".").map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  const caret = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (caret) return v[0] === Number(caret[1]) && cmp(v, caret.slice(1).map(Number)) >= 0;
  const span = /^>=(\d+)\.(\d+)\.(\d+) <(\d+)$/.exec(range);
  if (span) return cmp(v, span.slice(1, 4).map(Number)) >= 0 && v[0]! < Number(span[4]);
  throw new Error(`unexpected range ${range}`);
}
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as Manifest;

let scratch: string;
let packed: Packed;
let consumer: string;
let installed: string;

describe("the npm package", () => {
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "kddb-pkg-"));
    packed = await packPackage(scratch);
    consumer = join(scratch, "consumer");
    cpSync(join(REPO_ROOT, "examples", "consumer-ts"), consumer, { recursive: true });
    installed = await installPackage(packed.tarball, consumer);
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("is publishable: not private, the Pulumi SDKs and TypeScript as peer dependencies, kept as dev dependencies here", () => {
    assert.equal(manifest.private, undefined);
    const peers = Object.keys(manifest.peerDependencies ?? {}).sort();
    assert.deepEqual(peers, ["@pulumi/aws", "@pulumi/kubernetes", "@pulumi/pulumi", "typescript"]);
    for (const p of peers) {
      assert.equal(manifest.dependencies?.[p], undefined, `${p} is a peer, not a dependency`);
      assert.match(manifest.devDependencies?.[p] ?? "", /^\d+\.\d+\.\d+$/, `${p}: this repository pins it as a dev dependency`);
      assert.ok(satisfies(manifest.devDependencies![p]!, manifest.peerDependencies![p]!), `${p}: the pinned version is in the peer range`);
    }
    assert.deepEqual(manifest.exports?.["."], { types: "./dist/components/index.d.ts", default: "./dist/components/index.js" });
    // Only Pulumi's plugin runner requires the package folder by path, which is what `main` serves.
    assert.equal(manifest.main, "./dist/provider/index.js");
  });

  it("holds the built package, the component package and its sources, and none of the repository's tooling", () => {
    const files = packed.files;
    for (const f of [
      "package.json",
      "PulumiPlugin.yaml",
      "README.md",
      "docs/package.md",
      "dist/components/index.js",
      "dist/components/index.d.ts",
      "dist/components/dynamodb-table.d.ts",
      "dist/core/kubevela/definitions.js",
      "dist/provider/index.js",
      "dist/definitions/components/aws-dynamodb-kratix.cue",
      "dist/definitions/components/kratix-promise-deployer.cue",
      // What Pulumi's schema inference reads (provider/tsconfig.json and the sources it compiles).
      "provider/index.ts",
      "provider/package.json",
      "provider/tsconfig.json",
      "components/args.ts",
      "components/dynamodb-table.ts",
      "core/api/schema.ts",
    ])
      assert.ok(files.includes(f), `missing ${f}`);
    const forbidden = [
      /^test\//,
      /^bench\//,
      /^scripts\//,
      /^tools\//,
      /^local-env\//,
      /^cli\//,
      /^pipeline\//,
      /^policy\//,
      /^examples\//,
      /^\.github\//,
      /^\.ci\//,
      /^dist\/pipeline\//,
      /(^|\/)node_modules\//,
      /doubles?[./-]/,
      /\.test\.ts$/,
      /^index\.ts$/,
      /^Pulumi(\..+)?\.yaml$/,
      /^dev$/,
      /^tsconfig(\.build)?\.json$/,
      /^package-lock\.json$/,
    ];
    const bad = files.filter((f) => forbidden.some((re) => re.test(f)));
    assert.deepEqual(bad, []);
    const cue = readdirSync(join(REPO_ROOT, "definitions", "components")).filter((f) => f.endsWith(".cue"));
    for (const f of cue) assert.ok(files.includes(`dist/definitions/components/${f}`), f);
  });

  it("declares every package its built code imports, and nothing it does not", () => {
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js"))
          for (const m of readFileSync(p, "utf8").matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"./][^"]*)"/g)) {
            const spec = m[1]!;
            if (spec.startsWith("node:")) continue;
            imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
          }
      }
    };
    walk(join(installed, "dist"));
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    assert.deepEqual([...imported].filter((m) => !declared.has(m)).sort(), [], "imported but not declared");
    // typescript is imported by @pulumi/pulumi's schema inference, not by this package's code.
    assert.deepEqual([...declared].filter((m) => !imported.has(m) && m !== "typescript").sort(), [], "declared but not imported");
  });

  it("loads from the tarball in plain Node (no type stripping), components and KubeVela definitions", async () => {
    const script = `
      const pkg = await import("kratix-dynamodb-platform");
      const defs = await import(${JSON.stringify(join(installed, "dist", "core", "kubevela", "definitions.js"))});
      console.log(JSON.stringify({ exports: Object.keys(pkg).sort(), definitions: defs.componentDefinitions().map((d) => d.metadata.name) }));`;
    const r = await run(process.execPath, ["--input-type=module", "--no-experimental-strip-types", "-e", script], consumer);
    assert.equal(r.code, 0, r.out);
    const { exports, definitions } = JSON.parse(r.stdout.trim().split("\n").pop()!) as { exports: string[]; definitions: string[] };
    for (const name of [
      "DynamoDBPlatform",
      "DynamoDBTable",
      "DynamoDBPromise",
      "KubeVelaDefinitions",
      "KratixInstallation",
      "AckDynamoDBController",
      "tableArgErrors",
      "BillingMode",
    ])
      assert.ok(exports.includes(name), name);
    assert.deepEqual(definitions, ["kratix-promise-deployer", "aws-dynamodb-kratix"]);
  });

  it("type-checks the TypeScript consumer (examples/consumer-ts) against the declarations it ships", async () => {
    const r = await run(join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], consumer);
    assert.equal(r.code, 0, r.out);
  });

  it("serves the schema Pulumi infers from the components' TypeScript declarations, from the installed package", async () => {
    const script = `
      import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider.js";
      const { componentPackage } = await import(${JSON.stringify(join(installed, "dist", "provider", "component-package.js"))});
      console.log(await new ComponentProvider(componentPackage()).getSchema());`;
    const r = await run(process.execPath, ["--input-type=module", "-e", script], consumer);
    assert.equal(r.code, 0, r.out);
    type Prop = { type?: string; $ref?: string; plain?: boolean; optional?: boolean; items?: Prop };
    const schema = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
      name: string;
      version: string;
      resources: Record<
        string,
        { isComponent: boolean; inputProperties: Record<string, Prop>; requiredInputs: string[]; properties: Record<string, Prop> }
      >;
      types: Record<
        string,
        { type: string; enum?: { name: string; value: string }[]; properties?: Record<string, Prop>; required?: string[] }
      >;
    };
    assert.equal(schema.name, "kratix-dynamodb-platform");
    assert.equal(schema.version, manifest.version);
    const token = (t: string) => `kratix-dynamodb-platform:index:${t}`;
    assert.deepEqual(Object.keys(schema.resources).sort(), [token("DynamoDBPlatform"), token("DynamoDBTable")]);
    const table = schema.resources[token("DynamoDBTable")]!;
    assert.equal(table.isComponent, true);
    assert.deepEqual(table.requiredInputs, ["table"]);
    assert.equal(table.inputProperties.table!.$ref, `#/types/${token("TableProperties")}`);
    assert.equal(table.inputProperties.table!.plain, undefined, "table takes outputs");
    assert.equal(table.inputProperties.platformDefaults!.$ref, `#/types/${token("PlatformDefaults")}`);
    // Outputs: the ARN and its source, name, region, status, stream ARN, connection ConfigMap; no resources (request is a getter).
    assert.deepEqual(Object.keys(table.properties).sort(), [
      "arnSource",
      "connectionConfigMap",
      "region",
      "status",
      "streamArn",
      "tableArn",
      "tableName",
    ]);
    const platform = schema.resources[token("DynamoDBPlatform")]!;
    assert.deepEqual(platform.requiredInputs, ["defaults"]);
    assert.ok(platform.properties.defaults, "the defaults a table takes from the platform");
    for (const resourceValued of ["promise", "tableDependencies"]) assert.equal(platform.properties[resourceValued], undefined);
    assert.deepEqual(
      schema.types[token("BillingMode")]!.enum!.map((e) => e.value),
      ["PAY_PER_REQUEST", "PROVISIONED"],
    );
    assert.deepEqual(
      schema.types[token("AttributeType")]!.enum!.map((e) => e.value),
      ["S", "N", "B"],
    );
    assert.deepEqual(schema.types[token("TableProperties")]!.required, ["attributeDefinitions", "keySchema", "tableName"]);
    assert.deepEqual(
      schema.types[token("StateStoreMode")]!.enum!.map((e) => e.value),
      ["s3", "bucket", "existing", "none"],
    );
    assert.ok(schema.types[token("AckCredentials")]!.properties!.oidcProviderArn);
    assert.equal(dirname(installed), join(consumer, "node_modules"));
  });
});
