/* test_certcli_dc_seeds.c: the three CertCentral seed workflows end to end, in-process:
 * certcli's client library (client/dc.h) and its solvers against the real mockca listener
 * (ac_start with a certcentral configuration), the embedded dnsmock answering DCV lookups
 * and a standalone http solver serving fileauth.txt on mockca's certcentral http port.
 *   seed 002: OV and EV orders with every DCV method (dns-txt-token, dns-cname-token,
 *             http-token, email approved through the management API), organization
 *             validation advanced through the management API, status-changes polling
 *             until issued, downloads in every format (PEM chains verified against the
 *             issuing root, zips opened with libzip), reissue, revoke with approval;
 *   seed 004: instant DV through DNS and fileauth.txt, and every way the token can be
 *             wrong (missing, stale past 30 days on the virtual clock, future-dated, wrong
 *             AuthKey, wrong CSR, no AuthKey at all);
 *   seed 001: an ACME account with EAB from POST /key/acme-eab, then an ACME issuance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <zip.h>

#include "acme_client.h"
#include "client/dc.h"
#include "client/solver.h"
#include "common/b64url.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/file.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/pem.h"
#include "dnsmock/dnsmock.h"
#include "mockca/acme/render.h"
#include "mockca/cc/cc.h"
#include "mockca/mockca.h"
#include "testutil.h"

#define ADMIN "SEEDADMIN0001"
#define USER "SEEDUSER0001"

static struct solver *web_sv, *dns_sv;
static struct dc_client *adm, *usr;
static char *tmp, ca_file[512];

static void s_adjust(struct mockca_config *cfg)
{
    cfg->cc.keys[0].key = strdup(ADMIN);
    cfg->cc.keys[0].role = strdup("administrator");
    cfg->cc.keys[0].account_id = 1;
    cfg->cc.keys[1].key = strdup(USER);
    cfg->cc.keys[1].role = strdup("user");
    cfg->cc.keys[1].account_id = 1;
    cfg->cc.n_keys = 2;
    cfg->cc.dcv_timeout_ms = 2000;
    cfg->cc.http_port = solver_port(web_sv); /* fileauth.txt comes from our solver */
}

static struct dc_client *s_client(const char *key)
{
    struct dc_opts o;
    struct dc_client *c = NULL;
    dc_opts_init(&o);
    o.api_key = key;
    o.base_url = mockca_cc_url(g_m);
    o.ca_bundle = ca_file;
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    return c;
}

