/* test_certcli_dc.c: certcli's CertCentral client (client/dc.h) against mockca's
 * CertCentral front end in-process (mockca/cc on a common/http.h server of its own, a CA,
 * a dnsmock the DCV checks ask, and a web server over a webroot folder), with DCV values
 * and request tokens placed by certcli's own solvers: the seed 002 lifecycle (DV order
 * with dns-txt-token, check-dcv, status-changes watch, downloads, reissue and revocation
 * with approval), AuthKeys, instant DV (seed 004) through DNS and fileauth.txt, a stale
 * token falling back to a pending order, and CertCentral errors surfaced with their codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <zip.h>

#include "client/dc.h"
#include "client/solver.h"
#include "common/csr.h"
#include "common/file.h"
#include "common/http.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/pem.h"
#include "dnsmock/dnsmock.h"
#include "mockca/ca.h"
#include "mockca/cc/cc.h"
#include "testutil.h"

#define ADMIN "ADMINKEY0001"
#define USER "USERKEY0001"

static struct mc_clock *clk;
static struct ca *ca;
static struct dnsmock *dm;
static struct cc_server *cc;
static struct http_server *api, *web;
static char base[96], *webroot, *tmp;

/* The client's web server: files under the webroot, for every Host. */
static void web_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    char path[600], *body = NULL;
    size_t len = 0;
    (void)ctx;
    snprintf(path, sizeof path, "%s%s", webroot, req->path);
    if (strstr(req->path, "..") == NULL && file_read_all(path, 4096, &body, &len) == MC_OK) {
        ck_assert_int_eq(http_response_body(resp, 200, "text/plain", body, len), MC_OK);
        free(body);
        return;
    }
    ck_assert_int_eq(http_response_error(resp, 404, "no such file"), MC_OK);
}

static void api_error(void *ctx, const struct http_request *req, int status, const char *message,
                      struct http_response *resp)
{
    (void)ctx;
    cc_layer_error(req, status, message, resp);
}

static const struct http_route api_routes[] = {
    {"GET", "/services/v2/*", cc_handle},
    {"POST", "/services/v2/*", cc_handle},
    {"PUT", "/services/v2/*", cc_handle},
    {"DELETE", "/services/v2/*", cc_handle},
};
static const struct http_route web_routes[] = {{"GET", "/.well-known/pki-validation/*", web_get}};

static void env_start(unsigned rate_limit, int64_t rate_window_ms)
{
    struct ca_config cac;
    struct cc_config cfg;
    struct http_server_config hc;
    static const struct cc_key_config keys[] = {{ADMIN, "administrator", 1}, {USER, "user", 1}};

    tmp = tu_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    webroot = tmp;
    clk = clock_new();
    memset(&cac, 0, sizeof cac);
    cac.clock = clk;
    ck_assert_int_eq(ca_new(&cac, &ca), MC_OK);
    dm = tu_dnsmock_start();
    memset(&hc, 0, sizeof hc);
    hc.routes = web_routes;
    hc.nroutes = 1;
    ck_assert_int_eq(http_server_start(&hc, &web), MC_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.dns_server = dnsmock_addr(dm);
    cfg.http_port = http_server_port(web);
    cfg.dcv_timeout_ms = 2000;
    cfg.keys = keys;
    cfg.nkeys = 2;
    cfg.rate_short_limit = rate_limit;
    cfg.rate_short_window_ms = rate_window_ms;
    ck_assert_int_eq(cc_new(&cfg, ca, clk, &cc), MC_OK);
    memset(&hc, 0, sizeof hc);
    hc.routes = api_routes;
    hc.nroutes = sizeof api_routes / sizeof api_routes[0];
    hc.ctx = cc;
    hc.max_body = 128 * 1024;
    hc.error = api_error;
    ck_assert_int_eq(http_server_start(&hc, &api), MC_OK);
    snprintf(base, sizeof base, "http://127.0.0.1:%u/services/v2", (unsigned)http_server_port(api));
}

static void setup(void)
{
    env_start(0, 0);
}

static void teardown(void)
{
    http_server_stop(api);
    http_server_stop(web);
    cc_free(cc);
    dnsmock_stop(dm);
    ca_free(ca);
    clock_free(clk);
    api = web = NULL;
    cc = NULL;
    dm = NULL;
    ca = NULL;
    clk = NULL;
    /* The webroot solver removed what it made; the folder itself is ours. */
    ck_assert_int_eq(rmdir(tmp), 0);
    free(tmp);
    tmp = webroot = NULL;
}

static struct dc_client *client(const char *key)
{
    struct dc_opts o;
    struct dc_client *c = NULL;
    dc_opts_init(&o);
    o.api_key = key;
    o.base_url = base;
    o.seed = 7;
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    return c;
}

static char *make_csr(const char *cn)
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
    EVP_PKEY_free(key);
    ident_list_free(&l);
    return pem;
}

