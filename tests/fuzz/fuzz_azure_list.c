/* fuzz_azure_list.c: an Azure List Blobs page as a server sends it, through the
 * azure driver's page parser (drivers/azure_list.c, nv_az_list_parse) and the
 * streaming XML reader under it (drivers/http_xml.c), for a prefix "data/". */
#include "fuzz.h"

#include "../../drivers/azure_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nv_conn c = { .account = "devstoreaccount1", .container = "cont",
			     .prefix = "data/", .page_size = 1000 };
	struct nv_list *it;

	if (nv_az_list_open(&it, &c, "") != 0)
		abort();
	(void)nv_az_list_parse(it, data, size);
	nv_az_list_close(it);
	return 0;
}