static void setup(void)
{
    struct solver_config wcfg = {.kind = SOLVER_HTTP_STANDALONE, .port = 0,
                                 .address = "127.0.0.1"};
    ck_assert_int_eq(solver_new(&wcfg, &web_sv), MC_OK);
    ac_start(s_adjust, true);
    struct solver_config dcfg = {.kind = SOLVER_DNS_MGMT,
                                 .mgmt_url = dnsmock_mgmt_url(mockca_dnsmock(g_m))};
    ck_assert_int_eq(solver_new(&dcfg, &dns_sv), MC_OK);
    tmp = tu_tmpdir();
    snprintf(ca_file, sizeof ca_file, "%s/tls-root.pem", tmp);
    ac_write_tls_root(ca_file);
    adm = s_client(ADMIN);
    usr = s_client(USER);
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    dc_free(adm);
    dc_free(usr);
    adm = usr = NULL;
    solver_free(dns_sv);
    dns_sv = NULL;
    ac_stop();
    solver_free(web_sv);
    web_sv = NULL;
    (void)nftw(tmp, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(tmp);
    tmp = NULL;
}

/* ---- the solvers as a placer ---------------------------------------------------------- */

static enum mc_err p_txt(void *a, const char *f, const char *v)
{
    (void)a;
    return solver_txt_present(dns_sv, f, v);
}
static enum mc_err p_txt_del(void *a, const char *f, const char *v)
{
    (void)a;
    return solver_txt_cleanup(dns_sv, f, v);
}
static enum mc_err p_cname(void *a, const char *f, const char *t)
{
    (void)a;
    return solver_cname_present(dns_sv, f, t);
}
static enum mc_err p_cname_del(void *a, const char *f, const char *t)
{
    (void)a;
    return solver_cname_cleanup(dns_sv, f, t);
}
static enum mc_err p_file(void *a, const char *n, const char *p, const char *c)
{
    (void)a;
    (void)n;
    return solver_file_present(web_sv, p, c);
}
static enum mc_err p_file_del(void *a, const char *n, const char *p)
{
    (void)a;
    (void)n;
    return solver_file_cleanup(web_sv, p);
}

static void placer(struct dc_placer *p)
{
    memset(p, 0, sizeof *p);
    p->txt_present = p_txt;
    p->txt_cleanup = p_txt_del;
    p->cname_present = p_cname;
    p->cname_cleanup = p_cname_del;
    p->file_present = p_file;
    p->file_cleanup = p_file_del;
}

/* ---- helpers -------------------------------------------------------------------------- */

static char *s_csr(const char *cn, EVP_PKEY **keep)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    struct ident_list l = {0};
    char *pem = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &key), MC_OK);
    ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, cn), MC_OK);
    ck_assert_int_eq(csr_build(key, cn, &l, false, &req), MC_OK);
    ck_assert_int_eq(pem_write_csr(req, &pem), MC_OK);
    X509_REQ_free(req);
    if (keep != NULL)
        *keep = key;
    else
        EVP_PKEY_free(key);
    ident_list_free(&l);
    return pem;
}

/* A management API call (POST path with body) on mockca's management listener. */
static void s_mgmt(const char *path, const char *body)
{
    struct tu_http r;
    char url[512];
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    snprintf(url, sizeof url, "%s%s", mockca_mgmt_url(g_m), path);
    ck_assert_int_eq(tu_http("POST", url, body, hdrs, ca_file, &r), 0);
    ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
    tu_http_free(&r);
}

static const char *s_status(const char *id)
{
    static char st[32];
    cJSON *o = NULL;
    const char *s = NULL;
    ck_assert_int_eq(dc_order_info(adm, id, false, &o), MC_OK);
    ck_assert_int_eq(json_get_string(o, "status", &s), MC_OK);
    snprintf(st, sizeof st, "%s", s);
    cJSON_Delete(o);
    return st;
}

static size_t pem_count(const char *s)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
        n++;
    return n;
}

/* Verifies a PEM chain file (leaf, then intermediates) against mockca's issuing root;
 * extra (may be NULL) is a file whose certificates are offered as untrusted intermediates
 * too (for the leaf-only format). */
static void verify_chain_ex(const char *path, size_t want_certs, const char *extra)
{
    char *pem = NULL, *root_pem = NULL;
    size_t len = 0;
    BIO *b;
    X509 *leaf = NULL, *x;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();

    ck_assert_int_eq(file_read_all(path, 1 << 20, &pem, &len), MC_OK);
    ck_assert_uint_eq(pem_count(pem), want_certs);
    b = BIO_new_mem_buf(pem, (int)len);
    leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(leaf);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(untrusted, x);
    BIO_free(b);
    if (extra != NULL) {
        b = BIO_new_file(extra, "r");
        ck_assert_ptr_nonnull(b);
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
            sk_X509_push(untrusted, x);
        BIO_free(b);
    }
    ck_assert_int_eq(mockca_root_pem(g_m, 0, &root_pem), MC_OK);
    b = BIO_new_mem_buf(root_pem, -1);
    x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(x);
    X509_STORE_add_cert(st, x);
    X509_free(x);
    BIO_free(b);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)clock_now(mockca_clock(g_m)));
    ck_assert_msg(X509_verify_cert(ctx) == 1, "chain does not verify: %s",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    free(pem);
    free(root_pem);
}

static void verify_chain(const char *path, size_t want_certs)
{
    verify_chain_ex(path, want_certs, NULL);
}

