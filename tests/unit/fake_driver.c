/* fake_driver.c: in-memory stores for unit tests (fake_driver.h): a sorted
 * array of objects per store, a log of the calls that reached it, a registry
 * of stores by name. Called by the unit tests only (through driver.c). */
#include "fake_driver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nv_fake_obj {
	char *key;
	unsigned char *data;
	size_t len;
	int64_t mtime;
	uint32_t mode;
} nv_fake_obj;

typedef struct nv_fake_call {
	nv_fake_slot slot;
	char *key;
	uint64_t off;       /* reads: where it started */
	size_t got;         /* reads: the bytes served */
} nv_fake_call;

/* A later read of key served from other bytes (nv_fake_replace_at_read). */
typedef struct nv_fake_swap {
	char *key;
	unsigned char *data;
	size_t len;
	unsigned nth;       /* the read (counted from 1) that first sees them */
	int at_start;       /* count only reads at offset 0 */
	unsigned seen;
} nv_fake_swap;

struct nv_fake {
	nv_driver drv;      /* the store's own table: its batch size is its own */
	nv_location loc;
	nv_fake_obj *objs;  /* sorted by key, byte order */
	size_t n, cap;
	nv_fake_call *calls;
	size_t ncalls, ccap;
	char **order;       /* disorder mode: what listings return */
	size_t norder;
	unsigned read_ms;   /* each read sleeps this long first */
	char *refuse;       /* commits of keys under this prefix are refused */
	nv_fake_swap swap;  /* key NULL: none pending */
	nv_fake *next;      /* the registry */
};

struct nv_conn {
	nv_fake *f;
};

struct nv_list {
	nv_fake *f;
	char *prefix;
	char *cur;          /* the key last returned (iterator memory) */
	size_t i;           /* disorder mode: the next position in f->order */
};

struct nv_writer {
	nv_fake *f;
	char *key;
	unsigned char *buf;
	size_t len, cap;
	nv_write_opts o;
};

/* One lock for the registry and every store: tests are small, workers many. */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static nv_fake *fake_stores;

