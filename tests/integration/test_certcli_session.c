/* Integration tests of libcertcli's session (client/session.c): against an in-process
 * mockca over HTTPS (directory, nonce pool, badNonce retries, rate limits, TLS trust,
 * polling) and against a hostile server made with common/http.h in this test (oversized
 * body, JSON that is not, a directory without newNonce, bad Location and Link URLs,
 * Retry-After as an HTTP-date, 503 then 200, problem documents with subproblems, a dropped
 * connection). Every case checks the error a user would see and that nothing crashes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "client/registration.h"
#include "client/session.h"
#include "common/file.h"
#include "common/http.h"
#include "common/keys.h"
#include "acme_client.h"
#include "testutil.h"

#define P_URN "urn:ietf:params:acme:error:"

static char *g_tmp;           /* a per-test temp folder */
static char g_root_path[512]; /* mockca's TLS root written there */

/* ---- helpers ------------------------------------------------------------------------------- */

static void write_root(void)
{
    g_tmp = tu_tmpdir();
    snprintf(g_root_path, sizeof g_root_path, "%s/root.pem", g_tmp);
    ac_write_tls_root(g_root_path);
}

static void start_ca(void (*adjust)(struct mockca_config *cfg))
{
    ac_start(adjust, false);
    write_root();
}

