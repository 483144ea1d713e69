/* sftp_list.c: the recursive listing, streamed in global byte order of keys: each
 * directory is read whole and sorted with directory names compared as "name/",
 * then walked depth-first, so memory is O(depth x widest directory).
 * Called by sftp.c only. */
#include "sftp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sftp_dent {
	char *name;
	int dir;
	nv_entry e;
};

struct sftp_frame {
	char *prefix; /* key prefix of the directory: "" or "a/b/" */
	struct sftp_dent *ents;
	size_t n, i;
};

struct nv_list {
	struct nv_conn *c;
	struct sftp_frame *stack;
	size_t depth, cap;
	char *key; /* the key handed out by the last list_next */
};

/* Byte order of the keys the entries lead to: a directory "a" sorts as "a/". */
static int sftp_dent_cmp(const void *pa, const void *pb)
{
	const struct sftp_dent *a = pa, *b = pb;
	const unsigned char *x = (const unsigned char *)a->name;
	const unsigned char *y = (const unsigned char *)b->name;
	int cx, cy;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	cx = *x ? *x : (a->dir ? '/' : 0);
	cy = *y ? *y : (b->dir ? '/' : 0);
	return cx - cy;
}

static void sftp_frame_free(struct sftp_frame *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->ents[i].name);
	free(f->ents);
	free(f->prefix);
	memset(f, 0, sizeof(*f));
}

static int sftp_frame_add(struct sftp_frame *f, size_t *cap, const char *name, int dir,
			  const nv_entry *e)
{
	if (f->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct sftp_dent *n = realloc(f->ents, ncap * sizeof(*n));

		if (!n)
			return -1;
		f->ents = n;
		*cap = ncap;
	}
	f->ents[f->n].name = strdup(name);
	if (!f->ents[f->n].name)
		return -1;
	f->ents[f->n].dir = dir;
	f->ents[f->n].e = *e;
	f->n++;
	return 0;
}

/* Keeps files and directories; skips ".", "..", our temp files, symlinks and
 * special files. Returns 1 when kept, 0 when skipped. */
static int sftp_keep(const char *name, const LIBSSH2_SFTP_ATTRIBUTES *a, int *dir,
		     nv_entry *e)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strncmp(name, NV_SFTP_TMP_PREFIX, strlen(NV_SFTP_TMP_PREFIX)) == 0)
		return 0;
	*dir = (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && S_ISDIR(a->permissions);
	if (*dir) {
		memset(e, 0, sizeof(*e));
		return 1;
	}
	return nv_sftp_attrs_entry(e, a) == 0;
}

static int sftp_read_dir(struct sftp_frame *f, struct nv_conn *c, const char *prefix)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	char name[1100], *path;
	size_t plen = strlen(prefix), cap = 0;
	int rc = 0, dir;
	ssize_t n;
	nv_entry e;

	memset(f, 0, sizeof(*f));
	f->prefix = strdup(prefix);
	path = f->prefix ? strndup(prefix, plen ? plen - 1 : 0) : NULL;
	if (path) {
		char *full = nv_sftp_path(c, path);

		free(path);
		path = full;
	}
	if (!path) {
		sftp_frame_free(f);
		return nv_error_set(NV_ERR, "out of memory");
	}
	c->dh = libssh2_sftp_open_ex(c->sftp, path, (unsigned)strlen(path), 0, 0,
				     LIBSSH2_SFTP_OPENDIR);
	free(path);
	if (!c->dh) {
		sftp_frame_free(f);
		return nv_sftp_fail(c, libssh2_session_last_errno(c->ssh), "listing '%s'", prefix);
	}
	h = c->dh;
	while ((n = libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a)) > 0) {
		if (sftp_keep(name, &a, &dir, &e) && sftp_frame_add(f, &cap, name, dir, &e)) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
	}
	if (n < 0)
		rc = nv_sftp_fail(c, (int)n, "listing '%s'", prefix); /* a teardown closes dh */
	if (c->dh)
		libssh2_sftp_close_handle(c->dh);
	c->dh = NULL;
	if (rc) {
		sftp_frame_free(f);
		return rc;
	}
	if (f->n > 1)
		qsort(f->ents, f->n, sizeof(*f->ents), sftp_dent_cmp);
	return 0;
}

/* retry: 0 when the caller retries (list_open runs under sftp.c's retry loop). */
static int sftp_push(struct nv_list *it, const char *prefix, int retry)
{
	struct sftp_frame f;
	int rc;

	if (it->depth == it->cap) {
		size_t ncap = it->cap ? it->cap * 2 : 8;
		struct sftp_frame *s = realloc(it->stack, ncap * sizeof(*s));

		if (!s)
			return nv_error_set(NV_ERR, "out of memory");
		it->stack = s;
		it->cap = ncap;
	}
	if (retry)
		NV_SFTP_RETRY(it->c, rc, sftp_read_dir(&f, it->c, prefix));
	else
		rc = sftp_read_dir(&f, it->c, prefix);
	if (!rc)
		it->stack[it->depth++] = f;
	return rc;
}

void nv_sftp_list_close(struct nv_list *it)
{
	if (!it)
		return;
	while (it->depth)
		sftp_frame_free(&it->stack[--it->depth]);
	free(it->stack);
	free(it->key);
	free(it);
}

/* The root must exist; a missing prefix below it lists nothing. */
static int sftp_root_missing(struct nv_conn *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *path = nv_sftp_path(c, "");
	int rc;

	if (!path)
		return nv_error_set(NV_ERR, "out of memory");
	rc = libssh2_sftp_stat_ex(c->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_STAT, &a);
	free(path);
	if (rc)
		return nv_sftp_fail(c, rc, "the root directory");
	if ((a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !S_ISDIR(a.permissions))
		return nv_error_set(NV_ENOTFOUND, "sftp %s: the root is not a directory",
				    c->where);
	return 0;
}

int nv_sftp_list_open(struct nv_list **out, struct nv_conn *c, const char *prefix)
{
	struct nv_list *it = calloc(1, sizeof(*it));
	int rc;

	*out = NULL;
	if (!it)
		return nv_error_set(NV_ERR, "out of memory");
	it->c = c;
	rc = sftp_push(it, prefix, 0);
	if (rc == NV_ENOTFOUND && *prefix)
		rc = sftp_root_missing(c);
	if (rc) {
		nv_sftp_list_close(it);
		return rc;
	}
	*out = it;
	return 0;
}

int nv_sftp_list_next(struct nv_list *it, nv_entry *out)
{
	struct sftp_frame *f;
	struct sftp_dent *d;
	char *key;
	int rc;

	while (it->depth) {
		f = &it->stack[it->depth - 1];
		if (f->i == f->n) {
			sftp_frame_free(f);
			it->depth--;
			continue;
		}
		d = &f->ents[f->i++];
		if (asprintf(&key, "%s%s%s", f->prefix, d->name, d->dir ? "/" : "") < 0)
			return nv_error_set(NV_ERR, "out of memory");
		if (d->dir) {
			rc = sftp_push(it, key, 1);
			free(key);
			if (rc == NV_ENOTFOUND) /* removed since its parent was read */
				continue;
			if (rc)
				return rc;
			continue;
		}
		free(it->key);
		it->key = key;
		*out = d->e;
		out->key = it->key;
		return 0;
	}
	return NV_EOF;
}
