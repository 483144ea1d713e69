/* azure_connstr.c: parses Azure Storage connection strings.
 * Azure driver files only (see azure_connstr.h). */
#include "azure_connstr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "util/error.h"

static void az_free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void nv_az_connstr_clear(nv_az_connstr *c)
{
	free(c->account);
	az_free_secret(c->key);
	az_free_secret(c->sas);
	free(c->endpoint);
	memset(c, 0, sizeof(*c));
}

/* Sets *slot to a copy of v[0..n), refusing a second value for one key. */
static int az_set(char **slot, const char *name, const char *v, size_t n)
{
	if (*slot)
		return nv_error_set(NV_EINVAL, "connection string: %s given twice", name);
	*slot = strndup(v, n);
	return *slot ? 0 : nv_error_set(NV_ERR, "out of memory");
}

/* The parts used only to build the endpoint. */
struct az_cs_extra {
	char *protocol, *suffix;
	int devstore;
};

static int az_field(nv_az_connstr *c, struct az_cs_extra *x, const char *name, size_t nlen,
		    const char *v, size_t vlen)
{
#define AZ_IS(lit) (nlen == sizeof(lit) - 1 && strncasecmp(name, lit, nlen) == 0)
	if (AZ_IS("AccountName"))
		return az_set(&c->account, "AccountName", v, vlen);
	if (AZ_IS("AccountKey"))
		return az_set(&c->key, "AccountKey", v, vlen);
	if (AZ_IS("SharedAccessSignature")) {
		if (vlen && *v == '?')
			v++, vlen--;
		return az_set(&c->sas, "SharedAccessSignature", v, vlen);
	}
	if (AZ_IS("BlobEndpoint")) {
		while (vlen && v[vlen - 1] == '/')
			vlen--;
		return az_set(&c->endpoint, "BlobEndpoint", v, vlen);
	}
	if (AZ_IS("DefaultEndpointsProtocol"))
		return az_set(&x->protocol, "DefaultEndpointsProtocol", v, vlen);
	if (AZ_IS("EndpointSuffix"))
		return az_set(&x->suffix, "EndpointSuffix", v, vlen);
	if (AZ_IS("UseDevelopmentStorage")) {
		x->devstore = vlen == 4 && strncasecmp(v, "true", 4) == 0;
		return 0;
	}
	return 0;
#undef AZ_IS
}

static int az_endpoint(nv_az_connstr *c, const struct az_cs_extra *x)
{
	const char *proto = x->protocol ? x->protocol : "https";
	size_t n;

	if (x->devstore) {
		/* The emulator's fixed defaults, as Azure's SDKs apply them. */
		if (!c->account && !(c->account = strdup(NV_AZ_EMULATOR_ACCOUNT)))
			return nv_error_set(NV_ERR, "out of memory");
		if (!c->key && !c->sas && !(c->key = strdup(NV_AZ_EMULATOR_KEY)))
			return nv_error_set(NV_ERR, "out of memory");
		if (!c->endpoint &&
		    !(c->endpoint = strdup("http://127.0.0.1:10000/" NV_AZ_EMULATOR_ACCOUNT)))
			return nv_error_set(NV_ERR, "out of memory");
		return 0;
	}
	if (c->endpoint || !c->account)
		return 0;
	if (strcmp(proto, "https") != 0 && strcmp(proto, "http") != 0)
		return nv_error_set(NV_EINVAL, "connection string: DefaultEndpointsProtocol "
				    "must be https or http");
	n = strlen(proto) + strlen(c->account) + 64 + (x->suffix ? strlen(x->suffix) : 0);
	c->endpoint = malloc(n);
	if (!c->endpoint)
		return nv_error_set(NV_ERR, "out of memory");
	snprintf(c->endpoint, n, "%s://%s.blob.%s", proto, c->account,
		 x->suffix ? x->suffix : "core.windows.net");
	return 0;
}

int nv_az_connstr_parse(nv_az_connstr *out, const char *s)
{
	struct az_cs_extra x = { 0 };
	const char *p = s;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	while (rc == 0 && *p) {
		const char *end = strchr(p, ';'), *eq;

		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (end == p) {
			/* empty part: "a=b;;" and the trailing ';' are allowed */
		} else if (!eq || eq == p) {
			rc = nv_error_set(NV_EINVAL, "connection string: a part is not "
					  "NAME=VALUE");
		} else {
			rc = az_field(out, &x, p, (size_t)(eq - p), eq + 1,
				      (size_t)(end - eq - 1));
		}
		p = *end ? end + 1 : end;
	}
	if (rc == 0)
		rc = az_endpoint(out, &x);
	free(x.protocol);
	free(x.suffix);
	return rc;
}
