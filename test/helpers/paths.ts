/** Where the repository and the shared upstream CRDs are, for tests and benchmarks. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** ../shared/upstream-crds beside the clone (CI puts shared/ there); UPSTREAM_CRDS_DIR overrides. */
export const UPSTREAM_CRDS_DIR = process.env.UPSTREAM_CRDS_DIR ?? join(REPO_ROOT, "..", "shared", "upstream-crds");
