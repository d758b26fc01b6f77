/* common/csr.c: identifiers (RFC 8555 DNS names, RFC 8738 IPs) and PKCS#10 CSRs. */
#include "common/csr.h"

#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/x509.h"

/* Largest DER CSR we parse: an RSA-8192 CSR with 100 long SANs is well under this. */
#define CSR_DER_MAX (64 * 1024)
/* TLS Feature status_request (RFC 7633 section 6, RFC 6066 section 8). */
#define TLS_FEATURE_STATUS_REQUEST 5

static bool ldh_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Lowercases and checks a DNS name in place (RFC 1123 section 2.1 LDH labels of 1 to 63
 * characters, no hyphen at either end of a label; one leading "*" label allowed as the
 * ACME wildcard of RFC 8555 section 7.1.3). */
static enum mc_err dns_normalize(char *name)
{
    size_t len = strlen(name), label = 0;
    char *p = name;

    if (len > 0 && name[len - 1] == '.')
        name[--len] = '\0'; /* one trailing dot: the absolute form of the same name */
    if (len == 0 || len > IDENT_MAX_LEN)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (name[i] >= 'A' && name[i] <= 'Z')
            name[i] = (char)(name[i] - 'A' + 'a');
    }
    if (name[0] == '*') {
        /* "*." then at least one ordinary label. */
        if (name[1] != '.' || name[2] == '\0')
            return MC_ERR_INVALID;
        p = name + 2;
    }
    for (size_t i = 0;; i++) {
        char c = p[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || p[i - 1] == '-')
                return MC_ERR_INVALID;
            if (c == '\0')
                break;
            label = 0;
            continue;
        }
        if (!ldh_char(c))
            return MC_ERR_INVALID;
        if (label == 0 && c == '-')
            return MC_ERR_INVALID;
        label++;
    }
    return MC_OK;
}

/* Parses an IPv4 or IPv6 literal into bin (4 or 16 bytes, length in *binlen). */
static enum mc_err ip_parse(const char *s, uint8_t bin[16], size_t *binlen, int *family)
{
    if (inet_pton(AF_INET, s, bin) == 1) {
        *binlen = 4;
        *family = AF_INET;
        return MC_OK;
    }
    if (inet_pton(AF_INET6, s, bin) == 1) {
        *binlen = 16;
        *family = AF_INET6;
        return MC_OK;
    }
    return MC_ERR_INVALID;
}

enum mc_err ident_list_add(struct ident_list *l, enum ident_type type, const char *value)
{
    char *v = NULL;
    struct ident *nv;
    uint8_t bin[16];
    size_t binlen;
    int family;
    char text[INET6_ADDRSTRLEN];
    enum mc_err err;

    if (l == NULL || value == NULL)
        return MC_ERR_INVALID;
    if (l->n >= IDENT_MAX_COUNT)
        return MC_ERR_LIMIT;
    /* +1 for the trailing dot we strip; longer is never a valid name or address. */
    if (strnlen(value, IDENT_MAX_LEN + 2) > IDENT_MAX_LEN + 1)
        return MC_ERR_INVALID;
    if (type == IDENT_DNS) {
        v = strdup(value);
        if (v == NULL)
            return MC_ERR_NOMEM;
        err = dns_normalize(v);
        if (err != MC_OK)
            goto out;
    } else if (type == IDENT_IP) {
        err = ip_parse(value, bin, &binlen, &family);
        if (err != MC_OK)
            goto out;
        /* RFC 8738 section 3: compare in one canonical text form. */
        if (inet_ntop(family, bin, text, sizeof(text)) == NULL) {
            err = MC_ERR_INVALID;
            goto out;
        }
        v = strdup(text);
        if (v == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    } else {
        return MC_ERR_INVALID;
    }
    nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));
    if (nv == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    l->v = nv;
    l->v[l->n].type = type;
    l->v[l->n].value = v;
    l->n++;
    v = NULL;
    err = MC_OK;
out:
    free(v);
    return err;
}

void ident_list_free(struct ident_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].value);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool ident_list_has(const struct ident_list *l, const struct ident *id)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].type == id->type && strcmp(l->v[i].value, id->value) == 0)
            return true;
    }
    return false;
}

