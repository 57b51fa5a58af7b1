import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../core/install/versions.ts";

/** Pulumi's type token of a CustomResourceDefinition. */
const CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

/**
 * A transform that keeps a chart's CRDs on the cluster when Pulumi deletes them (`pulumi destroy`,
 * or the chart leaving the stack), as `helm uninstall` keeps a chart's crds/. Pulumi's helm.v4.Chart
 * applies crds/ and templates alike and honours only `helm.sh/resource-policy: keep`
 * (pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go), so without this a destroy deletes
 * every chart's CRDs, and with each CRD every object of its kind: ACK's Table CRD takes every
 * team's Tables (the API guard refuses that, so the destroy would stop there), Kratix's Promise
 * CRD the retained Promise and with it the DynamoDBRequest CRD and every request, KubeVela's the
 * Applications, Flux's the Kustomizations. Each chart's CRDs are kept (decision 100).
 */
export const retainCrds: pulumi.ResourceTransform = ({ type, props, opts }) =>
  type === CRD_TYPE ? { props, opts: { ...opts, retainOnDelete: true } } : undefined;

/**
 * A pinned chart as Pulumi's helm.v4.Chart (rendered like `helm template`, applied by Pulumi; no
 * hooks run), whose CRDs are kept when Pulumi deletes the chart (retainCrds).
 */
export function pinnedChart(
  name: string,
  pin: ChartPin,
  namespace: pulumi.Input<string>,
  values: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.ComponentResourceOptions,
): k8s.helm.v4.Chart {
  return new k8s.helm.v4.Chart(
    name,
    {
      chart: pin.chart,
      version: pin.version,
      ...(pin.repo ? { repositoryOpts: { repo: pin.repo } } : {}),
      namespace,
      values,
    },
    { ...opts, transforms: [...(opts.transforms ?? []), retainCrds] },
  );
}

/**
 * Options for a component's child that must also wait for what the component
 * waits for: Pulumi does not pass a component's dependsOn on to its children.
 */
export function childOf(
  parent: pulumi.ComponentResource,
  componentOpts: pulumi.ComponentResourceOptions | undefined,
  extra: pulumi.Resource[] = [],
): pulumi.CustomResourceOptions {
  const inherited = componentOpts?.dependsOn;
  const list: pulumi.Input<pulumi.Resource>[] =
    inherited === undefined ? [] : Array.isArray(inherited) ? [...inherited] : [inherited as pulumi.Input<pulumi.Resource>];
  return { parent, dependsOn: [...list, ...extra] };
}
