/* exit.c: the one exit rule and error classification (exit.h). Everyone may call. */
#include "exit.h"
#include "error.h"

int nv_exit_code(const nv_outcome *o)
{
	if (o->fatal) {
		if (o->fatal == NV_EAUTH || o->fatal == NV_EINVAL)
			return NV_EXIT_USAGE;
		if (o->fatal == NV_EMISMATCH)
			return NV_EXIT_DIFF;
		if (o->fatal == NV_ELIMIT)
			return NV_EXIT_PARTIAL; /* stopped on purpose: the rest is for the next run */
		return NV_EXIT_FATAL;
	}
	if (o->failed)
		return NV_EXIT_PARTIAL;
	if (o->differ)
		return NV_EXIT_DIFF;
	return NV_EXIT_OK;
}

int nv_exit_worst(int a, int b)
{
	static const int rank[] = { [NV_EXIT_OK] = 0, [NV_EXIT_DIFF] = 1,
				    [NV_EXIT_PARTIAL] = 2, [NV_EXIT_USAGE] = 3,
				    [NV_EXIT_FATAL] = 4 };

	if (a < 0 || a > NV_EXIT_FATAL)
		return a;
	if (b < 0 || b > NV_EXIT_FATAL)
		return b;
	return rank[a] >= rank[b] ? a : b;
}

int nv_exit_for_error(int rc)
{
	nv_outcome o = { .fatal = rc };

	return nv_exit_code(&o);
}

nv_err_class nv_err_classify(int rc)
{
	switch (rc) {
	case NV_OK:
		return NV_CLASS_OK;
	case NV_ERETRY:
		return NV_CLASS_RETRY;
	case NV_EMISMATCH:
		return NV_CLASS_DIFF;
	case NV_EAUTH:
	case NV_ENOSPC:
	case NV_ECANCEL:
	case NV_ELIMIT:
		return NV_CLASS_FATAL;
	default:
		return NV_CLASS_ITEM;
	}
}
