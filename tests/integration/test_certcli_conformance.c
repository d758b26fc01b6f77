/* Integration tests for certcli's server conformance (client/srvconf.c): against an
 * in-process mockca every requirement is exercised and every MUST (indeed every
 * requirement) passes; against a hostile mini server built on common/http.h that gets the
 * protocol right but omits Replay-Nonce on POST answers, Link rel="index" and
 * Cache-Control, answers GET newNonce with 200, and sends problems as application/json,
 * exactly those requirements fail. The reports it writes are read back. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "acme_client.h"
#include "client/srvconf.h"
#include "common/b64url.h"
#include "common/file.h"
#include "common/http.h"
#include "common/jose.h"
#include "common/json.h"
#include "testutil.h"

static struct solver *g_solver;
static uint16_t g_solver_port;
static char *g_dir;

static void adjust(struct mockca_config *cfg)
{
    cfg->http_port = g_solver_port; /* mockca validates http-01 at the grader's solver */
    cfg->retry_after_authz_s = 0;
    cfg->retry_after_order_s = 0;
}

static char *path_in(const char *name)
{
    char *p = NULL;
    ck_assert_int_ne(asprintf(&p, "%s/%s", g_dir, name), -1);
    return p;
}

static void setup(void)
{
    g_dir = tu_tmpdir();
    ck_assert_ptr_nonnull(g_dir);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(g_dir);
    g_dir = NULL;
}

START_TEST(test_mockca_passes)
{
    struct solver_config scfg;
    struct sc_opts o;
    struct report *r = NULL;
    struct report_totals t;
    const struct report_req *cat;
    size_t n;

    memset(&scfg, 0, sizeof(scfg));
    scfg.kind = SOLVER_HTTP_STANDALONE;
    scfg.address = "127.0.0.1";
    scfg.port = 0;
    ck_assert_int_eq(solver_new(&scfg, &g_solver), MC_OK);
    g_solver_port = solver_port(g_solver);
    ck_assert_uint_ne(g_solver_port, 0);
    ac_start(adjust, false);

    char *root = path_in("root.pem");
    ac_write_tls_root(root);

    sc_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = root;
    o.solver = g_solver;
    o.poll_timeout_s = 30;
    o.seed = 7;
    ck_assert_int_eq(sc_run(&o, &r), MC_OK);
    ck_assert_ptr_nonnull(r);

    cat = sc_catalog(&n);
    ck_assert_uint_ge(n, 40);
    for (size_t i = 0; i < n; i++) {
        enum report_outcome oc = report_outcome_of(r, cat[i].id);
        ck_assert_msg(strncmp(cat[i].id, "ACME-SERVER-", 12) == 0, "id %s", cat[i].id);
        ck_assert_msg(oc == REPORT_PASS, "%s (%s) is %s against mockca", cat[i].id,
                      cat[i].level == REPORT_MUST ? "MUST" : "SHOULD",
                      oc == REPORT_FAIL ? "FAIL" : "SKIP");
        for (size_t k = 0; k < i; k++)
            ck_assert_str_ne(cat[k].id, cat[i].id); /* ids are unique */
    }
    report_totals(r, &t);
    ck_assert_uint_eq(t.must_fail, 0);
    ck_assert_uint_eq(t.findings, 0);
    ck_assert_uint_ge(t.exchanges, 30);
    ck_assert(sc_passed(r, true));

    /* The JSON report: every catalog id, and exchanges with both sides recorded. */
    char *jp = path_in("r.json");
    ck_assert_int_eq(report_write_json(r, jp), MC_OK);
    char *text = NULL;
    size_t len = 0;
    cJSON *j = NULL;
    ck_assert_int_eq(file_read_all(jp, 16 * 1024 * 1024, &text, &len), MC_OK);
    ck_assert_int_eq(json_parse(text, len, 16 * 1024 * 1024, 16, &j), MC_OK);
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(j, "requirements");
    ck_assert_int_eq(cJSON_GetArraySize(reqs), (int)n);
    const cJSON *xs = cJSON_GetObjectItemCaseSensitive(j, "exchanges"), *x;
    bool saw_415 = false, saw_cert = false;
    cJSON_ArrayForEach(x, xs)
    {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(x, "request");
        const cJSON *resp = cJSON_GetObjectItemCaseSensitive(x, "response");
        const char *rh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "headers"));
        const char *sh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "headers"));
        ck_assert_ptr_nonnull(rh);
        ck_assert_ptr_nonnull(sh);
        ck_assert_ptr_nonnull(strstr(rh, "User-Agent: certcli-conformance/"));
        if (cJSON_GetObjectItemCaseSensitive(x, "status")->valueint == 415) {
            saw_415 = true;
            ck_assert_ptr_nonnull(strstr(rh, "Content-Type: application/json"));
        }
        if (strstr(sh, "application/pem-certificate-chain") != NULL) {
            saw_cert = true;
            ck_assert_ptr_nonnull(
                strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "body")),
                       "-----BEGIN CERTIFICATE-----"));
        }
    }
    ck_assert(saw_415);
    ck_assert(saw_cert);
    cJSON_Delete(j);
    free(text);
    free(jp);
    report_free(r);
    free(root);
    ac_stop();
    solver_free(g_solver);
    g_solver = NULL;
}
END_TEST