/* certcli's solvers as the placer, as cmd_certcentral.c wires them. */
static struct solver *dns_sv, *web_sv;

static enum mc_err p_txt(void *a, const char *f, const char *v)
{
    (void)a;
    return solver_txt_present(dns_sv, f, v);
}
static enum mc_err p_txt_wait(void *a, const char *f, const char *v)
{
    (void)a;
    return solver_txt_wait_ready(dns_sv, f, v);
}
static enum mc_err p_txt_del(void *a, const char *f, const char *v)
{
    (void)a;
    return solver_txt_cleanup(dns_sv, f, v);
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

static void solvers_start(struct dc_placer *p)
{
    struct solver_config dcfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(dm)};
    struct solver_config wcfg = {.kind = SOLVER_HTTP_WEBROOT, .webroot = webroot};
    ck_assert_int_eq(solver_new(&dcfg, &dns_sv), MC_OK);
    ck_assert_int_eq(solver_new(&wcfg, &web_sv), MC_OK);
    memset(p, 0, sizeof *p);
    p->txt_present = p_txt;
    p->txt_wait = p_txt_wait;
    p->txt_cleanup = p_txt_del;
    p->file_present = p_file;
    p->file_cleanup = p_file_del;
}

static void solvers_stop(void)
{
    solver_free(dns_sv);
    solver_free(web_sv);
    dns_sv = web_sv = NULL;
}

static size_t pem_count(const char *s)
{
    size_t n = 0;
    for (const char *q = s; (q = strstr(q, "-----BEGIN CERTIFICATE-----")) != NULL; q++)
        n++;
    return n;
}

static size_t file_pems(const char *path)
{
    char *t = NULL;
    size_t len = 0;
    ck_assert_int_eq(file_read_all(path, 1 << 20, &t, &len), MC_OK);
    size_t n = pem_count(t);
    free(t);
    return n;
}

static const char *code0(struct dc_client *c)
{
    const struct dc_error *e = dc_last_error(c);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_ge(e->n, 1);
    return e->items[0].code;
}

static void status_is(struct dc_client *c, const char *id, const char *want)
{
    cJSON *j = NULL;
    const char *st = NULL;
    ck_assert_int_eq(dc_order_info(c, id, false, &j), MC_OK);
    ck_assert_int_eq(json_get_string(j, "status", &st), MC_OK);
    ck_assert_str_eq(st, want);
    cJSON_Delete(j);
}

/* ---- seed 002 on a DV product: the whole lifecycle -------------------------------------- */

