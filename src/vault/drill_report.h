/* drill_report.h: a drill's report (drill.h) as a JSON document for programs
 * (the schema: navette(1), DRILL REPORT) and as a Markdown page for an
 * auditor, each written atomically with mode 0600 (it names the vault's
 * files). Untrusted text is escaped here, once per form. Called by
 * cmd_drill.c. */
#ifndef NV_VAULT_DRILL_REPORT_H
#define NV_VAULT_DRILL_REPORT_H

#include "drill.h"
#include "util/strbuf.h"

/* The report as JSON (one object and a newline), or as Markdown. */
void nv_drill_json(nv_sb *b, const nv_drill_report *r);
void nv_drill_markdown(nv_sb *b, const nv_drill_report *r);
/* Either of them, written to path through a temporary file renamed over it. */
int nv_drill_write_json(const char *path, const nv_drill_report *r);
int nv_drill_write_markdown(const char *path, const nv_drill_report *r);

/* s for a Markdown table cell (where every untrusted text of the page goes):
 * escaped for a terminal (util/escape.h: controls, bidi, bytes that are not
 * UTF-8), then each character that means something inline (\ ` * _ [ ] ( )
 * < > ! & | ~ : $ # = ^, and the dot of "www.") behind a backslash
 * (CommonMark, GFM): no name can make a link, an image, an autolink, HTML,
 * emphasis or another cell. */
void nv_md_escape(nv_sb *b, const char *s);
/* An age or a duration in seconds, as people read it: "45s", "12m 5s",
 * "3h 12m", "2d 4h"; "unknown" when secs < 0. */
void nv_drill_age_text(char out[32], long long secs);
/* "passed" or "failed", as the exit code says. */
const char *nv_drill_result(const nv_drill_report *r);
/* "full" or "sample". */
const char *nv_drill_mode_name(nv_drill_mode m);

#endif