START_TEST(test_skip_issuance)
{
    struct sc_opts o;
    struct report *r = NULL;
    ac_start(NULL, false);
    char *root = path_in("root.pem");
    ac_write_tls_root(root);
    sc_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = root;
    o.skip_issuance = true;
    ck_assert_int_eq(sc_run(&o, &r), MC_OK);
    /* What needs a validation is not exercised; the rest passes; deactivation still runs. */
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-STATE-002"), REPORT_SKIP);
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-CERT-001"), REPORT_SKIP);
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-REV-001"), REPORT_SKIP);
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-ORDER-003"), REPORT_PASS);
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-ACCT-005"), REPORT_PASS);
    ck_assert(sc_passed(r, true));
    report_free(r);
    free(root);
    ac_stop();

    /* Bad options are refused before anything is sent. */
    sc_opts_init(&o);
    o.directory_url = "https://127.0.0.1:1/dir";
    ck_assert_int_eq(sc_run(&o, &r), MC_ERR_INVALID); /* issuance without a solver */
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_unreachable)
{
    struct sc_opts o;
    struct report *r = NULL;
    sc_opts_init(&o);
    o.directory_url = "http://127.0.0.1:1/dir"; /* nothing listens on port 1 */
    o.skip_issuance = true;
    o.timeout_s = 5;
    ck_assert_int_eq(sc_run(&o, &r), MC_ERR_IO);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(report_outcome_of(r, "ACME-SERVER-DIR-001"), REPORT_FAIL);
    ck_assert(!sc_passed(r, false));
    report_free(r);
}
END_TEST

/* ---- the hostile server -------------------------------------------------------------------- */

#define HS_MAX_NONCES 512
static pthread_mutex_t hs_mu = PTHREAD_MUTEX_INITIALIZER;
static char hs_nonces[HS_MAX_NONCES][32];
static bool hs_used[HS_MAX_NONCES];
static size_t hs_n;
static char *hs_thumb; /* the registered key's thumbprint */

static void hs_nonce(struct http_response *resp)
{
    uint8_t raw[16];
    char *b = NULL;
    ck_assert_int_eq(RAND_bytes(raw, sizeof(raw)), 1);
    ck_assert_int_eq(b64url_encode(raw, sizeof(raw), &b), MC_OK);
    pthread_mutex_lock(&hs_mu);
    if (hs_n < HS_MAX_NONCES)
        snprintf(hs_nonces[hs_n++], sizeof(hs_nonces[0]), "%s", b);
    pthread_mutex_unlock(&hs_mu);
    ck_assert_int_eq(http_response_header(resp, "Replay-Nonce", b), MC_OK);
    free(b);
}

/* True once for a nonce this server issued. */
static bool hs_take_nonce(const char *n)
{
    bool ok = false;
    pthread_mutex_lock(&hs_mu);
    for (size_t i = 0; i < hs_n && !ok; i++)
        if (strcmp(hs_nonces[i], n) == 0 && !hs_used[i]) {
            hs_used[i] = true;
            ok = true;
        }
    pthread_mutex_unlock(&hs_mu);
    return ok;
}

/* A problem as application/json (the deviation), with a correct type and status. */
static void hs_problem(struct http_response *resp, int status, const char *type)
{
    cJSON *j = cJSON_CreateObject();
    char t[128];
    snprintf(t, sizeof(t), "urn:ietf:params:acme:error:%s", type);
    cJSON_AddStringToObject(j, "type", t);
    cJSON_AddStringToObject(j, "detail", "hostile");
    cJSON_AddNumberToObject(j, "status", status);
    ck_assert_int_eq(http_response_json(resp, status, j), MC_OK);
    cJSON_Delete(j);
}

