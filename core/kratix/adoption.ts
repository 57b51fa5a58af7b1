/**
 * Taking a retained table back, safely. ACK adopts an existing AWS table when a Table
 * carries its adoption annotations (core/render/ack-table.ts renders them for a request
 * with `spec.adopt: true`). Anyone who could adopt any table could take another tenant's
 * data, so adoption is the platform team's decision, per namespace and table: the
 * namespace's annotation ADOPTABLE_TABLES_ANNOTATION lists the DynamoDB table names
 * (prefix included) requests in it may adopt. Tenants cannot write their namespace's
 * annotations (Namespaces are cluster-scoped), so a tenant cannot approve itself.
 */
import type { TablePlan } from "../api/plan.ts";

export const ADOPTABLE_TABLES_ANNOTATION = "dynamodb.kratix.io/adoptable-tables";
/**
 * Kratix reruns a request's whole configure workflow when it carries this label (and removes
 * it): how a refused request is checked again at once, rather than at Kratix's next periodic
 * run (lib/workflow/reconciler.go jobToPipelineIndex: a manual reconciliation starts at the
 * first pipeline).
 */
export const MANUAL_RECONCILIATION_LABEL = "kratix.io/manual-reconciliation";

/** The table names a namespace's annotations approve for adoption (comma or whitespace separated). */
export function adoptableTables(namespaceAnnotations: Record<string, string> | undefined): Set<string> {
  const raw = namespaceAnnotations?.[ADOPTABLE_TABLES_ANNOTATION] ?? "";
  return new Set(raw.split(/[\s,]+/).filter(Boolean));
}

/** Whether a request in a namespace with these annotations may adopt `tableName`. */
export const adoptionApproved = (tableName: string, namespaceAnnotations: Record<string, string> | undefined): boolean =>
  adoptableTables(namespaceAnnotations).has(tableName);

/** Why a request may not adopt its table (undefined when it may, or does not ask to). */
export function adoptionRefusal(
  plan: Pick<TablePlan, "adopt" | "tableName" | "region">,
  namespace: string,
  namespaceAnnotations: Record<string, string> | undefined,
): string | undefined {
  if (!plan.adopt || adoptionApproved(plan.tableName, namespaceAnnotations)) return undefined;
  return (
    `spec.adopt: adopting table ${plan.tableName} in ${plan.region} needs the platform team's approval: ` +
    `they add it to the annotation ${ADOPTABLE_TABLES_ANNOTATION} of namespace ${namespace}; ` +
    `checked again when the request changes or is labelled ${MANUAL_RECONCILIATION_LABEL}=true`
  );
}
