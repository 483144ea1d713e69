/* fuzz_s3_list.c: an S3 ListObjectsV2 page as a server sends it, through the s3
 * driver's page parser (drivers/s3_list.c, nv_s3_list_parse) and the streaming XML
 * reader under it (drivers/http_xml.c), for a location rooted at "data/". */
#include "fuzz.h"

#include "../../drivers/s3_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nv_conn c = { .bucket = "bucket", .root = "data/", .page_size = 1000 };
	struct nv_list *it;

	if (nv_s3_list_open(&it, &c, "") != 0)
		abort();
	(void)nv_s3_list_parse(it, data, size);
	nv_s3_list_close(it);
	return 0;
}
