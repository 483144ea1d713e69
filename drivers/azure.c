/* azure.c: the Azure Blob Storage driver (Shared Key or SAS, REST over libcurl
 * through drivers/http.h): its table, settings, open and close. No code but
 * src/driver.c calls the slots. The other files call down, never back here:
 * azure_list.c, azure_read.c and azure_write.c use azure_request.c (signed
 * requests, the one error mapping), which uses azure_sign.c and http.c.
 *
 * Locations: az://ACCOUNT/CONTAINER[/PREFIX], or NAME:CONTAINER[/PREFIX] for a
 * remote of type "azure". Settings (config key, then the environment variable
 * that fills it when unset):
 *   account            AZURE_STORAGE_ACCOUNT   storage account (URL form: the authority)
 *   key                AZURE_STORAGE_KEY       account key, base64 (Shared Key auth)
 *   sas_token          AZURE_STORAGE_SAS_TOKEN SAS query string (used when no key)
 *   connection_string  AZURE_STORAGE_CONNECTION_STRING  AccountName, AccountKey,
 *                      SharedAccessSignature, BlobEndpoint, DefaultEndpointsProtocol,
 *                      EndpointSuffix, UseDevelopmentStorage; the keys above win
 *                      over it, and it is ignored when it names another account
 *   endpoint           blob service URL (default https://ACCOUNT.blob.core.windows.net;
 *                      Azurite: http://127.0.0.1:PORT/devstoreaccount1)
 *   ca_file            PEM bundle trusted instead of the system's
 *   allow_http         plain http:// to a non-loopback host (default false)
 *   block_size         block size for Put Block (default 4M; part_size is an alias;
 *                      grown when a known size would need more than 50,000 blocks)
 *   upload_concurrency blocks uploading at once per object (default 4, max 64):
 *                      the first block buffer is the writer's, the others come
 *                      from the run's budget while it has room (--max-memory)
 *   list_page_size     List Blobs maxresults, 1..5000 (default 5000)
 *   timeout            seconds without progress before a request fails (default 120)
 * Retries: 408, 429, 500, 502, 503, 504 and connection errors (never 403) are
 * sent again under the one policy (util/retry.h: --retries, shared with the engine's).
 * What it leaves out: containers are never created or deleted; uncommitted
 * blocks of an aborted write are left for the service to collect (7 days). */
#include "azure_int.h"
#include "util/membudget.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "azure_connstr.h"

#define AZ_DEFAULT_BLOCK (4u << 20)
#define AZ_MIN_BLOCK (64u << 10)

static void az_free_secret(void *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static void azure_close(struct nv_conn *c)
{
	if (!c)
		return;
	nv_http_free(c->http);
	nv_http_spares_free(&c->spares);
	free(c->ca_file);
	free(c->account);
	az_free_secret(c->key, c->keylen);
	if (c->sas)
		az_free_secret(c->sas, strlen(c->sas));
	free(c->endpoint);
	free(c->container);
	free(c->prefix);
	nv_az_readahead_drop(c);
	if (c->ra_buf)
		nv_mem_release(NV_AZ_READAHEAD);
	free(c->ra_buf);
	free(c);
}

/* ---- Opening: settings, credentials, a first cheap request ---- */

static int az_dup(char **slot, const char *v)
{
	if (!v)
		return 0;
	*slot = strdup(v);
	return *slot ? 0 : nv_error_set(NV_ERR, "out of memory");
}

static int az_check_name(const char *what, const char *s, size_t min, size_t max,
			 const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return nv_error_set(NV_EINVAL, "azure: %s '%s' must be %zu to %zu characters",
				    what, s, min, max);
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		      (*p && strchr(extra, *p))))
			return nv_error_set(NV_EINVAL, "azure: %s '%s' may hold only lower-case "
					    "letters, digits%s", what, s,
					    extra[0] ? " and '-'" : "");
	return 0;
}

