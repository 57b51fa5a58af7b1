import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../core/install/versions.ts";

/** A pinned chart as Pulumi's helm.v4.Chart (rendered like `helm template`, applied by Pulumi; no hooks run). */
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
    opts,
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