bool ident_list_same_set(const struct ident_list *a, const struct ident_list *b)
{
    if (a == NULL || b == NULL)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (!ident_list_has(b, &a->v[i]))
            return false;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (!ident_list_has(a, &b->v[i]))
            return false;
    }
    return true;
}

enum mc_err ident_list_add_general_names(struct ident_list *l, const GENERAL_NAMES *gens,
                                         bool skip_other)
{
    char text[INET6_ADDRSTRLEN];
    char *dns = NULL;
    enum mc_err err = MC_OK;
    int count;

    if (l == NULL || gens == NULL)
        return MC_ERR_INVALID;
    count = sk_GENERAL_NAME_num(gens);
    for (int i = 0; i < count && err == MC_OK; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        int len;

        if (gn->type == GEN_DNS) {
            s = gn->d.dNSName;
            len = ASN1_STRING_length(s);
            /* An embedded NUL would make the C string say less than the certificate. */
            if (len <= 0 || len > IDENT_MAX_LEN + 1 ||
                memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL)
                return MC_ERR_INVALID;
            dns = strndup((const char *)ASN1_STRING_get0_data(s), (size_t)len);
            if (dns == NULL)
                return MC_ERR_NOMEM;
            err = ident_list_add(l, IDENT_DNS, dns);
            free(dns);
            dns = NULL;
        } else if (gn->type == GEN_IPADD) {
            s = gn->d.iPAddress;
            len = ASN1_STRING_length(s);
            if (len == 4) {
                if (inet_ntop(AF_INET, ASN1_STRING_get0_data(s), text, sizeof(text)) == NULL)
                    return MC_ERR_INVALID;
            } else if (len == 16) {
                if (inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), text, sizeof(text)) == NULL)
                    return MC_ERR_INVALID;
            } else {
                return MC_ERR_INVALID; /* includes the address/mask form of name constraints */
            }
            err = ident_list_add(l, IDENT_IP, text);
        } else if (!skip_other) {
            return MC_ERR_INVALID;
        }
    }
    return err;
}

/* Builds the GENERAL_NAMES of a subjectAltName from sans (all entries already
 * normalized by ident_list_add). */
static enum mc_err sans_to_general_names(const struct ident_list *sans, GENERAL_NAMES **out)
{
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gn = NULL;
    ASN1_IA5STRING *ia5 = NULL;
    ASN1_OCTET_STRING *ip = NULL;
    uint8_t bin[16];
    size_t binlen;
    int family;
    enum mc_err err = MC_ERR_NOMEM;

    gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL)
        goto out;
    for (size_t i = 0; i < sans->n; i++) {
        const struct ident *id = &sans->v[i];

        gn = GENERAL_NAME_new();
        if (gn == NULL)
            goto out;
        if (id->type == IDENT_DNS) {
            ia5 = ASN1_IA5STRING_new();
            if (ia5 == NULL || ASN1_STRING_set(ia5, id->value, -1) != 1)
                goto out;
            GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
            ia5 = NULL;
        } else if (id->type == IDENT_IP) {
            if (ip_parse(id->value, bin, &binlen, &family) != MC_OK) {
                err = MC_ERR_INVALID;
                goto out;
            }
            ip = ASN1_OCTET_STRING_new();
            if (ip == NULL || ASN1_OCTET_STRING_set(ip, bin, (int)binlen) != 1)
                goto out;
            GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
            ip = NULL;
        } else {
            err = MC_ERR_INVALID;
            goto out;
        }
        if (sk_GENERAL_NAME_push(gens, gn) <= 0)
            goto out;
        gn = NULL;
    }
    *out = gens;
    gens = NULL;
    err = MC_OK;
out:
    ASN1_IA5STRING_free(ia5);
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    return err;
}

/* The TLS Feature extension (RFC 7633) with status_request: the DER of
 * SEQUENCE { INTEGER 5 } as its extnValue. Not critical, as RFC 7633 section 4 says. */
static X509_EXTENSION *tls_feature_ext(void)
{
    static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, TLS_FEATURE_STATUS_REQUEST};
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;

    if (os != NULL && ASN1_OCTET_STRING_set(os, der, sizeof(der)) == 1)
        ext = X509_EXTENSION_create_by_NID(NULL, NID_tlsfeature, 0, os);
    ASN1_OCTET_STRING_free(os);
    return ext;
}

