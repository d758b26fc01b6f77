/* mockca/tlscert.c: the TLS identity of mockca's listeners: a generated test root and
 * leaf, or a user's certificate and key loaded from files.
 *
 * Validity comes from the real clock, not the virtual one (clock.h): the peers that check
 * it are real TLS clients, which read the real time. */
#include "mockca/tlscert.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/csr.h"
#include "common/file.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"

#define TLSCERT_MAX_NAMES 16
#define TLSCERT_SERIAL_BYTES 16
#define TLSCERT_ROOT_DAYS (10L * 365)
#define TLSCERT_LEAF_DAYS (2L * 365)
#define TLSCERT_BACKDATE_SECS 3600L /* a peer's clock a little behind still accepts it */

void tls_identity_clear(struct tls_identity *t)
{
    if (t == NULL)
        return;
    free(t->cert_pem);
    if (t->key_pem != NULL) {
        OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
        free(t->key_pem);
    }
    free(t->root_pem);
    memset(t, 0, sizeof(*t));
}

/* True if name's last label is all digits: such a name is an IPv4 address gone wrong
 * ("999.1.1.1"), never a host name (RFC 3696 section 2: no all-numeric TLD). */
static bool numeric_tld(const char *name)
{
    const char *last = strrchr(name, '.');

    last = last != NULL ? last + 1 : name;
    if (*last == '\0')
        return false;
    for (; *last != '\0'; last++) {
        if (!isdigit((unsigned char)*last))
            return false;
    }
    return true;
}

/* Checks and normalizes names into l: an IP literal when inet_pton takes it, else an LDH
 * DNS name (ident_list_add's rules). */
static enum mc_err read_names(const char *const *names, size_t n, struct ident_list *l)
{
    unsigned char bin[16];
    enum mc_err err;

    if (names == NULL || n == 0 || n > TLSCERT_MAX_NAMES)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL)
            return MC_ERR_INVALID;
        if (inet_pton(AF_INET, names[i], bin) == 1 || inet_pton(AF_INET6, names[i], bin) == 1) {
            err = ident_list_add(l, IDENT_IP, names[i]);
        } else {
            if (numeric_tld(names[i]))
                return MC_ERR_INVALID;
            err = ident_list_add(l, IDENT_DNS, names[i]);
        }
        if (err != MC_OK)
            return err == MC_ERR_NOMEM ? err : MC_ERR_INVALID;
    }
    return MC_OK;
}

/* A random positive serial of TLSCERT_SERIAL_BYTES octets (top bits 01: positive, no
 * leading zero), so two runs never issue the same serial under the same name. */
static enum mc_err set_random_serial(X509 *x)
{
    uint8_t b[TLSCERT_SERIAL_BYTES];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    if (RAND_bytes(b, sizeof(b)) != 1)
        goto out;
    b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
    bn = BN_bin2bn(b, sizeof(b), NULL);
    if (bn == NULL)
        goto out;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_set_serialNumber(x, ai) != 1)
        goto out;
    err = MC_OK;
out:
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    return err;
}

/* Adds an extension from its OpenSSL config text; issuer and subject come from ctx. */
static enum mc_err add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    enum mc_err err = MC_ERR_CRYPTO;

    if (ext != NULL && X509_add_ext(x, ext, -1) == 1)
        err = MC_OK;
    X509_EXTENSION_free(ext);
    return err;
}

/* The subjectAltName of exactly the names in l, built as GENERAL_NAMES so that no name
 * passes through OpenSSL's config-string parser. */
static enum mc_err add_sans(X509 *x, const struct ident_list *l)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = NULL;
    X509_EXTENSION *ext = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    if (gens == NULL)
        goto out;
    for (size_t i = 0; i < l->n; i++) {
        gn = GENERAL_NAME_new();
        if (gn == NULL)
            goto out;
        if (l->v[i].type == IDENT_IP) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(l->v[i].value);

            err = MC_ERR_INVALID;
            if (ip == NULL)
                goto out;
            GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        } else {
            ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

            err = MC_ERR_NOMEM;
            if (dns == NULL)
                goto out;
            if (ASN1_STRING_set(dns, l->v[i].value, (int)strlen(l->v[i].value)) != 1) {
                ASN1_IA5STRING_free(dns);
                goto out;
            }
            GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        }
        err = MC_ERR_NOMEM;
        if (sk_GENERAL_NAME_push(gens, gn) == 0)
            goto out;
        gn = NULL;
    }
    err = MC_ERR_CRYPTO;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        goto out;
    err = MC_OK;
out:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    X509_EXTENSION_free(ext);
    return err;
}

/* A new v3 certificate for key with subject CN cn (may be NULL), a random serial, valid
 * from an hour ago for days; issuer fields are the caller's. */
static enum mc_err new_cert(EVP_PKEY *key, const char *cn, long days, X509 **out)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    enum mc_err err = MC_ERR_NOMEM;

    *out = NULL;
    if (x == NULL || name == NULL)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_set_version(x, X509_VERSION_3) != 1)
        goto out;
    if (cn != NULL && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                 (const unsigned char *)cn, -1, -1, 0) != 1)
        goto out;
    if (X509_set_subject_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
        goto out;
    if (X509_gmtime_adj(X509_getm_notBefore(x), -TLSCERT_BACKDATE_SECS) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -TLSCERT_BACKDATE_SECS, NULL) == NULL)
        goto out;
    err = set_random_serial(x);
    if (err != MC_OK)
        goto out;
    *out = x;
    x = NULL;
out:
    X509_free(x);
    X509_NAME_free(name);
    return err;
}

