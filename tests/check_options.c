// SPDX-License-Identifier: MIT
/*
 * check_options.c - one option parser for every subcommand (cli/options.c).
 * Table-driven: every option record takes, in both spellings (--opt=v,
 * --opt v) and in several orders, parsed by record, run and check; the
 * oracle is the value written in the table. check's own defaults (kernel
 * stream and samples off) must never override an option given, and an
 * option's missing argument is never taken from "--".
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "tests/testutil.h"

/* One option of the table and what it must set. */
struct opt_case {
	const char *name;		/* "--ring-size" */
	const char *value;		/* NULL: a flag */
	bool (*holds)(const struct mh_cli_opts *o);	/* the expected effect */
	unsigned commands;		/* where it is accepted */
};

static bool ring_64k(const struct mh_cli_opts *o) { return o->record.ring_bytes == 65536; }
static bool lossy(const struct mh_cli_opts *o) { return o->record.lossy; }
static bool depth_7(const struct mh_cli_opts *o) { return o->record.depth == 7; }
static bool forks(const struct mh_cli_opts *o) { return o->record.follow_forks; }
static bool no_exec(const struct mh_cli_opts *o) { return !o->record.follow_exec; }
static bool unwind_fp(const struct mh_cli_opts *o) { return !strcmp(o->record.unwind, "fp"); }
static bool no_freeres(const struct mh_cli_opts *o) { return !o->record.freeres; }
static bool kernel_on(const struct mh_cli_opts *o) { return o->record.kernel == MH_KERNEL_ON; }
static bool sample_50(const struct mh_cli_opts *o) { return o->record.sample_ms == 50; }
static bool pagemap_70(const struct mh_cli_opts *o) { return o->record.pagemap_ms == 70; }
static bool unit_3(const struct mh_cli_opts *o) { return o->record.time_unit_ns == 3; }
static bool user_nobody(const struct mh_cli_opts *o)
{
	return o->record.user && !strcmp(o->record.user, "nobody");
}
static bool quiet(const struct mh_cli_opts *o) { return o->record.quiet; }
static bool junit(const struct mh_cli_opts *o)
{
	return o->check.junit && !strcmp(o->check.junit, "j.xml");
}
static bool json(const struct mh_cli_opts *o)
{
	return o->check.json && !strcmp(o->check.json, "j.json");
}
static bool fail_all(const struct mh_cli_opts *o) { return o->check.fail_kinds == 0x1e; }
static bool exit_42(const struct mh_cli_opts *o) { return o->check.error_exitcode == 42; }
static bool min_9(const struct mh_cli_opts *o) { return o->check.min_bytes == 9; }
static bool supp(const struct mh_cli_opts *o)
{
	return o->check.suppression_count == 1 && !strcmp(o->check.suppressions[0], "s.supp");
}
static bool keep(const struct mh_cli_opts *o)
{
	return o->keep_trace && !strcmp(o->keep_trace, "k.mht");
}

#define REC (MH_CMD_RECORD | MH_CMD_RUN | MH_CMD_CHECK)

static const struct opt_case cases[] = {
	{ "--ring-size", "64K", ring_64k, REC },
	{ "--lossy", NULL, lossy, REC },
	{ "--depth", "7", depth_7, REC },
	{ "--follow-forks", NULL, forks, REC },
	{ "--no-follow-exec", NULL, no_exec, REC },
	{ "--unwind", "fp", unwind_fp, REC },
	{ "--no-freeres", NULL, no_freeres, REC },
	{ "--kernel", "on", kernel_on, REC },
	{ "--sample-interval", "50", sample_50, REC },
	{ "--pagemap-interval", "70", pagemap_70, REC },
	{ "--time-resolution", "3", unit_3, REC },
	{ "--user", "nobody", user_nobody, REC },
	{ "--quiet", NULL, quiet, REC },
	{ "--junit", "j.xml", junit, MH_CMD_CHECK },
	{ "--json", "j.json", json, MH_CMD_CHECK },
	{ "--fail-on", "all", fail_all, MH_CMD_CHECK },
	{ "--error-exitcode", "42", exit_42, MH_CMD_CHECK },
	{ "--min-bytes", "9", min_9, MH_CMD_CHECK },
	{ "--suppressions", "s.supp", supp, MH_CMD_CHECK },
	{ "--trace", "k.mht", keep, MH_CMD_RUN | MH_CMD_CHECK },
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))
#define MAX_ARGS (2 * CASE_COUNT + 8)

