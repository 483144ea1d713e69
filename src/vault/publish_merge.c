/* publish_merge.c: the shards' files and objects in sorted runs; a pass over
 * the objects by name compares them and finds the contents stored twice; the
 * reader pool is fed from the same runs. Called through publish_merge.h. */
#include "publish_merge.h"
#include "util/log.h"
#include "util/progress.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An object as recorded, the value of its record in m->objs. */
typedef struct nv_pm_obj {
	uint64_t size;
	unsigned char sha[NV_SHA256_LEN];
	uint32_t shard;
} nv_pm_obj;

/* An object of contents another object (canon, kept) holds too. */
typedef struct nv_pm_remap {
	char dup[NV_OBJECT_NAME_MAX];
	char canon[NV_OBJECT_NAME_MAX];
	nv_pm_obj rec;         /* canon's */
} nv_pm_remap;

/* An object being read back, and the shard that recorded it. */
typedef struct nv_pm_job {
	nv_vread_job job;
	nv_obj_rec rec;
	unsigned shard;
	struct nv_pm_job *prev, *next; /* in flight */
	char name[NV_OBJECT_NAME_MAX];
} nv_pm_job;

struct nv_pmerge {
	unsigned n;
	const nv_objindex *prev;
	nv_push_recs in;       /* the files as the shards recorded them */
	nv_runs *objs;         /* name -> nv_pm_obj, a record per file */
	nv_pm_remap *remap;    /* sorted by dup, one each */
	size_t n_remap, cap_remap;
	uint64_t n_kept, kept_bytes; /* the objects read back, their stored bytes */
	/* nv_pmerge_check */
	char last[NV_OBJECT_NAME_MAX]; /* the object fed last */
	pthread_mutex_t mu;
	nv_pm_job *flying;
	atomic_uchar *bad;     /* bad[k]: shard k recorded what the store does not hold */
};