/* A test helper has no better answer to a failed allocation than to stop. */
static void *fake_check(void *p)
{
	if (!p) {
		fputs("fake_driver: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *fake_strdup(const char *s)
{
	return fake_check(strdup(s));
}

static nv_fake_call *fake_log(nv_fake *f, nv_fake_slot slot, const char *key)
{
	if (f->ncalls == f->ccap) {
		f->ccap = f->ccap ? f->ccap * 2 : 64;
		f->calls = fake_check(realloc(f->calls, f->ccap * sizeof(*f->calls)));
	}
	f->calls[f->ncalls] = (nv_fake_call){ .slot = slot, .key = fake_strdup(key) };
	return &f->calls[f->ncalls++];
}

/* The first position whose key is >= key. */
static size_t fake_lower(const nv_fake *f, const char *key)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(f->objs[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static nv_fake_obj *fake_find(nv_fake *f, const char *key)
{
	size_t i = fake_lower(f, key);

	return i < f->n && strcmp(f->objs[i].key, key) == 0 ? &f->objs[i] : NULL;
}

/* Stores data (taken over) under key, replacing what was there. */
static void fake_set(nv_fake *f, const char *key, unsigned char *data, size_t len,
		     int64_t mtime, uint32_t mode)
{
	size_t i = fake_lower(f, key);
	nv_fake_obj *o;

	if (i < f->n && strcmp(f->objs[i].key, key) == 0) {
		free(f->objs[i].data);
	} else {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 16;
			f->objs = fake_check(realloc(f->objs, f->cap * sizeof(*f->objs)));
		}
		memmove(&f->objs[i + 1], &f->objs[i], (f->n - i) * sizeof(*f->objs));
		f->n++;
		f->objs[i].key = fake_strdup(key);
	}
	o = &f->objs[i];
	o->data = data;
	o->len = len;
	o->mtime = mtime;
	o->mode = mode;
}

static void fake_unset(nv_fake *f, const char *key)
{
	size_t i = fake_lower(f, key);

	if (i >= f->n || strcmp(f->objs[i].key, key) != 0)
		return;
	free(f->objs[i].key);
	free(f->objs[i].data);
	memmove(&f->objs[i], &f->objs[i + 1], (f->n - i - 1) * sizeof(*f->objs));
	f->n--;
}

static void fake_entry(const nv_fake_obj *o, nv_entry *out)
{
	out->size = o->len;
	out->mtime_sec = o->mtime;
	out->mode = o->mode;
	out->flags = NV_ENTRY_HAS_MTIME | NV_ENTRY_HAS_MODE;
}

/* ---- the driver's slots ---- */

static int fake_open(struct nv_conn **out, const nv_location *loc)
{
	nv_fake *f;

	pthread_mutex_lock(&fake_mu);
	for (f = fake_stores; f && strcmp(f->loc.path, loc->path) != 0; f = f->next)
		;
	if (f)
		fake_log(f, NV_FAKE_OPEN, "");
	pthread_mutex_unlock(&fake_mu);
	if (!f)
		return nv_error_set(NV_ENOTFOUND, "no fake store named '%s'", loc->path);
	*out = fake_check(calloc(1, sizeof(**out)));
	(*out)->f = f;
	return 0;
}

static void fake_close(struct nv_conn *c)
{
	free(c);
}

static int fake_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	struct nv_list *it = fake_check(calloc(1, sizeof(*it)));

	it->f = c->f;
	it->prefix = fake_strdup(prefix);
	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_LIST, prefix);
	pthread_mutex_unlock(&fake_mu);
	*out = it;
	return 0;
}

/* The next object the listing returns, or NULL at its end (the lock held). */
static const nv_fake_obj *fake_list_step(struct nv_list *it)
{
	nv_fake *f = it->f;
	size_t plen = strlen(it->prefix), i;

	if (f->order) {
		while (it->i < f->norder) {
			const nv_fake_obj *o = fake_find(f, f->order[it->i++]);

			if (o && strncmp(o->key, it->prefix, plen) == 0)
				return o;
		}
		return NULL;
	}
	/* Resumes after the last key returned: robust to writes meanwhile. */
	i = fake_lower(f, it->cur ? it->cur : it->prefix);
	if (it->cur && i < f->n && strcmp(f->objs[i].key, it->cur) == 0)
		i++;
	return i < f->n && strncmp(f->objs[i].key, it->prefix, plen) == 0 ? &f->objs[i] : NULL;
}

static int fake_list_next(struct nv_list *it, nv_entry *out)
{
	const nv_fake_obj *o;

	pthread_mutex_lock(&fake_mu);
	o = fake_list_step(it);
	if (o) {
		free(it->cur);
		it->cur = fake_strdup(o->key);
		fake_entry(o, out);
		out->key = it->cur;
	}
	pthread_mutex_unlock(&fake_mu);
	return o ? 0 : NV_EOF;
}

static void fake_list_close(struct nv_list *it)
{
	if (!it)
		return;
	free(it->prefix);
	free(it->cur);
	free(it);
}

static int fake_stat(struct nv_conn *c, const char *key, nv_entry *out)
{
	const nv_fake_obj *o;

	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_STAT, key);
	o = fake_find(c->f, key);
	if (o)
		fake_entry(o, out);
	pthread_mutex_unlock(&fake_mu);
	return o ? 0 : nv_error_set(NV_ENOTFOUND, "%s: no such key", key);
}

/* A pending replacement of key takes effect at its nth read (the lock held). */
static void fake_swap_check(nv_fake *f, const char *key, uint64_t off)
{
	nv_fake_swap *sw = &f->swap;
	const nv_fake_obj *o;

	if (!sw->key || strcmp(sw->key, key) != 0 || (sw->at_start && off != 0) ||
	    ++sw->seen < sw->nth)
		return;
	o = fake_find(f, key);
	fake_set(f, key, sw->data, sw->len, o ? o->mtime : 1000, o ? o->mode : 0644);
	free(sw->key);
	*sw = (nv_fake_swap){ 0 };
}

static int fake_read(struct nv_conn *c, const char *key, uint64_t off, void *buf, size_t len,
		     size_t *got)
{
	const nv_fake_obj *o;
	nv_fake_call *call;
	unsigned ms;

	*got = 0;
	pthread_mutex_lock(&fake_mu);
	ms = c->f->read_ms;
	pthread_mutex_unlock(&fake_mu);
	if (ms) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&fake_mu);
	call = fake_log(c->f, NV_FAKE_READ, key);
	call->off = off;
	fake_swap_check(c->f, key, off);
	o = fake_find(c->f, key);
	if (o && off < o->len) {
		*got = o->len - off < len ? (size_t)(o->len - off) : len;
		memcpy(buf, o->data + off, *got);
	}
	call->got = *got;
	pthread_mutex_unlock(&fake_mu);
	return o ? 0 : nv_error_set(NV_ENOTFOUND, "%s: no such key", key);
}

