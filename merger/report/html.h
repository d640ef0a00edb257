/* SPDX-License-Identifier: MIT */
/*
 * html.h - what the HTML page's two halves share: html.c writes the page
 * (styles, libraries, the view script), html_data.c the data the view
 * draws, aggregated here in C (flame graph trees, leak records, series).
 *
 * Internal to merger/report/html*.c. Never prints but to the report.
 */
#ifndef MEMHOOK_MERGER_REPORT_HTML_H
#define MEMHOOK_MERGER_REPORT_HTML_H

struct mh_json;
struct mh_report_ctx;

/* Loss records the page lists per process; the rest are counted. */
#define MH_HTML_LEAK_RECORDS 2000

/*
 * Write the page's data object (docs/REPORT.md, "html") as one JSON value
 * through j. 0 or -ENOMEM.
 */
int mh_html_write_data(struct mh_report_ctx *ctx, struct mh_json *j);

#endif /* MEMHOOK_MERGER_REPORT_HTML_H */
