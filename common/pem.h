/* pem.h: PEM in and out for keys, certificates and CSRs, with a length cap. */
#ifndef MC_PEM_H
#define MC_PEM_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"

#define PEM_MAX_LEN (256 * 1024)

/* Each reader takes pem[0..len) (need not be NUL-terminated), MC_ERR_TOO_BIG above
 * PEM_MAX_LEN, MC_ERR_INVALID when nothing of the wanted kind parses. Out objects are
 * new references the caller frees with the OpenSSL free function. */
MC_MUST_CHECK enum mc_err pem_read_private_key(const char *pem, size_t len, EVP_PKEY **out);
MC_MUST_CHECK enum mc_err pem_read_public_key(const char *pem, size_t len, EVP_PKEY **out);
MC_MUST_CHECK enum mc_err pem_read_cert(const char *pem, size_t len, X509 **out); /* the first */
/* Every certificate in order (a chain); at least one, else MC_ERR_INVALID. */
MC_MUST_CHECK enum mc_err pem_read_certs(const char *pem, size_t len, STACK_OF(X509) **out);
MC_MUST_CHECK enum mc_err pem_read_csr(const char *pem, size_t len, X509_REQ **out);

/* Each writer returns a new NUL-terminated string in *out (caller frees with free()). */
MC_MUST_CHECK enum mc_err pem_write_private_key(EVP_PKEY *key, char **out); /* PKCS#8 */
MC_MUST_CHECK enum mc_err pem_write_public_key(EVP_PKEY *key, char **out);  /* SPKI */
MC_MUST_CHECK enum mc_err pem_write_cert(X509 *cert, char **out);
MC_MUST_CHECK enum mc_err pem_write_csr(X509_REQ *req, char **out);

#endif
