/**
 * The component package: which components other languages get, under which package name
 * and version, and where Pulumi's schema inference reads their TypeScript declarations.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBPlatform } from "../components/platform.ts";
import { DynamoDBTable } from "../components/dynamodb-table.ts";
import { PACKAGE_NAME } from "../components/token.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** This folder's sources (tsconfig.json, package.json, index.ts): here when run from source, ../../provider from dist/provider. */
export const PROVIDER_SOURCE_DIR = existsSync(join(here, "tsconfig.json")) ? here : join(here, "..", "..", "provider");

/** Options of @pulumi/pulumi's ComponentProvider (and componentProviderHost). */
export function componentPackage() {
  const { version } = JSON.parse(readFileSync(join(PROVIDER_SOURCE_DIR, "..", "package.json"), "utf8")) as { version: string };
  return { name: PACKAGE_NAME, version, components: [DynamoDBPlatform, DynamoDBTable], dirname: PROVIDER_SOURCE_DIR };
}
