/* bwtable.c: parsing --bwlimit's rates and timetables, and choosing the entry in
 * force (bwtable.h). Called by the command line and by bwlimit.c. */
#include "bwtable.h"
#include "util/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const nv_bw_days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* One direction's value: digits[.digits][suffix], or "off". */
static int nv_bw_value(uint64_t *out, const char *s, size_t len)
{
	static const char suffixes[] = "kmgt";
	double v = 0, scale = 1;
	size_t i = 0, digits = 0;
	const char *suf;

	if (len == 3 && strncasecmp(s, "off", 3) == 0) {
		*out = 0;
		return 0;
	}
	for (; i < len && isdigit((unsigned char)s[i]); i++, digits++)
		v = v * 10 + (s[i] - '0');
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit((unsigned char)s[i]); i++, digits++)
			v += (s[i] - '0') * (scale /= 10);
	/* K, M, G, T (binary), optionally followed by i and B, as sizes are written */
	if (i < len && s[i] && (suf = strchr(suffixes, tolower((unsigned char)s[i])))) {
		for (long k = suf - suffixes; k >= 0; k--)
			v *= 1024;
		if (++i < len && (s[i] == 'i' || s[i] == 'I'))
			i++;
	}
	if (i < len && (s[i] == 'b' || s[i] == 'B'))
		i++;
	if (!digits || i != len)
		return nv_error_set(NV_EINVAL, "--bwlimit: '%.*s' is not a rate (bytes/s with "
				    "an optional K, M, G or T suffix, or off)", (int)len, s);
	if ((v > 0 && v < 1) || v >= 9007199254740992.0) /* 2^53 */
		return nv_error_set(NV_EINVAL, "--bwlimit: rate '%.*s' out of range", (int)len, s);
	*out = (uint64_t)v; /* 0 means off, as rclone reads it */
	return 0;
}

int nv_bw_rate_parse(uint64_t *out, const char *text, size_t len)
{
	if (memchr(text, ':', len))
		return nv_error_set(NV_EINVAL, "--bwlimit: '%.*s' is not a rate (a timetable "
				    "entry is TIME,RATE; rclone's UP:DOWN pairs are not taken: one "
				    "rate counts what is read and written)", (int)len, text);
	return nv_bw_value(out, text, len);
}

/* "HH:MM" or "Ddd-HH:MM": *day is 0..6, or -1 for every day. */
static int nv_bw_when(const char *s, size_t len, int *day, unsigned *minute)
{
	unsigned h = 0, m = 0;
	size_t i = 0, hd = 0;

	*day = -1;
	if (len > 4 && s[3] == '-') {
		for (int d = 0; d < 7; d++)
			if (strncasecmp(s, nv_bw_days[d], 3) == 0)
				*day = d;
		if (*day < 0)
			goto bad;
		i = 4;
	}
	for (; i < len && isdigit((unsigned char)s[i]) && hd < 2; i++, hd++)
		h = h * 10 + (unsigned)(s[i] - '0');
	if (!hd || i + 3 != len || s[i] != ':' || !isdigit((unsigned char)s[i + 1]) ||
	    !isdigit((unsigned char)s[i + 2]))
		goto bad;
	m = (unsigned)(s[i + 1] - '0') * 10 + (unsigned)(s[i + 2] - '0');
	if (h > 23 || m > 59)
		goto bad;
	*minute = h * 60 + m;
	return 0;
bad:
	return nv_error_set(NV_EINVAL, "--bwlimit: '%.*s' is not a time (HH:MM or Ddd-HH:MM, "
			    "Ddd one of Mon..Sun)", (int)len, s);
}

static int nv_bw_add(nv_bw_table *t, unsigned minute, uint64_t rate)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].minute == minute)
			return nv_error_set(NV_EINVAL, "--bwlimit: two entries for %s %02u:%02u",
					    nv_bw_days[minute / 1440], minute % 1440 / 60,
					    minute % 60);
	t->e[t->n].minute = minute;
	t->e[t->n].rate = rate;
	t->n++;
	return 0;
}

/* One "[Ddd-]HH:MM,RATE" entry of len bytes. */
static int nv_bw_entry_parse(nv_bw_table *t, const char *s, size_t len)
{
	const char *comma = memchr(s, ',', len);
	uint64_t rate;
	unsigned minute = 0;
	int day, rc;

	if (!comma)
		return nv_error_set(NV_EINVAL, "--bwlimit: '%.*s': a timetable entry is "
				    "TIME,RATE (08:00,10M)", (int)len, s);
	if ((rc = nv_bw_when(s, (size_t)(comma - s), &day, &minute)) ||
	    (rc = nv_bw_rate_parse(&rate, comma + 1, len - (size_t)(comma - s) - 1)))
		return rc;
	for (int d = 0; d < 7; d++)
		if ((day < 0 || day == d) && (rc = nv_bw_add(t, (unsigned)d * 1440 + minute, rate)))
			return rc;
	return 0;
}

static int nv_bw_entry_cmp(const void *a, const void *b)
{
	unsigned x = ((const nv_bw_entry *)a)->minute, y = ((const nv_bw_entry *)b)->minute;

	return x < y ? -1 : x > y;
}

int nv_bw_table_parse(nv_bw_table *t, const char *text)
{
	const char *p = text;
	size_t entries = 0, first;
	int rc;

	t->n = 0;
	p += strspn(p, " \t");
	if (!*p)
		return nv_error_set(NV_EINVAL, "--bwlimit: empty value (a rate, off, or a "
				    "timetable such as \"08:00,10M 19:00,off\")");
	first = strcspn(p, " \t");
	if (!memchr(p, ',', first) && !p[first + strspn(p + first, " \t")]) {
		uint64_t r; /* one rate for all the time */

		if ((rc = nv_bw_rate_parse(&r, p, first)))
			return rc;
		return nv_bw_add(t, 0, r);
	}
	while (*p) {
		size_t n = strcspn(p, " \t");

		if (++entries > NV_BW_MAX_ENTRIES)
			return nv_error_set(NV_EINVAL, "--bwlimit: more than %d timetable entries",
					    NV_BW_MAX_ENTRIES);
		if ((rc = nv_bw_entry_parse(t, p, n)))
			return rc;
		p += n;
		p += strspn(p, " \t");
	}
	qsort(t->e, t->n, sizeof(t->e[0]), nv_bw_entry_cmp);
	return 0;
}

uint64_t nv_bw_table_at(const nv_bw_table *t, unsigned week_minute)
{
	size_t i;

	if (!t->n)
		return 0;
	for (i = 0; i < t->n && t->e[i].minute <= week_minute; i++)
		;
	return t->e[i ? i - 1 : t->n - 1].rate;
}

int nv_bw_table_limits(const nv_bw_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].rate)
			return 1;
	return 0;
}

unsigned nv_bw_week_minute(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return (unsigned)((tm.tm_wday + 6) % 7) * 1440 + (unsigned)tm.tm_hour * 60 +
	       (unsigned)tm.tm_min;
}