START_TEST(t_lifecycle)
{
    struct dc_client *c = client(ADMIN), *u = client(USER);
    struct dc_order_req r;
    struct dc_placed p, re;
    struct dc_placer pl;
    struct dc_revoked rv;
    struct dc_watch w = {NULL, 100, 30, false};
    char *csr = make_csr("life.example.com"), id[32], cid[32], req[32], path[600];
    char **names = NULL, *rvv = NULL, *status = NULL, *ctype = NULL;
    size_t n = 0, len = 0;
    cJSON *order = NULL, *chk = NULL;
    int64_t cert = 0;

    solvers_start(&pl);
    dc_order_req_init(&r);
    r.product = "ssl_dv_geotrust";
    r.common_name = "life.example.com";
    r.csr = csr;
    r.dcv_method = "dns-txt-token";
    r.validity.years = 1;
    r.server_platform_id = -1;
    r.skip_approval = true;
    ck_assert_int_eq(dc_order_place(c, &r, &p), MC_OK);
    ck_assert_int_gt(p.id, 0);
    ck_assert_ptr_nonnull(p.dcv_random_value);
    ck_assert_uint_eq(p.n_chain, 0);
    snprintf(id, sizeof id, "%lld", (long long)p.id);
    status_is(c, id, "pending");

    /* check-dcv before anything is published: the CertCentral code comes through. */
    ck_assert_int_eq(dc_check_dcv(c, id, NULL, 0, &chk), MC_ERR_PROBLEM);
    ck_assert_str_eq(code0(c), "invalid_dns_txt");
    ck_assert_int_eq(dc_last_error(c)->status, 400);

    /* The random value as `dcv show` gets it, placed by the DNS solver. */
    ck_assert_int_eq(dc_dcv_random_value(c, id, &rvv, NULL), MC_OK);
    ck_assert_str_eq(rvv, p.dcv_random_value);
    ck_assert_int_eq(dc_order_info(c, id, false, &order), MC_OK);
    ck_assert_int_eq(dc_order_names(order, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(dc_place(&pl, "dns-txt-token", names, n, rvv), MC_OK);
    ck_assert_int_eq(dc_check_dcv(c, id, NULL, 0, &chk), MC_OK);
    const char *dcv = NULL;
    ck_assert_int_eq(json_get_string(chk, "dcv_status", &dcv), MC_OK);
    ck_assert_str_eq(dcv, "valid");
    ck_assert_int_eq(dc_unplace(&pl, "dns-txt-token", names, n, rvv), MC_OK);

    /* watch: status-changes until issued */
    ck_assert_int_eq(dc_watch_order(c, id, &w, &status, &cert), MC_OK);
    ck_assert_str_eq(status, "issued");
    ck_assert_int_gt(cert, 0);
    free(status);
    status = NULL;
    snprintf(cid, sizeof cid, "%lld", (long long)cert);

    /* downloads: pem_all (leaf, intermediate, root) and the default zip */
    snprintf(path, sizeof path, "%s/all.pem", tmp);
    ck_assert_int_eq(dc_download(c, cid, false, "pem_all", path, &ctype, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(ctype, "application/x-pem-file"));
    ck_assert_uint_eq(file_pems(path), 3);
    free(ctype);
    ctype = NULL;
    ck_assert_int_eq(unlink(path), 0);
    snprintf(path, sizeof path, "%s/cert.zip", tmp);
    ck_assert_int_eq(dc_download(c, id, true, NULL, path, &ctype, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(ctype, "application/zip"));
    {
        int zerr = 0;
        zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
        ck_assert_ptr_nonnull(za);
        ck_assert_int_eq(zip_get_num_entries(za, 0), 3);
        zip_discard(za);
    }
    free(ctype);
    ctype = NULL;
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(dc_download(c, cid, false, "bogus", path, NULL, NULL), MC_ERR_INVALID);

    /* reissue by a user key: waits for approval, approved through /request/{id}/status */
    struct dc_reissue_req rr = {0};
    rr.common_name = "life.example.com";
    rr.csr = csr;
    rr.signature_hash = "sha256";
    ck_assert_int_eq(dc_reissue(u, id, &rr, &re), MC_OK);
    ck_assert_int_gt(re.request_id, 0);
    status_is(c, id, "reissue_pending");
    snprintf(req, sizeof req, "%lld", (long long)re.request_id);
    ck_assert_int_eq(dc_request_status(u, req, "approved", NULL), MC_ERR_PROBLEM);
    ck_assert_str_eq(code0(u), "access_denied|missing_permission");
    ck_assert(dc_error_has(dc_last_error(u), "access_denied"));
    ck_assert_int_eq(dc_request_status(c, req, "approved", "ok"), MC_OK);
    ck_assert_int_eq(dc_watch_order(c, id, &w, &status, &cert), MC_OK);
    free(status);
    status = NULL;
    snprintf(cid, sizeof cid, "%lld", (long long)(re.certificate_id != 0 ? re.certificate_id : cert));

    /* revoke with approval */
    ck_assert_int_eq(dc_revoke(c, cid, false, "done with it", "superseded", false, &rv), MC_OK);
    ck_assert(rv.pending);
    ck_assert_int_gt(rv.request_id, 0);
    ck_assert_str_eq(rv.status, "pending");
    snprintf(req, sizeof req, "%lld", (long long)rv.request_id);
    dc_revoked_free(&rv);
    ck_assert_int_eq(dc_request_status(c, req, "approved", NULL), MC_OK);
    w.want = "revoked";
    ck_assert_int_eq(dc_watch_order(c, id, &w, &status, &cert), MC_OK);
    ck_assert_str_eq(status, "revoked");
    free(status);
    status = NULL;
    /* Waiting for issued on a revoked order ends at once, as a state error. */
    w.want = NULL;
    ck_assert_int_eq(dc_watch_order(c, id, &w, &status, &cert), MC_ERR_STATE);
    free(status);

    dc_placed_free(&p);
    dc_placed_free(&re);
    cJSON_Delete(order);
    cJSON_Delete(chk);
    dc_strv_free(names, n);
    free(rvv);
    free(csr);
    solvers_stop();
    dc_free(c);
    dc_free(u);
}
END_TEST

START_TEST(t_list_cancel)
{
    struct dc_client *c = client(ADMIN);
    struct dc_order_req r;
    struct dc_placed p;
    struct dc_list_opts lo = {0};
    cJSON *j = NULL;
    const cJSON *orders, *page;
    int64_t total = 0;
    char *csr = make_csr("cancel.example.com"), id[32];

    dc_order_req_init(&r);
    r.product = "ssl_dv_geotrust";
    r.common_name = "cancel.example.com";
    r.csr = csr;
    r.dcv_method = "dns-txt-token";
    ck_assert_int_eq(dc_order_place(c, &r, &p), MC_OK);
    snprintf(id, sizeof id, "%lld", (long long)p.id);
    lo.status = "needs_approval";
    lo.common_name = "cancel.example.com";
    lo.limit = 10;
    ck_assert_int_eq(dc_order_list(c, &lo, &j), MC_OK);
    ck_assert_int_eq(json_get_array(j, "orders", &orders), MC_OK);
    ck_assert_int_eq(json_get_object(j, "page", &page), MC_OK);
    ck_assert_int_eq(json_get_int(page, "total", 0, 100, &total), MC_OK);
    ck_assert_int_eq(total, 1);
    cJSON_Delete(j);
    lo.common_name = "nobody.example.com";
    ck_assert_int_eq(dc_order_list(c, &lo, &j), MC_OK);
    ck_assert_int_eq(json_get_array(j, "orders", &orders), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(orders), 0);
    cJSON_Delete(j);
    ck_assert_int_eq(dc_order_status(c, id, NULL, "no longer needed"), MC_OK);
    status_is(c, id, "canceled");
    dc_placed_free(&p);
    free(csr);
    dc_free(c);
}
END_TEST

/* ---- AuthKeys and instant DV (seed 004) ----------------------------------------------- */

START_TEST(t_authkey)
{
    struct dc_client *c = client(ADMIN);
    struct dc_authkey k, k2;
    cJSON *j = NULL;
    ck_assert_int_eq(dc_authkey_show(c, NULL, &k), MC_ERR_PROBLEM);
    ck_assert_int_eq(dc_authkey_create(c, 0, &k), MC_OK);
    ck_assert_ptr_nonnull(k.id);
    ck_assert_ptr_nonnull(k.key);
    ck_assert_ptr_null(k.expiration);
    ck_assert_int_eq(dc_authkey_create(c, 0, &k2), MC_ERR_PROBLEM);
    ck_assert_str_eq(code0(c), "auth_key_exists_for_account");
    ck_assert_int_eq(dc_authkey_show(c, NULL, &k2), MC_OK);
    ck_assert_str_eq(k2.key, k.key);
    dc_authkey_free(&k2);
    ck_assert_int_eq(dc_authkey_create(c, 5, &k2), MC_OK);
    ck_assert_ptr_nonnull(k2.expiration);
    ck_assert_int_eq(dc_authkey_list(c, &j), MC_OK);
    cJSON_Delete(j);
    ck_assert_int_eq(dc_authkey_delete(c, k2.id), MC_OK);
    struct dc_authkey k3;
    ck_assert_int_eq(dc_authkey_show(c, k2.id, &k3), MC_ERR_PROBLEM);
    ck_assert(dc_error_has(dc_last_error(c), "not_found"));
    ck_assert_int_eq(dc_authkey_delete(c, NULL), MC_OK);
    ck_assert_int_eq(dc_authkey_show(c, NULL, &k3), MC_ERR_PROBLEM);
    dc_authkey_free(&k);
    dc_authkey_free(&k2);
    dc_free(c);
}
END_TEST

static void instant(struct dc_client *c, const struct dc_placer *pl, const char *cn,
                    const char *method, int64_t now, const char *out, struct dc_placed *p,
                    bool *issued)
{
    struct dc_order_req r;
    char *csr = make_csr(cn);
    dc_order_req_init(&r);
    r.product = "ssl_dv_rapidssl";
    r.common_name = cn;
    r.csr = csr;
    r.dcv_method = method;
    r.server_platform_id = 2;
    r.validity.years = 1;
    /* The AuthKey is fetched by dc_instant_dv itself. */
    ck_assert_int_eq(dc_instant_dv(c, &r, NULL, now, pl, out, p, issued), MC_OK);
    free(csr);
}

START_TEST(t_instant_dv)
{
    struct dc_client *c = client(ADMIN);
    struct dc_authkey k;
    struct dc_placer pl;
    struct dc_placed p;
    bool issued = false;
    char out[600], fa[600], buf[64];
    struct stat st;

    solvers_start(&pl);
    /* No AuthKey yet: the fetch fails with the API's answer. */
    {
        struct dc_order_req r;
        char *csr = make_csr("none.example.com");
        dc_order_req_init(&r);
        r.product = "ssl_dv_rapidssl";
        r.common_name = "none.example.com";
        r.csr = csr;
        ck_assert_int_eq(dc_instant_dv(c, &r, NULL, 0, &pl, NULL, &p, &issued), MC_ERR_PROBLEM);
        ck_assert_int_eq(dc_last_error(c)->status, 404);
        dc_placed_free(&p);
        free(csr);
    }
    ck_assert_int_eq(dc_authkey_create(c, 0, &k), MC_OK);

    /* Through DNS: the token at _dnsauth.<name>, issued in the response, chain saved. */
    snprintf(out, sizeof out, "%s/dns-chain.pem", tmp);
    instant(c, &pl, "fast.example.com", "dns-txt-token", 0, out, &p, &issued);
    ck_assert(issued);
    ck_assert_uint_eq(p.n_chain, 3);
    ck_assert_str_eq(p.chain[0].subject_common_name, "fast.example.com");
    ck_assert_uint_eq(file_pems(out), 3);
    snprintf(buf, sizeof buf, "%lld", (long long)p.id);
    status_is(c, buf, "issued");
    dc_placed_free(&p);
    ck_assert_int_eq(unlink(out), 0);
    /* and the token is gone from DNS again */
    {
        ldns_pkt *q = tu_dns_query(dnsmock_dns_port(dm), "_dnsauth.fast.example.com.",
                                   LDNS_RR_TYPE_TXT, false);
        ck_assert_ptr_nonnull(q);
        ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(q)), 0);
        ldns_pkt_free(q);
    }

    /* Through fileauth.txt in the webroot the web server serves. */
    snprintf(out, sizeof out, "%s/file-chain.pem", tmp);
    instant(c, &pl, "file.example.com", "http-token", 0, out, &p, &issued);
    ck_assert(issued);
    ck_assert_uint_eq(file_pems(out), 3);
    dc_placed_free(&p);
    ck_assert_int_eq(unlink(out), 0);
    snprintf(fa, sizeof fa, "%s%s", webroot, DC_FILEAUTH_PATH);
    ck_assert_int_ne(stat(fa, &st), 0); /* taken away again */

    /* A stale token (stamped 31 days ago): the API falls back to a pending order. */
    snprintf(out, sizeof out, "%s/stale-chain.pem", tmp);
    instant(c, &pl, "stale.example.com", "dns-txt-token", clock_now(clk) - 31LL * 86400, out, &p,
            &issued);
    ck_assert(!issued);
    ck_assert_uint_eq(p.n_chain, 0);
    ck_assert_ptr_nonnull(p.dcv_random_value);
    ck_assert_int_ne(stat(out, &st), 0); /* no chain written */
    snprintf(buf, sizeof buf, "%lld", (long long)p.id);
    cJSON *j = NULL;
    const char *s = NULL;
    ck_assert_int_eq(dc_order_info(c, buf, false, &j), MC_OK);
    ck_assert_int_eq(json_get_string(j, "status", &s), MC_OK);
    ck_assert_str_ne(s, "issued");
    cJSON_Delete(j);
    dc_placed_free(&p);

    dc_authkey_free(&k);
    solvers_stop();
    dc_free(c);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------- */

START_TEST(t_errors)
{
    struct dc_client *bad = client("WRONGKEY"), *c = client(ADMIN);
    cJSON *j = NULL;
    uint64_t before = 0, after = 0;

    ck_assert_int_eq(dc_order_info(bad, "1", false, &j), MC_ERR_PROBLEM);
    ck_assert_int_eq(dc_last_error(bad)->status, 401);
    ck_assert_str_eq(code0(bad), "invalid_api_key");
    ck_assert_ptr_nonnull(strstr(dc_last_message(bad), "invalid_api_key"));
    ck_assert_int_eq(dc_order_info(c, "999999", false, &j), MC_ERR_PROBLEM);
    ck_assert_str_eq(code0(c), "not_found|order");
    ck_assert(dc_error_has(dc_last_error(c), "not_found"));
    /* A hostile id never leaves the client. */
    dc_stats(c, &before, NULL);
    ck_assert_int_eq(dc_order_info(c, "1/../../account/auth-key", false, &j), MC_ERR_INVALID);
    ck_assert_int_eq(dc_request_status(c, "1?x", "approved", NULL), MC_ERR_INVALID);
    dc_stats(c, &after, NULL);
    ck_assert_uint_eq(before, after);
    /* A successful call clears the last error. */
    ck_assert_int_eq(dc_status_changes(c, 10, 0, &j), MC_OK);
    ck_assert_ptr_null(dc_last_error(c));
    cJSON_Delete(j);
    ck_assert_int_eq(dc_status_changes(c, 20000, 0, &j), MC_ERR_PROBLEM);
    ck_assert_int_eq(dc_last_error(c)->status, 400);
    dc_free(bad);
    dc_free(c);
}
END_TEST

/* 429 request_limit_exceeded: waited out after its Retry-After, within max_wait_s. */
static void rl_setup(void)
{
    env_start(1, 1000);
}

START_TEST(t_rate_limit)
{
    struct dc_opts o;
    struct dc_client *c = NULL;
    cJSON *j = NULL;
    uint64_t waits = 0;

    dc_opts_init(&o);
    o.api_key = ADMIN;
    o.base_url = base;
    o.max_wait_s = 0; /* no wait allowed: the 429 is reported with its code */
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    ck_assert_int_eq(dc_status_changes(c, 1, 0, &j), MC_OK);
    cJSON_Delete(j);
    ck_assert_int_eq(dc_status_changes(c, 1, 0, &j), MC_ERR_PROBLEM);
    ck_assert_int_eq(dc_last_error(c)->status, 429);
    ck_assert_str_eq(code0(c), "request_limit_exceeded");
    ck_assert_int_ge(dc_last_error(c)->retry_after_s, 0);
    dc_free(c);

    o.max_wait_s = 5;
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    ck_assert_int_eq(dc_status_changes(c, 1, 0, &j), MC_OK); /* waits out the window */
    cJSON_Delete(j);
    dc_stats(c, NULL, &waits);
    ck_assert_uint_ge(waits, 1);
    dc_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_dc");
    TCase *tc = tcase_create("certcentral");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_lifecycle);
    tcase_add_test(tc, t_list_cancel);
    tcase_add_test(tc, t_authkey);
    tcase_add_test(tc, t_instant_dv);
    tcase_add_test(tc, t_errors);
    suite_add_tcase(s, tc);
    TCase *rl = tcase_create("ratelimit");
    tcase_add_checked_fixture(rl, rl_setup, teardown);
    tcase_add_test(rl, t_rate_limit);
    suite_add_tcase(s, rl);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
