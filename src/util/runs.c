/* runs.c: the external sort of runs.h: an arena of records sorted in memory,
 * spilled as sorted runs to anonymous files, read back by a k-way merge on a
 * heap. Called through runs.h. */
#include "runs.h"
#include "error.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NV_RUN_IO (64u << 10) /* the buffer of each run read or written */
#define NV_RUN_HDR 8          /* klen, vlen: two 32-bit lengths, host order */

/* One run on disk, read back through its own buffer. */
typedef struct nv_run {
	int fd;
	off_t end;               /* its length */
	off_t pos;               /* of buf[0] */
	unsigned char *buf;
	size_t have, used;       /* bytes in buf, bytes consumed */
	unsigned char *rec;      /* the current record, copied whole */
	size_t rec_cap;
	nv_run_rec cur;
} nv_run;

struct nv_runs {
	char dir[4096];
	size_t budget;
	unsigned char *arena;    /* records as on disk: header, key, value */
	size_t alen, acap;
	size_t *ix;              /* offsets into arena, sorted before a spill */
	size_t n_ix, cap_ix;
	uint64_t count;
	nv_run *runs;
	size_t n_runs;
	size_t *heap;            /* run indices, smallest current record first */
	size_t n_heap;
	size_t next_ix;          /* reading from memory: the next of ix */
	unsigned char *hand;     /* merging: the record handed out last */
	size_t hand_cap;
	int sorted;
};

static void nv_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t nv_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int nv_key_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

int nv_runs_new(nv_runs **out, const char *dir, size_t budget)
{
	nv_runs *r = calloc(1, sizeof(*r));
	const char *env = getenv("NAVETTE_RUNS_BUDGET");

	*out = NULL;
	if (!r)
		return nv_error_set(NV_ERR, "out of memory");
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s", dir) >= sizeof(r->dir)) {
		free(r);
		return nv_error_set(NV_EINVAL, "directory name too long: %s", dir);
	}
	r->budget = budget ? budget : NV_RUNS_BUDGET;
	if (env && *env)
		r->budget = (size_t)strtoull(env, NULL, 10);
	if (r->budget < 4096)
		r->budget = 4096;
	*out = r;
	return 0;
}

/* An anonymous file in dir: never named (O_TMPFILE), else named for an
 * instant. */
static int nv_run_file(const char *dir, int *fd)
{
	char path[4200];

	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return nv_error_errno(errno, "creating a sort run in %s", dir);
	snprintf(path, sizeof(path), "%s/.navette-run-XXXXXX", dir);
	if ((*fd = mkostemp(path, O_CLOEXEC)) < 0)
		return nv_error_errno(errno, "creating a sort run in %s", dir);
	unlink(path);
	return 0;
}

/* The state root when it exists (a dry run creates nothing there), else the
 * temporary directory: the files have no name either way. */
static int nv_runs_state_dir(char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	int rc;

	if ((rc = nv_state_root(dir, cap)))
		return rc;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(dir, cap, "%s", tmp && *tmp ? tmp : "/tmp");
	return 0;
}

int nv_runs_new_state(nv_runs **out)
{
	char dir[4096];
	int rc;

	*out = NULL;
	if ((rc = nv_runs_state_dir(dir, sizeof(dir))))
		return rc;
	return nv_runs_new(out, dir, 0);
}

int nv_runs_tmpfile(int *fd)
{
	char dir[4096];
	int rc;

	*fd = -1;
	if ((rc = nv_runs_state_dir(dir, sizeof(dir))))
		return rc;
	return nv_run_file(dir, fd);
}

static int nv_write_all(int fd, const unsigned char *p, size_t n, const char *dir)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return nv_error_errno(w < 0 ? errno : EIO, "writing a sort run in %s", dir);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int nv_ix_less(const unsigned char *arena, size_t a, size_t b)
{
	const unsigned char *ra = arena + a, *rb = arena + b;

	return nv_key_cmp(ra + NV_RUN_HDR, nv_get32(ra), rb + NV_RUN_HDR, nv_get32(rb)) < 0;
}

/* Sorts the arena's offsets by their records' keys: a bottom-up merge sort,
 * stable, so equal keys keep the order they were added in. */
static int nv_runs_sort_memory(nv_runs *r)
{
	size_t n = r->n_ix, *a = r->ix, *b;

	if (n < 2)
		return 0;
	if (!(b = malloc(n * sizeof(*b))))
		return nv_error_set(NV_ERR, "out of memory");
	for (size_t w = 1, *t; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				b[k++] = nv_ix_less(r->arena, a[j], a[i]) ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		t = a;
		a = b;
		b = t;
	}
	if (a != r->ix) {
		memcpy(r->ix, a, n * sizeof(*a));
		b = a;
	}
	free(b);
	return 0;
}

static size_t nv_rec_len(const unsigned char *p)
{
	return NV_RUN_HDR + (size_t)nv_get32(p) + nv_get32(p + 4);
}

