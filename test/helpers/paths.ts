/** Where the repository and the upstream trees beside it are, for tests and benchmarks. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * The exact upstream trees the controllers are built from (Kratix 224e148, ACK v1.9.2, …):
 * ../shared/upstream-src beside the clone, or KDDB_UPSTREAM_SRC, as for tools/build-tools.sh.
 * It may be absent; test/helpers/crd-validator.ts (findCrds) says what is missing.
 */
export const UPSTREAM_SRC = process.env.KDDB_UPSTREAM_SRC ?? join(REPO_ROOT, "..", "shared", "upstream-src");
