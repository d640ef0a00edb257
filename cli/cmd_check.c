// SPDX-License-Identifier: MIT
/*
 * cmd_check.c - `memhook check [check opts] [record opts] -- PROG [ARGS]`:
 * a leak gate for CI. Records PROG and every process it forks or execs,
 * prints the loss records of the failing kinds to stderr, optionally
 * writes JUnit and JSON reports, and exits with --error-exitcode when a
 * failing leak was found, else with PROG's own status.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merger/report/report.h"
#include "merger/leaks/suppress.h"
#include "cli/commands.h"
#include "common/exit_codes.h"
#include "cli/report_file.h"
#include "cli/junit.h"
#include "cli/options.h"
#include "recorder/session.h"
#include "cli/temp_trace.h"

/* What the verdict callback gathers, for the exit code and JUnit. */
struct verdicts {
	struct mh_junit_case *cases;
	char **strings;		/* owned copies, freed at the end */
	size_t count, string_count;
	bool failed;
	size_t scanned;		/* processes whose leaks could be classified */
	size_t lossy;		/* processes whose leak kinds are unknown: events were lost */
	__u64 events_lost;	/* in the whole recording */
	int err;
};

/* Load every --suppressions file; 0 or -EINVAL after printing why. */
static int load_suppressions(const struct mh_check_opts *o, struct mh_suppressions *s)
{
	char error[512];

	for (size_t i = 0; i < o->suppression_count; i++) {
		if (mh_suppressions_load(s, o->suppressions[i], error, sizeof(error))) {
			fprintf(stderr, "memhook: %s\n", error);
			return -EINVAL;
		}
	}
	return 0;
}

static char *keep(struct verdicts *v, const char *s)
{
	char **strings = realloc(v->strings, (v->string_count + 1) * sizeof(*strings));
	char *copy = strdup(s);

	if (!strings || !copy) {
		free(copy);
		if (strings)
			v->strings = strings;
		v->err = -ENOMEM;
		return NULL;
	}
	v->strings = strings;
	v->strings[v->string_count++] = copy;
	return copy;
}

static void on_verdict(const struct mh_leak_verdict *verdict, void *arg)
{
	struct verdicts *v = arg;
	struct mh_junit_case *cases = realloc(v->cases, (v->count + 1) * sizeof(*cases));
	char message[1024], lost[640] = "";

	if (!cases) {
		v->err = -ENOMEM;
		return;
	}
	v->cases = cases;
	v->failed |= verdict->failing != 0;
	/* An image replaced by exec passes without a scan: it proves no gate ran. */
	v->scanned += verdict->scanned && !verdict->replaced;
	v->lossy += verdict->events_lost && !verdict->scanned;
	v->events_lost = verdict->events_lost;
	if (!verdict->scanned)
		snprintf(lost, sizeof(lost), "; leak kinds unknown (%s): %llu bytes in %llu blocks",
			 verdict->unknown_why, (unsigned long long)verdict->bytes[MH_LEAK_UNKNOWN],
			 (unsigned long long)verdict->blocks[MH_LEAK_UNKNOWN]);
	snprintf(message, sizeof(message),
		 "%llu bytes definitely lost, %llu bytes indirectly lost, %llu possibly lost, %llu still reachable%s%s%llu events lost in this recording",
		 (unsigned long long)verdict->bytes[MH_LEAK_DEFINITE],
		 (unsigned long long)verdict->bytes[MH_LEAK_INDIRECT],
		 (unsigned long long)verdict->bytes[MH_LEAK_POSSIBLE],
		 (unsigned long long)verdict->bytes[MH_LEAK_REACHABLE], lost, "; ",
		 (unsigned long long)verdict->events_lost);
	v->cases[v->count] = (struct mh_junit_case){
		.name = keep(v, verdict->name),
		.failed = verdict->failing != 0,
		.message = keep(v, message),
		.details = keep(v, verdict->records),
		.seconds = verdict->seconds,
	};
	v->count++;
}

static int write_junit(const struct mh_output_owner *owner, const char *path,
		       const struct verdicts *v)
{
	FILE *f = mh_report_file_create(owner, path, "JUnit report");

	if (!f)
		return MH_EXIT_CANT_CREATE;
	(void)mh_junit_write(f, "memhook check", v->cases, v->count, v->events_lost);
	return mh_report_file_close(f, path, "JUnit report"); /* a write error shows there */
}