static void stop_ca(void)
{
    ac_stop();
    unlink(g_root_path);
    rmdir(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

/* A session to the running mockca trusting its root, with o tweaked by tweak. */
static struct sess *open_sess(void (*tweak)(struct sess_opts *o))
{
    struct sess_opts o;
    struct sess *s = NULL;

    sess_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = g_root_path;
    o.seed = 99;
    if (tweak != NULL)
        tweak(&o);
    enum mc_err e = sess_new(&o, &s);
    ck_assert_msg(e == MC_OK, "sess_new: %s", mc_strerror(e));
    return s;
}

/* A new P-256 account registered on s. */
static void register_account(struct sess *s)
{
    EVP_PKEY *k = NULL;
    struct reg_new req = {.agree_tos = true};
    bool created = false;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    EVP_PKEY_free(k);
    ck_assert_int_eq(reg_register(s, &req, &created, NULL), MC_OK);
    ck_assert(created);
    ck_assert_ptr_nonnull(sess_kid(s));
}

/* newOrder for one DNS name through the raw chokepoint; returns the status of the call. */
static enum mc_err raw_new_order(struct sess *s, const char *name, struct sess_resp *r)
{
    cJSON *p = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(p, "identifiers");
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "type", "dns");
    cJSON_AddStringToObject(id, "value", name);
    cJSON_AddItemToArray(ids, id);
    enum mc_err e = sess_post(s, sess_directory(s)->new_order, p, SESS_SIGN_KID, r);
    cJSON_Delete(p);
    return e;
}

/* ---- against mockca -------------------------------------------------------------------------- */

static void adjust_dir(struct mockca_config *cfg)
{
    cfg->caa_identities[0] = strdup("mockca.test");
    cfg->caa_identities[1] = strdup("example.net");
    cfg->n_caa_identities = 2;
}

START_TEST(test_directory_parsed)
{
    start_ca(adjust_dir);
    struct sess *s = open_sess(NULL);
    const struct sess_dir *d = sess_directory(s);

    ck_assert_ptr_nonnull(d->new_nonce);
    ck_assert_ptr_nonnull(strstr(d->new_account, "https://127.0.0.1:"));
    ck_assert_ptr_nonnull(d->new_order);
    ck_assert_ptr_nonnull(d->revoke_cert);
    ck_assert_ptr_nonnull(d->key_change);
    ck_assert_ptr_nonnull(d->renewal_info); /* mockca has ARI */
    ck_assert(!d->eab_required);
    ck_assert_uint_eq(d->n_caa_identities, 2);
    ck_assert_str_eq(d->caa_identities[0], "mockca.test");
    ck_assert_str_eq(d->caa_identities[1], "example.net");
    ck_assert_uint_ge(d->n_profiles, 1);
    bool has_default = false;
    for (size_t i = 0; i < d->n_profiles; i++) {
        ck_assert_ptr_nonnull(d->profile_descs[i]);
        if (strcmp(d->profile_names[i], "default") == 0)
            has_default = true;
    }
    ck_assert(has_default);
    /* No request has failed: no problem kept. */
    ck_assert_ptr_null(sess_last_problem(s));
    sess_free(s);
    stop_ca();
}
END_TEST

START_TEST(test_nonce_pool_and_keepalive)
{
    start_ca(NULL);
    struct sess *s = open_sess(NULL);
    struct sess_stats st;

    register_account(s);
    sess_stats(s, &st);
    /* At most the very first POST needed HEAD newNonce (mockca's directory answer
     * already carries a Replay-Nonce, so usually none did). */
    ck_assert_uint_le(st.nonce_fetches, 1);
    uint64_t fetches = st.nonce_fetches;
    for (int i = 0; i < 10; i++) {
        struct sess_resp r;
        ck_assert_int_eq(sess_post(s, sess_kid(s), NULL, SESS_SIGN_KID, &r), MC_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(r.json);
        /* Every mockca response links the directory (section 7.1). */
        ck_assert_ptr_nonnull(sess_resp_link(&r, "index", 0));
        sess_resp_free(&r);
    }
    sess_stats(s, &st);
    ck_assert_uint_eq(st.nonce_fetches, fetches); /* each response refilled the pool */
    ck_assert_uint_eq(st.bad_nonce_retries, 0);
    /* One handle kept alive: far fewer connections than requests. */
    ck_assert_uint_ge(st.requests, 12); /* directory, newAccount, 10 POSTs */
    ck_assert_uint_ge(st.connections, 1);
    ck_assert_uint_lt(st.connections, st.requests / 2);

    /* The key authorization of section 8.1, and a hostile token refused. */
    char *ka = NULL;
    ck_assert_int_eq(sess_key_authorization(s, "abc-DEF_123", &ka), MC_OK);
    char *want = keyauth_of(sess_account_key(s), "abc-DEF_123");
    ck_assert_str_eq(ka, want);
    free(ka);
    free(want);
    ck_assert_int_eq(sess_key_authorization(s, "../x", &ka), MC_ERR_INVALID);
    ck_assert_ptr_null(ka);
    sess_free(s);
    stop_ca();
}
END_TEST

static void adjust_nonce_reject(struct mockca_config *cfg)
{
    cfg->nonce_reject_pct = 50;
    cfg->fault_seed = 4242;
}

static void many_nonce_retries(struct sess_opts *o)
{
    o->bad_nonce_retries = 30; /* 2^-31 per request of failing by chance */
}

static void no_nonce_retries(struct sess_opts *o)
{
    o->bad_nonce_retries = 0;
}

START_TEST(test_bad_nonce_retried)
{
    start_ca(adjust_nonce_reject);
    struct sess *s = open_sess(many_nonce_retries);
    struct sess_stats st;

    register_account(s);
    for (int i = 0; i < 30; i++) {
        struct sess_resp r;
        enum mc_err e = sess_post(s, sess_kid(s), NULL, SESS_SIGN_KID, &r);
        ck_assert_msg(e == MC_OK, "request %d: %s", i, sess_last_error(s));
        ck_assert_int_eq(r.status, 200);
        sess_resp_free(&r);
    }
    sess_stats(s, &st);
    ck_assert_uint_gt(st.bad_nonce_retries, 0); /* half were refused, all recovered */
    /* A badNonce answer still carries a nonce: the pool never ran dry. */
    ck_assert_uint_le(st.nonce_fetches, 1);
    sess_free(s);

    /* Without retries, a rejected nonce surfaces as the problem it is. */
    s = open_sess(no_nonce_retries);
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    EVP_PKEY_free(k);
    bool seen = false;
    for (int i = 0; i < 60 && sess_kid(s) == NULL; i++) {
        struct reg_new req = {.agree_tos = true};
        enum mc_err e = reg_register(s, &req, NULL, NULL);
        if (e != MC_OK) {
            ck_assert_int_eq(e, MC_ERR_PROBLEM);
            ck_assert_str_eq(sess_last_problem(s)->type, P_URN "badNonce");
            seen = true;
        }
    }
    ck_assert_ptr_nonnull(sess_kid(s));
    for (int i = 0; i < 60 && !seen; i++) {
        struct sess_resp r;
        enum mc_err e = sess_post(s, sess_kid(s), NULL, SESS_SIGN_KID, &r);
        if (e == MC_ERR_PROBLEM) {
            const struct sess_problem *p = sess_last_problem(s);
            ck_assert_ptr_nonnull(p);
            ck_assert_str_eq(p->type, P_URN "badNonce");
            ck_assert_int_eq(p->status, 400);
            ck_assert_int_eq(r.status, 400);
            ck_assert_ptr_nonnull(strstr(sess_last_error(s), "badNonce"));
            seen = true;
        } else {
            ck_assert_int_eq(e, MC_OK);
        }
        sess_resp_free(&r);
    }
    ck_assert(seen);
    sess_stats(s, &st);
    ck_assert_uint_eq(st.bad_nonce_retries, 0);
    sess_free(s);
    stop_ca();
}
END_TEST

static void adjust_rate(struct mockca_config *cfg)
{
    cfg->rl_orders_per_account.count = 1;
    cfg->rl_orders_per_account.window_s = 3600;
}

START_TEST(test_rate_limited_surfaces)
{
    start_ca(adjust_rate);
    struct sess *s = open_sess(NULL);
    struct sess_resp r;
    struct sess_stats st;

    register_account(s);
    ck_assert_int_eq(raw_new_order(s, "one.example.com", &r), MC_OK);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(r.location);
    sess_resp_free(&r);
    /* The second order within the hour: 429 with a Retry-After far beyond max_wait_s, so
     * the chokepoint does not wait but reports, keeping the wait for the caller. */
    ck_assert_int_eq(raw_new_order(s, "two.example.com", &r), MC_ERR_PROBLEM);
    ck_assert_int_eq(r.status, 429);
    const struct sess_problem *p = sess_last_problem(s);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->type, P_URN "rateLimited");
    ck_assert_int_eq(p->status, 429);
    ck_assert_int_gt(p->retry_after_s, 60);
    ck_assert_int_le(p->retry_after_s, 3600);
    ck_assert_int_eq(r.retry_after_s, p->retry_after_s);
    sess_resp_free(&r);
    sess_stats(s, &st);
    ck_assert_uint_eq(st.busy_waits, 0);
    /* A later success clears the kept problem. */
    ck_assert_int_eq(sess_post(s, sess_kid(s), NULL, SESS_SIGN_KID, &r), MC_OK);
    ck_assert_ptr_null(sess_last_problem(s));
    sess_resp_free(&r);
    sess_free(s);
    stop_ca();
}
END_TEST

START_TEST(test_tls_trust)
{
    start_ca(NULL);
    struct sess_opts o;
    struct sess *s = NULL;

    /* No bundle and no environment: the system store does not know mockca's root. */
    unsetenv("SSL_CERT_FILE");
    unsetenv("CURL_CA_BUNDLE");
    sess_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    ck_assert_int_eq(sess_new(&o, &s), MC_ERR_IO);
    ck_assert_ptr_null(s);

    /* $SSL_CERT_FILE is honoured. */
    setenv("SSL_CERT_FILE", g_root_path, 1);
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    sess_free(s);
    s = NULL;
    unsetenv("SSL_CERT_FILE");

    /* $CURL_CA_BUNDLE too. */
    setenv("CURL_CA_BUNDLE", g_root_path, 1);
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    sess_free(s);
    s = NULL;
    unsetenv("CURL_CA_BUNDLE");

    /* An explicit bundle wins over a wrong environment. */
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    o.ca_bundle = g_root_path;
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    sess_free(s);
    s = NULL;
    unsetenv("SSL_CERT_FILE");

    /* insecure only when asked. */
    o.ca_bundle = NULL;
    o.insecure = true;
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    sess_free(s);
    stop_ca();
}
END_TEST

START_TEST(test_poll)
{
    start_ca(NULL);
    struct sess *s = open_sess(NULL);
    struct sess_resp r;
    cJSON *obj = NULL;

    register_account(s);
    /* The account is "valid": no waiting. */
    ck_assert_int_eq(sess_poll(s, sess_kid(s), "account", false, 5, &obj), MC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(obj, "status")->valuestring, "valid");
    cJSON_Delete(obj);
    obj = NULL;
    /* A fresh order stays "pending" (nobody answers its challenges): time runs out. */
    ck_assert_int_eq(raw_new_order(s, "poll.example.com", &r), MC_OK);
    ck_assert_int_eq(sess_poll(s, r.location, "order", false, 1, &obj), MC_ERR_TIMEOUT);
    ck_assert_ptr_null(obj);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "pending"));
    sess_resp_free(&r);
    sess_free(s);
    stop_ca();
}
END_TEST

