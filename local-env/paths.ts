/** Where the local environment lives: the repository, and `.local/` inside it (git-ignored). */
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const LOCAL_DIR = join(ROOT, ".local");