/* The last word of check on stderr when events were lost: what it means for the verdicts. */
static void say_lost(const struct verdicts *v, const struct mh_check_opts *o)
{
	if (!v->events_lost)
		return;
	fprintf(stderr, "memhook: %llu events were lost (--lossy ring full): %zu processes have leak kinds unknown, which %s\n",
		(unsigned long long)v->events_lost, v->lossy,
		o->fail_kinds & MH_LEAK_MASK(MH_LEAK_UNKNOWN) ? "fail (--fail-on=unknown)" :
		"do not fail the check (--fail-on=unknown makes them fail)");
}

/* Verdicts, reports and the exit code once the trace exists. */
static int judge(const struct mh_cli_opts *cli, const struct mh_suppressions *supp,
		 const char *trace, int program_code)
{
	const struct mh_check_opts *o = &cli->check;
	struct verdicts v = { 0 };
	struct mh_report_opts ropts = {
		.format = MH_REPORT_LEAKS,
		.suppressions = supp,
		.min_bytes = o->min_bytes,
		.fail_kinds = o->fail_kinds,
		.on_verdict = on_verdict,
		.verdict_arg = &v,
	};
	struct mh_output_owner owner;
	int code;

	/* SUDO_UID and SUDO_GID were checked by the recording. */
	(void)mh_output_owner_init(&owner, cli->record.user != NULL);
	code = mh_report_to_file(trace, &ropts, &owner, NULL, stderr);
	if (!code && v.err)
		code = MH_EXIT_INTERNAL;
	if (!code)
		say_lost(&v, o);
	if (!code && o->junit)
		code = write_junit(&owner, o->junit, &v);
	if (!code && o->json) {
		struct mh_report_opts json = ropts;

		/* The same loss records and verdicts as printed, with the rest of the report. */
		json.format = MH_REPORT_JSON;
		json.sort = MH_KEY_LEAKED;
		json.on_verdict = NULL;
		code = mh_report_to_file(trace, &json, &owner, o->json, NULL);
	}
	if (!code && v.failed)
		code = o->error_exitcode;
	/*
	 * A gate that checked nothing must not pass: say so, unless the
	 * program failed anyway or lost events (said above) are the reason.
	 */
	if (!code && !v.scanned && !v.lossy && !program_code) {
		fputs("memhook: no process could be checked for leaks (see the lines above)\n", stderr);
		code = MH_EXIT_UNAVAILABLE;
	}
	if (!code)
		code = program_code;
	for (size_t i = 0; i < v.string_count; i++)
		free(v.strings[i]);
	free(v.strings);
	free(v.cases);
	return code;
}

int mh_cmd_check(int argc, char **argv)
{
	struct mh_suppressions *supp;
	struct mh_cli_opts cli;
	struct mh_record_opts *ropts = &cli.record;
	char tmp[PATH_MAX], path[PATH_MAX];
	bool traced = false;
	int ret, code;

	ret = mh_options_parse(&cli, MH_CMD_CHECK, argc, argv);
	if (ret)
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	supp = mh_suppressions_new();
	if (!supp) {
		fprintf(stderr, "memhook: %s\n", strerror(errno));
		return MH_EXIT_INTERNAL;
	}
	if (load_suppressions(&cli.check, supp)) {
		mh_suppressions_free(supp);
		return MH_EXIT_USAGE;
	}
	ropts->quiet = true;
	ropts->output = cli.keep_trace;
	if (!cli.keep_trace) {
		ret = mh_temp_trace(tmp, sizeof(tmp));
		if (ret) {
			fprintf(stderr, "memhook: cannot create a temporary trace in '%s': %s\n",
				mh_temp_dir(), strerror(-ret));
			mh_suppressions_free(supp);
			return MH_EXIT_CANT_CREATE;
		}
		ropts->output = tmp;
		ropts->output_private = true;
	}
	code = mh_record_session(ropts, path, sizeof(path), &traced);
	/* The temporary trace is removed even if the reader of stderr has gone. */
	mh_record_survive_closed_pipe();
	if (traced)
		code = judge(&cli, supp, path, code);
	if (!cli.keep_trace)
		unlink(tmp);
	mh_suppressions_free(supp);
	return code;
}
