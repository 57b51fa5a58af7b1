/**
 * The rules that make the GitHub workflows safe by construction (docs/pr-preview.md), as
 * functions from workflow files to violations, so that the tests can run them on the real files
 * and on broken copies (each rule must be able to fail).
 */
import { parse } from "yaml";

export interface WorkflowFile {
  /** Path relative to the repository, for messages. */
  file: string;
  text: string;
}

type Obj = Record<string, unknown>;
export interface Step extends Obj {
  uses?: string;
  run?: string;
  with?: Obj;
  env?: Obj;
  id?: string;
  name?: string;
}
export interface Job extends Obj {
  if?: string;
  environment?: string | { name: string };
  permissions?: Obj | string;
  steps?: Step[];
  env?: Obj;
  concurrency?: Obj | string;
}
export interface Workflow {
  file: string;
  text: string;
  on: Obj;
  permissions?: Obj | string;
  concurrency?: Obj | string;
  jobs: Record<string, Job>;
}

export function parseWorkflow(w: WorkflowFile): Workflow {
  const doc = parse(w.text) as Obj;
  const on = doc.on;
  const triggers: Obj =
    typeof on === "string"
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries(on.map((t) => [String(t), null]))
        : ((on ?? {}) as Obj);
  return {
    file: w.file,
    text: w.text,
    on: triggers,
    permissions: doc.permissions as Obj | string | undefined,
    concurrency: doc.concurrency as Obj | string | undefined,
    jobs: (doc.jobs ?? {}) as Record<string, Job>,
  };
}

/** Pull-request code runs in these: GitHub runs the pull request's own version of the workflow. */
const PR_TRIGGERS = ["pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment", "workflow_run"];
export const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";
/** The only write scopes any job may hold, and why. */
export const WRITE_SCOPES: Record<string, string> = {
  "id-token": "assume an AWS role through OIDC",
  "pull-requests": "comment the preview on the pull request",
  packages: "push the pipeline image to ghcr.io",
};

export const triggeredByPullRequests = (wf: Workflow) => Object.keys(wf.on).some((t) => PR_TRIGGERS.includes(t));
const jobIf = (job: Job) => (job.if === undefined ? "" : String(job.if).replace(/\s+/g, " "));
/** Whether a job can run for a pull request (its workflow is triggered by one and its `if` does not rule it out). */
export function jobRunsOnPullRequests(wf: Workflow, job: Job): boolean {
  if (!triggeredByPullRequests(wf)) return false;
  const cond = jobIf(job);
  return !(/github\.event_name != 'pull_request'/.test(cond) || /github\.event_name == '(push|workflow_dispatch|schedule)'/.test(cond));
}
const jobText = (job: Job) => JSON.stringify(job);
const permsOf = (job: Job): Obj => (job.permissions && typeof job.permissions === "object" ? job.permissions : {});
const envName = (job: Job) => (typeof job.environment === "object" ? job.environment?.name : job.environment);
export const jobUsesSecrets = (job: Job) => /\bsecrets\./.test(jobText(job));
export const jobHasIdToken = (job: Job) => permsOf(job)["id-token"] === "write";
const eachJob = (wfs: Workflow[]) =>
  wfs.flatMap((wf) => Object.entries(wf.jobs).map(([id, job]) => ({ wf, id, job, at: `${wf.file} jobs.${id}` })));
const eachStep = (wfs: Workflow[]) =>
  eachJob(wfs).flatMap((j) => (j.job.steps ?? []).map((step, i) => ({ ...j, step, at: `${j.at}.steps[${i}]` })));

/** No trigger that runs pull-request code with the base repository's secrets and token. */
export function noPrivilegedPullRequestTriggers(wfs: Workflow[]): string[] {
  return wfs.flatMap((wf) =>
    ["pull_request_target", "workflow_run"]
      .filter((t) => t in wf.on)
      .map((t) => `${wf.file}: triggered by ${t}, which runs with the base repository's secrets`),
  );
}