static const enum mh_command commands[] = { MH_CMD_RECORD, MH_CMD_RUN, MH_CMD_CHECK };
static const char *const command_names[] = { "record", "run", "check" };

/* argv = NAME, the options of command in order (joined: --opt=v), "--", "prog". */
static int build_argv(char **argv, char store[][64], const char *name, unsigned command,
		      const size_t *order, bool joined)
{
	int n = 0;

	argv[n++] = (char *)name;
	for (size_t k = 0; k < CASE_COUNT; k++) {
		const struct opt_case *c = &cases[order[k]];

		if (!(c->commands & command))
			continue;
		if (c->value && joined) {
			snprintf(store[k], 64, "%s=%s", c->name, c->value);
			argv[n++] = store[k];
			continue;
		}
		argv[n++] = (char *)c->name;
		if (c->value)
			argv[n++] = (char *)c->value;
	}
	argv[n++] = "--";
	argv[n++] = "prog";
	argv[n] = NULL;
	return n;
}

/* Every option in three orders and both spellings, for record, run and check. */
START_TEST(every_option_every_order_and_spelling)
{
	static char store[CASE_COUNT][64];
	size_t order[CASE_COUNT];
	char *argv[MAX_ARGS];
	struct mh_cli_opts o;

	for (size_t cmd = 0; cmd < 3; cmd++) {
		for (int rot = 0; rot < 3; rot++) {
			for (int joined = 0; joined < 2; joined++) {
				/* Orders: as listed, reversed, rotated by a third. */
				for (size_t k = 0; k < CASE_COUNT; k++)
					order[k] = rot == 0 ? k : rot == 1 ? CASE_COUNT - 1 - k :
						   (k + CASE_COUNT / 3) % CASE_COUNT;
				int argc = build_argv(argv, store, command_names[cmd], commands[cmd],
						      order, joined);

				ck_assert_msg(mh_options_parse(&o, commands[cmd], argc, argv) == 0,
					      "%s rejected its options (order %d, %s)",
					      command_names[cmd], rot, joined ? "--opt=v" : "--opt v");
				for (size_t k = 0; k < CASE_COUNT; k++) {
					if (cases[k].commands & commands[cmd])
						ck_assert_msg(cases[k].holds(&o),
							      "%s %s not honoured (order %d, %s)",
							      command_names[cmd], cases[k].name, rot,
							      joined ? "--opt=v" : "--opt v");
				}
				ck_assert_str_eq(o.record.prog_argv[0], "prog");
			}
		}
	}
}
END_TEST

/* Each option alone, after a space-separated value of another: the old check mis-parsed that. */
START_TEST(each_option_after_a_spaced_value)
{
	struct mh_cli_opts o;

	for (size_t k = 0; k < CASE_COUNT; k++) {
		char joined[80], *argv[8];
		int n = 0;

		if (!(cases[k].commands & MH_CMD_CHECK))
			continue;
		argv[n++] = "check";
		argv[n++] = "--ring-size";
		argv[n++] = "64K";
		if (cases[k].value)
			snprintf(joined, sizeof(joined), "%s=%s", cases[k].name, cases[k].value);
		argv[n++] = cases[k].value ? joined : (char *)cases[k].name;
		argv[n++] = "--";
		argv[n++] = "prog";
		argv[n] = NULL;
		ck_assert_msg(mh_options_parse(&o, MH_CMD_CHECK, n, argv) == 0,
			      "check --ring-size 64K %s rejected", argv[3]);
		ck_assert_msg(cases[k].holds(&o) && ring_64k(&o), "check --ring-size 64K %s not honoured",
			      argv[3]);
	}
}
END_TEST

/* check's defaults (no kernel stream, no samples, follow forks) apply only when not asked otherwise. */
START_TEST(check_defaults_never_override)
{
	char *plain[] = { "check", "--", "prog", NULL };
	char *asked[] = { "check", "--sample-interval", "50", "--kernel=on", "--pagemap-interval",
			  "70", "--no-follow-forks", "--", "prog", NULL };
	struct mh_cli_opts o;

	ck_assert_int_eq(mh_options_parse(&o, MH_CMD_CHECK, 3, plain), 0);
	ck_assert_int_eq(o.record.kernel, MH_KERNEL_OFF);
	ck_assert_uint_eq(o.record.sample_ms, 0);
	ck_assert_uint_eq(o.record.pagemap_ms, 0);
	ck_assert(o.record.follow_forks);
	ck_assert_int_eq(mh_options_parse(&o, MH_CMD_CHECK, 9, asked), 0);
	ck_assert_int_eq(o.record.kernel, MH_KERNEL_ON);
	ck_assert_uint_eq(o.record.sample_ms, 50);
	ck_assert_uint_eq(o.record.pagemap_ms, 70);
	ck_assert(!o.record.follow_forks);
}
END_TEST

