/* part_upload.c: the one parallel uploader of an object's parts (see part_upload.h):
 * a FIFO of filled parts, a few threads, a bounded set of buffers. Only drivers/. */
#include "part_upload.h"
#include "util/membudget.h"
#include "util/retry.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* nv_part.extra follows the struct, aligned for anything. */
#define PU_HEAD ((sizeof(nv_part) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

struct pu_thread {
	nv_pu *u;
	unsigned index;
	pthread_t t;
};

struct nv_pu {
	nv_pu_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pu_thread *threads;
	unsigned nthreads;      /* started */
	nv_part **queue;        /* submitted, not yet taken by a thread (ring) */
	size_t qhead, qlen;
	nv_part **spare;        /* empty buffers */
	size_t nspare;
	nv_part *fill;          /* the writer's */
	unsigned nbufs;         /* buffers allocated: at most threads + 1, the first
	                         * from the writer thread's seat, the others lent
	                         * (util/membudget.h) */
	unsigned busy;          /* parts being uploaded */
	unsigned submitted;
	int stop;
	int err;                /* the first failure; its message in errmsg */
	char errmsg[1024];
	nv_retry_scope scope;   /* the writer's item: its retry budget and cancel flag */
};

/* Frees p and gives its bytes back: lent ones to the budget, the first
 * buffer's to the writer thread's seat (only that thread calls with seat). */
static void part_free(nv_part *p)
{
	if (!p)
		return;
	if (p->lent)
		nv_mem_unlend(p->grant);
	else
		nv_mem_release(p->grant);
	free(p->buf);
	free(p);
}

/* The first failure only: later ones are consequences (or cancellations). */
static void pu_fail_locked(nv_pu *u, int code, const char *msg)
{
	if (!u->err) {
		u->err = code;
		snprintf(u->errmsg, sizeof(u->errmsg), "%s", msg);
	}
}

/* The failure, with its message, on the calling (writer's) thread. */
static int pu_error(nv_pu *u)
{
	int err;

	pthread_mutex_lock(&u->mu);
	err = u->err;
	pthread_mutex_unlock(&u->mu);
	return err ? nv_error_set(err, "%s", u->errmsg) : 0;
}

int nv_pu_new(nv_pu **out, const nv_pu_opts *opts)
{
	nv_pu *u;
	unsigned n = opts->threads;

	*out = NULL;
	if (n < 1 || n > NV_PU_MAX_THREADS || !opts->part_size || !opts->upload)
		return nv_error_set(NV_EINVAL, "%s: bad part uploader settings", opts->name);
	if (!(u = calloc(1, sizeof(*u))))
		return nv_error_set(NV_ERR, "out of memory");
	u->o = *opts;
	u->threads = calloc(n, sizeof(*u->threads));
	u->queue = calloc(n + 1, sizeof(*u->queue));
	u->spare = calloc(n + 1, sizeof(*u->spare));
	if (!u->threads || !u->queue || !u->spare) {
		free(u->threads);
		free(u->queue);
		free(u->spare);
		free(u);
		return nv_error_set(NV_ERR, "out of memory");
	}
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	nv_retry_scope_get(&u->scope);
	*out = u;
	return 0;
}