/* Credentials and endpoint: explicit keys first, then the connection string. */
static int az_open_auth(struct nv_conn *c, const nv_location *loc)
{
	const nv_settings *s = loc->settings;
	const char *cstr = nv_settings_get(s, "connection_string",
					   "AZURE_STORAGE_CONNECTION_STRING");
	const char *key = nv_settings_get(s, "key", "AZURE_STORAGE_KEY");
	const char *sas = nv_settings_get(s, "sas_token", "AZURE_STORAGE_SAS_TOKEN");
	const char *ep = nv_settings_get(s, "endpoint", NULL);
	nv_az_connstr cs = { 0 };
	int rc = 0;

	if (loc->authority)
		rc = az_dup(&c->account, loc->authority);
	else
		rc = az_dup(&c->account, nv_settings_get(s, "account", "AZURE_STORAGE_ACCOUNT"));
	if (rc == 0 && cstr) {
		rc = nv_az_connstr_parse(&cs, cstr);
		if (rc < 0)
			nv_error_wrap(rc, "azure: connection_string");
		/* A connection string for another account lends nothing. */
		if (rc == 0 && c->account && cs.account && strcmp(cs.account, c->account) != 0)
			nv_az_connstr_clear(&cs);
	}
	if (rc == 0 && !c->account)
		rc = az_dup(&c->account, cs.account);
	if (rc == 0 && !c->account)
		rc = nv_error_set(NV_EINVAL, "azure: %s: no storage account (set account, "
				  "AZURE_STORAGE_ACCOUNT or a connection string)", loc->text);
	if (rc == 0)
		rc = az_check_name("account name", c->account, 1, 63, "");
	if (rc == 0 && !key && !sas) {
		key = cs.key;
		sas = cs.sas;
	}
	if (rc == 0 && key) {
		rc = nv_az_key_decode(&c->key, &c->keylen, key);
	} else if (rc == 0 && sas) {
		rc = az_dup(&c->sas, sas[0] == '?' ? sas + 1 : sas);
	} else if (rc == 0) {
		rc = nv_error_set(NV_EAUTH, "azure: %s: no credentials (set key, sas_token or "
				  "connection_string, or AZURE_STORAGE_KEY, ...)", loc->text);
	}
	if (rc == 0 && !ep)
		ep = cs.endpoint;
	if (rc == 0 && ep) {
		rc = az_dup(&c->endpoint, ep);
		while (rc == 0 && *c->endpoint && c->endpoint[strlen(c->endpoint) - 1] == '/')
			c->endpoint[strlen(c->endpoint) - 1] = '\0';
	} else if (rc == 0) {
		size_t n = strlen(c->account) + 40;

		c->endpoint = malloc(n);
		if (!c->endpoint)
			rc = nv_error_set(NV_ERR, "out of memory");
		else
			snprintf(c->endpoint, n, "https://%s.blob.core.windows.net", c->account);
	}
	nv_az_connstr_clear(&cs);
	return rc;
}

static int az_open_endpoint(struct nv_conn *c)
{
	const char *p = strstr(c->endpoint, "://");

	if (!p || strchr(c->endpoint, '?') || strchr(c->endpoint, '#'))
		return nv_error_set(NV_EINVAL, "azure: endpoint '%s' is not a URL like "
				    "https://HOST[/PATH]", c->endpoint);
	p = strchr(p + 3, '/');
	c->endpoint_path = p ? p : c->endpoint + strlen(c->endpoint);
	return nv_http_check_url(c->endpoint, c->hopts.allow_http);
}

/* CONTAINER[/PREFIX] from the location's path. */
static int az_open_path(struct nv_conn *c, const char *path)
{
	const char *slash;
	size_t n;
	int rc;

	while (*path == '/')
		path++;
	slash = strchr(path, '/');
	n = slash ? (size_t)(slash - path) : strlen(path);
	c->container = strndup(path, n);
	if (!c->container)
		return nv_error_set(NV_ERR, "out of memory");
	if (!n)
		return nv_error_set(NV_EINVAL, "azure: the location names no container "
				    "(az://ACCOUNT/CONTAINER[/PREFIX])");
	rc = az_check_name("container name", c->container, 3, 63, "-");
	path += n;
	while (rc == 0 && *path == '/')
		path++;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	c->prefix = malloc(n + 2);
	if (rc == 0 && !c->prefix)
		rc = nv_error_set(NV_ERR, "out of memory");
	if (rc == 0) {
		memcpy(c->prefix, path, n);
		c->prefix[n] = '\0';
		if (n && (rc = nv_key_check(c->prefix)) < 0)
			nv_error_wrap(rc, "azure: prefix");
		if (n)
			strcpy(c->prefix + n, "/");
	}
	return rc;
}

