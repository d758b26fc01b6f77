/* libFuzzer target: any bytes as a CSR and as certificates, the untrusted inputs of
 * finalize (a DER CSR) and of the validation authority (a peer's tls-alpn-01 certificate).
 * The bytes go through csr_parse_der, pem_read_csr and pem_read_certs; each CSR that
 * parses goes through csr_read, then again after re-signing it with a fixed key, because
 * a mutated CSR almost never keeps a valid self-signature and the SAN and CN readers sit
 * behind that check; each certificate goes through the x509.h readers. Seeds: corpus/csr/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/csr.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

static EVP_PKEY *fz_key;

/* csr_read on req as it came, then with a valid signature by fz_key. req is modified. */
static void fz_csr(X509_REQ *req)
{
    struct csr_info info = {0};

    if (csr_read(req, &info) == MC_OK)
        csr_info_free(&info);
    csr_info_free(&info); /* must also be safe on what a failed csr_read left */
    if (X509_REQ_set_pubkey(req, fz_key) != 1 || X509_REQ_sign(req, fz_key, EVP_sha256()) <= 0) {
        ERR_clear_error(); /* e.g. a version or name OpenSSL cannot re-encode */
        return;
    }
    (void)!csr_read(req, &info);
    csr_info_free(&info);
}

static void fz_cert(X509 *cert)
{
    struct ident_list sans = {0};
    char *serial = NULL;
    uint8_t *id = NULL;
    size_t n = 0;
    int64_t nb = 0, na = 0;
    uint8_t acme[32];

    (void)!x509_sans(cert, &sans);
    ident_list_free(&sans);
    if (x509_serial_hex(cert, &serial) == MC_OK)
        free(serial);
    if (x509_aki(cert, &id, &n) == MC_OK)
        free(id);
    id = NULL;
    if (x509_ski(cert, &id, &n) == MC_OK)
        free(id);
    (void)!x509_validity(cert, &nb, &na);
    (void)!x509_acme_identifier(cert, acme);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    X509_REQ *req = NULL;
    STACK_OF(X509) *certs = NULL;

    if (fz_key == NULL) {
        log_set_stream(NULL);
        if (key_generate(KEY_EC_P256, &fz_key) != MC_OK)
            abort();
    }
    ERR_clear_error(); /* each input starts clean, so a crash reproduces alone */

    if (csr_parse_der(data, size, &req) == MC_OK)
        fz_csr(req);
    X509_REQ_free(req);
    req = NULL;

    if (pem_read_csr((const char *)data, size, &req) == MC_OK)
        fz_csr(req);
    X509_REQ_free(req);

    if (pem_read_certs((const char *)data, size, &certs) == MC_OK) {
        for (int i = 0; i < sk_X509_num(certs); i++)
            fz_cert(sk_X509_value(certs, i));
    }
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return 0;
}
