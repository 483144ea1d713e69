/* log.h: messages to stderr, human or JSON Lines (--log-json), thread-safe.
 * Everyone may call; nothing here ever prints a secret it was not given. */
#ifndef NV_LOG_H
#define NV_LOG_H

/* NOTICE is shown by default (summaries), INFO with -v (each file), DEBUG with -vv. */
enum nv_log_level { NV_LOG_ERROR, NV_LOG_WARN, NV_LOG_NOTICE, NV_LOG_INFO, NV_LOG_DEBUG };

void nv_log_setup(int json, int verbosity); /* verbosity: -1 quiet, 0 normal, 1+ verbose */
int nv_log_json(void);
void nv_log(enum nv_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One event about one object: "copied", "deleted", "failed", ...
 * Human form: "<event> <key>[: detail]"; JSON: {"event":..,"key":..,"detail":..}. */
void nv_log_item(enum nv_log_level lvl, const char *event, const char *key,
		 const char *detail);
/* Writes s as a JSON string literal (with quotes) into out (cap bytes). */
void nv_json_quote(char *out, unsigned long cap, const char *s);

#endif
