/**
 * The local cluster (tools/local-cluster.sh) gives the parts the platform's admission guards
 * look for the names production gives them, so the whole chain runs under the guards as the
 * product installs them (local-env/aws.ts applies them). The shell script and the guards are
 * twins: this holds them equal.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "mocha";
import { REPO_ROOT } from "../helpers/paths.ts";
import { JOB_CONTROLLERS, KRATIX_MANAGER, NODES_GROUP } from "../../core/install/pipeline-identity-guard.ts";
import { DEFAULT_TABLE_DELETERS, serviceAccountUser } from "../../core/install/table-guard.ts";

const script = readFileSync(join(REPO_ROOT, "tools", "local-cluster.sh"), "utf8");

describe("tools/local-cluster.sh's identities are the ones the guards name", () => {
  it("Kratix's manager acts as KRATIX_MANAGER, the only creator of pipeline Jobs", () => {
    const m = /^KRATIX_USER="\$\{KDDB_KRATIX_USER:-([^}]+)\}"$/m.exec(script);
    assert.equal(m?.[1], KRATIX_MANAGER);
    assert.match(script, /echo "KUBECONFIG=\$DIR\/kratix\.kubeconfig"/);
  });
  it("kube-controller-manager runs each controller as its kube-system service account: the job controller and the garbage collector the guards allow", () => {
    assert.match(script, /--use-service-account-credentials=true/);
    assert.match(script, /printf '%s,system:kube-controller-manager,system:kube-controller-manager\\n'/);
    assert.ok(JOB_CONTROLLERS.includes(serviceAccountUser("kube-system", "job-controller")));
    assert.ok(DEFAULT_TABLE_DELETERS.includes(serviceAccountUser("kube-system", "generic-garbage-collector")));
    assert.ok(DEFAULT_TABLE_DELETERS.includes(serviceAccountUser("kube-system", "namespace-controller")));
  });
  it("the kubelet is a node (the only group that may mint pipeline tokens), under the Node authorizer", () => {
    assert.match(script, new RegExp(`system:node:%s,system:node:%s,"${NODES_GROUP}"`));
    assert.match(script, /--authorization-mode=Node,RBAC/);
    assert.match(script, /--kubeconfig="\$DIR\/node\.kubeconfig"/);
  });
});
