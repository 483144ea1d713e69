/* push_landed.c: landed.tsv as an append-only file and an open-addressing
 * index of (first 64 bits of the id, offset of its line). Called through
 * push_landed.h. */
#include "push_landed.h"
#include "util/error.h"
#include "util/log.h"
#include "util/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NV_LANDED_LINE 512 /* id, name, size, SHA-256: about 250 bytes */

typedef struct nv_landed_slot {
	uint64_t key;  /* the id's first 64 bits */
	uint64_t off;  /* of its line, plus one; 0: empty */
} nv_landed_slot;

struct nv_landed {
	FILE *log;              /* appends: landed.tsv, or a dry run's anonymous file */
	uint64_t end;           /* the log's length */
	nv_landed_slot *ix;
	size_t cap, n;          /* cap a power of two, at least twice n */
};

/* The first 16 hex digits of an id (an HMAC output) are already uniform. */
static uint64_t nv_id_key(const char *id)
{
	char h[17];

	memcpy(h, id, 16);
	h[16] = '\0';
	return strtoull(h, NULL, 16);
}

/* Parses one line: "id\tname\tsize\tsha256". */
static int nv_landed_parse(const char *line, char id[NV_OBJECT_ID_HEX], nv_obj_rec *r,
			   char name[NV_OBJECT_NAME_MAX])
{
	char hex[NV_SHA256_HEX + 1];
	unsigned long long size;

	if (sscanf(line, "%64[^\t]\t%96[^\t]\t%llu\t%64s", id, name, &size, hex) != 4 ||
	    strlen(id) != NV_OBJECT_ID_HEX - 1 || nv_unhex(r->sha256, sizeof(r->sha256), hex))
		return NV_EINVAL;
	r->name = name;
	r->size = size;
	return 0;
}

/* The record at off (plus one), if it is id's. */
static int nv_landed_read(const nv_landed *l, uint64_t off1, const char *id, nv_obj_rec *out,
			  char name[NV_OBJECT_NAME_MAX])
{
	char line[NV_LANDED_LINE], have[NV_OBJECT_ID_HEX];
	ssize_t got = pread(fileno(l->log), line, sizeof(line) - 1, (off_t)(off1 - 1));

	if (got <= 0)
		return 0;
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	return nv_landed_parse(line, have, out, name) == 0 && strcmp(have, id) == 0;
}

/* The slot of id: its own, or the empty one where it would go. */
static size_t nv_landed_slot_of(const nv_landed *l, const char *id)
{
	uint64_t key = nv_id_key(id);
	size_t i = (size_t)key & (l->cap - 1);
	char name[NV_OBJECT_NAME_MAX];
	nv_obj_rec r;

	while (l->ix[i].off &&
	       (l->ix[i].key != key || !nv_landed_read(l, l->ix[i].off, id, &r, name)))
		i = (i + 1) & (l->cap - 1);
	return i;
}

static int nv_landed_index(nv_landed *l, const char *id, uint64_t off)
{
	size_t i;

	if ((l->n + 1) * 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		nv_landed_slot *old = l->ix, *ix = calloc(cap, sizeof(*ix));

		if (!ix)
			return nv_error_set(NV_ERR, "out of memory");
		/* rehash by key alone: the ids already indexed are distinct */
		for (size_t k = 0; k < l->cap; k++) {
			size_t j = (size_t)old[k].key & (cap - 1);

			if (!old[k].off)
				continue;
			while (ix[j].off)
				j = (j + 1) & (cap - 1);
			ix[j] = old[k];
		}
		free(old);
		l->ix = ix;
		l->cap = cap;
	}
	i = nv_landed_slot_of(l, id);
	l->n += !l->ix[i].off;
	l->ix[i].key = nv_id_key(id);
	l->ix[i].off = off + 1;
	return 0;
}

int nv_landed_find(const nv_landed *l, const char *id, nv_obj_rec *out,
		   char name[NV_OBJECT_NAME_MAX])
{
	size_t i;

	if (!l->cap)
		return 0;
	i = nv_landed_slot_of(l, id);
	return l->ix[i].off && nv_landed_read(l, l->ix[i].off, id, out, name);
}

int nv_landed_add(nv_landed *l, const char *id, const nv_obj_rec *rec)
{
	char hex[NV_SHA256_HEX];
	int n;

	nv_hex(hex, rec->sha256, NV_SHA256_LEN);
	n = fprintf(l->log, "%s\t%s\t%llu\t%s\n", id, rec->name, (unsigned long long)rec->size,
		    hex);
	if (n < 0 || fflush(l->log) != 0)
		return nv_error_errno(errno, "recording a landed object");
	l->end += (uint64_t)n;
	return nv_landed_index(l, id, l->end - (uint64_t)n);
}

void nv_landed_reset(nv_landed *l)
{
	if (ftruncate(fileno(l->log), 0) != 0)
		nv_log(NV_LOG_WARN, "cannot reset landed.tsv");
	l->end = 0;
	l->n = 0;
	if (l->ix)
		memset(l->ix, 0, l->cap * sizeof(*l->ix));
}