/* ---- a hostile server ---------------------------------------------------------------------- */

struct hostile {
    struct http_server *srv;
    char base[64];
    int busy_hits; /* answers of /busy so far */
    int nonce_ctr;
};
static struct hostile g_h;

static void put_nonce(struct hostile *h, struct http_response *resp)
{
    char n[32];
    snprintf(n, sizeof n, "nonce%d", __atomic_add_fetch(&h->nonce_ctr, 1, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(http_response_header(resp, "Replay-Nonce", n), MC_OK);
}

static void send_json(struct http_response *resp, int status, const char *ct, const char *body)
{
    ck_assert_int_eq(http_response_body(resp, status, ct, body, strlen(body)), MC_OK);
}

static void h_dir(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct hostile *h = ctx;
    cJSON *d = cJSON_CreateObject();
    char u[128];
    (void)req;
    snprintf(u, sizeof u, "%s/nonce", h->base);
    cJSON_AddStringToObject(d, "newNonce", u);
    snprintf(u, sizeof u, "%s/acct", h->base);
    cJSON_AddStringToObject(d, "newAccount", u);
    snprintf(u, sizeof u, "%s/order", h->base);
    cJSON_AddStringToObject(d, "newOrder", u);
    ck_assert_int_eq(http_response_json(resp, 200, d), MC_OK);
    cJSON_Delete(d);
}

static void h_dir_no_nonce(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    send_json(resp, 200, "application/json",
              "{\"newAccount\":\"http://127.0.0.1:1/a\",\"newOrder\":\"http://127.0.0.1:1/o\"}");
}

static void h_dir_bad_url(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    send_json(resp, 200, "application/json",
              "{\"newNonce\":\"http://127.0.0.1:1/n\",\"newAccount\":\"file:///etc/passwd\","
              "\"newOrder\":\"http://127.0.0.1:1/o\"}");
}

static void h_dir_array(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    send_json(resp, 200, "application/json", "[1,2,3]");
}

static void h_nonce(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    resp->status = 200;
}

static void h_big(void *ctx, const struct http_request *req, struct http_response *resp)
{
    size_t n = SESS_MAX_BODY + 4096;
    char *b = malloc(n);
    (void)ctx;
    (void)req;
    ck_assert_ptr_nonnull(b);
    b[0] = '"';
    memset(b + 1, 'A', n - 2);
    b[n - 1] = '"';
    ck_assert_int_eq(http_response_body(resp, 200, "application/json", b, n), MC_OK);
    free(b);
}

static void h_badjson(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    send_json(resp, 200, "application/json; charset=utf-8", "{\"status\": \"valid\",");
}

static void h_badloc(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    ck_assert_int_eq(http_response_header(resp, "Location", "not a url"), MC_OK);
    send_json(resp, 201, "application/json", "{\"status\":\"valid\"}");
}

static void h_badlink(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    ck_assert_int_eq(http_response_header(resp, "Link", "<javascript:alert(1)>;rel=\"next\""),
                     MC_OK);
    send_json(resp, 200, "application/json", "{}");
}

static void h_links(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct hostile *h = ctx;
    char v[256];
    (void)req;
    snprintf(v, sizeof v, "<%s/next>;rel=\"next\", <%s/alt1>; rel=alternate", h->base, h->base);
    ck_assert_int_eq(http_response_header(resp, "Link", v), MC_OK);
    snprintf(v, sizeof v, "<%s/alt2>;rel=\"alternate\"", h->base);
    ck_assert_int_eq(http_response_header(resp, "Link", v), MC_OK);
    send_json(resp, 200, "text/plain", "not json, and that is fine");
}

/* URI-references relative to the request URL (RFC 9110 section 10.2.2, RFC 8288 section
 * 3.2): a path-absolute Location and a dot-segment Link, as a server behind a path-
 * rewriting proxy sends them. */
static void h_relative(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    ck_assert_int_eq(http_response_header(resp, "Location", "/acct/1"), MC_OK);
    ck_assert_int_eq(
        http_response_header(resp, "Link", "<../cert/alt/1>;rel=\"alternate\", <up>;rel=up"),
        MC_OK);
    send_json(resp, 201, "application/json", "{\"status\":\"valid\"}");
}

/* A scheme that is not http(s) stays refused, relative or not. */
static void h_loc_js(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    ck_assert_int_eq(http_response_header(resp, "Location", "javascript:alert(1)"), MC_OK);
    send_json(resp, 201, "application/json", "{}");
}

/* A network-path reference carrying a control character (a raw LF cannot cross HTTP/1.1,
 * it ends the header line; the resolver's own test in test_cli_wire.c has "//evil\n"). */
static void h_loc_ctl(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    ck_assert_int_eq(http_response_header(resp, "Location", "//evil\x01/x"), MC_OK);
    send_json(resp, 201, "application/json", "{}");
}

/* A relative Link whose resolution leaves the wire rules (a userinfo smuggled in by a
 * network-path reference). */
static void h_link_userinfo(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    ck_assert_int_eq(http_response_header(resp, "Link", "<//user@evil/x>;rel=\"up\""), MC_OK);
    send_json(resp, 200, "application/json", "{}");
}

/* 503 with Retry-After as an HTTP-date one second ahead, then 200. */
static void h_busy(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct hostile *h = ctx;
    (void)req;
    if (__atomic_fetch_add(&h->busy_hits, 1, __ATOMIC_SEQ_CST) == 0) {
        char date[64];
        struct tm tm;
        time_t t = time(NULL) + 1;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        ck_assert_int_eq(http_response_header(resp, "Retry-After", date), MC_OK);
        ck_assert_int_eq(http_response_problem(resp, 503, P_URN "serverInternal", "busy", NULL),
                         MC_OK);
        return;
    }
    send_json(resp, 200, "application/json", "{\"status\":\"valid\"}");
}

static void h_busy_forever(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    ck_assert_int_eq(http_response_header(resp, "Retry-After", "0"), MC_OK);
    resp->status = 503;
    resp->body = strdup("<html>busy</html>");
    resp->body_len = strlen(resp->body);
}

static void h_limited_date(void *ctx, const struct http_request *req, struct http_response *resp)
{
    char date[64];
    struct tm tm;
    time_t t = time(NULL) + 7200;
    (void)ctx;
    (void)req;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert_int_eq(http_response_header(resp, "Retry-After", date), MC_OK);
    ck_assert_int_eq(http_response_problem(resp, 429, P_URN "rateLimited", "slow down", NULL),
                     MC_OK);
}

static void h_subproblems(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    send_json(resp, 400, "application/problem+json",
              "{\"type\":\"" P_URN "rejectedIdentifier\",\"detail\":\"some names\\u001b[31m\","
              "\"status\":400,\"subproblems\":["
              "{\"type\":\"" P_URN "rejectedIdentifier\",\"detail\":\"no\","
              "\"identifier\":{\"type\":\"dns\",\"value\":\"bad.example\"}},"
              "{\"type\":\"" P_URN "caa\"},"
              "42]}");
}

static void h_nostatus(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    put_nonce(ctx, resp);
    send_json(resp, 200, "application/json", "{\"identifiers\":[]}");
}

static void h_drop(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->drop = true;
}

static const struct http_route hostile_routes[] = {
    {"GET", "/dir", h_dir},
    {"GET", "/dir-no-nonce", h_dir_no_nonce},
    {"GET", "/dir-bad-url", h_dir_bad_url},
    {"GET", "/dir-array", h_dir_array},
    {"HEAD", "/nonce", h_nonce},
    {"GET", "/big", h_big},
    {"GET", "/badjson", h_badjson},
    {"GET", "/badloc", h_badloc},
    {"POST", "/badloc", h_badloc},
    {"GET", "/badlink", h_badlink},
    {"GET", "/links", h_links},
    {"GET", "/busy", h_busy},
    {"GET", "/busy-forever", h_busy_forever},
    {"GET", "/limited-date", h_limited_date},
    {"POST", "/subproblems", h_subproblems},
    {"POST", "/nostatus", h_nostatus},
    {"GET", "/drop", h_drop},
    {"GET", "/a/b/relative", h_relative},
    {"POST", "/a/b/relative", h_relative},
    {"GET", "/loc-js", h_loc_js},
    {"GET", "/loc-ctl", h_loc_ctl},
    {"GET", "/link-userinfo", h_link_userinfo},
};

static void hostile_start(void)
{
    struct http_server_config c = {
        .routes = hostile_routes,
        .nroutes = sizeof hostile_routes / sizeof hostile_routes[0],
        .ctx = &g_h,
    };
    memset(&g_h, 0, sizeof g_h);
    ck_assert_int_eq(http_server_start(&c, &g_h.srv), MC_OK);
    snprintf(g_h.base, sizeof g_h.base, "http://127.0.0.1:%u", http_server_port(g_h.srv));
}

static void hostile_stop(void)
{
    http_server_stop(g_h.srv);
    g_h.srv = NULL;
}

static enum mc_err hostile_sess(const char *path, struct sess **out)
{
    struct sess_opts o;
    char url[128];

    sess_opts_init(&o);
    snprintf(url, sizeof url, "%s%s", g_h.base, path);
    o.directory_url = url;
    o.timeout_s = 10;
    o.backoff_base_ms = 10; /* 503s without Retry-After retry fast here */
    o.backoff_cap_ms = 50;
    o.seed = 5;
    return sess_new(&o, out);
}

static char *hurl(const char *path)
{
    static char u[128];
    snprintf(u, sizeof u, "%s%s", g_h.base, path);
    return u;
}

START_TEST(test_hostile_directories)
{
    struct sess *s = NULL;
    hostile_start();
    ck_assert_int_eq(hostile_sess("/dir-no-nonce", &s), MC_ERR_INVALID);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(hostile_sess("/dir-bad-url", &s), MC_ERR_INVALID);
    ck_assert_int_eq(hostile_sess("/dir-array", &s), MC_ERR_INVALID);
    ck_assert_int_eq(hostile_sess("/big", &s), MC_ERR_TOO_BIG);
    ck_assert_int_eq(hostile_sess("/badjson", &s), MC_ERR_INVALID);
    ck_assert_int_eq(hostile_sess("/nowhere", &s), MC_ERR_PROBLEM); /* 404 */
    ck_assert_int_eq(hostile_sess("/drop", &s), MC_ERR_IO);
    ck_assert_int_eq(hostile_sess("/dir", &s), MC_OK);
    ck_assert_ptr_null(sess_directory(s)->key_change); /* optional, absent */
    sess_free(s);
    hostile_stop();
}
END_TEST

START_TEST(test_hostile_responses)
{
    struct sess *s = NULL;
    struct sess_resp r;
    struct sess_stats st;
    EVP_PKEY *k = NULL;

    hostile_start();
    ck_assert_int_eq(hostile_sess("/dir", &s), MC_OK);

    /* Oversized body: refused while it arrives. */
    ck_assert_int_eq(sess_get(s, hurl("/big"), &r), MC_ERR_TOO_BIG);
    ck_assert_ptr_null(r.body);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "over"));
    /* Invalid JSON under a JSON content type. */
    ck_assert_int_eq(sess_get(s, hurl("/badjson"), &r), MC_ERR_INVALID);
    ck_assert_ptr_null(r.json);
    /* A Location that is not a URL, on GET and on a signed POST. */
    ck_assert_int_eq(sess_get(s, hurl("/badloc"), &r), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "Location"));
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    EVP_PKEY_free(k);
    ck_assert_int_eq(sess_post(s, hurl("/badloc"), NULL, SESS_SIGN_JWK, &r), MC_ERR_INVALID);
    /* Kid signing without a kid is the caller's state error, not a request. */
    ck_assert_int_eq(sess_post(s, hurl("/badloc"), NULL, SESS_SIGN_KID, &r), MC_ERR_STATE);
    /* A Link that is not a URL. */
    ck_assert_int_eq(sess_get(s, hurl("/badlink"), &r), MC_ERR_INVALID);
    /* Good Links, several in one header and across headers; non-JSON body kept. */
    ck_assert_int_eq(sess_get(s, hurl("/links"), &r), MC_OK);
    ck_assert_ptr_null(r.json);
    ck_assert_str_eq(r.body, "not json, and that is fine");
    ck_assert_ptr_nonnull(sess_resp_link(&r, "next", 0));
    ck_assert_ptr_nonnull(strstr(sess_resp_link(&r, "next", 0), "/next"));
    ck_assert_ptr_nonnull(strstr(sess_resp_link(&r, "alternate", 0), "/alt1"));
    ck_assert_ptr_nonnull(strstr(sess_resp_link(&r, "alternate", 1), "/alt2"));
    ck_assert_ptr_null(sess_resp_link(&r, "alternate", 2));
    ck_assert_ptr_null(sess_resp_link(&r, "up", 0));
    sess_resp_free(&r);

    /* 503 with an HTTP-date Retry-After, then 200: waited out, once. */
    ck_assert_int_eq(sess_get(s, hurl("/busy"), &r), MC_OK);
    ck_assert_int_eq(r.status, 200);
    sess_resp_free(&r);
    sess_stats(s, &st);
    ck_assert_uint_eq(st.busy_waits, 1);

    /* 503 for ever (and not a problem document): bounded, then the problem. */
    ck_assert_int_eq(sess_get(s, hurl("/busy-forever"), &r), MC_ERR_PROBLEM);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(sess_last_problem(s)->type, "about:blank");
    ck_assert_int_eq(sess_last_problem(s)->status, 503);
    sess_resp_free(&r);
    sess_stats(s, &st);
    ck_assert_uint_eq(st.busy_waits, 1 + 3); /* busy_retries default 3 */

    /* 429 whose HTTP-date is two hours away: reported at once with the wait kept. */
    ck_assert_int_eq(sess_get(s, hurl("/limited-date"), &r), MC_ERR_PROBLEM);
    ck_assert_str_eq(sess_last_problem(s)->type, P_URN "rateLimited");
    ck_assert_int_gt(sess_last_problem(s)->retry_after_s, 7000);
    ck_assert_int_le(sess_last_problem(s)->retry_after_s, 7201);
    sess_resp_free(&r);
    sess_stats(s, &st);
    ck_assert_uint_eq(st.busy_waits, 4);

    /* A problem with subproblems (RFC 8555 section 6.7.1), one of them not an object. */
    ck_assert_int_eq(sess_post(s, hurl("/subproblems"), NULL, SESS_SIGN_JWK, &r), MC_ERR_PROBLEM);
    const struct sess_problem *p = sess_last_problem(s);
    ck_assert_str_eq(p->type, P_URN "rejectedIdentifier");
    ck_assert_uint_eq(p->n_sub, 2);
    ck_assert_str_eq(p->sub[0].type, P_URN "rejectedIdentifier");
    ck_assert_str_eq(p->sub[0].ident_type, "dns");
    ck_assert_str_eq(p->sub[0].ident_value, "bad.example");
    ck_assert_str_eq(p->sub[1].type, P_URN "caa");
    ck_assert_ptr_null(p->sub[1].ident_value);
    /* The one-line message carries no terminal escape from the server. */
    ck_assert_ptr_null(strchr(sess_last_error(s), '\x1b'));
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "bad.example"));
    sess_resp_free(&r);

    /* An object without a status cannot be polled. */
    ck_assert_int_eq(sess_set_account(s, sess_account_key(s), hurl("/acct/1")), MC_OK);
    cJSON *obj = NULL;
    ck_assert_int_eq(sess_poll(s, hurl("/nostatus"), "order", false, 2, &obj), MC_ERR_INVALID);
    ck_assert_ptr_null(obj);

    /* A dropped connection is a transport error with a message. */
    ck_assert_int_eq(sess_get(s, hurl("/drop"), &r), MC_ERR_IO);
    ck_assert_str_ne(sess_last_error(s), "no error");
    /* Requests to non-URLs never leave the process. */
    ck_assert_int_eq(sess_get(s, "file:///etc/passwd", &r), MC_ERR_INVALID);

    /* Every signed POST took its nonce from the pool, filled by earlier responses (the
     * GET of /badloc carried one): no HEAD newNonce at all. */
    sess_stats(s, &st);
    ck_assert_uint_eq(st.nonce_fetches, 0);
    sess_free(s);
    hostile_stop();
}
END_TEST

