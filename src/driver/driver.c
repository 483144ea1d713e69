/* driver.c: the registry of compiled-in drivers, location parsing, key checks,
 * and the nv_drv_* wrappers: the one choke point for tracing, fault injection
 * (the rules live in fault.c), --bwlimit (bwlimit.c) and --max-transfer (txcap.c). */
#include "driver.h"
#include "bwlimit.h"
#include "fault.h"
#include "txcap.h"
#include "util/log.h"
#include "util/times.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const nv_driver nv_driver_local;
extern const nv_driver nv_driver_sftp;
extern const nv_driver nv_driver_s3;
extern const nv_driver nv_driver_azure;

static const nv_driver *const nv_builtin_drivers[] = {
	&nv_driver_local, &nv_driver_sftp, &nv_driver_s3, &nv_driver_azure, NULL,
};


struct nv_store {
	const nv_driver *d;
	struct nv_conn *c;
	const nv_location *loc;
};

struct nv_lister {
	nv_store *s;
	struct nv_list *it;
	nv_list_skip_fn skip; /* may be NULL: what is no file goes unsaid */
	void *skip_ctx;
};

struct nv_wstream {
	nv_store *s;
	struct nv_writer *w;
	char *key;
};

struct nv_leftover_list {
	nv_store *s;
	struct nv_leftovers *it;
};

const nv_driver *const *nv_drivers(void)
{
	return nv_builtin_drivers;
}

const nv_driver *nv_driver_find(const char *name)
{
	for (const nv_driver *const *d = nv_builtin_drivers; *d; d++)
		if (strcmp((*d)->name, name) == 0)
			return *d;
	return NULL;
}

static const nv_driver *nv_driver_for_scheme(const char *scheme, size_t n)
{
	for (const nv_driver *const *d = nv_builtin_drivers; *d; d++)
		for (const char *const *s = (*d)->schemes; *s; s++)
			if (strlen(*s) == n && strncmp(*s, scheme, n) == 0)
				return *d;
	return NULL;
}

/* Lexically normalises an absolute path: no ".", "..", "//" or trailing '/'. */
static char *nv_path_normalise(const char *in)
{
	size_t len = strlen(in), n = 0;
	char *out = malloc(len + 2);
	const char *c = in;

	if (!out)
		return NULL;
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t k = slash ? (size_t)(slash - c) : strlen(c);

		if (k == 0 || (k == 1 && c[0] == '.')) {
			/* skip */
		} else if (k == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			out[n++] = '/';
			memcpy(out + n, c, k);
			n += k;
		}
		if (!slash)
			break;
		c = slash + 1;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

static char *nv_path_absolute(const char *p)
{
	char cwd[4096], *joined, *norm;

	if (p[0] == '/')
		return nv_path_normalise(p);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&joined, "%s/%s", cwd, p) < 0)
		return NULL;
	norm = nv_path_normalise(joined);
	free(joined);
	return norm;
}

void nv_location_free(nv_location *loc)
{
	if (!loc)
		return;
	free(loc->text);
	free(loc->remote);
	free(loc->authority);
	free(loc->path);
	nv_settings_free(loc->settings);
	free(loc);
}