static int az_open_tuning(struct nv_conn *c, const nv_settings *s)
{
	uint64_t block, page, conc, timeout;
	int allow = 0, rc;

	rc = nv_settings_get_size(s, "part_size", NULL, AZ_DEFAULT_BLOCK, &block);
	if (rc == 0 && nv_settings_get(s, "block_size", NULL))
		rc = nv_settings_get_size(s, "block_size", NULL, AZ_DEFAULT_BLOCK, &block);
	if (rc == 0 && (block < AZ_MIN_BLOCK || block > NV_AZ_MAX_BLOCK))
		rc = nv_error_set(NV_EINVAL, "azure: block_size must be 64K to 4000M");
	if (rc == 0)
		rc = nv_settings_get_u64(s, "list_page_size", NULL, 5000, &page);
	if (rc == 0 && (page < 1 || page > 5000))
		rc = nv_error_set(NV_EINVAL, "azure: list_page_size must be 1 to 5000");
	if (rc == 0)
		rc = nv_settings_get_u64(s, "upload_concurrency", NULL, 4, &conc);
	if (rc == 0 && (conc < 1 || conc > NV_AZ_MAX_CONCURRENCY))
		rc = nv_error_set(NV_EINVAL, "azure: upload_concurrency must be 1 to %u",
				  NV_AZ_MAX_CONCURRENCY);
	if (rc == 0)
		rc = nv_settings_get_u64(s, "timeout", NULL, 120, &timeout);
	if (rc == 0)
		rc = nv_settings_get_bool(s, "allow_http", NULL, 0, &allow);
	if (rc == 0)
		rc = az_dup(&c->ca_file, nv_settings_get(s, "ca_file", NULL));
	if (rc < 0)
		return rc;
	c->block_size = block;
	c->page_size = (unsigned)page;
	c->concurrency = (unsigned)conc;
	c->hopts = (nv_http_opts){ .name = "azure", .ca_file = c->ca_file, .allow_http = allow,
				   .timeout = timeout > 86400 ? 86400 : (unsigned)timeout };
	return 0;
}

static int azure_open(struct nv_conn **out, const nv_location *loc)
{
	struct nv_conn *c = calloc(1, sizeof(*c));
	nv_http_resp resp = { 0 };
	nv_sb q = { 0 };
	int rc;

	*out = NULL;
	if (!c)
		return nv_error_set(NV_ERR, "out of memory");
	rc = az_open_tuning(c, loc->settings);
	if (rc == 0)
		rc = az_open_auth(c, loc);
	if (rc == 0)
		rc = az_open_endpoint(c);
	if (rc == 0)
		rc = az_open_path(c, loc->path ? loc->path : "");
	if (rc == 0)
		rc = nv_http_new(&c->http, &c->hopts);
	/* One cheap request proves the credentials and the container. */
	if (rc == 0) {
		nv_sb_add(&q, "restype=container&comp=list&maxresults=1&prefix=");
		nv_sb_add_urlenc(&q, c->prefix, strlen(c->prefix), 0);
		rc = nv_sb_ok(&q);
	}
	if (rc == 0) {
		rc = nv_az_send(c, c->http, "GET", NULL, q.s, NULL, 0, NULL, 0, NULL, NULL, NULL,
				&resp);
		if (rc == 0 && resp.status / 100 != 2)
			rc = nv_az_error(c, &resp, "list", c->prefix);
		nv_http_resp_clear(&resp);
	}
	nv_sb_free(&q);
	if (rc < 0) {
		azure_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

static const char *const azure_schemes[] = { "az", NULL };

const nv_driver nv_driver_azure = {
	.version = NV_DRIVER_VERSION,
	.name = "azure",
	.schemes = azure_schemes,
	/* If-None-Match: * on Put Blob / Put Block List is checked atomically by
	 * the service; the MD5 of every Put Blob and Put Block is checked too. */
	.caps = NV_CAP_EXCLUSIVE | NV_CAP_MTIME | NV_CAP_MODE | NV_CAP_SERVER_MD5 |
		NV_CAP_DURABLE,
	.min_part_size = AZ_MIN_BLOCK,
	.open = azure_open,
	.close = azure_close,
	.list_open = nv_az_list_open,
	.list_next = nv_az_list_next,
	.list_close = nv_az_list_close,
	.stat = nv_az_stat,
	.read = nv_az_read,
	.write_open = nv_az_write_open,
	.write = nv_az_write,
	.write_commit = nv_az_write_commit,
	.write_abort = nv_az_write_abort,
	.remove = nv_az_remove,
	.flush = NULL,
	/* version 4: no leftovers slots. An interrupted write leaves only
	 * uncommitted blocks, which no listing shows and the service itself
	 * discards after 7 days. */
};