enum mc_err csr_build(EVP_PKEY *key, const char *cn, const struct ident_list *sans,
                      bool must_staple, X509_REQ **out)
{
    X509_REQ *req = NULL;
    X509_NAME *name = NULL;
    GENERAL_NAMES *gens = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_EXTENSION *ext = NULL;
    const EVP_MD *md;
    enum mc_err err;

    if (key == NULL || sans == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (sans->n == 0)
        return MC_ERR_INVALID;
    err = sans_to_general_names(sans, &gens);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    req = X509_REQ_new();
    name = X509_NAME_new();
    exts = sk_X509_EXTENSION_new_null();
    if (req == NULL || name == NULL || exts == NULL)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1)
        goto out;
    if (cn != NULL) {
        /* 64 is ub-common-name (RFC 5280 appendix A.1); OpenSSL refuses longer. */
        if (strlen(cn) == 0 || strlen(cn) > 64) {
            err = MC_ERR_INVALID;
            goto out;
        }
        if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                       (const unsigned char *)cn, -1, -1, 0) != 1)
            goto out;
    }
    if (X509_REQ_set_subject_name(req, name) != 1)
        goto out;
    err = x509_pubkey_encode(X509_REQ_get_X509_PUBKEY(req), key);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0)
        goto out;
    ext = NULL;
    if (must_staple) {
        ext = tls_feature_ext();
        if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0)
            goto out;
        ext = NULL;
    }
    if (X509_REQ_add_extensions(req, exts) != 1)
        goto out;
    /* Ed25519 signs the message itself and takes no digest. */
    md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    if (X509_REQ_sign(req, key, md) <= 0)
        goto out;
    *out = req;
    req = NULL;
    err = MC_OK;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "csr.build");
    X509_REQ_free(req);
    X509_NAME_free(name);
    GENERAL_NAMES_free(gens);
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return err;
}

/* A library context with only the null provider (so no fallback to the default one): a
 * CSR parsed in it has its SubjectPublicKeyInfo read but not decoded, because the decoder
 * finds nothing to run. Made once, kept for the process. */
static OSSL_LIB_CTX *keyless_ctx;
static pthread_once_t keyless_once = PTHREAD_ONCE_INIT;

static void keyless_init(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

    if (ctx != NULL && OSSL_PROVIDER_load(ctx, "null") == NULL) {
        OSSL_LIB_CTX_free(ctx);
        ctx = NULL;
    }
    keyless_ctx = ctx;
}

/* csr_parse_der in library context ctx (NULL: the default one). */
static enum mc_err parse_der(const uint8_t *der, size_t n, OSSL_LIB_CTX *ctx, X509_REQ **out)
{
    const unsigned char *p = der;
    X509_REQ *req;

    if (der == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (n > CSR_DER_MAX)
        return MC_ERR_TOO_BIG;
    req = (X509_REQ *)ASN1_item_d2i_ex(NULL, &p, (long)n, ASN1_ITEM_rptr(X509_REQ), ctx, NULL);
    if (req == NULL) {
        log_openssl_errors(LOGL_DEBUG, "csr.parse");
        return MC_ERR_INVALID;
    }
    if (p != der + n) { /* trailing bytes: not one DER object */
        X509_REQ_free(req);
        return MC_ERR_INVALID;
    }
    *out = req;
    return MC_OK;
}

enum mc_err csr_parse_der(const uint8_t *der, size_t n, X509_REQ **out)
{
    return parse_der(der, n, NULL, out);
}

enum mc_err csr_parse_der_keyless(const uint8_t *der, size_t n, X509_REQ **out)
{
    if (out != NULL)
        *out = NULL;
    if (pthread_once(&keyless_once, keyless_init) != 0 || keyless_ctx == NULL)
        return MC_ERR_CRYPTO;
    return parse_der(der, n, keyless_ctx, out);
}

enum mc_err csr_to_der(X509_REQ *req, uint8_t **der, size_t *n)
{
    unsigned char *buf = NULL;
    int len;