static int nv_is_remote_name(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* Parses text into loc; messages name loc->text (credentials stripped). */
static int nv_location_fill(nv_location *loc, const char *text, const nv_config *cfg)
{
	const char *sep = strstr(text, "://"), *colon = strchr(text, ':');
	const char *slash = strchr(text, '/');

	if (strncmp(text, "file://", 7) == 0) {
		if (text[7] != '/')
			return nv_error_set(NV_EINVAL, "location '%s': file:// URLs need an "
					    "absolute path (file:///dir)", loc->text);
		loc->driver = &nv_driver_local;
		loc->path = nv_path_absolute(text + 7);
	} else if (sep && (!slash || sep < slash)) {
		const char *auth = sep + 3, *rest = strchr(auth, '/');

		loc->driver = nv_driver_for_scheme(text, (size_t)(sep - text));
		if (!loc->driver)
			return nv_error_set(NV_EINVAL, "location '%s': unknown scheme '%.*s' "
					    "(see navette --version for the drivers built in)",
					    loc->text, (int)(sep - text), text);
		loc->authority = rest ? strndup(auth, (size_t)(rest - auth)) : strdup(auth);
		loc->path = strdup(rest ? rest : "");
		if (loc->authority && !loc->authority[0])
			return nv_error_set(NV_EINVAL, "location '%s': nothing between '://' "
					    "and the path", loc->text);
	} else if (colon && (!slash || colon < slash) &&
		   nv_is_remote_name(text, (size_t)(colon - text))) {
		const char *type;

		loc->remote = strndup(text, (size_t)(colon - text));
		if (!loc->remote)
			return nv_error_set(NV_ERR, "out of memory");
		type = nv_config_remote_type(cfg, loc->remote);
		if (!type)
			return nv_error_set(NV_EINVAL, "location '%s': no remote named '%s' in the "
					    "config file (for a local path holding ':', write "
					    "./%s)", loc->text, loc->remote, loc->text);
		loc->driver = nv_driver_find(type);
		if (!loc->driver)
			return nv_error_set(NV_EINVAL, "remote '%s' has unknown type '%s' "
					    "(local, sftp, s3 or azure)", loc->remote, type);
		if (loc->driver == &nv_driver_local)
			loc->path = nv_path_absolute(colon[1] ? colon + 1 : ".");
		else
			loc->path = strdup(colon + 1);
	} else {
		loc->driver = &nv_driver_local;
		loc->path = nv_path_absolute(text);
	}
	if (!loc->path)
		return nv_error_set(NV_ERR, "location '%s': cannot resolve the path", loc->text);
	loc->settings = nv_settings_new(cfg, loc->remote);
	if (!loc->settings)
		return nv_error_set(NV_ERR, "out of memory");
	return 0;
}

int nv_location_parse(nv_location **out, const char *text, const nv_config *cfg)
{
	nv_location *loc;
	int rc;

	*out = NULL;
	if (!text || !*text)
		return nv_error_set(NV_EINVAL, "empty location");
	loc = calloc(1, sizeof(*loc));
	/* What every message, log line and label shows: never a password. */
	if (!loc || !(loc->text = nv_location_public(text))) {
		free(loc);
		return nv_error_set(NV_ERR, "out of memory");
	}
	rc = nv_location_fill(loc, text, cfg);
	if (rc) {
		nv_location_free(loc);
		return rc;
	}
	*out = loc;
	return 0;
}

/* ---- Wrappers ---- */

int nv_drv_open(nv_store **out, const nv_location *loc)
{
	nv_store *s;
	int rc;

	*out = NULL;
	if (loc->driver->version < 1 || loc->driver->version > NV_DRIVER_VERSION)
		return nv_error_set(NV_ENOTSUP, "driver %s has interface version %d",
				    loc->driver->name, loc->driver->version);
	if ((rc = nv_fault_check(NV_FAULT_OPEN)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return nv_error_set(NV_ERR, "out of memory");
	s->d = loc->driver;
	s->loc = loc;
	rc = s->d->open(&s->c, loc);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void nv_drv_close(nv_store *s)
{
	if (!s)
		return;
	s->d->close(s->c);
	free(s);
}

const nv_driver *nv_drv_driver(const nv_store *s) { return s->d; }
const nv_location *nv_drv_location(const nv_store *s) { return s->loc; }

int nv_drv_list_open(nv_lister **out, nv_store *s, const char *prefix)
{
	nv_lister *l;
	int rc;

	*out = NULL;
	if (prefix[0]) {
		char *dir;

		if (prefix[strlen(prefix) - 1] != '/')
			return nv_error_set(NV_EINVAL, "list prefix '%s' must end with '/'", prefix);
		dir = strndup(prefix, strlen(prefix) - 1);
		if (!dir)
			return nv_error_set(NV_ERR, "out of memory");
		rc = nv_key_check(dir);
		free(dir);
		if (rc)
			return rc;
	}
	if ((rc = nv_fault_check(NV_FAULT_LIST)))
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	l->s = s;
	rc = s->d->list_open(&l->it, s->c, prefix);
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int nv_drv_list_next(nv_lister *l, nv_entry *out)
{
	int rc;

	for (;;) {
		memset(out, 0, sizeof(*out)); /* fields a driver of an older version does not know */
		rc = l->s->d->list_next(l->it, out);
		if (rc || !(out->flags & NV_ENTRY_NOT_FILE))
			return rc;
		if (l->skip)
			l->skip(l->skip_ctx, out);
	}
}

void nv_drv_list_observe(nv_lister *l, nv_list_skip_fn fn, void *ctx)
{
	l->skip = fn;
	l->skip_ctx = ctx;
}

void nv_drv_list_close(nv_lister *l)
{
	if (!l)
		return;
	l->s->d->list_close(l->it);
	free(l);
}

int nv_drv_stat(nv_store *s, const char *key, nv_entry *out)
{
	int rc = nv_key_check(key);

	if (rc || (rc = nv_fault_check(NV_FAULT_STAT)))
		return rc;
	memset(out, 0, sizeof(*out));
	return s->d->stat(s->c, key, out);
}

/* The read in slices --bwlimit allows (one slice of len without a limit), each
 * paced once read; a short slice is the end of the object. */
static int nv_read_paced(nv_store *s, const char *key, uint64_t offset, unsigned char *buf,
			 size_t len, size_t *got)
{
	size_t slice = nv_bwlimit_slice(len), k, n;
	int rc;

	nv_bwlimit_read_begin();
	do {
		k = len - *got < slice ? len - *got : slice;
		n = 0;
		rc = s->d->read(s->c, key, offset + *got, buf + *got, k, &n);
		*got += n;
		nv_bwlimit_read(n);
	} while (rc == 0 && n == k && *got < len);
	return rc;
}

int nv_drv_read(nv_store *s, const char *key, uint64_t offset, void *buf, size_t len,
		size_t *got)
{
	int rc = nv_key_check(key), flip;

	*got = 0;
	if (rc || (rc = nv_fault_check(NV_FAULT_READ)) < 0)
		return rc;
	flip = rc; /* "flip": this read works, then one byte of it is inverted */
	if (!nv_bwlimit_thread_exempt() && (rc = nv_txcap_reached()))
		return rc; /* --max-transfer reached: the run is over */
	rc = nv_read_paced(s, key, offset, buf, len, got);
	if (rc == 0 && flip && *got)
		((unsigned char *)buf)[*got / 2] ^= 0xff;
	return rc;
}

int nv_drv_write_open(nv_wstream **out, nv_store *s, const char *key,
		      const nv_write_opts *opts)
{
	nv_write_opts in_range;
	nv_wstream *w;
	int rc = nv_key_check(key);

	*out = NULL;
	if (rc || (!nv_bwlimit_thread_exempt() && (rc = nv_txcap_reached())))
		return rc; /* past --max-transfer no file is started */
	/* The one place every write passes (sync, copy, pull): a time no calendar
	 * date shows (util/times.h) is not applied, rather than clamped unsaid. */
	if (opts && (opts->flags & NV_WRITE_HAS_MTIME) && !nv_time_in_range(opts->mtime_sec)) {
		nv_log(NV_LOG_WARN, "%s: mtime %lld is outside the years 1 to 9999: not applied, "
		       "the file keeps the time of its writing", key, (long long)opts->mtime_sec);
		in_range = *opts;
		in_range.flags &= ~NV_WRITE_HAS_MTIME;
		opts = &in_range;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return nv_error_set(NV_ERR, "out of memory");
	}
	w->s = s;
	rc = s->d->write_open(&w->w, s->c, key, opts);
	if (rc) {
		free(w->key);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* The write in slices --bwlimit allows (one slice of len without a limit),
 * each paced before it goes. */
static int nv_write_paced(nv_wstream *w, const unsigned char *buf, size_t len)
{
	size_t slice = nv_bwlimit_slice(len), k, done = 0;
	int rc;

	do {
		k = len - done < slice ? len - done : slice;
		nv_bwlimit_write(k);
		rc = w->s->d->write(w->w, buf + done, k);
		done += k;
	} while (rc == 0 && done < len);
	return rc;
}

int nv_drv_write(nv_wstream *w, const void *buf, size_t len)
{
	int rc = nv_fault_check(NV_FAULT_WRITE);

	if (rc || (!nv_bwlimit_thread_exempt() && (rc = nv_txcap_take(len))))
		return rc;
	return nv_write_paced(w, buf, len);
}

int nv_drv_write_commit(nv_wstream *w, nv_commit_info *out)
{
	nv_commit_info info = { 0, 0 };
	int rc = nv_fault_check(NV_FAULT_COMMIT);

	if (rc) {
		w->s->d->write_abort(w->w);
	} else {
		rc = w->s->d->write_commit(w->w, &info);
	}
	if (out)
		*out = info;
	free(w->key);
	free(w);
	return rc;
}

int nv_drv_can_retarget(const nv_store *s)
{
	return s->d->version >= 5 && s->d->write_retarget != NULL;
}

int nv_drv_write_retarget(nv_wstream *w, const char *key)
{
	int rc = nv_key_check(key);
	char *copy;

	if (rc)
		return rc;
	if (!nv_drv_can_retarget(w->s))
		return nv_error_set(NV_ENOTSUP, "%s: the %s driver cannot rename a write",
				    key, w->s->d->name);
	if (!(copy = strdup(key)))
		return nv_error_set(NV_ERR, "out of memory");
	if ((rc = w->s->d->write_retarget(w->w, key))) {
		free(copy);
		return rc;
	}
	free(w->key);
	w->key = copy;
	return 0;
}

void nv_drv_write_abort(nv_wstream *w)
{
	if (!w)
		return;
	w->s->d->write_abort(w->w);
	free(w->key);
	free(w);
}

int nv_drv_remove(nv_store *s, const char *key)
{
	int rc = nv_key_check(key);

	if (rc || (rc = nv_fault_check(NV_FAULT_REMOVE)))
		return rc;
	return s->d->remove(s->c, key);
}

size_t nv_drv_remove_batch(const nv_driver *d)
{
	if (d->version >= 2 && d->remove_many && d->max_remove_batch > 1)
		return d->max_remove_batch;
	return 1;
}

static void nv_msgs_free(char **msgs, size_t n)
{
	for (size_t i = 0; msgs && i < n; i++) {
		free(msgs[i]);
		msgs[i] = NULL;
	}
}

/* Without remove_many: one remove per key, each outcome kept. */
static void nv_remove_each(nv_store *s, const char *const *keys, size_t n, int *results,
			   char **msgs)
{
	for (size_t i = 0; i < n; i++) {
		int rc = nv_fault_check(NV_FAULT_REMOVE);

		results[i] = rc ? rc : s->d->remove(s->c, keys[i]);
		if (results[i] && msgs)
			msgs[i] = strdup(nv_error_msg());
	}
}

int nv_drv_remove_many(nv_store *s, const char *const *keys, size_t n, int *results,
		       char **msgs)
{
	size_t batch = nv_drv_remove_batch(s->d), done, k;
	char **part;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = nv_key_check(keys[i])))
			return rc;
		if (msgs)
			msgs[i] = NULL;
	}
	if (batch == 1) {
		nv_remove_each(s, keys, n, results, msgs);
		return 0;
	}
	for (done = 0; done < n; done += k) {
		k = n - done < batch ? n - done : batch;
		part = msgs ? msgs + done : NULL;
		if (!(rc = nv_fault_check(NV_FAULT_REMOVE))) {
			/* The slot fills msgs; a caller passing none gets them freed here. */
			char **own = part ? part : calloc(k, sizeof(*own));

			rc = own ? s->d->remove_many(s->c, keys + done, k, results + done, own)
				 : nv_error_set(NV_ERR, "out of memory");
			if (!part) {
				nv_msgs_free(own, k);
				free(own);
			}
		}
		if (rc) {
			nv_msgs_free(msgs, done);
			return rc;
		}
	}
	return 0;
}

int nv_drv_flush(nv_store *s)
{
	int rc = nv_fault_check(NV_FAULT_FLUSH);

	if (rc)
		return rc;
	return s->d->flush ? s->d->flush(s->c) : 0;
}

/* The leftovers slots, from a version 4 table that fills them. */
static int nv_drv_has_leftovers(const nv_driver *d)
{
	return d->version >= 4 && d->leftovers_open && d->leftovers_next &&
	       d->leftovers_close && d->leftover_remove;
}

int nv_drv_leftovers_open(nv_leftover_list **out, nv_store *s)
{
	nv_leftover_list *l;
	int rc;

	*out = NULL;
	if (!nv_drv_has_leftovers(s->d))
		return nv_error_set(NV_ENOTSUP, "the %s driver leaves no temporary files",
				    s->d->name);
	if ((rc = nv_fault_check(NV_FAULT_LEFTOVERS)))
		return rc;
	if (!(l = calloc(1, sizeof(*l))))
		return nv_error_set(NV_ERR, "out of memory");
	l->s = s;
	if ((rc = s->d->leftovers_open(&l->it, s->c))) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int nv_drv_leftovers_next(nv_leftover_list *l, nv_leftover *out)
{
	memset(out, 0, sizeof(*out));
	return l->s->d->leftovers_next(l->it, out);
}

void nv_drv_leftovers_close(nv_leftover_list *l)
{
	if (!l)
		return;
	l->s->d->leftovers_close(l->it);
	free(l);
}

int nv_drv_leftover_remove(nv_store *s, const nv_leftover *lo, int proven)
{
	int rc;

	if (!nv_drv_has_leftovers(s->d))
		return nv_error_set(NV_ENOTSUP, "the %s driver leaves no temporary files",
				    s->d->name);
	if ((rc = nv_fault_check(NV_FAULT_LEFTOVERS)))
		return rc;
	return s->d->leftover_remove(s->c, lo, proven);
}

int nv_drv_put_buf(nv_store *s, const char *key, const void *buf, size_t len,
		   unsigned write_flags)
{
	nv_write_opts opts = { .size = (int64_t)len, .flags = write_flags };
	nv_wstream *w;
	int rc = nv_drv_write_open(&w, s, key, &opts);

	if (rc)
		return rc;
	if (len && (rc = nv_drv_write(w, buf, len))) {
		nv_drv_write_abort(w);
		return rc;
	}
	return nv_drv_write_commit(w, NULL);
}

int nv_drv_get_buf(nv_store *s, const char *key, size_t max, unsigned char **out,
		   size_t *len)
{
	nv_entry e;
	unsigned char *buf;
	size_t got = 0, n;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = nv_drv_stat(s, key, &e)))
		return rc;
	if (e.size > max)
		return nv_error_set(NV_EINVAL, "%s is %llu bytes, more than the %zu expected",
				    key, (unsigned long long)e.size, max);
	buf = malloc((size_t)e.size + 1);
	if (!buf)
		return nv_error_set(NV_ERR, "out of memory");
	/* Read one byte past the stat size so a grown object is noticed, not cut. */
	while (got <= e.size) {
		rc = nv_drv_read(s, key, got, buf + got, (size_t)e.size + 1 - got, &n);
		if (rc) {
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		got += n;
	}
	if (got != e.size) {
		free(buf);
		return nv_error_set(NV_EMISMATCH, "%s changed size while read (%zu, expected "
				    "%llu)", key, got, (unsigned long long)e.size);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}