/* Writes what is in memory as one sorted run and empties the arena. */
static int nv_runs_spill(nv_runs *r)
{
	unsigned char *buf = NULL;
	size_t blen = 0;
	nv_run *g, *run;
	int rc = 0, fd;

	if (!r->n_ix)
		return 0;
	if (!(g = realloc(r->runs, (r->n_runs + 1) * sizeof(*g))))
		return nv_error_set(NV_ERR, "out of memory");
	r->runs = g;
	if ((rc = nv_runs_sort_memory(r)) || (rc = nv_run_file(r->dir, &fd)))
		return rc;
	if (!(buf = malloc(NV_RUN_IO))) {
		close(fd);
		return nv_error_set(NV_ERR, "out of memory");
	}
	for (size_t i = 0; i < r->n_ix && !rc; i++) {
		const unsigned char *p = r->arena + r->ix[i];
		size_t n = nv_rec_len(p);

		if (blen + n > NV_RUN_IO && blen) {
			rc = nv_write_all(fd, buf, blen, r->dir);
			blen = 0;
		}
		if (!rc && n > NV_RUN_IO)
			rc = nv_write_all(fd, p, n, r->dir);
		else if (!rc) {
			memcpy(buf + blen, p, n);
			blen += n;
		}
	}
	if (!rc && blen)
		rc = nv_write_all(fd, buf, blen, r->dir);
	free(buf);
	if (rc) {
		close(fd);
		return rc;
	}
	run = &r->runs[r->n_runs++];
	memset(run, 0, sizeof(*run));
	run->fd = fd;
	run->end = lseek(fd, 0, SEEK_CUR);
	r->alen = 0;
	r->n_ix = 0;
	return 0;
}

static int nv_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 4096 / elem + 1;
	void *g;

	while (c < need)
		c *= 2;
	if (c == *cap)
		return 0;
	if (!(g = realloc(*p, c * elem)))
		return nv_error_set(NV_ERR, "out of memory");
	*p = g;
	*cap = c;
	return 0;
}

int nv_runs_add(nv_runs *r, const void *key, size_t klen, const void *val, size_t vlen)
{
	size_t n = NV_RUN_HDR + klen + vlen;
	unsigned char *p;
	int rc;

	if (r->sorted)
		return nv_error_set(NV_EINVAL, "record added after the sort");
	if (klen > UINT32_MAX / 2 || vlen > UINT32_MAX / 2)
		return nv_error_set(NV_EINVAL, "record too large to sort");
	/* the arena, its index and the sort's scratch stay within the budget (one
	 * record may exceed it) */
	if (r->n_ix && r->alen + n + 2 * (r->n_ix + 1) * sizeof(size_t) > r->budget &&
	    (rc = nv_runs_spill(r)))
		return rc;
	if ((rc = nv_grow((void **)&r->arena, &r->acap, r->alen + n, 1)) ||
	    (rc = nv_grow((void **)&r->ix, &r->cap_ix, r->n_ix + 1, sizeof(size_t))))
		return rc;
	p = r->arena + r->alen;
	nv_put32(p, (uint32_t)klen);
	nv_put32(p + 4, (uint32_t)vlen);
	if (klen)
		memcpy(p + NV_RUN_HDR, key, klen);
	if (vlen)
		memcpy(p + NV_RUN_HDR + klen, val, vlen);
	r->ix[r->n_ix++] = r->alen;
	r->alen += n;
	r->count++;
	return 0;
}

/* ---- reading back ---- */

/* Makes n bytes of run available at buf + used (refilling by pread). */
static int nv_run_fill(nv_run *run, size_t n, const char *dir)
{
	size_t keep = run->have - run->used;

	if (keep >= n)
		return 0;
	if (n > NV_RUN_IO)
		return nv_error_set(NV_EMISMATCH, "a sort run in %s was altered", dir);
	memmove(run->buf, run->buf + run->used, keep);
	run->pos += (off_t)run->used;
	run->used = 0;
	run->have = keep;
	while (run->have < n) {
		ssize_t got = pread(run->fd, run->buf + run->have, NV_RUN_IO - run->have,
				    run->pos + (off_t)run->have);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return nv_error_errno(errno, "reading a sort run in %s", dir);
		if (got == 0)
			return nv_error_set(NV_EMISMATCH, "a sort run in %s ends early", dir);
		run->have += (size_t)got;
	}
	return 0;
}

/* Reads the run's next record into run->cur: 0, NV_EOF, or an error. A
 * record larger than the buffer is read straight into run->rec. */
