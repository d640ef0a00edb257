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

/* LeakSanitizer's exit code when it finds leaks; the default of --error-exitcode. */
#define DEFAULT_LEAK_EXIT_CODE 23
#define DEFAULT_FAIL_KINDS (MH_LEAK_MASK(MH_LEAK_DEFINITE) | MH_LEAK_MASK(MH_LEAK_INDIRECT))

struct check_opts {
	unsigned fail_kinds;
	int error_exitcode;
	unsigned long long min_bytes;
	const char *junit;
	const char *json;
	const char *keep_trace;
	bool follow_forks;
	struct mh_suppressions *suppressions;
};

/* What the verdict callback gathers, for the exit code and JUnit. */
struct verdicts {
	struct mh_junit_case *cases;
	char **strings;		/* owned copies, freed at the end */
	size_t count, string_count;
	bool failed;
	size_t scanned;		/* processes whose leaks could be classified */
	int err;
};

/* The names --fail-on takes, by enum mh_leak_kind. */
static const char *const kind_names[] = {
	[MH_LEAK_DEFINITE] = "definite", [MH_LEAK_INDIRECT] = "indirect",
	[MH_LEAK_POSSIBLE] = "possible", [MH_LEAK_REACHABLE] = "reachable",
};

static void usage(FILE *out)
{
	unsigned k;

	fputs("usage: memhook check [options] -- PROG [ARGS...]\n"
	      "Run PROG (and every process it starts) and fail on leaks.\n"
	      "  --fail-on=KINDS        comma-separated kinds that fail (default definite,indirect):\n"
	      "                         ", out);
	for (k = MH_LEAK_DEFINITE; k <= MH_LEAK_REACHABLE; k++)
		fprintf(out, "%s|", kind_names[k]);
	fputs("all\n"
	      "  --error-exitcode=N     exit code when a failing leak is found (default 23)\n"
	      "  --suppressions=FILE    LeakSanitizer or Valgrind suppressions (repeatable)\n"
	      "  --min-bytes=N          ignore loss records smaller than N bytes\n"
	      "  --junit=FILE           write a JUnit report, one test case per process image\n"
	      "  --json=FILE            write the JSON report (docs/REPORT.md)\n"
	      "  --trace=FILE           keep the trace in FILE\n"
	      "  --no-follow-forks      check only PROG itself\n"
	      "  -h, --help             print this help\n"
	      "and the options of memhook record (memhook record --help); check leaves\n"
	      "the kernel stream and the periodic samples off unless --kernel,\n"
	      "--sample-interval or --pagemap-interval ask for them.\n"
	      "Exit: --error-exitcode if a failing leak was found, else PROG's status.\n", out);
}

static int parse_kinds(const char *list, unsigned *kinds)
{
	*kinds = 0;
	while (*list) {
		size_t len = strcspn(list, ",");
		unsigned k;

		if (len == 3 && !strncmp(list, "all", 3)) {
			*kinds |= MH_LEAK_MASK(MH_LEAK_DEFINITE) | MH_LEAK_MASK(MH_LEAK_INDIRECT) |
				  MH_LEAK_MASK(MH_LEAK_POSSIBLE) | MH_LEAK_MASK(MH_LEAK_REACHABLE);
		} else {
			for (k = MH_LEAK_DEFINITE; k <= MH_LEAK_REACHABLE; k++) {
				if (strlen(kind_names[k]) == len && !strncmp(list, kind_names[k], len))
					break;
			}
			if (k > MH_LEAK_REACHABLE)
				return -EINVAL;
			*kinds |= MH_LEAK_MASK(k);
		}
		list += len + (list[len] == ',');
	}
	return 0;
}

static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *out > max || *s == '-' ? -EINVAL : 0;
}