/** `permissions: {}` at the top, and each job lists its own, writing only where WRITE_SCOPES says. */
export function minimalPermissions(wfs: Workflow[]): string[] {
  const v: string[] = [];
  for (const wf of wfs) {
    if (typeof wf.permissions !== "object" || wf.permissions === null || Object.keys(wf.permissions).length > 0) {
      v.push(`${wf.file}: top-level permissions must be {} (got ${JSON.stringify(wf.permissions)})`);
    }
  }
  for (const { job, at } of eachJob(wfs)) {
    if (typeof job.permissions !== "object" || job.permissions === null) {
      v.push(`${at}: no permissions block (or read-all/write-all)`);
      continue;
    }
    for (const [scope, level] of Object.entries(job.permissions)) {
      if (level === "write" && !(scope in WRITE_SCOPES)) v.push(`${at}: ${scope}: write is never needed`);
      if (level !== "write" && level !== "read" && level !== "none") v.push(`${at}: ${scope}: ${String(level)}`);
    }
    const writes = Object.entries(job.permissions).filter(([, l]) => l === "write");
    const steps = job.steps ?? [];
    const uses = (re: RegExp) => steps.some((s) => re.test(s.uses ?? ""));
    for (const [scope] of writes) {
      const needed =
        scope === "id-token"
          ? uses(/^aws-actions\/configure-aws-credentials@/)
          : scope === "pull-requests"
            ? steps.some((s) => /^pulumi\/actions@/.test(s.uses ?? "") && String(s.with?.["comment-on-pr"]) === "true")
            : scope === "packages"
              ? steps.some((s) => /^docker\/build-push-action@/.test(s.uses ?? "") && String(s.with?.push) === "true")
              : false;
      if (!needed) v.push(`${at}: ${scope}: write without a step that needs it (${WRITE_SCOPES[scope] ?? "?"})`);
    }
  }
  return v;
}

/**
 * Every job that can see a secret or mint an OIDC token: if it can run for a pull request, it is
 * guarded against forks (and takes no `||` that could bypass the guard); if not, it runs in an environment.
 */
export function forkGuards(wfs: Workflow[]): string[] {
  const v: string[] = [];
  for (const { wf, job, at } of eachJob(wfs)) {
    if (!jobUsesSecrets(job) && !jobHasIdToken(job)) continue;
    if (jobRunsOnPullRequests(wf, job)) {
      const cond = jobIf(job);
      if (!cond.includes(FORK_GUARD))
        v.push(`${at}: can see secrets or an OIDC token on pull requests but has no fork guard (${FORK_GUARD})`);
      if (cond.includes("||")) v.push(`${at}: its if has ||, which could bypass the fork guard`);
    } else if (!envName(job)) {
      v.push(`${at}: sees secrets or an OIDC token outside any environment`);
    }
  }
  return v;
}

/**
 * Pull-request jobs get no secret at all: no secrets.* (the stack's passphrase above all), the
 * passphrase only as the public preview-copy literal, environments only preview-*. Deploy
 * environments (pulumi-*) and the passphrase secret only in jobs that never run for pull requests.
 */