int nv_pmerge_new(nv_pmerge **out, unsigned n, const nv_objindex *prev)
{
	nv_pmerge *m = calloc(1, sizeof(*m));
	int rc = 0;

	*out = NULL;
	if (!m || !(m->bad = calloc(n, sizeof(*m->bad)))) {
		free(m);
		return nv_error_set(NV_ERR, "out of memory");
	}
	m->n = n;
	m->prev = prev;
	pthread_mutex_init(&m->mu, NULL);
	if ((rc = nv_push_recs_open(&m->in)) || (rc = nv_runs_new_state(&m->objs))) {
		nv_pmerge_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int nv_pmerge_add(nv_pmerge *m, nv_partial *pc, unsigned k, uint64_t *files)
{
	nv_push_file f;
	nv_pm_obj o;
	int rc;

	*files = 0;
	memset(&f, 0, sizeof(f)); /* no listing: no cache fact */
	while ((rc = nv_partial_next(pc, &f.cat, &f.obj)) == 0) {
		memset(&o, 0, sizeof(o)); /* the padding too: the bytes go to disk */
		o.size = f.obj.size;
		memcpy(o.sha, f.obj.sha256, NV_SHA256_LEN);
		o.shard = k;
		f.path = f.cat.path;
		if ((rc = nv_push_recs_add_file(&m->in, &f)) ||
		    (rc = nv_runs_add(m->objs, f.obj.name, strlen(f.obj.name), &o, sizeof(o))))
			return rc;
		(*files)++;
	}
	return rc == NV_EOF ? 0 : rc;
}

uint64_t nv_pmerge_files(const nv_pmerge *m)
{
	return m->in.n;
}

/* The next object record: its name into name (0), or NV_EOF. */
static int nv_pm_next(nv_pmerge *m, char name[NV_OBJECT_NAME_MAX], nv_pm_obj *o)
{
	nv_run_rec r;
	int rc = nv_runs_next(m->objs, &r);

	if (rc)
		return rc;
	if (r.klen >= NV_OBJECT_NAME_MAX || r.vlen != sizeof(*o))
		return nv_error_set(NV_EMISMATCH, "a record of the merged objects was altered");
	memcpy(name, r.key, r.klen);
	name[r.klen] = '\0';
	memcpy(o, r.val, sizeof(*o));
	return 0;
}

static int nv_pm_remap_add(nv_pmerge *m, const char *dup, const char *canon, const nv_pm_obj *o)
{
	nv_pm_remap *x;

	if (m->n_remap && strcmp(m->remap[m->n_remap - 1].dup, dup) == 0)
		return 0; /* several files of one shard name it */
	if (m->n_remap == m->cap_remap) {
		size_t cap = m->cap_remap ? m->cap_remap * 2 : 16;
		nv_pm_remap *g = realloc(m->remap, cap * sizeof(*g));

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		m->remap = g;
		m->cap_remap = cap;
	}
	x = &m->remap[m->n_remap++];
	snprintf(x->dup, sizeof(x->dup), "%s", dup);
	snprintf(x->canon, sizeof(x->canon), "%s", canon);
	x->rec = *o;
	return 0;
}

static int nv_pm_remap_cmp(const void *key, const void *x)
{
	return strcmp(key, ((const nv_pm_remap *)x)->dup);
}

static const nv_pm_remap *nv_pm_remapped(const nv_pmerge *m, const char *name)
{
	return m->n_remap ? bsearch(name, m->remap, m->n_remap, sizeof(*m->remap),
				    nv_pm_remap_cmp) : NULL;
}

int nv_pmerge_sort(nv_pmerge *m)
{
	char kept[NV_OBJECT_NAME_MAX] = "", name[NV_OBJECT_NAME_MAX], pname[NV_OBJECT_NAME_MAX];
	const size_t idlen = NV_OBJECT_PREFIX_MAX - 1;
	nv_pm_obj k = { 0 }, o;
	nv_obj_rec pr;
	int rc;

	if ((rc = nv_push_recs_sort(&m->in)) || (rc = nv_runs_sort(m->objs)))
		return rc;
	while ((rc = nv_pm_next(m, name, &o)) == 0) {
		if (*kept && strcmp(kept, name) == 0) {
			if (k.size != o.size || memcmp(k.sha, o.sha, NV_SHA256_LEN) != 0)
				return nv_error_set(NV_EMISMATCH, "object %s is recorded with two "
						    "sizes or SHA-256 (shards %u/%u and %u/%u)",
						    name, k.shard, m->n, o.shard, m->n);
		} else if (*kept && strncmp(kept, name, idlen) == 0 &&
			   !nv_objindex_find_name(m->prev, name, &pr, pname)) {
			if ((rc = nv_pm_remap_add(m, name, kept, &k)))
				return rc;
		} else {
			snprintf(kept, sizeof(kept), "%s", name);
			k = o;
			m->n_kept++;
			m->kept_bytes += o.size;
		}
	}
	return rc == NV_EOF ? 0 : rc;
}

/* ---- every object read back ---- */

/* The next object to read: one a file names under its own name, once. */
static int nv_pm_feed_next(void *ctx, nv_vread_job **out)
{
	nv_pmerge *m = ctx;
	char name[NV_OBJECT_NAME_MAX];
	nv_pm_obj o;
	nv_pm_job *j;
	int rc;

	while ((rc = nv_pm_next(m, name, &o)) == 0)
		if (strcmp(name, m->last) != 0 && !nv_pm_remapped(m, name))
			break;
	if (rc)
		return rc;
	snprintf(m->last, sizeof(m->last), "%s", name);
	if (!(j = calloc(1, sizeof(*j))))
		return nv_error_set(NV_ERR, "out of memory");
	memcpy(j->name, name, sizeof(name));
	j->rec = (nv_obj_rec){ .name = j->name, .size = o.size };
	memcpy(j->rec.sha256, o.sha, NV_SHA256_LEN);
	j->job.rec = &j->rec;
	j->shard = o.shard;
	pthread_mutex_lock(&m->mu);
	if ((j->next = m->flying))
		j->next->prev = j;
	m->flying = j;
	pthread_mutex_unlock(&m->mu);
	*out = &j->job;
	return 0;
}

static void nv_pm_feed_free(void *ctx, nv_vread_job *job)
{
	nv_pmerge *m = ctx;
	nv_pm_job *j = (nv_pm_job *)job; /* job is its first member */

	pthread_mutex_lock(&m->mu);
	if (j->prev)
		j->prev->next = j->next;
	else
		m->flying = j->next;
	if (j->next)
		j->next->prev = j->prev;
	pthread_mutex_unlock(&m->mu);
	free(j);
}

/* The reader pool's word on an object (still in flight): its recording
 * shard is marked. */
static void nv_pm_note(void *ctx, const char *kind, const char *what, const char *msg)
{
	nv_pmerge *m = ctx;

	(void)kind;
	(void)msg;
	pthread_mutex_lock(&m->mu);
	for (nv_pm_job *j = m->flying; j; j = j->next)
		if (strcmp(j->name, what) == 0)
			atomic_store(&m->bad[j->shard], 1);
	pthread_mutex_unlock(&m->mu);
}

int nv_pmerge_check(nv_pmerge *m, const nv_vread_opts *o, nv_vread_stats *st, char *bad,
		    size_t cap)
{
	nv_vread_opts ro = *o;
	nv_vread_feed f = { .next = nv_pm_feed_next, .free = nv_pm_feed_free, .ctx = m,
			    .n = m->n_kept };
	size_t len = 0;
	unsigned shown = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	bad[0] = '\0';
	if (!m->n_kept)
		return 0; /* shards of no file: nothing to read */
	ro.note = nv_pm_note;
	ro.note_ctx = m;
	m->last[0] = '\0';
	nv_progress_known(m->n_kept, m->kept_bytes);
	nv_progress_listed();
	if ((rc = nv_runs_rewind(m->objs)) || (rc = nv_vread_run_feed(&ro, &f, st)))
		return rc;
	for (unsigned k = 0; k < m->n && len < cap; k++)
		if (atomic_load(&m->bad[k]) && shown++ < 8)
			len += (size_t)snprintf(bad + len, cap - len, "%s%u/%u", shown > 1 ? ", " : "",
						k, m->n);
	return 0;
}

/* ---- the files as published ---- */

typedef struct nv_pm_outctx {
	nv_push_recs *out;
	const nv_pmerge *m;
} nv_pm_outctx;

static int nv_pm_out(void *ctx, const nv_push_rec *rec)
{
	nv_pm_outctx *oc = ctx;
	const nv_pm_remap *x = nv_pm_remapped(oc->m, rec->name);
	nv_push_file f;

	memset(&f, 0, sizeof(f)); /* no listing: no cache fact */
	f.path = (char *)rec->path;
	f.cat = rec->cat;
	f.obj = rec->obj;
	if (x) {
		f.cat.object = f.obj.name = (char *)x->canon;
		f.obj.size = x->rec.size;
		memcpy(f.obj.sha256, x->rec.sha, NV_SHA256_LEN);
	}
	return nv_push_recs_add(oc->out, &f);
}

int nv_pmerge_recs(nv_pmerge *m, nv_push_recs *out)
{
	nv_pm_outctx oc = { .out = out, .m = m };
	int rc = nv_push_recs_each(&m->in, nv_pm_out, &oc);

	return rc ? rc : nv_push_recs_sort(out);
}

void nv_pmerge_drop_dups(nv_pmerge *m, nv_store *s)
{
	for (size_t i = 0; i < m->n_remap; i++)
		if (nv_drv_remove(s, m->remap[i].dup) != 0) {
			nv_log(NV_LOG_WARN, "%s", nv_error_msg());
			nv_error_clear();
		}
}

void nv_pmerge_free(nv_pmerge *m)
{
	if (!m)
		return;
	nv_push_recs_close(&m->in);
	nv_runs_free(m->objs);
	free(m->remap);
	free(m->bad);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
