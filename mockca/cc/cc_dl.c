/* cc_dl.c: certificate downloads (A7): single PEM bundles, PKCS#7, the zip formats (built
 * with cc_zip.h), the chain JSON, and the intermediates list. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs7.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/cc/cc_int.h"
#include "mockca/cc/cc_zip.h"

/* leaf, the intermediates (issuing first), the root: a new stack of new references. */
static STACK_OF(X509) *cc_chain_certs(struct cc_server *cc, const struct cc_cert *x)
{
    STACK_OF(X509) *sk = NULL, *mid = NULL;
    char *pem = NULL, *root = NULL;
    X509 *r = NULL;
    if (x->leaf == NULL || ca_chain_pem(cc->ca, x->leaf, 0, &pem) != MC_OK ||
        pem_read_certs(pem, strlen(pem), &mid) != MC_OK ||
        ca_root_pem(cc->ca, 0, &root) != MC_OK || pem_read_cert(root, strlen(root), &r) != MC_OK)
        goto out;
    /* ca_chain_pem starts with the leaf itself: keep its order, then add the root. */
    if (!sk_X509_push(mid, r))
        goto out;
    r = NULL;
    sk = mid;
    mid = NULL;
out:
    X509_free(r);
    sk_X509_pop_free(mid, X509_free);
    free(pem);
    free(root);
    return sk;
}

static void cc_subject_cn(X509 *c, char *buf, size_t n)
{
    buf[0] = '\0';
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, (int)n) < 0)
        buf[0] = '\0';
}

/* PEM of c; CRLF line ends when crlf (A1: the real API's PEM uses \r\n). New string. */
static char *cc_pem(X509 *c, bool crlf)
{
    char *pem = NULL, *out;
    size_t n = 0, k = 0;
    if (pem_write_cert(c, &pem) != MC_OK)
        return NULL;
    if (!crlf)
        return pem;
    for (const char *p = pem; *p != '\0'; p++)
        n += *p == '\n' ? 2 : 1;
    out = malloc(n + 1);
    if (out != NULL) {
        for (const char *p = pem; *p != '\0'; p++) {
            if (*p == '\n')
                out[k++] = '\r';
            out[k++] = *p;
        }
        out[k] = '\0';
    }
    free(pem);
    return out;
}

cJSON *cc_chain_json(struct cc_server *cc, const struct cc_cert *x, bool crlf)
{
    STACK_OF(X509) *sk = cc_chain_certs(cc, x);
    cJSON *a = NULL;
    if (sk == NULL)
        return NULL;
    a = cJSON_CreateArray();
    for (int i = 0; a != NULL && i < sk_X509_num(sk); i++) {
        char cn[256];
        char *pem = cc_pem(sk_X509_value(sk, i), crlf);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cc_subject_cn(sk_X509_value(sk, i), cn, sizeof(cn));
        cc_add_str(o, "subject_common_name", cn);
        cc_add_str(o, "pem", pem);
        free(pem);
    }
    sk_X509_pop_free(sk, X509_free);
    return a;
}

/* Concatenated PEM of sk[from..to). */
static char *cc_pem_range(STACK_OF(X509) *sk, int from, int to)
{
    size_t len = 0;
    char *out = calloc(1, 1);
    for (int i = from; out != NULL && i < to && i < sk_X509_num(sk); i++) {
        char *p = cc_pem(sk_X509_value(sk, i), false);
        char *n = p != NULL ? realloc(out, len + strlen(p) + 1) : NULL;
        if (n == NULL) {
            free(p);
            free(out);
            return NULL;
        }
        out = n;
        memcpy(out + len, p, strlen(p) + 1);
        len += strlen(p);
        free(p);
    }
    return out;
}

/* A degenerate PKCS#7 SignedData holding every certificate of sk, DER. */
static bool cc_p7b(STACK_OF(X509) *sk, unsigned char **der, int *len)
{
    PKCS7 *p7 = PKCS7_new();
    PKCS7_SIGNED *s;
    bool ok = false;
    *der = NULL;
    if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1)
        goto out;
    s = p7->d.sign;
    if (ASN1_INTEGER_set(s->version, 1) != 1 || PKCS7_content_new(p7, NID_pkcs7_data) != 1)
        goto out;
    for (int i = 0; i < sk_X509_num(sk); i++)
        if (PKCS7_add_certificate(p7, sk_X509_value(sk, i)) != 1)
            goto out;
    *len = i2d_PKCS7(p7, der);
    ok = *len > 0;
out:
    PKCS7_free(p7);
    return ok;
}

struct cc_zfile {
    const char *name;
    char *data;
};