static void hs_url(const struct http_request *req, const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "http://%s%s", req->host, path);
}

static void hs_dir(void *ctx, const struct http_request *req, struct http_response *resp)
{
    char u[256];
    cJSON *j = cJSON_CreateObject();
    (void)ctx;
    static const char *const names[][2] = {{"newNonce", "/nonce"},
                                           {"newAccount", "/acct"},
                                           {"newOrder", "/order"},
                                           {"revokeCert", "/rev"},
                                           {"keyChange", "/key-change"}};
    for (size_t i = 0; i < 5; i++) {
        hs_url(req, names[i][1], u, sizeof(u));
        cJSON_AddStringToObject(j, names[i][0], u);
    }
    ck_assert_int_eq(http_response_json(resp, 200, j), MC_OK);
    cJSON_Delete(j);
}

/* newNonce: a nonce, but no Cache-Control, and GET answers 200 rather than 204. */
static void hs_new_nonce(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    hs_nonce(resp);
    resp->status = 200;
}

/* newAccount: every refusal right (but as application/json, without Replay-Nonce). */
static void hs_new_account(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const char *ct = http_request_header(req, "Content-Type"), *nonce = NULL, *kid = NULL;
    struct jws *j = NULL;
    EVP_PKEY *key = NULL;
    char *tp = NULL, want[256], loc[256];
    const cJSON *jwk;
    enum mc_err err;
    (void)ctx;
    if (ct == NULL || strcmp(ct, "application/jose+json") != 0) {
        hs_problem(resp, 415, "malformed");
        return;
    }
    err = jws_parse((const char *)req->body, req->body_len, &j);
    if (err != MC_OK) {
        hs_problem(resp, 400, err == MC_ERR_UNSUPPORTED ? "badSignatureAlgorithm" : "malformed");
        return;
    }
    if (jose_alg_is_hmac(j->alg)) {
        hs_problem(resp, 400, "badSignatureAlgorithm");
        goto out;
    }
    if (json_get_string(j->protected, "nonce", &nonce) != MC_OK || !hs_take_nonce(nonce)) {
        hs_problem(resp, 400, "badNonce");
        goto out;
    }
    hs_url(req, "/acct", want, sizeof(want));
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j->protected, "url")), want) !=
        0) {
        hs_problem(resp, 403, "unauthorized");
        goto out;
    }
    jwk = cJSON_GetObjectItemCaseSensitive(j->protected, "jwk");
    if (json_get_string(j->protected, "kid", &kid) == MC_OK || jwk == NULL ||
        jwk_from_json(jwk, &key) != MC_OK || jws_verify(j, key) != MC_OK) {
        hs_problem(resp, 400, "malformed");
        goto out;
    }
    ck_assert_int_eq(jwk_thumbprint(key, &tp), MC_OK);
    hs_url(req, "/acct/1", loc, sizeof(loc));
    pthread_mutex_lock(&hs_mu);
    bool known = hs_thumb != NULL && strcmp(hs_thumb, tp) == 0;
    bool only = strstr((const char *)j->payload, "onlyReturnExisting") != NULL;
    if (!known && !only) {
        free(hs_thumb);
        hs_thumb = strdup(tp);
    }
    pthread_mutex_unlock(&hs_mu);
    if (!known && only) {
        hs_problem(resp, 400, "accountDoesNotExist");
        goto out;
    }
    ck_assert_int_eq(http_response_header(resp, "Location", loc), MC_OK);
    ck_assert_int_eq(http_response_body(resp, known ? 200 : 201, "application/json",
                                        "{\"status\":\"valid\"}", 18),
                     MC_OK);
out:
    free(tp);
    EVP_PKEY_free(key);
    jws_free(j);
}

static void hs_account(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    ck_assert_int_eq(
        http_response_body(resp, 200, "application/json", "{\"status\":\"valid\"}", 18), MC_OK);
}

/* newOrder: the connection is dropped, which ends the run there. */
static void hs_order(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->drop = true;
}

