/* http_stream.c: answers read piece by piece as the caller asks (a download kept
 * open across reads, curl's multi interface paused between them), and the
 * sequential-read helper built on it. Only drivers/; calls down into http.c. */
#include "http_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nv_http_stream {
	nv_http *h;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hl;
	struct xfer x;
	nv_http_req req;
	unsigned char *dst;   /* the current read's buffer */
	size_t room, got;
	nv_sb over;           /* bytes curl handed over beyond the current buffer */
	size_t over_pos;
	int running;
	int paused;           /* receiving paused until the next read */
	int drain;            /* reading an error answer whole: never pause */
	CURLcode result;
	char shown[1024];
	char detail[CURL_ERROR_SIZE];
};

static int stream_sink(void *ctx, const void *data, size_t len)
{
	struct nv_http_stream *s = ctx;
	size_t n = s->room - s->got;

	if (n > len)
		n = len;
	if (n) {
		memcpy(s->dst + s->got, data, n);
		s->got += n;
	}
	/* curl may hand over more than fits: keep it for the next read, and
	 * stop receiving until then. Without the pause a 4-blob download piled
	 * up to 32 MiB per stream in "over" between reads, all copied twice. */
	if (len > n) {
		nv_sb_addn(&s->over, (const char *)data + n, len - n);
		if (s->over.failed)
			return nv_error_set(NV_ERR, "out of memory");
		if (!s->paused && !s->drain && curl_easy_pause(s->easy, CURLPAUSE_RECV) == CURLE_OK)
			s->paused = 1;
	}
	return 0;
}

/* Runs the transfer until stop() holds or it ends. */
static int stream_pump(struct nv_http_stream *s, int (*stop)(const struct nv_http_stream *))
{
	while (s->running && !stop(s)) {
		CURLMcode mc = curl_multi_perform(s->multi, &s->running);
		CURLMsg *m;
		int left;

		if (mc != CURLM_OK)
			return nv_error_set(NV_ERR, "%s: %s", s->h->name, curl_multi_strerror(mc));
		while ((m = curl_multi_info_read(s->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				s->result = m->data.result;
		if (s->running && !stop(s) &&
		    (mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL)) != CURLM_OK)
			return nv_error_set(NV_ERR, "%s: %s", s->h->name, curl_multi_strerror(mc));
	}
	if (s->x.sink_err)
		return s->x.sink_err;
	if (!s->running && s->result != CURLE_OK && !s->x.empty)
		return nv_http_curl_error(s->h, &s->req, s->result, s->detail, s->shown);
	return 0;
}

static int headers_in(const struct nv_http_stream *s) { return s->x.headers_done; }
static int never(const struct nv_http_stream *s) { (void)s; return 0; }
static int buffer_full(const struct nv_http_stream *s) { return s->got == s->room; }

void nv_http_stream_close(nv_http_stream *s)
{
	if (!s)
		return;
	if (s->multi && s->easy)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->hl);
	nv_sb_free(&s->over);
	free(s);
}

int nv_http_stream_open(nv_http_stream **out, nv_http *h, nv_http_req *req, nv_http_resp *resp)
{
	struct nv_http_stream *s;
	CURLcode cc;
	int rc;

	*out = NULL;
	memset(resp, 0, sizeof(*resp));
	if ((rc = nv_http_check_url(req->url, h->allow_http)))
		return nv_error_wrap(rc, "%s", h->name);
	if (!(s = calloc(1, sizeof(*s))))
		return nv_error_set(NV_ERR, "out of memory");
	s->h = h;
	s->req = *req;
	s->req.sink = stream_sink;
	s->req.sink_ctx = s;
	nv_http_redact_url(s->shown, sizeof(s->shown), req->url);
	if (req->prepare && (rc = req->prepare(req->ctx, &s->req, 0)) != 0)
		goto fail;
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (!s->multi || !s->easy) {
		rc = nv_error_set(NV_ERR, "out of memory");
		goto fail;
	}
	s->x = (struct xfer){ .req = &s->req, .resp = resp, .curl = s->easy, .to_sink = -1 };
	cc = nv_http_setup(h, s->easy, &s->x, &s->hl);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->detail);
	if (cc != CURLE_OK) {
		rc = nv_http_curl_error(h, &s->req, cc, "", s->shown);
		goto fail;
	}
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
		rc = nv_error_set(NV_ERR, "%s: cannot start a transfer", h->name);
		goto fail;
	}
	s->running = 1;
	/* Up to the headers only; the body waits in the socket for reads. */
	rc = stream_pump(s, headers_in);
	resp->attempts = 1;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	if (h->trace)
		nv_log_trace("http: %s: %s %s -> %ld (stream)", h->name, req->method, s->shown,
			     resp->status);
	/* The caller's request (URL, headers, signing context) may go now: curl
	 * has its own copies. */
	s->req.url = NULL;
	s->req.headers = NULL;
	s->req.prepare = NULL;
	s->req.ctx = NULL;
	if (rc)
		goto fail;
	if (resp->status < 200 || resp->status >= 300) {
		/* An error answer: read its body (it is small) for the caller. */
		s->drain = 1;
		if (s->paused && curl_easy_pause(s->easy, CURLPAUSE_CONT) != CURLE_OK)
			rc = nv_error_set(NV_ERR, "%s: cannot resume a transfer", h->name);
		s->paused = 0;
		if (rc == 0)
			rc = stream_pump(s, never);
		nv_http_stream_close(s);
		return rc;
	}
	*out = s;
	return 0;
fail:
	nv_http_stream_close(s);
	return rc;
}

int nv_http_stream_read(nv_http_stream *s, void *buf, size_t len, size_t *got)
{
	size_t have = s->over.len - s->over_pos;
	int rc;

	s->dst = buf;
	s->room = len;
	s->got = have < len ? have : len;
	if (s->got)
		memcpy(buf, s->over.s + s->over_pos, s->got);
	s->over_pos += s->got;
	if (s->over_pos == s->over.len) {
		s->over.len = 0;
		s->over_pos = 0;
	}
	if (s->paused && s->got < len) {
		s->paused = 0;
		if (curl_easy_pause(s->easy, CURLPAUSE_CONT) != CURLE_OK)
			return nv_error_set(NV_ERR, "%s: cannot resume a transfer", s->h->name);
	}
	rc = stream_pump(s, buffer_full);
	*got = s->got;
	s->dst = NULL;
	s->room = s->got = 0;
	return rc;
}

void nv_http_seq_end(nv_http_seq *q)
{
	nv_http_stream_close(q->s);
	nv_http_resp_clear(&q->resp);
	free(q->key);
	q->s = NULL;
	q->key = NULL;
}

int nv_http_seq_at(const nv_http_seq *q, const char *key, uint64_t offset)
{
	return q->s && strcmp(q->key, key) == 0 && q->pos == offset;
}

int nv_http_seq_opened(nv_http_seq *q, const char *key, uint64_t offset)
{
	if (!(q->key = strdup(key))) {
		nv_http_seq_end(q);
		return nv_error_set(NV_ERR, "out of memory");
	}
	q->pos = offset;
	return 0;
}

int nv_http_seq_read(nv_http_seq *q, void *buf, size_t len, size_t *got)
{
	if (nv_http_stream_read(q->s, buf, len, got) != 0) {
		nv_http_seq_end(q);
		nv_error_clear();
		*got = 0;
		return 0;
	}
	q->pos += *got;
	if (*got < len) /* the end of the object */
		nv_http_seq_end(q);
	return 1;
}
