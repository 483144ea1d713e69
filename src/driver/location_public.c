/* location_public.c: a location as the user wrote it, with the credentials a
 * URL can carry stripped, for what others get to read (metrics labels).
 * Called by the command line (a leaf: it calls nothing back in driver.c). */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

char *nv_location_public(const char *text)
{
	const char *sep = strstr(text, "://"), *slash = strchr(text, '/'), *auth, *end, *at = NULL;
	size_t head, keep;
	char *out;

	/* Paths and NAME:path carry no credentials: those live in the config file. */
	if (!sep || (slash && slash < sep))
		return strdup(text);
	head = (size_t)(sep + 3 - text);
	auth = sep + 3;
	/* A query string or fragment (an Azure SAS token rides there) goes whole. */
	keep = strcspn(auth, "?#");
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	/* user:password@ goes whole (a bare user@ stays: a name is no secret). */
	if (at && memchr(auth, ':', (size_t)(at - auth))) {
		keep -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	if (!(out = malloc(head + keep + 1)))
		return NULL;
	memcpy(out, text, head);
	memcpy(out + head, auth, keep);
	out[head + keep] = '\0';
	return out;
}
