/**
 * Every admission guard that comes with ACK's controller (`AckDynamoDBController`, guardTables):
 * the table guard, the API guard and the pipeline identity guards, with the arguments the
 * product gives them. One source for the component and for the local environment, which
 * applies them beside its ACK process as the component would.
 */
import { DEFAULT_TABLE_DELETERS, apiGuard, tableControllers, tableGuard, tableWriters, type TableGuardArgs } from "./table-guard.ts";
import { pipelineIdentityGuards } from "./pipeline-identity-guard.ts";

export interface AckGuardSettings {
  /** ACK's namespace (its service account writes Tables' status). */
  namespace: string;
  /** Every Table's name starts with it. */
  tableNamePrefix?: string;
  /** Break glass: may also write and release Tables. */
  extraTableWriters?: readonly string[];
  /** Break glass: may delete the Promise and the CRDs, and exec into pipeline pods. */
  breakGlassUsers?: readonly string[];
  /** The platform's Promise. */
  promiseName?: string;
}

/** The table guard's arguments: Flux's applier and ACK write, the control plane deletes, ACK alone writes status. */
export function tableGuardArgs(s: AckGuardSettings): TableGuardArgs {
  return {
    writers: [...tableWriters(s.namespace), ...(s.extraTableWriters ?? [])],
    deleters: DEFAULT_TABLE_DELETERS,
    controllers: tableControllers(s.namespace),
    tableNamePrefix: s.tableNamePrefix ?? "",
    // The extra writers are break glass: they may also release a Table for Flux to prune.
    extraReleasers: s.extraTableWriters ?? [],
    ...(s.promiseName ? { promiseName: s.promiseName } : {}),
  };
}

const breakGlass = (s: AckGuardSettings) => ({
  breakGlassUsers: s.breakGlassUsers ?? [],
  ...(s.promiseName ? { promiseName: s.promiseName } : {}),
});

/** The API guard: the Promise and the CRDs are deleted only by the break-glass users. */
export const ackApiGuard = (s: AckGuardSettings): ReturnType<typeof apiGuard> => apiGuard(breakGlass(s));

/** Only Kratix's own pipeline pods act as the Promise's pipeline service accounts (decision 97). */
export const ackPipelineIdentityGuards = (s: AckGuardSettings): ReturnType<typeof pipelineIdentityGuards> =>
  pipelineIdentityGuards(breakGlass(s));

/** Every guard, policy and binding, in the order they are applied. */
export function ackGuards(s: AckGuardSettings) {
  return [tableGuard(tableGuardArgs(s)), ackApiGuard(s), ...Object.values(ackPipelineIdentityGuards(s))].flatMap((g) => [
    g.policy,
    g.binding,
  ]);
}