static int fake_write_open(struct nv_writer **out, struct nv_conn *c, const char *key,
			   const nv_write_opts *o)
{
	struct nv_writer *w = fake_check(calloc(1, sizeof(*w)));

	w->f = c->f;
	w->key = fake_strdup(key);
	w->o = *o;
	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_WRITE_OPEN, key);
	pthread_mutex_unlock(&fake_mu);
	*out = w;
	return 0;
}

static int fake_write(struct nv_writer *w, const void *buf, size_t len)
{
	pthread_mutex_lock(&fake_mu);
	fake_log(w->f, NV_FAKE_WRITE, w->key);
	pthread_mutex_unlock(&fake_mu);
	if (w->len + len > w->cap) {
		w->cap = (w->len + len) * 2;
		w->buf = fake_check(realloc(w->buf, w->cap));
	}
	memcpy(w->buf + w->len, buf, len);
	w->len += len;
	return 0;
}

static void fake_writer_free(struct nv_writer *w)
{
	free(w->buf);
	free(w->key);
	free(w);
}

static int fake_commit(struct nv_writer *w, nv_commit_info *ci)
{
	int rc = 0;

	pthread_mutex_lock(&fake_mu);
	fake_log(w->f, NV_FAKE_COMMIT, w->key);
	if (w->f->refuse && strncmp(w->key, w->f->refuse, strlen(w->f->refuse)) == 0) {
		rc = nv_error_set(NV_EPERM, "%s: refused (nv_fake_refuse_writes)", w->key);
	} else if ((w->o.flags & NV_WRITE_EXCLUSIVE) && fake_find(w->f, w->key)) {
		rc = nv_error_set(NV_EEXISTS, "%s exists", w->key);
	} else {
		fake_set(w->f, w->key, w->buf, w->len,
			 w->o.flags & NV_WRITE_HAS_MTIME ? w->o.mtime_sec : (int64_t)time(NULL),
			 w->o.flags & NV_WRITE_HAS_MODE ? w->o.mode : 0644);
		w->buf = NULL; /* the store's now */
		ci->size = w->len;
		ci->confirmed = NV_CONFIRM_SIZE;
	}
	pthread_mutex_unlock(&fake_mu);
	fake_writer_free(w);
	return rc;
}

/* A write's bytes wait in memory until commit: the key they go to is free. */
static int fake_retarget(struct nv_writer *w, const char *key)
{
	free(w->key);
	w->key = fake_strdup(key);
	return 0;
}

static void fake_abort(struct nv_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&fake_mu);
	fake_log(w->f, NV_FAKE_ABORT, w->key);
	pthread_mutex_unlock(&fake_mu);
	fake_writer_free(w);
}

static int fake_remove(struct nv_conn *c, const char *key)
{
	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_REMOVE, key);
	fake_unset(c->f, key);
	pthread_mutex_unlock(&fake_mu);
	return 0;
}

static int fake_remove_many(struct nv_conn *c, const char *const *keys, size_t n, int *results,
			    char **msgs)
{
	(void)msgs; /* every key succeeds: no message */
	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_REMOVE_MANY, keys[0]);
	for (size_t i = 0; i < n; i++) {
		fake_unset(c->f, keys[i]);
		results[i] = 0;
	}
	pthread_mutex_unlock(&fake_mu);
	return 0;
}