/* Command lines that must be refused, each with its reason. */
START_TEST(bad_command_lines_are_refused)
{
	static const struct {
		enum mh_command cmd;
		const char *argv[8];
	} bad[] = {
		{ MH_CMD_RUN, { "run", "-o", "--", "prog" } },		/* -o's argument is missing */
		{ MH_CMD_RECORD, { "record", "-o", "--", "prog" } },
		{ MH_CMD_CHECK, { "check", "--junit", "--", "prog" } },
		{ MH_CMD_RECORD, { "record", "--ring-size", "9223372036854775808", "--", "prog" } },
		{ MH_CMD_RECORD, { "record", "--ring-size", "16777216G", "--", "prog" } },
		{ MH_CMD_RECORD, { "record", "--ring-size", "96K", "--", "prog" } },
		{ MH_CMD_RECORD, { "record", "--junit=j.xml", "--", "prog" } },	/* check only */
		{ MH_CMD_RECORD, { "record", "--time-resolution", "0", "--", "prog" } },
		{ MH_CMD_RUN, { "run", "--time-resolution=1000001", "--", "prog" } },
		{ MH_CMD_CHECK, { "check", "--fail-on=bogus", "--", "prog" } },
		{ MH_CMD_CHECK, { "check", "--error-exitcode", "256", "--", "prog" } },
		{ MH_CMD_RUN, { "run", "--user=nobody", "--as-root", "--", "prog" } },
		{ MH_CMD_REPORT, { "report", "a.mht", "b.mht" } },
		{ MH_CMD_COLLECT, { "collect", "-o", "x.mht" } },		/* no -p */
	};
	struct mh_cli_opts o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0;

		while (bad[i].argv[argc])
			argc++;
		ck_assert_msg(mh_options_parse(&o, bad[i].cmd, argc, (char **)bad[i].argv) == -EINVAL,
			      "accepted: %s %s %s", bad[i].argv[0], bad[i].argv[1],
			      bad[i].argv[2] ? bad[i].argv[2] : "");
	}
}
END_TEST

/* report and collect share the table: their options in both spellings, operands anywhere. */
START_TEST(report_and_collect_use_the_same_table)
{
	char *report[] = { "report", "t.mht", "--format", "json", "--top=3", "-o", "r.json", NULL };
	char *collect[] = { "collect", "--pid=42", "-f", "--output", "c.mht", "-q", NULL };
	char *unknown_fail_on[] = { "check", "--fail-on=definite,unknown", "--", "prog", NULL };
	struct mh_cli_opts o;

	ck_assert_int_eq(mh_options_parse(&o, MH_CMD_REPORT, 7, report), 0);
	ck_assert_str_eq(o.trace, "t.mht");
	ck_assert_int_eq(o.report.format, MH_REPORT_JSON);
	ck_assert_uint_eq(o.report.top, 3);
	ck_assert_str_eq(o.report_out, "r.json");
	ck_assert_int_eq(mh_options_parse(&o, MH_CMD_COLLECT, 6, collect), 0);
	ck_assert_int_eq(o.pid, 42);
	ck_assert(o.follow_forks && o.quiet);
	ck_assert_str_eq(o.record.output, "c.mht");
	ck_assert_int_eq(mh_options_parse(&o, MH_CMD_CHECK, 4, unknown_fail_on), 0);
	ck_assert_uint_eq(o.check.fail_kinds, MH_LEAK_MASK(MH_LEAK_DEFINITE) |
			  MH_LEAK_MASK(MH_LEAK_UNKNOWN));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("Parse");

	tcase_add_test(tc, every_option_every_order_and_spelling);
	tcase_add_test(tc, each_option_after_a_spaced_value);
	tcase_add_test(tc, check_defaults_never_override);
	tcase_add_test(tc, bad_command_lines_are_refused);
	tcase_add_test(tc, report_and_collect_use_the_same_table);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