START_TEST(test_hostile_server)
{
    static const struct http_route routes[] = {
        {"GET", "/dir", hs_dir},         {"HEAD", "/nonce", hs_new_nonce},
        {"GET", "/nonce", hs_new_nonce}, {"POST", "/acct", hs_new_account},
        {"POST", "/acct/1", hs_account}, {"POST", "/order", hs_order},
    };
    struct http_server_config cfg;
    struct http_server *srv = NULL;
    struct sc_opts o;
    struct report *r = NULL;
    char dir[128];
    const struct report_req *cat;
    size_t n;
    static const char *const want_fail[] = {
        "ACME-SERVER-NONCE-002", "ACME-SERVER-NONCE-003", "ACME-SERVER-NONCE-004",
        "ACME-SERVER-NONCE-005", "ACME-SERVER-LINK-001",  "ACME-SERVER-PROB-001",
    };
    static const char *const want_pass[] = {
        "ACME-SERVER-DIR-001",     "ACME-SERVER-DIR-002",   "ACME-SERVER-DIR-003",
        "ACME-SERVER-NONCE-001",   "ACME-SERVER-NONCE-006", "ACME-SERVER-NONCE-007",
        "ACME-SERVER-NONCE-008",   "ACME-SERVER-NONCE-009", "ACME-SERVER-NONCE-010",
        "ACME-SERVER-PROB-002",    "ACME-SERVER-JWS-001",   "ACME-SERVER-JWS-002",
        "ACME-SERVER-JWS-003",     "ACME-SERVER-JWS-004",   "ACME-SERVER-JWS-006",
        "ACME-SERVER-ACCT-001",    "ACME-SERVER-ACCT-002",  "ACME-SERVER-ACCT-003",
        "ACME-SERVER-POSTGET-003",
    };

    memset(&cfg, 0, sizeof(cfg));
    cfg.routes = routes;
    cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
    ck_assert_int_eq(http_server_start(&cfg, &srv), MC_OK);
    snprintf(dir, sizeof(dir), "http://127.0.0.1:%u/dir", http_server_port(srv));

    sc_opts_init(&o);
    o.directory_url = dir;
    o.skip_issuance = true;
    o.timeout_s = 10;
    /* The dropped newOrder connection cuts the run short: a transport error. */
    ck_assert_int_eq(sc_run(&o, &r), MC_ERR_IO);
    ck_assert_ptr_nonnull(r);

    cat = sc_catalog(&n);
    for (size_t i = 0; i < n; i++) {
        bool should_fail = false, should_pass = false;
        enum report_outcome oc = report_outcome_of(r, cat[i].id);
        for (size_t k = 0; k < sizeof(want_fail) / sizeof(want_fail[0]); k++)
            should_fail = should_fail || strcmp(want_fail[k], cat[i].id) == 0;
        for (size_t k = 0; k < sizeof(want_pass) / sizeof(want_pass[0]); k++)
            should_pass = should_pass || strcmp(want_pass[k], cat[i].id) == 0;
        if (should_fail)
            ck_assert_msg(oc == REPORT_FAIL, "%s should FAIL against the hostile server",
                          cat[i].id);
        else if (should_pass)
            ck_assert_msg(oc == REPORT_PASS, "%s should pass against the hostile server (%d)",
                          cat[i].id, oc);
        else
            ck_assert_msg(oc == REPORT_SKIP, "%s should not be exercised (%d)", cat[i].id, oc);
    }
    /* MUSTs failed (NONCE-002..004): the run fails. */
    ck_assert(!sc_passed(r, false));

    /* The findings point at the exchanges that showed them, in all three forms. */
    char *hp = path_in("h.html"), *xp = path_in("h.xml"), *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(report_write_html(r, hp), MC_OK);
    ck_assert_int_eq(report_write_junit(r, xp), MC_OK);
    ck_assert_int_eq(file_read_all(hp, 16 * 1024 * 1024, &text, &len), MC_OK);
    ck_assert_ptr_nonnull(
        strstr(text, "<a class=\"violation\" href=\"#req-ACME-SERVER-PROB-001\""));
    ck_assert_ptr_nonnull(
        strstr(text, "id=\"req-ACME-SERVER-LINK-001\" class=\"req outcome-fail\""));
    free(text);
    ck_assert_int_eq(file_read_all(xp, 16 * 1024 * 1024, &text, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(text, "name=\"ACME-SERVER-PROB-001: "));
    ck_assert_ptr_nonnull(strstr(text, "Content-Type &quot;application/json&quot;"));
    free(text);
    free(hp);
    free(xp);
    report_free(r);
    http_server_stop(srv);
    free(hs_thumb);
    hs_thumb = NULL;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("certcli_conformance");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_mockca_passes);
    tcase_add_test(tc, test_skip_issuance);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_hostile_server);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
