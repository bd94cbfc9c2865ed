// Package crontab converts a crontab into an edgecron config fragment, for
// `edgecron crontab import FILE`.
//
// Each entry becomes a declared command ([<shell>, -c, <command>], with the
// crontab's variables as its env) and a job with a cron `expr` trigger
// (an @reboot line: a boot trigger, once per boot when the agent starts);
// comments and blank lines are skipped; variables are applied or ignored,
// each with the reason; lines that cannot be converted (a command
// with cron's stdin %, a schedule the trigger compiler refuses) are named
// with their line number and why. Nothing is written anywhere: WriteYAML
// renders the fragment for the administrator to review.
//
// A shell string is acceptable here, unlike anywhere a job comes from the
// network: it comes from the administrator's own crontab and ends up fixed
// in the config file they review; a job can only name it.
//
// Reading order: parse.go (one line), convert.go (a file), render.go (YAML).
package crontab
