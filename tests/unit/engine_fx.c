/* engine_fx.c: the engine tests' fixture (engine_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/fault.h"
#include "driver/txcap.h"
#include "engine_fx.h"

static char fx_state_dir[64];

int fx_group_setup(void **state)
{
	(void)state;
	snprintf(fx_state_dir, sizeof(fx_state_dir), "/tmp/nv-test-engine.XXXXXX");
	if (!mkdtemp(fx_state_dir))
		return -1;
	setenv("NAVETTE_STATE_DIR", fx_state_dir, 1);
	setenv("NAVETTE_LEASE_SETTLE_MS", "0", 1);
	return 0;
}

int fx_group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int fx_setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));

	x->src = nv_fake_new("src");
	x->dst = nv_fake_new("dst");
	nv_engine_defaults(&x->o);
	x->o.transfers = 2;
	x->o.retries = 2;
	nv_fault_set(""); /* counting, no fault */
	*state = x;
	return 0;
}

int fx_teardown(void **state)
{
	fx *x = *state;

	nv_fault_set(NULL);
	nv_txcap_set(0);
	nv_fake_free(x->src);
	nv_fake_free(x->dst);
	free(x);
	return 0;
}

void fx_key(char *out, size_t cap, const char *prefix, int i)
{
	snprintf(out, cap, "%s%02d", prefix, i);
}

void fx_put_files(nv_fake *f, const char *prefix, int n)
{
	char key[32], text[64];

	for (int i = 0; i < n; i++) {
		fx_key(key, sizeof(key), prefix, i);
		snprintf(text, sizeof(text), "contents of %s", key);
		nv_fake_put_str(f, key, text);
	}
}

int fx_run(fx *x)
{
	return nv_engine_run(nv_fake_location(x->src), nv_fake_location(x->dst), &x->o, &x->st);
}

void fx_synced(fx *x, int n)
{
	fx_put_files(x->src, "f", n);
	assert_int_equal(fx_run(x), 0);
	assert_int_equal(x->st.copied, n);
	nv_fake_reset_calls(x->src);
	nv_fake_reset_calls(x->dst);
	nv_fault_set("");
}

void fx_assert_same(nv_fake *a, nv_fake *b, const char *key)
{
	size_t la, lb;
	unsigned char *ba = nv_fake_get(a, key, &la), *bb = nv_fake_get(b, key, &lb);

	assert_non_null(ba);
	assert_non_null(bb);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(ba);
	free(bb);
}

unsigned fx_removals(nv_fake *f)
{
	return nv_fake_calls(f, NV_FAKE_REMOVE, "") + nv_fake_calls(f, NV_FAKE_REMOVE_MANY, "");
}
