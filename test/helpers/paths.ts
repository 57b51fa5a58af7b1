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
/**
 * @deprecated An older copy of the upstream CRDs (its kratix/ is a later Kratix main than the
 * 224e148 that runs). Use findCrds / requireCrds of test/helpers/crd-validator.ts, which find
 * the CRDs of the versions that run. Kept only for test/admission/table-guard.test.ts until it moves.
 */
export const UPSTREAM_CRDS_DIR = process.env.UPSTREAM_CRDS_DIR ?? join(REPO_ROOT, "..", "shared", "upstream-crds");
