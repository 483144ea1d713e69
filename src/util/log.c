/* log.c: stderr logging, human or JSON Lines; one write per line so lines
 * from several workers never interleave. Everyone may call. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int nv_log_as_json;
static int nv_log_verbosity;

void nv_log_setup(int json, int verbosity)
{
	nv_log_as_json = json;
	nv_log_verbosity = verbosity;
}

int nv_log_json(void) { return nv_log_as_json; }

static const char *const nv_level_names[] = { "error", "warning", "notice", "info", "debug" };

static int nv_log_enabled(enum nv_log_level lvl)
{
	if (lvl <= NV_LOG_WARN)
		return 1;
	return (int)lvl - 2 <= nv_log_verbosity;
}

void nv_json_quote(char *out, unsigned long cap, const char *s)
{
	unsigned long n = 0;

	if (cap < 3)
		return;
	out[n++] = '"';
	for (; *s && n + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (unsigned long)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
}

static void nv_log_emit(enum nv_log_level lvl, const char *event, const char *key,
			const char *msg)
{
	char line[8192], q[4096], ts[32];
	struct timespec now;
	struct tm tm;
	int n;

	if (!nv_log_as_json) {
		if (event)
			n = snprintf(line, sizeof(line), "%s %s%s%s\n", event, key,
				     msg ? ": " : "", msg ? msg : "");
		else
			n = snprintf(line, sizeof(line), "navette: %s%s\n",
				     lvl == NV_LOG_ERROR ? "error: " :
				     lvl == NV_LOG_WARN ? "warning: " : "", msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", ts,
			     now.tv_nsec / 1000000, nv_level_names[lvl]);
		if (event) {
			nv_json_quote(q, sizeof(q), key);
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      ",\"event\":\"%s\",\"key\":%s", event, q);
		}
		if (msg) {
			nv_json_quote(q, sizeof(q), msg);
			n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"%s\":%s",
				      event ? "detail" : "msg", q);
		}
		if (n > (int)sizeof(line) - 3)
			n = (int)sizeof(line) - 3;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "}\n");
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	fwrite(line, 1, (size_t)n, stderr);
}

void nv_log(enum nv_log_level lvl, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (!nv_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nv_log_emit(lvl, NULL, NULL, msg);
}

void nv_log_item(enum nv_log_level lvl, const char *event, const char *key,
		 const char *detail)
{
	if (nv_log_enabled(lvl))
		nv_log_emit(lvl, event, key, detail);
}