    if (req == NULL || der == NULL || n == NULL)
        return MC_ERR_INVALID;
    *der = NULL;
    *n = 0;
    len = i2d_X509_REQ(req, &buf);
    if (len <= 0) {
        log_openssl_errors(LOGL_ERROR, "csr.to_der");
        return MC_ERR_CRYPTO;
    }
    /* Copy into malloc memory so the caller frees with free(), like every other buffer. */
    *der = malloc((size_t)len);
    if (*der == NULL) {
        OPENSSL_free(buf);
        return MC_ERR_NOMEM;
    }
    memcpy(*der, buf, (size_t)len);
    *n = (size_t)len;
    OPENSSL_free(buf);
    return MC_OK;
}

/* The subject CN of req as a new UTF-8 string, or NULL in *out when there is none. */
static enum mc_err read_cn(X509_REQ *req, char **out)
{
    const X509_NAME *name = X509_REQ_get_subject_name(req);
    const X509_NAME_ENTRY *e;
    unsigned char *utf8 = NULL;
    int idx, len;

    *out = NULL;
    if (name == NULL)
        return MC_OK;
    idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        return MC_OK;
    /* Two CNs would let two readers see two different names. */
    if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
        return MC_ERR_INVALID;
    e = X509_NAME_get_entry(name, idx);
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0)
        return MC_ERR_INVALID;
    if (memchr(utf8, '\0', (size_t)len) != NULL) {
        OPENSSL_free(utf8);
        return MC_ERR_INVALID;
    }
    *out = strndup((const char *)utf8, (size_t)len);
    OPENSSL_free(utf8);
    return *out != NULL ? MC_OK : MC_ERR_NOMEM;
}

/* True when the TLS Feature extension in exts lists status_request. */
static enum mc_err read_must_staple(const STACK_OF(X509_EXTENSION) * exts, bool *out)
{
    TLS_FEATURE *tf;
    int crit = -1;

    *out = false;
    tf = X509V3_get_d2i(exts, NID_tlsfeature, &crit, NULL);
    if (tf == NULL)
        return crit == -1 ? MC_OK : MC_ERR_INVALID; /* -1 absent; else bad or repeated */
    for (int i = 0; i < sk_ASN1_INTEGER_num(tf); i++) {
        if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(tf, i)) == TLS_FEATURE_STATUS_REQUEST)
            *out = true;
    }
    TLS_FEATURE_free(tf);
    return MC_OK;
}

enum mc_err csr_read(X509_REQ *req, struct csr_info *out)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *gens = NULL;
    EVP_PKEY *pub, *own = NULL;
    int crit = -1;
    enum mc_err err;

    if (req == NULL || out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    /* A CSR parsed by csr_parse_der holds its decoded key; one csr_build made or
     * csr_parse_der_keyless parsed holds only the encoding. */
    pub = X509_REQ_get0_pubkey(req);
    if (pub == NULL) {
        ERR_clear_error();
        if (x509_pubkey_decode(X509_REQ_get_X509_PUBKEY(req), &own) != MC_OK)
            return MC_ERR_INVALID;
        pub = own;
    }
    /* In the default library context: a keyless CSR's own has no algorithms. */
    if (X509_REQ_verify_ex(req, pub, NULL, NULL) != 1) {
        log_openssl_errors(LOGL_DEBUG, "csr.verify");
        err = MC_ERR_VERIFY;
        goto out;
    }
    err = read_cn(req, &out->cn);
    if (err != MC_OK)
        goto out;
    exts = X509_REQ_get_extensions(req);
    if (exts != NULL) {
        gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
        if (gens == NULL && crit != -1) {
            err = MC_ERR_INVALID; /* present but malformed, or more than one */
            goto out;
        }
        if (gens != NULL) {
            err = ident_list_add_general_names(&out->sans, gens, false);
            if (err != MC_OK)
                goto out;
        }
        err = read_must_staple(exts, &out->must_staple);
        if (err != MC_OK)
            goto out;
    }
    if (EVP_PKEY_up_ref(pub) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    out->key = pub;
    err = MC_OK;
out:
    if (err != MC_OK)
        csr_info_free(out);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    EVP_PKEY_free(own);
    return err;
}

void csr_info_free(struct csr_info *info)
{
    if (info == NULL)
        return;
    free(info->cn);
    ident_list_free(&info->sans);
    EVP_PKEY_free(info->key);
    memset(info, 0, sizeof(*info));
}