int nv_landed_each(const nv_landed *l, int (*fn)(void *ctx, const char *id, const nv_obj_rec *r),
		   void *ctx)
{
	char buf[64u << 10], id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	uint64_t off = 0;     /* of buf[0] in the file */
	size_t have = 0;
	int rc = 0;

	/* pread, not the stream: the log's offset is its writer's (a dry run's
	 * anonymous file is not opened for appending) */
	while (!rc && off + have < l->end) {
		size_t want = sizeof(buf) - have, start = 0;
		ssize_t got;
		char *nl;

		if (want > l->end - off - have)
			want = (size_t)(l->end - off - have);
		if ((got = pread(fileno(l->log), buf + have, want, (off_t)(off + have))) <= 0)
			return nv_error_errno(got < 0 ? errno : EIO, "reading landed.tsv");
		have += (size_t)got;
		while (!rc && (nl = memchr(buf + start, '\n', have - start))) {
			nv_obj_rec r;

			*nl = '\0';
			if (nv_landed_parse(buf + start, id, &r, name) == 0)
				rc = fn(ctx, id, &r);
			start = (size_t)(nl - buf) + 1;
		}
		if (!start && have == sizeof(buf))
			start = have; /* no line is that long: skipped, as on load */
		memmove(buf, buf + start, have - start);
		off += start;
		have -= start;
	}
	return rc;
}

/* What nv_landed_drop keeps, copied aside. */
typedef struct nv_landed_sieve {
	FILE *kept;
	int (*drop)(void *ctx, const char *id);
	void *ctx;
	uint64_t dropped;
} nv_landed_sieve;

static int nv_landed_load(nv_landed *l, FILE *in, int copy);

static int nv_landed_keep(void *ctx, const char *id, const nv_obj_rec *r)
{
	nv_landed_sieve *sv = ctx;
	char hex[NV_SHA256_HEX];

	if (sv->drop(sv->ctx, id)) {
		sv->dropped++;
		return 0;
	}
	nv_hex(hex, r->sha256, NV_SHA256_LEN);
	if (fprintf(sv->kept, "%s\t%s\t%llu\t%s\n", id, r->name, (unsigned long long)r->size,
		    hex) < 0)
		return nv_error_errno(errno, "copying landed.tsv");
	return 0;
}

int nv_landed_drop(nv_landed *l, int (*drop)(void *ctx, const char *id), void *ctx)
{
	nv_landed_sieve sv = { .drop = drop, .ctx = ctx };
	int rc, fd = -1;

	if ((rc = nv_runs_tmpfile(&fd)))
		return rc;
	if (!(sv.kept = fdopen(fd, "w+"))) {
		close(fd);
		return nv_error_errno(errno, "copying landed.tsv");
	}
	if (!(rc = nv_landed_each(l, nv_landed_keep, &sv)) && sv.dropped) {
		if (fflush(sv.kept) != 0 || fseek(sv.kept, 0, SEEK_SET) != 0)
			rc = nv_error_errno(errno, "copying landed.tsv");
		else {
			nv_landed_reset(l);
			rc = nv_landed_load(l, sv.kept, 1);
		}
	}
	fclose(sv.kept);
	return rc;
}

/* Indexes (or, for a dry run, copies) each valid line of in. */
static int nv_landed_load(nv_landed *l, FILE *in, int copy)
{
	char *line = NULL, id[NV_OBJECT_ID_HEX], name[NV_OBJECT_NAME_MAX];
	size_t cap = 0;
	uint64_t off = 0;
	ssize_t n;
	int rc = 0;

	while (!rc && (n = getline(&line, &cap, in)) > 0) {
		nv_obj_rec r;
		uint64_t at = off;

		off += (uint64_t)n;
		line[strcspn(line, "\n")] = '\0';
		if (nv_landed_parse(line, id, &r, name))
			continue;
		rc = copy ? nv_landed_add(l, id, &r) : nv_landed_index(l, id, at);
	}
	free(line);
	if (!copy)
		l->end = off;
	return rc;
}

int nv_landed_open(nv_landed **out, const char *path, int readonly)
{
	nv_landed *l = calloc(1, sizeof(*l));
	struct stat st;
	FILE *in = NULL;
	int rc = 0, fd;

	*out = NULL;
	if (!l)
		return nv_error_set(NV_ERR, "out of memory");
	fd = readonly ? open(path, O_RDONLY | O_CLOEXEC)
		      : open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && (!readonly || errno != ENOENT))
		rc = nv_error_errno(errno, "opening %s", path);
	else if (fd >= 0 && (fstat(fd, &st) != 0 || (st.st_mode & 077))) {
		nv_log(NV_LOG_WARN, "%s ignored: group or others may access it", path);
		if (!readonly && (ftruncate(fd, 0) != 0 || fchmod(fd, 0600) != 0))
			rc = nv_error_errno(errno, "resetting %s", path);
	} else if (fd >= 0 && !(in = fdopen(dup(fd), "r"))) {
		rc = nv_error_errno(errno, "reading %s", path);
	}
	if (!rc && readonly) {
		int afd = -1;

		if (!(rc = nv_runs_tmpfile(&afd)) && !(l->log = fdopen(afd, "w+"))) {
			rc = nv_error_errno(errno, "opening a dry run's record of objects");
			close(afd);
		}
		if (fd >= 0)
			close(fd);
	} else if (!rc && !(l->log = fdopen(fd, "a"))) {
		rc = nv_error_errno(errno, "opening %s", path);
		close(fd);
	} else if (rc && fd >= 0) {
		close(fd);
	}
	if (!rc && in)
		rc = nv_landed_load(l, in, readonly);
	if (in)
		fclose(in);
	if (rc) {
		nv_landed_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void nv_landed_close(nv_landed *l)
{
	if (!l)
		return;
	if (l->log)
		fclose(l->log);
	free(l->ix);
	free(l);
}
