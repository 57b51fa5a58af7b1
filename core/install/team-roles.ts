/**
 * What a team's built-in roles let it do with DynamoDBRequests: ClusterRoles that Kubernetes
 * aggregates into `edit`/`admin` (make, change and delete requests) and `view` (read them and
 * their status). Kratix makes the request CRD but grants no one its kinds, so without these a
 * team with `edit` in its namespace could not ask for a table, and with vela-core acting as an
 * Application's creator (decision 103) its Applications could not either. No role writes
 * `status`: Kratix's status step does. A RoleBinding to `edit` is namespaced, so a team acts on
 * its own namespace's requests only; which table a request may own is the pipeline's decision.
 */
import { API_GROUP, API_PLURAL } from "../api/rules.ts";
import { DEFAULT_PROMISE_NAME } from "../kratix/steps.ts";

/** Named after the Promise that serves the kind: one pair per Promise, whichever stack makes it. */
export const teamRoleNames = (promiseName: string) => ({ edit: `${promiseName}-requests-edit`, view: `${promiseName}-requests-view` });

const aggregateTo = (...roles: string[]) => Object.fromEntries(roles.map((r) => [`rbac.authorization.k8s.io/aggregate-to-${r}`, "true"]));

/** The two aggregated ClusterRoles for the Promise's DynamoDBRequests. */
export function teamRoles(promiseName: string = DEFAULT_PROMISE_NAME) {
  const names = teamRoleNames(promiseName);
  const clusterRole = (name: string, labels: Record<string, string>, resources: string[], verbs: string[]) => ({
    apiVersion: "rbac.authorization.k8s.io/v1" as const,
    kind: "ClusterRole" as const,
    metadata: { name, labels: { "app.kubernetes.io/part-of": "kratix-dynamodb-platform", ...labels } },
    rules: [{ apiGroups: [API_GROUP], resources, verbs }],
  });
  return {
    edit: clusterRole(
      names.edit,
      aggregateTo("edit", "admin"),
      [API_PLURAL],
      ["create", "update", "patch", "delete", "deletecollection", "get", "list", "watch"],
    ),
    view: clusterRole(names.view, aggregateTo("view"), [API_PLURAL, `${API_PLURAL}/status`], ["get", "list", "watch"]),
  };
}
