/* engine_delete.c: sync --delete's deletions, in batches as large as the
 * destination removes in one request, each key backed up first with --backup-dir.
 * Called by engine.c only. */
#include "engine_int.h"
#include "backup.h"
#include "report.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

/* Frees a job of either kind (engine.c calls it too: the call goes one way). */
void nv_job_free(nv_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nkeys; i++)
		free(j->keys[i]);
	free(j->keys);
	free(j->key);
	free(j);
}

/* --backup-dir: each key of the batch goes to the backup, then one barrier
 * makes them all durable before any is removed. A key that cannot be backed
 * up fails on its own and stays; a transient error keeps the whole batch for
 * the next attempt (backing up again is harmless: the key is unchanged). */
static int nv_delete_backup(nv_run *r, nv_worker *w, nv_job *j)
{
	size_t keep = 0, i;
	int rc = 0;

	for (i = 0; i < j->nkeys && !rc; i++) {
		rc = nv_backup_one(&w->x, w->bak, j->keys[i], NULL);
		if (rc == NV_ENOTFOUND) { /* already gone: its removal is harmless */
			nv_error_clear();
			rc = 0;
		}
		if (rc == NV_ERETRY)
			break;
		if (rc) {
			nv_pool_count(r->pool, j->keys[i], rc);
			free(j->keys[i]);
			rc = nv_pool_stopped(r->pool) ? NV_ECANCEL : 0;
			continue;
		}
		atomic_fetch_add(&r->backed_up, 1);
		nv_log_item(NV_LOG_INFO, "backed up", j->keys[i], NULL);
		j->keys[keep++] = j->keys[i];
	}
	memmove(j->keys + keep, j->keys + i, (j->nkeys - i) * sizeof(*j->keys));
	j->nkeys = keep + (j->nkeys - i);
	if (!rc && keep)
		rc = nv_drv_flush(w->bak);
	return rc;
}

/* One attempt at a batch of deletions: one request where the driver batches
 * (S3 DeleteObjects), each key counted and logged as a delete of its own.
 * Keys refused for good are counted here; the ones refused with NV_ERETRY stay
 * in the job, in order, and the attempt returns NV_ERETRY so that the pool
 * sends them again after its backoff. */
int nv_delete_attempt(nv_run *r, nv_worker *w, nv_job *j)
{
	nv_xfer_ctx *x = &w->x;
	size_t n, left = 0, i;
	int *res, rc;
	char **msgs;

	if (w->bak && (rc = nv_delete_backup(r, w, j)))
		return rc;
	if (!(n = j->nkeys))
		return 0;
	res = calloc(n, sizeof(*res));
	msgs = calloc(n, sizeof(*msgs));
	if (!res || !msgs) {
		free(res);
		free(msgs);
		return nv_error_set(NV_ERR, "out of memory");
	}
	rc = nv_drv_remove_many(x->dst, (const char *const *)j->keys, n, res, msgs);
	for (i = 0; !rc && i < n; i++) {
		char *key = j->keys[i];

		j->keys[i] = NULL;
		if (res[i] == NV_ERETRY) {
			nv_error_set(res[i], "%s", msgs[i] ? msgs[i] : nv_error_name(res[i]));
			j->keys[left++] = key; /* kept for the next attempt, in order */
			key = NULL;
		} else if (res[i] == 0) {
			atomic_fetch_add(&r->deleted, 1);
			nv_log_item(NV_LOG_INFO, "deleted", key, NULL);
			nv_report_file(r->o->report, key, "deleted", NULL, NULL, NULL, NULL);
		} else {
			nv_error_set(res[i], "%s", msgs[i] ? msgs[i] : nv_error_name(res[i]));
			nv_pool_count(r->pool, key, res[i]);
		}
		free(key);
		free(msgs[i]);
	}
	if (!rc) {
		j->nkeys = left;
		rc = left ? NV_ERETRY : 0;
	}
	free(res);
	free(msgs);
	return rc;
}

/* Hands a batch of deletions to the workers; *j is theirs (or freed) after. */
static int nv_push_deletes(nv_run *r, nv_job **j)
{
	int rc = 0;

	if (*j && (*j)->nkeys && nv_pool_submit(r->pool, *j) == 0)
		*j = NULL;
	else if (*j && (*j)->nkeys)
		rc = NV_ECANCEL;
	nv_job_free(*j);
	*j = NULL;
	return rc;
}

/* Queues the recorded deletions in batches as large as the destination's
 * driver removes in one request (1 for drivers without remove_many). */
int nv_apply_deletes(nv_run *r)
{
	size_t batch = nv_drv_remove_batch(r->dst_loc->driver);
	nv_job *j = NULL;
	char line[4096];
	int rc = 0;

	rewind(r->deletes);
	while (!rc && fgets(line, sizeof(line), r->deletes)) {
		line[strcspn(line, "\n")] = '\0';
		if (r->o->dry_run) {
			nv_log_item(NV_LOG_WARN, "would delete", line, NULL);
			atomic_fetch_add(&r->deleted, 1);
			continue;
		}
		if (!j && (j = calloc(1, sizeof(*j))))
			j->keys = calloc(batch, sizeof(*j->keys));
		if (!j || !j->keys || !(j->keys[j->nkeys] = strdup(line))) {
			rc = nv_error_set(NV_ERR, "out of memory");
			break;
		}
		j->act = NV_ACT_DELETE;
		if (++j->nkeys == batch)
			rc = nv_push_deletes(r, &j);
	}
	if (!rc)
		rc = nv_push_deletes(r, &j);
	nv_job_free(j);
	return rc;
}