static enum mc_err make_root(EVP_PKEY *key, X509 **out)
{
    X509 *x = NULL;
    X509V3_CTX ctx;
    uint8_t r[4];
    char cn[64];
    enum mc_err err = MC_ERR_CRYPTO;

    *out = NULL;
    /* A random suffix, so that roots of two runs are told apart in a trust store. */
    if (RAND_bytes(r, sizeof(r)) != 1)
        goto out;
    snprintf(cn, sizeof(cn), "mockca test TLS root %02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    err = new_cert(key, cn, TLSCERT_ROOT_DAYS, &x);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
        goto out;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    err = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        goto out;
    *out = x;
    x = NULL;
    err = MC_OK;
out:
    X509_free(x);
    return err;
}

static enum mc_err make_leaf(EVP_PKEY *key, X509 *root, EVP_PKEY *root_key,
                             const struct ident_list *names, X509 **out)
{
    X509 *x = NULL;
    X509V3_CTX ctx;
    /* The first name as CN, for the odd client that still reads it; an X.520 CN holds 64
     * characters at most, and the SAN is what verifies anyway. */
    const char *cn = strlen(names->v[0].value) <= 64 ? names->v[0].value : NULL;
    enum mc_err err;

    *out = NULL;
    err = new_cert(key, cn, TLSCERT_LEAF_DAYS, &x);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_set_issuer_name(x, X509_get_subject_name(root)) != 1)
        goto out;
    X509V3_set_ctx(&ctx, root, x, NULL, NULL, 0);
    err = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (err == MC_OK)
        err = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    if (err == MC_OK)
        err = add_sans(x, names);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_sign(x, root_key, EVP_sha256()) <= 0)
        goto out;
    *out = x;
    x = NULL;
    err = MC_OK;
out:
    X509_free(x);
    return err;
}

enum mc_err tlscert_generate(const char *const *names, size_t n, struct tls_identity *out)
{
    struct ident_list l = {0};
    EVP_PKEY *root_key = NULL, *leaf_key = NULL;
    X509 *root = NULL, *leaf = NULL;
    struct tls_identity t = {0};
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    err = read_names(names, n, &l);
    if (err != MC_OK)
        goto out;
    err = key_generate(KEY_EC_P256, &root_key);
    if (err != MC_OK)
        goto out;
    err = key_generate(KEY_EC_P256, &leaf_key);
    if (err != MC_OK)
        goto out;
    err = make_root(root_key, &root);
    if (err != MC_OK)
        goto out;
    err = make_leaf(leaf_key, root, root_key, &l, &leaf);
    if (err != MC_OK)
        goto out;
    err = pem_write_cert(leaf, &t.cert_pem);
    if (err != MC_OK)
        goto out;
    err = pem_write_private_key(leaf_key, &t.key_pem);
    if (err != MC_OK)
        goto out;
    err = pem_write_cert(root, &t.root_pem);
    if (err != MC_OK)
        goto out;
    *out = t;
    memset(&t, 0, sizeof(t));
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "tlscert.generate");
    tls_identity_clear(&t);
    ident_list_free(&l);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(leaf_key);
    X509_free(root);
    X509_free(leaf);
    return err;
}

/* Appends every certificate of chain as PEM to a new string. */
static enum mc_err chain_pem(STACK_OF(X509) * chain, char **out)
{
    char *all = NULL, *one = NULL, *grown;
    size_t len = 0, n;
    enum mc_err err = MC_OK;

    *out = NULL;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        err = pem_write_cert(sk_X509_value(chain, i), &one);
        if (err != MC_OK)
            goto out;
        n = strlen(one);
        err = MC_ERR_NOMEM;
        grown = realloc(all, len + n + 1);
        if (grown == NULL)
            goto out;
        all = grown;
        memcpy(all + len, one, n + 1);
        len += n;
        free(one);
        one = NULL;
        err = MC_OK;
    }
    *out = all;
    all = NULL;
out:
    free(all);
    free(one);
    return err;
}

enum mc_err tlscert_load(const char *cert_file, const char *key_file, struct tls_identity *out)
{
    char *cert_text = NULL, *key_text = NULL;
    size_t cert_len = 0, key_len = 0;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = NULL;
    struct tls_identity t = {0};
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (cert_file == NULL || key_file == NULL)
        return MC_ERR_INVALID;
    err = file_read_all(cert_file, PEM_MAX_LEN, &cert_text, &cert_len);
    if (err != MC_OK)
        goto out;
    err = file_read_all(key_file, PEM_MAX_LEN, &key_text, &key_len);
    if (err != MC_OK)
        goto out;
    err = pem_read_certs(cert_text, cert_len, &chain);
    if (err != MC_OK)
        goto out;
    err = pem_read_private_key(key_text, key_len, &key);
    if (err != MC_OK)
        goto out;
    if (X509_check_private_key(sk_X509_value(chain, 0), key) != 1) {
        log_openssl_errors(LOGL_DEBUG, "tlscert.mismatch");
        err = MC_ERR_MISMATCH;
        goto out;
    }
    /* Written out again rather than passed through, so the TLS layer sees only the
     * certificates (no comments or stray blocks of the file) and the key as PKCS#8
     * whatever form the file held. */
    err = chain_pem(chain, &t.cert_pem);
    if (err != MC_OK)
        goto out;
    err = pem_write_private_key(key, &t.key_pem);
    if (err != MC_OK)
        goto out;
    *out = t;
    memset(&t, 0, sizeof(t));
out:
    tls_identity_clear(&t);
    free(cert_text);
    if (key_text != NULL) {
        OPENSSL_cleanse(key_text, key_len);
        free(key_text);
    }
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    return err;
}