/* Relative Location and Link URLs come back absolute, resolved against the URL the
 * request went to; what resolves to something that is not an http(s) URL is refused. */
START_TEST(test_hostile_relative_urls)
{
    struct sess *s = NULL;
    struct sess_resp r;
    EVP_PKEY *k = NULL;
    char want[256];

    hostile_start();
    ck_assert_int_eq(hostile_sess("/dir", &s), MC_OK);

    ck_assert_int_eq(sess_get(s, hurl("/a/b/relative"), &r), MC_OK);
    ck_assert_int_eq(r.status, 201);
    snprintf(want, sizeof want, "%s/acct/1", g_h.base);
    ck_assert_str_eq(r.location, want);
    snprintf(want, sizeof want, "%s/a/cert/alt/1", g_h.base);
    ck_assert_str_eq(sess_resp_link(&r, "alternate", 0), want);
    snprintf(want, sizeof want, "%s/a/b/up", g_h.base);
    ck_assert_str_eq(sess_resp_link(&r, "up", 0), want);
    sess_resp_free(&r);

    /* The same through the signed chokepoint, where a Location becomes an account kid. */
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    EVP_PKEY_free(k);
    ck_assert_int_eq(sess_post(s, hurl("/a/b/relative"), NULL, SESS_SIGN_JWK, &r), MC_OK);
    snprintf(want, sizeof want, "%s/acct/1", g_h.base);
    ck_assert_str_eq(r.location, want);
    ck_assert_int_eq(sess_set_account(s, sess_account_key(s), r.location), MC_OK);
    sess_resp_free(&r);

    /* Still refused: another scheme, a control character, a userinfo. */
    ck_assert_int_eq(sess_get(s, hurl("/loc-js"), &r), MC_ERR_INVALID);
    ck_assert_ptr_null(r.location);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "Location"));
    ck_assert_int_eq(sess_get(s, hurl("/loc-ctl"), &r), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "Location"));
    ck_assert_int_eq(sess_get(s, hurl("/link-userinfo"), &r), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "Link"));
    sess_free(s);
    hostile_stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("certcli_session");
    TCase *tc = tcase_create("mockca");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_directory_parsed);
    tcase_add_test(tc, test_nonce_pool_and_keepalive);
    tcase_add_test(tc, test_bad_nonce_retried);
    tcase_add_test(tc, test_rate_limited_surfaces);
    tcase_add_test(tc, test_tls_trust);
    tcase_add_test(tc, test_poll);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("hostile");
    tcase_set_timeout(th, 60);
    tcase_add_test(th, test_hostile_directories);
    tcase_add_test(th, test_hostile_responses);
    tcase_add_test(th, test_hostile_relative_urls);
    suite_add_tcase(s, th);
    return tu_run(s);
}