export function noSecretsForPullRequests(wfs: Workflow[], previewPassphrase: string): string[] {
  const v: string[] = [];
  for (const { wf, job, at } of eachJob(wfs)) {
    const env = envName(job);
    if (jobRunsOnPullRequests(wf, job)) {
      if (jobUsesSecrets(job)) v.push(`${at}: runs pull-request code and references secrets.*`);
      if (env && !/^preview-/.test(env)) v.push(`${at}: runs pull-request code in environment ${env} (only preview-* environments)`);
      const passphrases = [job.env, ...(job.steps ?? []).map((s) => s.env)]
        .map((e) => e?.PULUMI_CONFIG_PASSPHRASE)
        .filter((p) => p !== undefined);
      for (const p of passphrases) {
        if (p !== previewPassphrase)
          v.push(`${at}: PULUMI_CONFIG_PASSPHRASE is ${JSON.stringify(p)}, not the public preview-copy passphrase`);
      }
      if (/PULUMI_CONFIG_PASSPHRASE_FILE/.test(jobText(job))) v.push(`${at}: runs pull-request code with PULUMI_CONFIG_PASSPHRASE_FILE`);
    } else if (/secrets\.PULUMI_CONFIG_PASSPHRASE/.test(jobText(job))) {
      if (!env || !/^pulumi-/.test(env)) v.push(`${at}: uses the stack's passphrase outside a pulumi-<stack> environment`);
      const push = wf.on.push as { branches?: string[] } | null | undefined;
      if (!push || JSON.stringify(push.branches) !== JSON.stringify(["main"]) || !/github\.ref == 'refs\/heads\/main'/.test(jobIf(job))) {
        v.push(`${at}: uses the stack's passphrase but does not run on main only`);
      }
    }
  }
  return v;
}

/** Every action pinned by a full commit SHA, with the release it is as a comment. */
export function pinnedActions(wfs: Workflow[]): string[] {
  const v: string[] = [];
  for (const { step, at } of eachStep(wfs)) {
    if (!step.uses || step.uses.startsWith("./")) continue;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(step.uses)) v.push(`${at}: ${step.uses} is not pinned by a full commit SHA`);
  }
  for (const wf of wfs) {
    for (const line of wf.text.split("\n")) {
      const m = /^\s*(?:-\s+)?uses:\s*(\S+@[0-9a-f]{40})(.*)$/.exec(line);
      if (m && !/^\s+#\s+v\d+\.\d+\.\d+\s*$/.test(m[2]!)) v.push(`${wf.file}: ${m[1]} has no "# vX.Y.Z" comment naming its release`);
    }
  }
  return v;
}

/** actions/checkout never leaves the token in .git/config for later steps (and the program) to read. */
export function checkoutWithoutCredentials(wfs: Workflow[]): string[] {
  return eachStep(wfs)
    .filter(({ step }) => /^actions\/checkout@/.test(step.uses ?? "") && String(step.with?.["persist-credentials"]) !== "false")
    .map(({ at }) => `${at}: actions/checkout without persist-credentials: false`);
}

/** A concurrency group on every workflow; jobs that touch a stack's state queue, never cancel. */
export function concurrency(wfs: Workflow[]): string[] {
  const v: string[] = [];
  for (const wf of wfs) if (!wf.concurrency) v.push(`${wf.file}: no concurrency group`);
  for (const { job, at } of eachJob(wfs)) {
    const touchesState = (job.steps ?? []).some(
      (s) =>
        (/^pulumi\/actions@/.test(s.uses ?? "") && s.with?.command && s.with.command !== "preview") ||
        /preview-copy -- publish/.test(s.run ?? ""),
    );
    if (!touchesState) continue;
    const c = job.concurrency as { group?: string; "cancel-in-progress"?: unknown } | undefined;
    if (!c || typeof c !== "object" || !/pulumi-state-/.test(String(c.group)) || c["cancel-in-progress"] !== false) {
      v.push(`${at}: writes a stack's state without concurrency group pulumi-state-<stack> and cancel-in-progress: false`);
    }
  }
  return v;
}

/** Each `./dev X ...` command line of the run steps, with where it is. */
export function devCommands(wfs: Workflow[]): { at: string; line: string; cmd: string; args: string[] }[] {
  return eachStep(wfs).flatMap(({ step, at }) =>
    (step.run ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("./dev "))
      .map((line) => {
        const words = (line.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, "$1"));
        return { at, line, cmd: words[1] ?? "", args: words.slice(2) };
      }),
  );
}

/** The pulumi/actions steps that run a command, with their job. */
export function pulumiSteps(wfs: Workflow[]) {
  return eachStep(wfs).filter(({ step }) => /^pulumi\/actions@/.test(step.uses ?? "") && step.with?.command);
}

export { eachJob, eachStep };