static void *pu_thread_main(void *arg)
{
	struct pu_thread *t = arg;
	nv_pu *u = t->u;

	nv_retry_scope_adopt(&u->scope); /* one budget per object, not one per part thread */
	pthread_mutex_lock(&u->mu);
	for (;;) {
		nv_part *p;
		int rc;

		while (!u->stop && !u->qlen)
			pthread_cond_wait(&u->cv, &u->mu);
		if (!u->qlen)
			break;
		p = u->queue[u->qhead];
		u->qhead = (u->qhead + 1) % (u->o.threads + 1);
		u->qlen--;
		if (!u->err) { /* after a failure, queued parts are dropped */
			u->busy++;
			pthread_mutex_unlock(&u->mu);
			rc = u->o.upload(u->o.ctx, t->index, p);
			pthread_mutex_lock(&u->mu);
			if (rc)
				pu_fail_locked(u, rc, nv_error_msg());
			u->busy--;
		}
		p->len = 0;
		if (p->lent && nv_mem_wanted()) {
			/* a seat waits for memory: this part's bytes go back */
			part_free(p);
			u->nbufs--;
		} else {
			u->spare[u->nspare++] = p;
		}
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

static int pu_start(nv_pu *u)
{
	for (unsigned i = 0; i < u->o.threads; i++) {
		u->threads[i] = (struct pu_thread){ .u = u, .index = i };
		if (pthread_create(&u->threads[i].t, NULL, pu_thread_main, &u->threads[i]) != 0)
			break;
		u->nthreads++;
	}
	/* Fewer threads than asked still upload everything, only slower. */
	return u->nthreads ? 0
			   : nv_error_set(NV_ERR, "%s: cannot start upload threads", u->o.name);
}

static void pu_stop(nv_pu *u)
{
	pthread_mutex_lock(&u->mu);
	u->stop = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	for (unsigned i = 0; i < u->nthreads; i++)
		pthread_join(u->threads[i].t, NULL);
	u->nthreads = 0;
}

/* An empty buffer for the writer: a spare one; the first one (its bytes from
 * the writer thread's seat, when it grows: nv_pu_reserve); a new one, while
 * fewer than threads + 1 exist and the budget lends a part; else the next to
 * come back. So an upload always has its first buffer, and its other parts
 * go up in parallel only while the budget has room for them. */
static int pu_take(nv_pu *u)
{
	nv_part *p = NULL;
	int grow = 0, lent = 0;

	pthread_mutex_lock(&u->mu);
	while (!u->err && !u->nspare) {
		if (!u->nbufs) {
			grow = 1;
			break;
		}
		if (u->nbufs <= u->o.threads && nv_mem_lend(u->o.part_size)) {
			grow = lent = 1;
			break;
		}
		pthread_cond_wait(&u->cv, &u->mu);
	}
	if (!u->err) {
		if (u->nspare)
			p = u->spare[--u->nspare];
		else
			u->nbufs++;
	} else if (lent) {
		nv_mem_unlend(u->o.part_size);
		grow = 0;
	}
	pthread_mutex_unlock(&u->mu);
	if (!p && !grow)
		return pu_error(u);
	if (grow && !(p = calloc(1, PU_HEAD + u->o.extra_size))) {
		pthread_mutex_lock(&u->mu);
		u->nbufs--;
		pthread_mutex_unlock(&u->mu);
		if (lent)
			nv_mem_unlend(u->o.part_size);
		return nv_error_set(NV_ERR, "out of memory");
	}
	if (lent) {
		p->lent = 1;
		p->grant = u->o.part_size;
	}
	p->extra = (char *)p + PU_HEAD;
	memset(p->extra, 0, u->o.extra_size);
	p->len = 0;
	u->fill = p;
	return 0;
}

/* Makes p's grant cover cap bytes: a lent part has a whole part already;
 * the first buffer grows its thread's seat, waiting for lent bytes to come
 * back when the budget is short (before any part of this upload is lent). */
static int pu_grant(nv_pu *u, nv_part *p, size_t cap)
{
	size_t got;
	int rc;

	if (p->grant >= cap)
		return 0;
	if ((rc = nv_mem_acquire(cap - p->grant, cap - p->grant, u->scope.cancel, &got)))
		return nv_error_wrap(rc, "%s", u->o.name);
	p->grant += got;
	return 0;
}

int nv_pu_reserve(nv_pu *u, size_t want, nv_part **out)
{
	nv_part *p;
	size_t cap;
	unsigned char *b;
	int rc;

	*out = NULL;
	if (!u->fill && (rc = pu_take(u)))
		return rc;
	p = u->fill;
	if (p->cap < want) {
		if (u->submitted) {
			cap = u->o.part_size; /* a multipart object: whole parts */
		} else {
			cap = p->cap ? 2 * p->cap : u->o.first_cap ? u->o.first_cap : 64 * 1024;
			while (cap < want)
				cap *= 2;
			if (cap > u->o.part_size)
				cap = u->o.part_size;
		}
		if ((rc = pu_grant(u, p, cap)))
			return rc;
		if (!(b = realloc(p->buf, cap)))
			return nv_error_set(NV_ERR, "out of memory (%zu-byte part)", cap);
		p->buf = b;
		p->cap = cap;
	}
	*out = p;
	return 0;
}

int nv_pu_write(nv_pu *u, const void *buf, size_t len, nv_pu_submit_fn submit,
		nv_pu_fill_fn fill, void *ctx)
{
	const unsigned char *d = buf;
	size_t part = u->o.part_size;
	nv_part *p;
	int rc;

	while (len) {
		size_t flen = (p = nv_pu_current(u)) ? p->len : 0, want, n;

		if (flen == part) {
			if ((rc = submit(ctx)))
				return rc;
			continue;
		}
		want = len < part - flen ? flen + len : part;
		if ((rc = nv_pu_reserve(u, want, &p)))
			return rc;
		n = p->cap - p->len;
		if (n > len)
			n = len;
		memcpy(p->buf + p->len, d, n);
		if (fill)
			fill(ctx, p, d, n);
		p->len += n;
		d += n;
		len -= n;
	}
	return 0;
}

nv_part *nv_pu_current(nv_pu *u)
{
	return u->fill;
}

unsigned nv_pu_submitted(const nv_pu *u)
{
	return u->submitted;
}

int nv_pu_submit(nv_pu *u)
{
	nv_part *p = u->fill;
	int rc;

	if ((rc = pu_error(u)))
		return rc;
	if (!u->nthreads && (rc = pu_start(u)))
		return rc;
	p->index = u->submitted++;
	pthread_mutex_lock(&u->mu);
	u->queue[(u->qhead + u->qlen) % (u->o.threads + 1)] = p;
	u->qlen++;
	u->fill = NULL;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return 0;
}

int nv_pu_finish(nv_pu *u)
{
	pthread_mutex_lock(&u->mu);
	while (u->qlen || u->busy)
		pthread_cond_wait(&u->cv, &u->mu);
	pthread_mutex_unlock(&u->mu);
	pu_stop(u);
	return pu_error(u);
}

void nv_pu_free(nv_pu *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	pu_fail_locked(u, NV_ECANCEL, "upload cancelled");
	pthread_mutex_unlock(&u->mu);
	pu_stop(u);
	part_free(u->fill);
	for (size_t i = 0; i < u->nspare; i++)
		part_free(u->spare[i]);
	for (size_t i = 0; i < u->qlen; i++)
		part_free(u->queue[(u->qhead + i) % (u->o.threads + 1)]);
	free(u->threads);
	free(u->queue);
	free(u->spare);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	free(u);
}
