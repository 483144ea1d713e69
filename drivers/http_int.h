/* http_int.h: what http.c shares with http_stream.c: the client, one transfer's
 * state, the request setup and the curl error mapping. Only drivers/http*.c include
 * it (curl's types stay inside the http module). */
#ifndef NV_DRIVERS_HTTP_INT_H
#define NV_DRIVERS_HTTP_INT_H

#include <curl/curl.h>

#include "http.h"

struct nv_http {
	CURL *curl;
	char name[16];
	char *ca_file;
	int allow_http;
	unsigned connect_timeout;
	unsigned timeout;
	int trace;
};

/* One transfer's state, seen by the curl callbacks. */
struct xfer {
	nv_http_req *req;
	nv_http_resp *resp;
	CURL *curl;
	const unsigned char *up;
	size_t up_left;
	size_t cap;      /* cap on resp->body for this response */
	int to_sink;     /* -1 undecided, 0 collect, 1 sink */
	int sink_err;    /* the sink's code when it aborted */
	int too_big;
	int empty;       /* 2xx whose Content-Range says the entity has 0 bytes */
	int headers_done; /* the final response's headers are all in */
};

/* Sets c up for x's request (URL, method, body, headers, TLS, timeouts, the
 * callbacks that fill x); *hl gets the header list to free after the transfer. */
CURLcode nv_http_setup(nv_http *h, CURL *c, struct xfer *x, struct curl_slist **hl);
/* Maps a transport failure to an nv_err with a message; the one place for curl codes. */
int nv_http_curl_error(nv_http *h, const nv_http_req *req, CURLcode rc, const char *detail,
		       const char *shown);

#endif