static zip_int64_t zip_entries_of(const char *path)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    ck_assert_msg(z != NULL, "%s is no zip (%d)", path, zerr);
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
        ck_assert_ptr_nonnull(nm);
        ck_assert_msg(strstr(nm, ".crt") != NULL || strstr(nm, ".cer") != NULL ||
                          strstr(nm, ".pem") != NULL,
                      "entry %s", nm);
    }
    zip_close(z);
    return n;
}

/* ---- seed 002: OV / EV lifecycle ------------------------------------------------------ */

struct s_order {
    const char *product, *method, *cn;
    char id[32];
    int64_t cert_id;
};

START_TEST(t_seed002_ov_ev_every_method)
{
    static const char *const methods[] = {"dns-txt-token", "dns-cname-token", "http-token", "email"};
    static const char *const products[] = {"ssl_basic", "ssl_ev_plus"};
    struct s_order ords[8];
    struct dc_org_req org;
    struct dc_placer pl;
    int64_t org_id = 0;
    char buf[512], oid[32];
    const char *types[] = {"ov", "ev"};

    placer(&pl);
    memset(&org, 0, sizeof org);
    org.name = "Seed Org llc";
    org.address = "1 Main Street";
    org.city = "Lehi";
    org.country = "us";
    ck_assert_int_eq(dc_org_create(adm, &org, &org_id), MC_OK);
    snprintf(oid, sizeof oid, "%lld", (long long)org_id);
    ck_assert_int_eq(dc_org_validation_submit(adm, oid, types, 2), MC_OK);

    for (size_t pi = 0; pi < 2; pi++) {
        for (size_t mi = 0; mi < 4; mi++) {
            struct s_order *so = &ords[pi * 4 + mi];
            struct dc_order_req r;
            struct dc_placed p;
            char **names = NULL;
            size_t n = 0;
            cJSON *info = NULL, *chk = NULL;
            char *cn = malloc(96), *csr;
            snprintf(cn, 96, "%s.%s.seed.example", methods[mi] + (mi == 3 ? 0 : 4),
                     pi == 0 ? "ov" : "ev");
            for (char *q = cn; *q != '\0'; q++)
                if (*q == '-')
                    *q = 'x';
            so->product = products[pi];
            so->method = methods[mi];
            so->cn = cn;
            csr = s_csr(cn, NULL);
            dc_order_req_init(&r);
            r.product = so->product;
            r.common_name = cn;
            r.csr = csr;
            r.dcv_method = so->method;
            r.organization_id = org_id;
            r.validity.years = 1;
            r.skip_approval = true;
            ck_assert_msg(dc_order_place(adm, &r, &p) == MC_OK, "%s", dc_last_message(adm));
            snprintf(so->id, sizeof so->id, "%lld", (long long)p.id);
            ck_assert_int_eq(dc_order_info(adm, so->id, false, &info), MC_OK);
            ck_assert_int_eq(dc_order_names(info, &names, &n), MC_OK);
            if (mi < 3) {
                ck_assert_ptr_nonnull(p.dcv_random_value);
                /* nothing there yet: check-dcv says so in the method's own words */
                ck_assert_int_eq(dc_check_dcv(adm, so->id, NULL, 0, &chk), MC_ERR_PROBLEM);
                ck_assert(dc_error_has(dc_last_error(adm), mi == 2 ? "file_random_value_not_found"
                                                                   : "invalid_dns_txt"));
                ck_assert_int_eq(dc_place(&pl, so->method, names, n, p.dcv_random_value), MC_OK);
                ck_assert_msg(dc_check_dcv(adm, so->id, NULL, 0, &chk) == MC_OK, "%s %s",
                              so->method, dc_last_message(adm));
                ck_assert_int_eq(dc_unplace(&pl, so->method, names, n, p.dcv_random_value), MC_OK);
            } else {
                ck_assert_uint_ge(cc_email_count(mockca_cc(g_m), NULL), 1);
                cJSON *ap = cJSON_CreateObject();
                char *apt;
                ck_assert_ptr_nonnull(cJSON_AddNumberToObject(ap, "order_id", (double)strtoll(so->id, NULL, 10)));
                ck_assert_ptr_nonnull(cJSON_AddStringToObject(ap, "dns_name", cn));
                apt = cJSON_PrintUnformatted(ap);
                ck_assert_ptr_nonnull(apt);
                s_mgmt("/cc/email-dcv/approve", apt);
                cJSON_free(apt);
                cJSON_Delete(ap);
            }
            /* DCV done, the organization not yet validated: still pending */
            ck_assert_str_eq(s_status(so->id), "pending");
            cJSON_Delete(chk);
            cJSON_Delete(info);
            dc_strv_free(names, n);
            dc_placed_free(&p);
            free(csr);
        }
    }
    /* the validation team finishes, through the management API */
    snprintf(buf, sizeof buf, "/cc/organization/%s/validation", oid);
    s_mgmt(buf, "{\"type\":\"ov\",\"status\":\"active\"}");
    /* OV orders issue; EV ones wait for the EV validation */
    for (size_t i = 0; i < 8; i++) {
        struct dc_watch w = {"issued", 50, 20, false};
        char *st = NULL;
        if (i == 4) {
            ck_assert_str_eq(s_status(ords[4].id), "pending");
            s_mgmt(buf, "{\"type\":\"ev\",\"status\":\"active\"}");
        }
        ck_assert_msg(dc_watch_order(usr, ords[i].id, &w, &st, &ords[i].cert_id) == MC_OK,
                      "%s %s: %s", ords[i].product, ords[i].method, dc_last_message(usr));
        ck_assert_str_eq(st, "issued");
        ck_assert_int_gt(ords[i].cert_id, 0);
        free(st);
    }

    /* downloads of the EV dns-cname order, in every format */
    {
        static const struct {
            const char *fmt;
            int pems; /* PEM certificates, or -1: a zip, -2: PKCS#7 */
        } f[] = {{"pem_all", 3},     {"pem_noroot", 2}, {"pem_nointermediate", 1},
                 {"default", -1},    {"apache", -1},    {"default_pem", -1},
                 {"default_cer", -1}, {"p7b", -2},      {"cer", -2}};
        char cid[32], path[600];
        snprintf(cid, sizeof cid, "%lld", (long long)ords[5].cert_id);
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            char *ct = NULL;
            size_t len = 0;
            snprintf(path, sizeof path, "%s/dl-%s", tmp, f[i].fmt);
            ck_assert_msg(dc_download(usr, cid, false, f[i].fmt, path, &ct, &len) == MC_OK, "%s: %s",
                          f[i].fmt, dc_last_message(usr));
            ck_assert_uint_gt(len, 0);
            if (f[i].pems > 0) {
                char all[600];
                snprintf(all, sizeof all, "%s/dl-pem_all", tmp); /* downloaded first */
                verify_chain_ex(path, (size_t)f[i].pems, f[i].pems == 1 ? all : NULL);
            } else if (f[i].pems == -1) {
                ck_assert_ptr_nonnull(ct);
                ck_assert_ptr_nonnull(strstr(ct, "zip"));
                /* A7: default and default_cer hold leaf, intermediate and root files,
                 * apache leaf and intermediate, default_pem one PEM with them all */
                zip_int64_t want = strcmp(f[i].fmt, "apache") == 0        ? 2
                                   : strcmp(f[i].fmt, "default_pem") == 0 ? 1
                                                                          : 3;
                ck_assert_int_eq(zip_entries_of(path), want);
            } else {
                char *der = NULL;
                size_t dlen = 0;
                const unsigned char *q;
                ck_assert_int_eq(file_read_all(path, 1 << 20, &der, &dlen), MC_OK);
                q = (const unsigned char *)der;
                PKCS7 *p7 = d2i_PKCS7(NULL, &q, (long)dlen);
                if (p7 == NULL) { /* a PEM-armoured PKCS#7 */
                    BIO *b = BIO_new_mem_buf(der, (int)dlen);
                    p7 = PEM_read_bio_PKCS7(b, NULL, NULL, NULL);
                    BIO_free(b);
                }
                ck_assert_msg(p7 != NULL, "%s is no PKCS#7", f[i].fmt);
                ck_assert(PKCS7_type_is_signed(p7));
                ck_assert_int_ge(sk_X509_num(p7->d.sign->cert), 2);
                PKCS7_free(p7);
                free(der);
            }
            free(ct);
        }
        /* by order, the order's active certificate */
        snprintf(path, sizeof path, "%s/by-order.pem", tmp);
        ck_assert_int_eq(dc_download(usr, ords[5].id, true, "pem_all", path, NULL, NULL), MC_OK);
        verify_chain(path, 3);
    }

    /* reissue the OV dns-txt order with a new key: a new certificate, still issued */
    {
        struct dc_reissue_req rr;
        struct dc_placed p;
        char *csr = s_csr(ords[0].cn, NULL);
        memset(&rr, 0, sizeof rr);
        rr.common_name = ords[0].cn;
        rr.csr = csr;
        rr.skip_approval = true;
        ck_assert_int_eq(dc_reissue(adm, ords[0].id, &rr, &p), MC_OK);
        ck_assert_int_ne(p.certificate_id, ords[0].cert_id);
        ck_assert_str_eq(s_status(ords[0].id), "issued");
        ords[0].cert_id = p.certificate_id;
        dc_placed_free(&p);
        free(csr);
    }

    /* revoke with approval: the user's request waits, the administrator approves */
    {
        struct dc_revoked rv;
        char cid[32], rid[32];
        snprintf(cid, sizeof cid, "%lld", (long long)ords[0].cert_id);
        ck_assert_int_eq(dc_revoke(usr, cid, false, "key retired", "superseded", false, &rv), MC_OK);
        ck_assert(rv.pending);
        ck_assert_str_eq(s_status(ords[0].id), "issued");
        snprintf(rid, sizeof rid, "%lld", (long long)rv.request_id);
        ck_assert_int_eq(dc_request_status(usr, rid, "approved", NULL), MC_ERR_PROBLEM);
        ck_assert(dc_error_has(dc_last_error(usr), "access_denied"));
        ck_assert_int_eq(dc_request_status(adm, rid, "approved", "ok"), MC_OK);
        ck_assert_str_eq(s_status(ords[0].id), "revoked");
        dc_revoked_free(&rv);
    }
    for (size_t i = 0; i < 8; i++)
        free((char *)ords[i].cn);
}
END_TEST

