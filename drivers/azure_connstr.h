/* azure_connstr.h: parses Azure Storage connection strings
 * ("AccountName=...;AccountKey=...;BlobEndpoint=..."). Azure driver files only. */
#ifndef NV_AZURE_CONNSTR_H
#define NV_AZURE_CONNSTR_H

/* What a connection string names; each field NULL when it does not say.
 * endpoint is the blob service URL without a trailing '/': BlobEndpoint, or
 * built from DefaultEndpointsProtocol + AccountName + EndpointSuffix, or the
 * emulator's for UseDevelopmentStorage=true. key and sas are secrets. */
typedef struct nv_az_connstr {
	char *account;
	char *key; /* base64, as written */
	char *sas; /* without a leading '?' */
	char *endpoint;
} nv_az_connstr;

/* Fills *out (zeroed first). Keys are case-insensitive; unknown keys are
 * ignored, as Azure's SDKs do. NV_EINVAL names the malformed part, never a
 * value. Release with nv_az_connstr_clear(), also after a failure. */
int nv_az_connstr_parse(nv_az_connstr *out, const char *s);
/* Wipes the secrets and frees every field. */
void nv_az_connstr_clear(nv_az_connstr *c);

/* The storage emulator's published account name and key. */
#define NV_AZ_EMULATOR_ACCOUNT "devstoreaccount1"
#define NV_AZ_EMULATOR_KEY \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

#endif