static int nv_run_advance(nv_run *run, const char *dir)
{
	size_t klen, vlen, n;
	int rc;

	if (run->pos + (off_t)run->used >= run->end)
		return NV_EOF;
	if ((rc = nv_run_fill(run, NV_RUN_HDR, dir)))
		return rc;
	klen = nv_get32(run->buf + run->used);
	vlen = nv_get32(run->buf + run->used + 4);
	n = NV_RUN_HDR + klen + vlen;
	if ((off_t)n > run->end - run->pos - (off_t)run->used)
		return nv_error_set(NV_EMISMATCH, "a sort run in %s was altered", dir);
	if (run->rec_cap < n) {
		unsigned char *g = realloc(run->rec, n);

		if (!g)
			return nv_error_set(NV_ERR, "out of memory");
		run->rec = g;
		run->rec_cap = n;
	}
	if (n <= NV_RUN_IO) {
		if ((rc = nv_run_fill(run, n, dir)))
			return rc;
		memcpy(run->rec, run->buf + run->used, n);
		run->used += n;
	} else {
		off_t at = run->pos + (off_t)run->used;

		for (size_t got = 0; got < n;) {
			ssize_t k = pread(run->fd, run->rec + got, n - got, at + (off_t)got);

			if (k <= 0)
				return k < 0 ? nv_error_errno(errno, "reading a sort run in %s", dir)
					     : nv_error_set(NV_EMISMATCH, "a sort run in %s ends early",
							    dir);
			got += (size_t)k;
		}
		run->pos = at + (off_t)n;
		run->used = run->have = 0;
	}
	run->cur.klen = klen;
	run->cur.vlen = vlen;
	run->cur.key = run->rec + NV_RUN_HDR;
	run->cur.val = run->rec + NV_RUN_HDR + klen;
	return 0;
}

/* Heap order: smaller key first, then the earlier run (added earlier). */
static int nv_heap_less(const nv_runs *r, size_t a, size_t b)
{
	const nv_run_rec *x = &r->runs[a].cur, *y = &r->runs[b].cur;
	int c = nv_key_cmp(x->key, x->klen, y->key, y->klen);

	return c ? c < 0 : a < b;
}

static void nv_heap_down(nv_runs *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i, t;

		if (l < r->n_heap && nv_heap_less(r, r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->n_heap && nv_heap_less(r, r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = t;
		i = m;
	}
}

/* Every run from its first record; the heap rebuilt. */
static int nv_runs_start(nv_runs *r)
{
	r->n_heap = 0;
	for (size_t i = 0; i < r->n_runs; i++) {
		nv_run *run = &r->runs[i];
		int rc;

		run->pos = 0;
		run->have = run->used = 0;
		if (!run->buf && !(run->buf = malloc(NV_RUN_IO)))
			return nv_error_set(NV_ERR, "out of memory");
		rc = nv_run_advance(run, r->dir);
		if (rc == NV_EOF)
			continue;
		if (rc)
			return rc;
		r->heap[r->n_heap++] = i;
	}
	for (size_t i = r->n_heap / 2; i-- > 0;)
		nv_heap_down(r, i);
	return 0;
}

int nv_runs_sort(nv_runs *r)
{
	int rc;

	if (r->sorted)
		return nv_error_set(NV_EINVAL, "sorted twice");
	r->sorted = 1;
	if (!r->n_runs) {
		r->next_ix = 0;
		return nv_runs_sort_memory(r);
	}
	if ((rc = nv_runs_spill(r)))
		return rc;
	free(r->arena);
	free(r->ix);
	r->arena = NULL;
	r->ix = NULL;
	r->acap = r->cap_ix = 0;
	if (!(r->heap = calloc(r->n_runs, sizeof(*r->heap))))
		return nv_error_set(NV_ERR, "out of memory");
	return nv_runs_start(r);
}

int nv_runs_rewind(nv_runs *r)
{
	if (!r->sorted)
		return nv_error_set(NV_EINVAL, "rewound before the sort");
	r->next_ix = 0;
	return r->n_runs ? nv_runs_start(r) : 0;
}

int nv_runs_next(nv_runs *r, nv_run_rec *out)
{
	nv_run *run;
	unsigned char *t;
	size_t top, tc;
	int rc;

	if (!r->sorted)
		return nv_error_set(NV_EINVAL, "read before the sort");
	if (!r->n_runs) {
		const unsigned char *p;

		if (r->next_ix >= r->n_ix)
			return NV_EOF;
		p = r->arena + r->ix[r->next_ix++];
		out->klen = nv_get32(p);
		out->vlen = nv_get32(p + 4);
		out->key = p + NV_RUN_HDR;
		out->val = p + NV_RUN_HDR + out->klen;
		return 0;
	}
	if (!r->n_heap)
		return NV_EOF;
	top = r->heap[0];
	run = &r->runs[top];
	/* hand the record out and give the run the buffer of the one handed out
	 * before: the run moves on now, the caller reads until its next call */
	t = run->rec;
	tc = run->rec_cap;
	run->rec = r->hand;
	run->rec_cap = r->hand_cap;
	r->hand = t;
	r->hand_cap = tc;
	*out = run->cur;
	rc = nv_run_advance(run, r->dir);
	if (rc == NV_EOF)
		r->heap[0] = r->heap[--r->n_heap];
	else if (rc)
		return rc;
	if (r->n_heap)
		nv_heap_down(r, 0);
	return 0;
}

uint64_t nv_runs_count(const nv_runs *r)
{
	return r->count;
}

size_t nv_runs_spilled(const nv_runs *r)
{
	return r->n_runs;
}

void nv_runs_free(nv_runs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_runs; i++) {
		close(r->runs[i].fd);
		free(r->runs[i].buf);
		free(r->runs[i].rec);
	}
	free(r->runs);
	free(r->heap);
	free(r->hand);
	free(r->arena);
	free(r->ix);
	free(r);
}