/* ---- seed 004: instant DV ------------------------------------------------------------- */

/* Places a DV order for cn with use_auth_key, the token for token_csr under auth_key at
 * time ts (Unix seconds) placed by method; returns true when it issued at once. */
static bool s_instant(const char *cn, const char *method, const char *auth_key, int64_t ts,
                      bool other_csr)
{
    struct dc_order_req r;
    struct dc_placed p;
    struct dc_placer pl;
    bool issued = false;
    char *csr = s_csr(cn, NULL), *csr2 = other_csr ? s_csr(cn, NULL) : NULL;
    placer(&pl);
    dc_order_req_init(&r);
    r.product = "ssl_dv_geotrust";
    r.common_name = cn;
    r.csr = csr;
    r.dcv_method = method;
    r.validity.years = 1;
    r.skip_approval = true;
    if (csr2 != NULL) {
        /* the token is for another CSR: place it by hand, then order with this one */
        char stamp[15], tok[DC_TOKEN_LEN + 1], fq[256];
        char *nm[] = {(char *)cn};
        dc_timestamp(ts, stamp);
        ck_assert_int_eq(dc_request_token(auth_key, stamp, csr2, tok), MC_OK);
        snprintf(fq, sizeof fq, "_dnsauth.%s", cn);
        ck_assert_int_eq(dc_place(&pl, method, nm, 1, tok), MC_OK);
        r.use_auth_key = true;
        ck_assert_int_eq(dc_order_place(adm, &r, &p), MC_OK);
        issued = p.n_chain > 0;
        ck_assert_int_eq(dc_unplace(&pl, method, nm, 1, tok), MC_OK);
        (void)fq;
    } else {
        ck_assert_msg(dc_instant_dv(adm, &r, auth_key, ts, &pl, NULL, &p, &issued) == MC_OK, "%s",
                      dc_last_message(adm));
    }
    if (issued) {
        ck_assert_uint_eq(p.n_chain, 3);
        ck_assert_ptr_nonnull(strstr(p.chain[0].pem, "\r\n"));
        ck_assert_ptr_nonnull(p.request_status);
        ck_assert_str_eq(p.request_status, "approved");
    } else {
        /* the real API's fallback: a pending order with a random value */
        ck_assert_ptr_nonnull(p.dcv_random_value);
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)p.id);
        ck_assert_str_eq(s_status(id), "pending");
    }
    dc_placed_free(&p);
    free(csr);
    free(csr2);
    return issued;
}

