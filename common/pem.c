/* common/pem.c: PEM in and out through OpenSSL's memory BIOs. */
#include "common/pem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/log.h"

/* Refuses every passphrase prompt: with a NULL callback OpenSSL would read the terminal
 * for an encrypted key, and a server must never block on that. */
static int pem_no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static enum mc_err pem_open(const char *pem, size_t len, BIO **bio)
{
    *bio = NULL;
    if (len > PEM_MAX_LEN)
        return MC_ERR_TOO_BIG;
    if (pem == NULL || len == 0)
        return MC_ERR_INVALID;
    *bio = BIO_new_mem_buf(pem, (int)len);
    if (*bio == NULL) {
        log_openssl_errors(LOGL_ERROR, "pem.bio");
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

enum mc_err pem_read_private_key(const char *pem, size_t len, EVP_PKEY **out)
{
    BIO *bio = NULL;
    *out = NULL;
    enum mc_err rc = pem_open(pem, len, &bio);
    if (rc != MC_OK)
        return rc;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, pem_no_password, NULL);
    BIO_free(bio);
    if (k == NULL) {
        /* Bad input is the sender's fault, not ours: drop the queue quietly. */
        ERR_clear_error();
        return MC_ERR_INVALID;
    }
    *out = k;
    return MC_OK;
}

enum mc_err pem_read_public_key(const char *pem, size_t len, EVP_PKEY **out)
{
    BIO *bio = NULL;
    *out = NULL;
    enum mc_err rc = pem_open(pem, len, &bio);
    if (rc != MC_OK)
        return rc;
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, pem_no_password, NULL);
    BIO_free(bio);
    if (k == NULL) {
        ERR_clear_error();
        return MC_ERR_INVALID;
    }
    *out = k;
    return MC_OK;
}

enum mc_err pem_read_cert(const char *pem, size_t len, X509 **out)
{
    BIO *bio = NULL;
    *out = NULL;
    enum mc_err rc = pem_open(pem, len, &bio);
    if (rc != MC_OK)
        return rc;
    X509 *c = PEM_read_bio_X509(bio, NULL, pem_no_password, NULL);
    BIO_free(bio);
    if (c == NULL) {
        ERR_clear_error();
        return MC_ERR_INVALID;
    }
    *out = c;
    return MC_OK;
}

enum mc_err pem_read_certs(const char *pem, size_t len, STACK_OF(X509) * *out)
{
    BIO *bio = NULL;
    STACK_OF(X509) *chain = NULL;
    *out = NULL;
    enum mc_err rc = pem_open(pem, len, &bio);
    if (rc != MC_OK)
        return rc;
    chain = sk_X509_new_null();
    if (chain == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    /* Each certificate is at least a few hundred bytes, so len bounds the loop. */
    for (;;) {
        X509 *c = PEM_read_bio_X509(bio, NULL, pem_no_password, NULL);
        if (c == NULL)
            break;
        if (sk_X509_push(chain, c) <= 0) {
            X509_free(c);
            rc = MC_ERR_NOMEM;
            goto out;
        }
    }
    /* The loop ends at the end of input ("no start line"), which is fine; any other error
     * means a block was there but broken, and a half-read chain is not what was sent. */
    unsigned long e = ERR_peek_last_error();
    if (sk_X509_num(chain) == 0 ||
        (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))) {
        rc = MC_ERR_INVALID;
        goto out;
    }
    *out = chain;
    chain = NULL;
    rc = MC_OK;
out:
    ERR_clear_error();
    sk_X509_pop_free(chain, X509_free);
    BIO_free(bio);
    return rc;
}

enum mc_err pem_read_csr(const char *pem, size_t len, X509_REQ **out)
{
    BIO *bio = NULL;
    *out = NULL;
    enum mc_err rc = pem_open(pem, len, &bio);
    if (rc != MC_OK)
        return rc;
    X509_REQ *r = PEM_read_bio_X509_REQ(bio, NULL, pem_no_password, NULL);
    BIO_free(bio);
    if (r == NULL) {
        ERR_clear_error();
        return MC_ERR_INVALID;
    }
    *out = r;
    return MC_OK;
}

/* Copies the memory BIO's contents into a new NUL-terminated string. */
static enum mc_err pem_take(BIO *bio, bool secret, char **out)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL)
        return MC_ERR_CRYPTO;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return MC_ERR_NOMEM;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    if (secret)
        OPENSSL_cleanse(data, (size_t)n);
    *out = s;
    return MC_OK;
}

enum pem_kind { PEM_PRIVATE_KEY, PEM_PUBLIC_KEY, PEM_CERT, PEM_CSR };

/* The one writer behind the four public ones: the kind picks OpenSSL's writer, the rest
 * (buffer, copy out, error drain) is shared. */
static enum mc_err pem_write_any(enum pem_kind kind, void *obj, char **out)
{
    static const char *const events[] = {"pem.write_private_key", "pem.write_public_key",
                                         "pem.write_cert", "pem.write_csr"};
    enum mc_err rc = MC_ERR_CRYPTO;
    BIO *bio = NULL;
    int ok = 0;

    *out = NULL;
    if (obj == NULL)
        return MC_ERR_INVALID;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    switch (kind) {
    case PEM_PRIVATE_KEY:
        /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3. */
        ok = PEM_write_bio_PrivateKey(bio, obj, NULL, NULL, 0, NULL, NULL);
        break;
    case PEM_PUBLIC_KEY:
        ok = PEM_write_bio_PUBKEY(bio, obj);
        break;
    case PEM_CERT:
        ok = PEM_write_bio_X509(bio, obj);
        break;
    case PEM_CSR:
        ok = PEM_write_bio_X509_REQ(bio, obj);
        break;
    }
    if (ok != 1)
        goto out;
    rc = pem_take(bio, kind == PEM_PRIVATE_KEY, out);
out:
    if (rc != MC_OK)
        log_openssl_errors(LOGL_ERROR, events[kind]);
    BIO_free(bio);
    return rc;
}

enum mc_err pem_write_private_key(EVP_PKEY *key, char **out)
{
    return pem_write_any(PEM_PRIVATE_KEY, key, out);
}

enum mc_err pem_write_public_key(EVP_PKEY *key, char **out)
{
    return pem_write_any(PEM_PUBLIC_KEY, key, out);
}

enum mc_err pem_write_cert(X509 *cert, char **out)
{
    return pem_write_any(PEM_CERT, cert, out);
}

enum mc_err pem_write_csr(X509_REQ *req, char **out)
{
    return pem_write_any(PEM_CSR, req, out);
}