/* True if argv, up to "--" or the program, holds option name (as "name" or "name=..."). */
static bool given(int argc, char **argv, const char *name)
{
	size_t len = strlen(name);

	for (int i = 1; i < argc && strcmp(argv[i], "--") && argv[i][0] == '-'; i++) {
		if (!strncmp(argv[i], name, len) && (!argv[i][len] || argv[i][len] == '='))
			return true;
	}
	return false;
}

static bool is_check_option(const char *name)
{
	static const char *const names[] = {
		"--fail-on", "--error-exitcode", "--min-bytes", "--suppressions", "--junit",
		"--json", "--trace",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i]))
			return true;
	}
	return false;
}

/* Apply one check option (is_check_option(name)); 0 or -EINVAL after printing why. */
static int apply(struct check_opts *o, const char *name, const char *value)
{
	unsigned long long n;
	char error[512];
	int err = 0;

	if (!strcmp(name, "--fail-on")) {
		err = parse_kinds(value, &o->fail_kinds);
	} else if (!strcmp(name, "--error-exitcode")) {
		err = parse_number(value, 255, &n);
		o->error_exitcode = (int)n;
	} else if (!strcmp(name, "--min-bytes")) {
		err = parse_number(value, ULLONG_MAX, &o->min_bytes);
	} else if (!strcmp(name, "--suppressions")) {
		err = mh_suppressions_load(o->suppressions, value, error, sizeof(error));
		if (err) {
			fprintf(stderr, "memhook: %s\n", error);
			return -EINVAL;
		}
	} else if (!strcmp(name, "--junit")) {
		o->junit = value;
	} else if (!strcmp(name, "--json")) {
		o->json = value;
	} else {
		o->keep_trace = value;
	}
	if (err)
		fprintf(stderr, "memhook: bad value '%s' for option '%s' (see memhook check --help)\n",
			value, name);
	return err ? -EINVAL : 0;
}

/*
 * Take check's own options out of argv (before "--" or the program's name,
 * never after), leaving record's options and the program for
 * mh_options_parse(). Returns 0, 1 for --help, or -EINVAL.
 */
static int take_check_options(struct check_opts *o, int *argc, char **argv)
{
	int in = 1, out = 1;

	while (in < *argc && strcmp(argv[in], "--") && argv[in][0] == '-') {
		char name[64];
		const char *arg = argv[in], *eq = strchr(arg, '='), *value = eq ? eq + 1 : NULL;
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		int ret;

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(arg, "--no-follow-forks")) {
			o->follow_forks = false;
			in++;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, arg);
		if (!is_check_option(name)) {
			argv[out++] = argv[in++];
			continue;
		}
		if (!value && in + 1 >= *argc) {
			fprintf(stderr, "memhook: missing argument for option '%s' (see memhook check --help)\n",
				name);
			return -EINVAL;
		}
		ret = apply(o, name, value ? value : argv[in + 1]);
		if (ret < 0)
			return ret;
		in += value ? 1 : 2;
	}
	while (in < *argc)
		argv[out++] = argv[in++];
	*argc = out;
	argv[out] = NULL;
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
	char message[256];

	if (!cases) {
		v->err = -ENOMEM;
		return;
	}
	v->cases = cases;
	v->failed |= verdict->failing != 0;
	/* An image replaced by exec passes without a scan: it proves no gate ran. */
	v->scanned += verdict->scanned && !verdict->replaced;
	snprintf(message, sizeof(message),
		 "%llu bytes definitely lost, %llu bytes indirectly lost, %llu possibly lost, %llu still reachable",
		 (unsigned long long)verdict->bytes[MH_LEAK_DEFINITE],
		 (unsigned long long)verdict->bytes[MH_LEAK_INDIRECT],
		 (unsigned long long)verdict->bytes[MH_LEAK_POSSIBLE],
		 (unsigned long long)verdict->bytes[MH_LEAK_REACHABLE]);
	v->cases[v->count] = (struct mh_junit_case){
		.name = keep(v, verdict->name),
		.failed = verdict->failing != 0,
		.message = keep(v, message),
		.details = keep(v, verdict->records),
		.seconds = verdict->seconds,
	};
	v->count++;
}

