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
  shell?: string;
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
  defaults?: { run?: { shell?: string } };
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

/** A run step that posts or edits a comment on a pull request (what `pull-requests: write` is for). */
const COMMENT_POST = /\bgh api --method (POST|PATCH) "repos\/\$GITHUB_REPOSITORY\/issues\//;

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
            ? steps.some((s) => COMMENT_POST.test(s.run ?? ""))
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
        /preview-copy -- publish/.test(s.run ?? "") ||
        /\bpulumi (up|update|destroy|refresh|import|stack (import|rm))\b/.test(s.run ?? ""),
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

/** The run steps that run `pulumi preview`, with their job and the command line. */
export function pulumiPreviewRuns(wfs: Workflow[]) {
  return eachStep(wfs).flatMap((s) =>
    (s.step.run ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^pulumi preview\b/.test(l))
      .map((line) => ({ ...s, line })),
  );
}

/**
 * The commands a shell script runs, each as its words (quotes removed; assignments before a
 * command, redirections and their targets left out), including those in $( ), ` ` and <( ),
 * whether quoted or not. Enough of the shell's grammar for the scripts of jobs that must run
 * nothing but a few text tools; a heredoc or a construct it does not know is an error, never
 * a script it accepts.
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  const KEYWORDS = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"]);
  let i = 0;
  // Reads a command list up to `close` (or the end), pushing each command onto `commands`.
  const list = (close?: string): void => {
    let words: string[] = [];
    let word = "";
    let inWord = false;
    let redirect = false; // the next word is a redirection's target
    const endWord = () => {
      if (!inWord) return;
      if (redirect) redirect = false;
      else if (words.length === 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
        /* an assignment before the command */
      } else if (words.length === 0 && KEYWORDS.has(word)) {
        /* a keyword: the command is the next word */
      } else words.push(word);
      word = "";
      inWord = false;
    };
    const endCommand = () => {
      endWord();
      if (words.length) commands.push(words);
      words = [];
    };
    /** $( ... ), ` ... ` or <( ... ): a nested command list; stands in the word as "$(...)". */
    const nested = (closeWith: string) => {
      list(closeWith);
      word += "$(...)";
      inWord = true;
    };
    /** "...": literal text, except $( ), ` ` and \ escapes. */
    const doubleQuoted = () => {
      inWord = true;
      for (i++; i < script.length && script[i] !== '"'; i++) {
        const c = script[i]!;
        if (c === "\\") word += script[++i] ?? "";
        else if (c === "$" && script[i + 1] === "(") {
          i += 2;
          nested(")");
        } else if (c === "`") {
          i++;
          nested("`");
        } else word += c;
      }
      if (i >= script.length) throw new Error("unterminated double quote");
    };
    for (; i < script.length; i++) {
      const c = script[i]!;
      if (close && c === close) {
        endCommand();
        return;
      }
      if (c === " " || c === "\t") endWord();
      else if (c === "\n" || c === ";" || c === "&" || c === "|" || c === "(" || c === ")") endCommand();
      else if (c === "#" && !inWord) while (i + 1 < script.length && script[i + 1] !== "\n") i++;
      else if (c === "\\") {
        if (script[i + 1] === "\n") i++;
        else {
          word += script[++i] ?? "";
          inWord = true;
        }
      } else if (c === "'") {
        const end = script.indexOf("'", i + 1);
        if (end < 0) throw new Error("unterminated single quote");
        word += script.slice(i + 1, end);
        inWord = true;
        i = end;
      } else if (c === '"') doubleQuoted();
      else if (c === "`") {
        i++;
        nested("`");
      } else if (c === "$" && script[i + 1] === "(") {
        i += 2;
        nested(")");
      } else if (c === "<" && script[i + 1] === "(") {
        i += 2;
        nested(")");
      } else if (c === "<" || c === ">") {
        if (c === "<" && script[i + 1] === "<") throw new Error("a heredoc");
        // 2>&1, >>: the operator, then its target (a word, or &N).
        if (/^\d+$/.test(word)) {
          word = "";
          inWord = false;
        }
        endWord();
        while (script[i + 1] === ">" || script[i + 1] === "&") i++;
        if (/\d/.test(script[i + 1] ?? "") && script[i] === "&") {
          while (/\d/.test(script[i + 1] ?? "")) i++;
        } else redirect = true;
      } else {
        word += c;
        inWord = true;
      }
    }
    if (close) throw new Error(`no closing ${close}`);
    endCommand();
  };
  list();
  return commands;
}

/** Write scopes of the GitHub token (all but id-token, which only mints OIDC tokens that an AWS role's trust decides on). */
export function githubWriteScopes(job: Job): string[] {
  if (typeof job.permissions !== "object" || job.permissions === null) return ["(no permissions block, or read-all/write-all)"];
  return Object.entries(job.permissions)
    .filter(([scope, level]) => level === "write" && scope !== "id-token")
    .map(([scope]) => scope);
}