START_TEST(t_seed004_instant_dv)
{
    struct dc_authkey k;
    struct mc_clock *clk = mockca_clock(g_m);
    struct dc_order_req r;
    struct dc_placed p;
    char *csr;
    int64_t now;

    clock_freeze(clk);
    now = clock_now(clk);
    /* no AuthKey yet: auth_key_not_setup */
    csr = s_csr("nokey.seed.example", NULL);
    dc_order_req_init(&r);
    r.product = "ssl_dv_geotrust";
    r.common_name = "nokey.seed.example";
    r.csr = csr;
    r.dcv_method = "dns-txt-token";
    r.use_auth_key = true;
    ck_assert_int_eq(dc_order_place(adm, &r, &p), MC_ERR_PROBLEM);
    ck_assert(dc_error_has(dc_last_error(adm), "auth_key_not_setup"));
    ck_assert_int_eq(dc_last_error(adm)->status, 400);
    dc_placed_free(&p);

    ck_assert_int_eq(dc_authkey_create(adm, 0, &k), MC_OK);
    /* DNS and fileauth.txt */
    ck_assert(s_instant("dns.seed.example", "dns-txt-token", k.key, now, false));
    ck_assert(s_instant("file.seed.example", "http-token", k.key, now, false));
    /* missing: an order with use_auth_key and nothing placed */
    r.common_name = "missing.seed.example";
    free(csr);
    csr = s_csr("missing.seed.example", NULL);
    r.csr = csr;
    r.skip_approval = true;
    ck_assert_int_eq(dc_order_place(adm, &r, &p), MC_OK);
    ck_assert_uint_eq(p.n_chain, 0);
    ck_assert_ptr_nonnull(p.dcv_random_value);
    dc_placed_free(&p);
    /* 29 days old is inside the window; 31 days old is stale (virtual clock) */
    ck_assert(s_instant("fresh29.seed.example", "dns-txt-token", k.key, now - 29 * 86400, false));
    ck_assert(!s_instant("stale.seed.example", "dns-txt-token", k.key, now - 31 * 86400, false));
    /* a token made now, used 31 days later: stale as well */
    clock_advance(clk, 31LL * 86400 * 1000);
    ck_assert(!s_instant("later.seed.example", "http-token", k.key, now, false));
    now = clock_now(clk);
    /* future-dated, wrong AuthKey, wrong CSR */
    ck_assert(!s_instant("future.seed.example", "dns-txt-token", k.key, now + 86400, false));
    ck_assert(!s_instant("wrongkey.seed.example", "dns-txt-token", "not-the-auth-key", now, false));
    ck_assert(!s_instant("wrongcsr.seed.example", "dns-txt-token", k.key, now, true));
    /* and once more the right one, to show the clock move broke nothing */
    ck_assert(s_instant("again.seed.example", "http-token", k.key, now, false));
    /* deleting the key voids its tokens */
    ck_assert_int_eq(dc_authkey_delete(adm, NULL), MC_OK);
    r.common_name = "deleted.seed.example";
    free(csr);
    csr = s_csr("deleted.seed.example", NULL);
    r.csr = csr;
    ck_assert_int_eq(dc_order_place(adm, &r, &p), MC_ERR_PROBLEM);
    ck_assert(dc_error_has(dc_last_error(adm), "auth_key_not_setup"));
    dc_placed_free(&p);
    dc_authkey_free(&k);
    free(csr);
}
END_TEST