static int write_junit(const char *path, const struct verdicts *v)
{
	FILE *f = fopen(path, "we");
	int err;

	if (!f) {
		fprintf(stderr, "memhook: cannot create JUnit report '%s': %s\n", path, strerror(errno));
		return MH_EXIT_CANT_CREATE;
	}
	err = mh_junit_write(f, "memhook check", v->cases, v->count);
	if (fclose(f) || err) {
		fprintf(stderr, "memhook: cannot write JUnit report '%s': %s\n", path, strerror(EIO));
		return MH_EXIT_IO;
	}
	return 0;
}

/* Verdicts, reports and the exit code once the trace exists. */
static int judge(const struct check_opts *o, const char *trace, int program_code)
{
	struct verdicts v = { 0 };
	struct mh_report_opts ropts = {
		.format = MH_REPORT_LEAKS,
		.suppressions = o->suppressions,
		.min_bytes = o->min_bytes,
		.fail_kinds = o->fail_kinds,
		.on_verdict = on_verdict,
		.verdict_arg = &v,
	};
	int code = mh_report_to_file(trace, &ropts, NULL, stderr);

	if (!code && v.err)
		code = MH_EXIT_INTERNAL;
	if (!code && o->junit)
		code = write_junit(o->junit, &v);
	if (!code && o->json) {
		struct mh_report_opts json = ropts;

		/* The same loss records and verdicts as printed, with the rest of the report. */
		json.format = MH_REPORT_JSON;
		json.sort = MH_KEY_LEAKED;
		json.on_verdict = NULL;
		code = mh_report_to_file(trace, &json, o->json, NULL);
	}
	if (!code && v.failed)
		code = o->error_exitcode;
	/* A gate that checked nothing must not pass: say so, unless the program failed anyway. */
	if (!code && !v.scanned && !program_code) {
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
	struct check_opts o = {
		.fail_kinds = DEFAULT_FAIL_KINDS,
		.error_exitcode = DEFAULT_LEAK_EXIT_CODE,
		.follow_forks = true,
	};
	struct mh_cli_opts cli;
	struct mh_record_opts *ropts = &cli.record;
	char tmp[PATH_MAX], path[PATH_MAX];
	bool traced = false;
	int ret, code;

	o.suppressions = mh_suppressions_new();
	if (!o.suppressions) {
		fprintf(stderr, "memhook: %s\n", strerror(errno));
		return MH_EXIT_INTERNAL;
	}
	ret = take_check_options(&o, &argc, argv);
	if (!ret)
		ret = mh_options_parse(&cli, argc, argv, false);
	if (ret) {
		mh_suppressions_free(o.suppressions);
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	}
	ropts->follow_forks = o.follow_forks;
	ropts->quiet = true;
	/* A leak gate needs neither the kernel's view nor residency over time. */
	if (!given(argc, argv, "--kernel"))
		ropts->kernel = MH_KERNEL_OFF;
	if (!given(argc, argv, "--sample-interval"))
		ropts->sample_ms = 0;
	if (!given(argc, argv, "--pagemap-interval"))
		ropts->pagemap_ms = 0;
	ropts->output = o.keep_trace;
	if (!o.keep_trace) {
		ret = mh_temp_trace(tmp, sizeof(tmp));
		if (ret) {
			fprintf(stderr, "memhook: cannot create a temporary trace in '%s': %s\n",
				mh_temp_dir(), strerror(-ret));
			mh_suppressions_free(o.suppressions);
			return MH_EXIT_CANT_CREATE;
		}
		ropts->output = tmp;
	}
	code = mh_record_session(ropts, path, sizeof(path), &traced);
	/* The temporary trace is removed even if the reader of stderr has gone. */
	mh_record_survive_closed_pipe();
	if (traced)
		code = judge(&o, path, code);
	if (!o.keep_trace)
		unlink(tmp);
	mh_suppressions_free(o.suppressions);
	return code;
}