static int fake_flush(struct nv_conn *c)
{
	pthread_mutex_lock(&fake_mu);
	fake_log(c->f, NV_FAKE_FLUSH, "");
	pthread_mutex_unlock(&fake_mu);
	return 0;
}

static const char *const fake_schemes[] = { "fake", NULL };

static const nv_driver fake_template = {
	.version = NV_DRIVER_VERSION,
	.name = "fake",
	.schemes = fake_schemes,
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE | NV_CAP_DURABLE,
	.open = fake_open,
	.close = fake_close,
	.list_open = fake_list_open,
	.list_next = fake_list_next,
	.list_close = fake_list_close,
	.stat = fake_stat,
	.read = fake_read,
	.write_open = fake_write_open,
	.write = fake_write,
	.write_commit = fake_commit,
	.write_abort = fake_abort,
	.remove = fake_remove,
	.flush = fake_flush,
	.write_retarget = fake_retarget,
};

/* ---- the tests' side ---- */

nv_fake *nv_fake_new(const char *name)
{
	nv_fake *f = fake_check(calloc(1, sizeof(*f)));
	size_t len = strlen(name) + sizeof("fake:");

	f->drv = fake_template;
	f->loc.driver = &f->drv;
	f->loc.path = fake_strdup(name);
	f->loc.text = fake_check(malloc(len));
	snprintf(f->loc.text, len, "fake:%s", name);
	pthread_mutex_lock(&fake_mu);
	f->next = fake_stores;
	fake_stores = f;
	pthread_mutex_unlock(&fake_mu);
	return f;
}

void nv_fake_free(nv_fake *f)
{
	nv_fake **p;

	if (!f)
		return;
	pthread_mutex_lock(&fake_mu);
	for (p = &fake_stores; *p != f; p = &(*p)->next)
		;
	*p = f->next;
	pthread_mutex_unlock(&fake_mu);
	nv_fake_disorder(f, NULL);
	nv_fake_reset_calls(f);
	free(f->refuse);
	free(f->swap.key);
	free(f->swap.data);
	for (size_t i = 0; i < f->n; i++) {
		free(f->objs[i].key);
		free(f->objs[i].data);
	}
	free(f->objs);
	free(f->calls);
	free(f->loc.path);
	free(f->loc.text);
	free(f);
}

const nv_location *nv_fake_location(const nv_fake *f)
{
	return &f->loc;
}