/**
 * `gh api` on the pull request's comments, and nothing else: list them, post one, edit one
 * (from a file: no -f/-F fields). Not, for one, `repos/…/pulls/$PR/reviews` (an approval).
 */
function ghCommentCall(args: string[]): boolean {
  if (args[0] !== "api") return false;
  const paths = args.slice(1).filter((a) => a.startsWith("repos/"));
  const method = args[args.indexOf("--method") + 1];
  return (
    paths.length === 1 &&
    /^repos\/\$GITHUB_REPOSITORY\/issues\/(\$PR\/comments|comments\/\$id)$/.test(paths[0]!) &&
    (!args.includes("--method") || ["GET", "POST", "PATCH"].includes(method ?? "")) &&
    !args.some((a) => /^(-f|-F|--field|--raw-field|-X)$/.test(a) || /^--(field|raw-field|method)=/.test(a))
  );
}

/** Environment variables that make bash, gh or git run code or look programs up elsewhere. */
const CODE_ENV =
  /^(BASH_ENV|ENV|PATH|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|PS4|LD_\w+|NODE_OPTIONS|GIT_\w+|GH_(PAGER|BROWSER|EDITOR)|PAGER|BROWSER|EDITOR|VISUAL)$/;

/** The only actions a job whose token can write may use: they run no code of the repository's or the artifact's. */
export const WRITE_JOB_ACTIONS = [/^actions\/download-artifact@/];
/** The only programs its run steps may start: text tools, and gh for the API only. */
export const WRITE_JOB_PROGRAMS = [
  "[",
  "test",
  ":",
  "true",
  "false",
  "exit",
  "echo",
  "printf",
  "jq",
  "gh",
  "tail",
  "head",
  "tr",
  "stat",
  "wc",
];

/**
 * No job that can run for a pull request and whose token can write to GitHub runs the pull
 * request's code, nor anything another job of the pull request made: no checkout (of any ref),
 * no action but download-artifact, run steps in bash that start only text tools (gh only as
 * `gh api`), with no `${{ }}` in their text (values arrive in env, as data), no other shell.
 * Otherwise the pull request could use the token: approve itself, push, comment as the bot.
 */
export function noPullRequestCodeWithWriteToken(wfs: Workflow[]): string[] {
  const v: string[] = [];
  for (const { wf, job, at } of eachJob(wfs)) {
    if (!jobRunsOnPullRequests(wf, job)) continue;
    const writes = githubWriteScopes(job);
    if (!writes.length) continue;
    const why = `(its token writes: ${writes.join(", ")})`;
    if (job.defaults?.run?.shell && job.defaults.run.shell !== "bash")
      v.push(`${at}: runs its steps with ${job.defaults.run.shell} ${why}`);
    if (job.container || job.services) v.push(`${at}: runs containers ${why}`);
    for (const e of [job.env, ...(job.steps ?? []).map((st) => st.env)])
      for (const name of Object.keys(e ?? {}))
        if (CODE_ENV.test(name)) v.push(`${at}: sets ${name}, which makes a program run code it names ${why}`);
    (job.steps ?? []).forEach((step, n) => {
      const here = `${at}.steps[${n}]`;
      if (step.uses) {
        if (/^actions\/checkout@/.test(step.uses)) v.push(`${here}: checks out code ${why}`);
        else if (!WRITE_JOB_ACTIONS.some((re) => re.test(step.uses!))) v.push(`${here}: uses ${step.uses}, which may run code ${why}`);
      }
      if (step.run === undefined) return;
      if (step.shell && step.shell !== "bash") v.push(`${here}: runs its script with ${step.shell} ${why}`);
      if (step.run.includes("${{")) v.push(`${here}: has an expression in its script: data must come in env ${why}`);
      // What a step writes there becomes the environment, PATH or inputs of the steps after it.
      for (const file of ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"])
        if (step.run.includes(file)) v.push(`${here}: writes ${file}, which later steps run with ${why}`);
      let commands: string[][];
      try {
        commands = shellCommands(step.run);
      } catch (e) {
        v.push(`${here}: a script this check cannot read (${(e as Error).message}) ${why}`);
        return;
      }
      for (const [program, ...args] of commands) {
        if (!WRITE_JOB_PROGRAMS.includes(program!)) v.push(`${here}: runs ${program} ${why}`);
        else if (program === "gh" && !ghCommentCall(args)) v.push(`${here}: runs gh ${args.join(" ")}: only gh api on the comments ${why}`);
      }
    });
  }
  return v;
}

export { eachJob, eachStep };
