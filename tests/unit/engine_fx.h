/* engine_fx.h: the engine's test fixture: a source and a destination fake
 * store (fake_driver.h), the options and the stats of the last run, and the
 * helpers the engine tests share. Called by test_engine*.c only. */
#ifndef NV_ENGINE_FX_H
#define NV_ENGINE_FX_H

#include <stddef.h>

#include "engine/engine.h"
#include "fake_driver.h"

typedef struct fx {
	nv_fake *src, *dst;
	nv_engine_opts o;
	nv_engine_stats st;
} fx;

/* cmocka setup/teardown: two empty stores, 2 workers, 2 retries, faults
 * counted (none injected). */
int fx_setup(void **state);
int fx_teardown(void **state);
/* cmocka group setup/teardown: a private state directory (the local lock
 * lives there, removed at the end) and no settle pause before a lease's
 * listing. */
int fx_group_setup(void **state);
int fx_group_teardown(void **state);
/* "<prefix>NN" into out. */
void fx_key(char *out, size_t cap, const char *prefix, int i);
/* n keys "<prefix>00".. holding "contents of <key>", mtime 1000. */
void fx_put_files(nv_fake *f, const char *prefix, int n);
/* One run from x->src to x->dst with x->o; its exit code, stats in x->st. */
int fx_run(fx *x);
/* A first sync of n files, then every count back to zero: the trees are equal. */
void fx_synced(fx *x, int n);
/* key holds the same bytes in a and b. */
void fx_assert_same(nv_fake *a, nv_fake *b, const char *key);
/* Removal requests of either kind that reached the store. */
unsigned fx_removals(nv_fake *f);

#endif