void nv_fake_put(nv_fake *f, const char *key, const void *buf, size_t len, int64_t mtime)
{
	unsigned char *data = fake_check(malloc(len ? len : 1));

	memcpy(data, buf, len);
	pthread_mutex_lock(&fake_mu);
	fake_set(f, key, data, len, mtime, 0644);
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_put_str(nv_fake *f, const char *key, const char *text)
{
	nv_fake_put(f, key, text, strlen(text), 1000);
}

unsigned char *nv_fake_get(nv_fake *f, const char *key, size_t *len)
{
	unsigned char *copy = NULL;
	const nv_fake_obj *o;

	pthread_mutex_lock(&fake_mu);
	o = fake_find(f, key);
	if (o) {
		copy = fake_check(malloc(o->len + 1));
		memcpy(copy, o->data, o->len);
		copy[o->len] = '\0';
		*len = o->len;
	}
	pthread_mutex_unlock(&fake_mu);
	return copy;
}

int nv_fake_flip(nv_fake *f, const char *key, size_t offset)
{
	nv_fake_obj *o;
	int rc = -1;

	pthread_mutex_lock(&fake_mu);
	o = fake_find(f, key);
	if (o && offset < o->len) {
		o->data[offset] ^= 0xff;
		rc = 0;
	}
	pthread_mutex_unlock(&fake_mu);
	return rc;
}

size_t nv_fake_keys(nv_fake *f, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	pthread_mutex_lock(&fake_mu);
	for (size_t i = fake_lower(f, prefix); i < f->n; i++, n++)
		if (strncmp(f->objs[i].key, prefix, plen) != 0)
			break;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

char *nv_fake_key_at(nv_fake *f, const char *prefix, size_t i)
{
	char *key = NULL;
	size_t at;

	pthread_mutex_lock(&fake_mu);
	at = fake_lower(f, prefix) + i;
	if (at < f->n && strncmp(f->objs[at].key, prefix, strlen(prefix)) == 0)
		key = fake_strdup(f->objs[at].key);
	pthread_mutex_unlock(&fake_mu);
	return key;
}

static unsigned fake_count(nv_fake *f, nv_fake_slot slot, const char *key, int exact)
{
	size_t len = strlen(key);
	unsigned n = 0;

	pthread_mutex_lock(&fake_mu);
	for (size_t i = 0; i < f->ncalls; i++)
		n += f->calls[i].slot == slot && strncmp(f->calls[i].key, key, len) == 0 &&
		     (!exact || f->calls[i].key[len] == '\0');
	pthread_mutex_unlock(&fake_mu);
	return n;
}

unsigned nv_fake_calls(nv_fake *f, nv_fake_slot slot, const char *prefix)
{
	return fake_count(f, slot, prefix, 0);
}

unsigned nv_fake_key_calls(nv_fake *f, nv_fake_slot slot, const char *key)
{
	return fake_count(f, slot, key, 1);
}

void nv_fake_reset_calls(nv_fake *f)
{
	pthread_mutex_lock(&fake_mu);
	for (size_t i = 0; i < f->ncalls; i++)
		free(f->calls[i].key);
	f->ncalls = 0;
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_set_batch(nv_fake *f, size_t n)
{
	pthread_mutex_lock(&fake_mu);
	f->drv.max_remove_batch = n;
	f->drv.remove_many = n ? fake_remove_many : NULL;
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_disorder(nv_fake *f, const char *const *keys)
{
	pthread_mutex_lock(&fake_mu);
	for (size_t i = 0; i < f->norder; i++)
		free(f->order[i]);
	free(f->order);
	f->order = NULL;
	f->norder = 0;
	for (size_t n = 0; keys && keys[n]; n++) {
		f->order = fake_check(realloc(f->order, (n + 1) * sizeof(*f->order)));
		f->order[n] = fake_strdup(keys[n]);
		f->norder = n + 1;
	}
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_slow_reads(nv_fake *f, unsigned ms)
{
	pthread_mutex_lock(&fake_mu);
	f->read_ms = ms;
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_refuse_writes(nv_fake *f, const char *prefix)
{
	pthread_mutex_lock(&fake_mu);
	free(f->refuse);
	f->refuse = prefix ? fake_strdup(prefix) : NULL;
	pthread_mutex_unlock(&fake_mu);
}

void nv_fake_replace_at_read(nv_fake *f, const char *key, const void *buf, size_t len,
			     unsigned nth, int at_start)
{
	unsigned char *data = fake_check(malloc(len ? len : 1));

	memcpy(data, buf, len);
	pthread_mutex_lock(&fake_mu);
	free(f->swap.key);
	free(f->swap.data);
	f->swap = (nv_fake_swap){ .key = fake_strdup(key), .data = data, .len = len,
				  .nth = nth, .at_start = at_start };
	pthread_mutex_unlock(&fake_mu);
}

unsigned nv_fake_read_starts(nv_fake *f, const char *key)
{
	unsigned n = 0;

	pthread_mutex_lock(&fake_mu);
	for (size_t i = 0; i < f->ncalls; i++)
		n += f->calls[i].slot == NV_FAKE_READ && f->calls[i].off == 0 &&
		     strcmp(f->calls[i].key, key) == 0;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

uint64_t nv_fake_read_bytes(nv_fake *f, const char *key)
{
	uint64_t n = 0;

	pthread_mutex_lock(&fake_mu);
	for (size_t i = 0; i < f->ncalls; i++)
		if (f->calls[i].slot == NV_FAKE_READ && strcmp(f->calls[i].key, key) == 0)
			n += f->calls[i].got;
	pthread_mutex_unlock(&fake_mu);
	return n;
}
