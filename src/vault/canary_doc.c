/* canary_doc.c: the drill document as one JSON line (sorted keys, compact),
 * written and parsed with jansson. Called through canary_doc.h. */
#include "canary_doc.h"
#include "age/age.h"
#include "util/error.h"
#include "vault_doc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int nv_drill_doc_format(char **out, size_t *len, const nv_drill_doc *d)
{
	json_t *r = json_array(), *o;
	char *s;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; r && i < d->n_recipients; i++)
		json_array_append_new(r, json_string(d->recipients[i]));
	o = json_pack("{s:s, s:i, s:s, s:I, s:s, s:o}", "type", "drill", "version", 1,
		      "vault_id", d->vault_id, "serial", (json_int_t)d->serial, "time", d->time,
		      "recipients", r);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!s)
		return nv_error_set(NV_ERR, "out of memory (JSON)");
	*len = strlen(s) + 1;
	if (!(*out = malloc(*len + 1))) {
		free(s);
		return nv_error_set(NV_ERR, "out of memory");
	}
	memcpy(*out, s, *len - 1);
	(*out)[*len - 1] = '\n';
	(*out)[*len] = '\0';
	free(s);
	return 0;
}

/* The recipients array: age X25519 recipients in strictly increasing order. */
static int nv_drill_take_recipients(nv_drill_doc *d, json_t *r)
{
	nv_age_recipient parsed;
	size_t n = json_array_size(r);

	if (!json_is_array(r) || n > NV_DRILL_RECIPIENTS_MAX)
		return nv_error_set(NV_EMISMATCH, "drill document: 'recipients' is not an array "
				    "of at most %d recipients", NV_DRILL_RECIPIENTS_MAX);
	if (n && !(d->recipients = calloc(n, sizeof(char *))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(r, i));

		if (!s || nv_age_recipient_parse(&parsed, s))
			return nv_error_set(NV_EMISMATCH, "drill document: recipient %zu is not an "
					    "age recipient", i + 1);
		if (i && strcmp(d->recipients[i - 1], s) >= 0)
			return nv_error_set(NV_EMISMATCH, "drill document: recipients not sorted or "
					    "listed twice");
		if (!(d->recipients[i] = strdup(s)))
			return nv_error_set(NV_ERR, "out of memory");
		d->n_recipients = i + 1;
	}
	return 0;
}

int nv_drill_doc_parse(nv_drill_doc *out, const char *buf, size_t len)
{
	const char *type = NULL, *vid = NULL, *tm = NULL;
	json_int_t version = 0, serial = 0;
	json_t *o, *r = NULL;
	json_error_t err;
	time_t t;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!len || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1))
		return nv_error_set(NV_EMISMATCH, "drill document: not one line ending in a "
				    "newline");
	o = json_loadb(buf, len - 1, JSON_REJECT_DUPLICATES, &err);
	if (!o || json_unpack(o, "{s:s, s:I, s:s, s:I, s:s, s:o}", "type", &type, "version",
			      &version, "vault_id", &vid, "serial", &serial, "time", &tm,
			      "recipients", &r) != 0 ||
	    strcmp(type, "drill") != 0 || version != 1 || !nv_hex_ok(vid, NV_VAULT_ID_HEX - 1) ||
	    serial < 1 || nv_time_parse(&t, tm) != 0) {
		json_decref(o);
		return nv_error_set(NV_EMISMATCH, "drill document: missing or malformed fields");
	}
	memcpy(out->vault_id, vid, NV_VAULT_ID_HEX);
	snprintf(out->time, sizeof(out->time), "%s", tm);
	out->serial = (uint64_t)serial;
	rc = nv_drill_take_recipients(out, r);
	json_decref(o);
	if (rc)
		nv_drill_doc_clear(out);
	return rc;
}

void nv_drill_doc_clear(nv_drill_doc *d)
{
	for (size_t i = 0; d->recipients && i < d->n_recipients; i++)
		free(d->recipients[i]);
	free(d->recipients);
	memset(d, 0, sizeof(*d));
}