/* A zip archive of files (NUL-terminated text), in memory, stamped with mtime_s. */
static bool cc_zip(const struct cc_zfile *files, size_t n, int64_t mtime_s, char **out,
                   size_t *outlen)
{
    struct cc_zip_entry ents[3];
    uint8_t *z = NULL;
    enum mc_err e;

    *out = NULL;
    if (n > sizeof(ents) / sizeof(ents[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        ents[i].name = files[i].name;
        ents[i].data = files[i].data;
        ents[i].len = strlen(files[i].data);
    }
    e = cc_zip_build(ents, n, mtime_s, &z, outlen);
    if (e != MC_OK) {
        log_msg(LOGL_WARN, "cc.zip", "err=%s", mc_strerror(e));
        return false;
    }
    *out = (char *)z;
    return true;
}

/* The leaf's file name as DigiCert's zips name it: the common name, '*' as "star", dots
 * as underscores. */
static void cc_file_base(const struct cc_cert *x, char *buf, size_t n)
{
    size_t k = 0;
    for (const char *p = x->cn; *p != '\0' && k + 5 < n; p++) {
        if (*p == '*') {
            memcpy(buf + k, "star", 4);
            k += 4;
        } else if (*p == '.') {
            buf[k++] = '_';
        } else if (isalnum((unsigned char)*p) || *p == '-') {
            buf[k++] = *p;
        }
    }
    buf[k] = '\0';
}

/* Answers c with x in format fmt. */
static void cc_send_format(struct cc_ctx *c, const struct cc_cert *x, const char *fmt)
{
    STACK_OF(X509) *sk = NULL;
    char *body = NULL;
    size_t blen = 0;
    const char *ctype = NULL;
    struct cc_zfile zf[3];
    char names[3][300], base[260];
    size_t nz = 0;
    bool zip = false;
    const char *ext = ".crt";

    if (x->leaf == NULL) {
        cc_err(c, 400, "invalid_status|certificate", "The certificate has not been issued.");
        return;
    }
    sk = cc_chain_certs(c->cc, x);
    if (sk == NULL) {
        cc_nomem(c);
        return;
    }
    int nall = sk_X509_num(sk);
    memset(zf, 0, sizeof(zf));
    cc_file_base(x, base, sizeof(base));
    if (strcmp(fmt, "pem_all") == 0 || strcmp(fmt, "pem_noroot") == 0 ||
        strcmp(fmt, "pem_nointermediate") == 0) {
        /* [C] pem_nointermediate is the leaf alone, as Keyfactor reads it (A7). */
        int to = strcmp(fmt, "pem_all") == 0 ? nall : strcmp(fmt, "pem_noroot") == 0 ? nall - 1 : 1;
        body = cc_pem_range(sk, 0, to);
        blen = body != NULL ? strlen(body) : 0;
        ctype = "application/x-pem-file";
    } else if (strcmp(fmt, "p7b") == 0 || strcmp(fmt, "cer") == 0) {
        unsigned char *der = NULL;
        int dl = 0;
        if (cc_p7b(sk, &der, &dl)) {
            body = malloc((size_t)dl);
            if (body != NULL) {
                memcpy(body, der, (size_t)dl);
                blen = (size_t)dl;
            }
        }
        OPENSSL_free(der);
        ctype = "application/x-pkcs7-certificates";
    } else if (strcmp(fmt, "default") == 0 || strcmp(fmt, "default_cer") == 0 ||
               strcmp(fmt, "apache") == 0) {
        zip = true;
        if (strcmp(fmt, "default_cer") == 0)
            ext = ".cer";
        snprintf(names[0], sizeof(names[0]), "%s%s", base, ext);
        snprintf(names[1], sizeof(names[1]), "DigiCertCA%s", ext);
        snprintf(names[2], sizeof(names[2]), "TrustedRoot%s", ext);
        zf[0].name = names[0];
        zf[0].data = cc_pem_range(sk, 0, 1);
        zf[1].name = names[1];
        zf[1].data = cc_pem_range(sk, 1, nall - 1);
        nz = 2;
        if (strcmp(fmt, "apache") != 0) {
            zf[2].name = names[2];
            zf[2].data = cc_pem_range(sk, nall - 1, nall);
            nz = 3;
        }
    } else if (strcmp(fmt, "default_pem") == 0) {
        zip = true;
        snprintf(names[0], sizeof(names[0]), "%s.pem", base);
        zf[0].name = names[0];
        zf[0].data = cc_pem_range(sk, 0, nall);
        nz = 1;
    } else {
        sk_X509_pop_free(sk, X509_free);
        cc_err(c, 400, "invalid_value:format_type", "format_type contains an invalid value.");
        return;
    }
    if (zip) {
        bool ok = true;
        for (size_t i = 0; i < nz; i++)
            ok = ok && zf[i].data != NULL;
        if (ok && cc_zip(zf, nz, clock_now(c->cc->clock), &body, &blen))
            ctype = "application/zip";
        for (size_t i = 0; i < nz; i++)
            free(zf[i].data);
    }
    sk_X509_pop_free(sk, X509_free);
    if (body == NULL || http_response_body(c->resp, 200, ctype, body, blen) != MC_OK) {
        free(body);
        cc_nomem(c);
        return;
    }
    if (zip) {
        char cd[320];
        snprintf(cd, sizeof(cd), "attachment; filename=\"%s.zip\"", base);
        if (http_response_header(c->resp, "Content-Disposition", cd) != MC_OK)
            log_msg(LOGL_WARN, "cc.header", "name=Content-Disposition");
    }
    free(body);
}

static struct cc_cert *cc_cert_or_404(struct cc_ctx *c)
{
    int64_t id;
    struct cc_cert *x = NULL;
    if (cc_parse_id(c->arg[0], &id))
        x = cc_cert_get(c->cc, id);
    if (x != NULL && cc_order_get(c->cc, x->order_id, c->key->account_id) == NULL)
        x = NULL;
    if (x == NULL)
        cc_err(c, 404, "not_found|certificate", "The specified certificate was not found.");
    return x;
}

void cc_h_download_cert(struct cc_ctx *c)
{
    struct cc_cert *x = cc_cert_or_404(c);
    if (x != NULL)
        cc_send_format(c, x, c->arg[1]);
}

/* GET /certificate/{id}/download/platform[/{platform_id}]: the platform's bundle; every
 * platform gets the default zip here. */
void cc_h_download_platform(struct cc_ctx *c)
{
    struct cc_cert *x = cc_cert_or_404(c);
    int64_t pid;
    if (x == NULL)
        return;
    if (c->arg[1] != NULL && !cc_parse_id(c->arg[1], &pid) && strcmp(c->arg[1], "-1") != 0) {
        cc_err(c, 404, "not_found|platform", "The specified platform was not found.");
        return;
    }
    cc_send_format(c, x, "default");
}

/* GET /certificate/download/order/{order_id}[/format/{format}]: the order's active
 * certificate only. */
void cc_h_download_order(struct cc_ctx *c)
{
    int64_t id;
    struct cc_order *o = NULL;
    struct cc_cert *x;
    if (cc_parse_id(c->arg[0], &id))
        o = cc_order_get(c->cc, id, c->key->account_id);
    if (o == NULL) {
        cc_err(c, 404, "not_found|order", "The specified order was not found.");
        return;
    }
    x = cc_cert_get(c->cc, o->cert_id);
    if (x == NULL) {
        cc_err(c, 404, "not_found|certificate", "The specified certificate was not found.");
        return;
    }
    cc_send_format(c, x, c->arg[1] != NULL ? c->arg[1] : "default");
}

/* GET /certificate/{id}/chain: {"intermediates":[leaf, intermediates..., root]}, element 0
 * the end entity as Keyfactor reads it; [I] the root included, as in certificate_chain. */
void cc_h_chain(struct cc_ctx *c)
{
    struct cc_cert *x = cc_cert_or_404(c);
    cJSON *j, *a;
    if (x == NULL)
        return;
    if (x->leaf == NULL) {
        cc_err(c, 400, "invalid_status|certificate", "The certificate has not been issued.");
        return;
    }
    a = cc_chain_json(c->cc, x, false);
    if (a == NULL) {
        cc_nomem(c);
        return;
    }
    j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "intermediates", a);
    cc_send(c, 200, j);
}

/* GET /certificate/intermediates */
void cc_h_intermediates(struct cc_ctx *c)
{
    char *pem = NULL;
    X509 *x = NULL;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "intermediates");
    if (ca_intermediate_pem(c->cc->ca, 0, 0, &pem) == MC_OK &&
        pem_read_cert(pem, strlen(pem), &x) == MC_OK) {
        char cn[256], ts[40], thumb[44] = "";
        char *serial = NULL;
        int64_t nb = 0, na = 0;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cc_subject_cn(x, cn, sizeof(cn));
        if (X509_digest(x, EVP_sha1(), md, &mdlen) == 1)
            for (unsigned int i = 0; i < mdlen && i < 20; i++)
                snprintf(thumb + i * 2, 3, "%02X", md[i]);
        cc_add_str(o, "id", "mockca-int-0");
        cc_add_str(o, "subject_common_name", cn);
        cc_add_str(o, "subject_org_name", "mockca");
        if (x509_validity(x, &nb, &na) == MC_OK) {
            cc_add_str(o, "valid_from", cc_date(nb, ts, sizeof(ts)));
            cc_add_str(o, "valid_to", cc_date(na, ts, sizeof(ts)));
        }
        if (x509_serial_hex(x, &serial) == MC_OK) {
            for (char *p = serial; *p != '\0'; p++)
                *p = (char)toupper((unsigned char)*p);
            cc_add_str(o, "serial_number", serial);
        }
        free(serial);
        cc_add_str(o, "thumbprint", thumb);
        cc_add_str(o, "signature_hash", "sha256");
        cJSON_AddBoolToObject(o, "is_private", false);
    }
    X509_free(x);
    free(pem);
    cc_send(c, 200, j);
}