/* ---- seed 001: ACME with EAB ---------------------------------------------------------- */

START_TEST(t_seed001_acme_eab)
{
    cJSON *b = cJSON_CreateObject(), *j = NULL, *ord;
    struct dc_resp r;
    uint8_t *mac = NULL;
    size_t maclen = 0;
    EVP_PKEY *k = newkey();
    struct resp a;
    char *kid = NULL, *acct;
    const char *names[] = {"acme.seed.example"};

    cJSON_AddStringToObject(b, "name", "ACME integration");
    cJSON_AddStringToObject(b, "product_name_id", "ssl_dv_geotrust");
    cJSON_AddNumberToObject(b, "validity_years", 1);
    ck_assert_msg(dc_request(adm, "POST", "key/acme-eab", b, &r) == MC_OK, "%s",
                  dc_last_message(adm));
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(jstr(r.json, "acme_directory_url"), mockca_directory_url(g_m));
    kid = strdup(jstr(r.json, "ext_act_kid"));
    ck_assert_int_eq(b64url_decode(jstr(r.json, "ext_act_hmac"), strlen(jstr(r.json, "ext_act_hmac")),
                                   &mac, &maclen),
                     MC_OK);
    dc_resp_free(&r);
    cJSON_Delete(b);

    /* newAccount with the binding (RFC 8555 section 7.3.4, HS256) */
    {
        cJSON *h = cJSON_CreateObject(), *jwk = NULL, *eab = NULL, *pl = cJSON_CreateObject();
        char *u = url_of(ACME_PATH_NEW_ACCOUNT), *jwk_txt, *payload;
        cJSON_AddStringToObject(h, "kid", kid);
        cJSON_AddStringToObject(h, "url", u);
        ck_assert_int_eq(jwk_to_json(k, &jwk), MC_OK);
        jwk_txt = cJSON_PrintUnformatted(jwk);
        ck_assert_int_eq(jws_sign_hmac(JOSE_ALG_HS256, mac, maclen, h, (const uint8_t *)jwk_txt,
                                       strlen(jwk_txt), &eab),
                         MC_OK);
        cJSON_AddTrueToObject(pl, "termsOfServiceAgreed");
        cJSON_AddItemToObject(pl, "externalAccountBinding", eab);
        payload = cJSON_PrintUnformatted(pl);
        post(ACME_PATH_NEW_ACCOUNT, k, NULL, payload, &a);
        ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
        j = body_json(&a);
        ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "certcentral"), "product_name_id"),
                         "ssl_dv_geotrust");
        acct = header(&a, "Location");
        ck_assert_ptr_nonnull(acct);
        cJSON_Delete(j);
        resp_free(&a);
        cJSON_Delete(pl);
        cJSON_Delete(h);
        cJSON_Delete(jwk);
        free(jwk_txt);
        free(u);
        free(payload);
    }
    /* and an ACME issuance with that account, dns-01 through the embedded dnsmock */
    ord = issue(k, acct, names, 1, "dns-01");
    ck_assert_str_eq(jstr(ord, "status"), "valid");
    cJSON_Delete(ord);
    free(acct);
    free(kid);
    free(mac);
    EVP_PKEY_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_dc_seeds");
    TCase *tc = tcase_create("seeds");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_seed002_ov_ev_every_method);
    tcase_add_test(tc, t_seed004_instant_dv);
    tcase_add_test(tc, t_seed001_acme_eab);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
