/* test_certcli_solvers.c: every certcli challenge solver proven by the code that judges it
 * in mockca: va_http01, va_tlsalpn01, va_dns01 and va_dns_account01 (mockca/va.h) run
 * against the solver's listener or against an in-process dnsmock that the solver fed
 * through its management API, RFC 2136 UPDATE or a hook program. What a user checks: the
 * CA says valid after present, and not valid after cleanup. */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <curl/curl.h>

#include "client/propagate.h"
#include "client/solver.h"
#include "common/clock.h"
#include "common/log.h"
#include "dnsmock/dnsmock.h"
#include "mockca/va.h"
#include "testutil.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define TOKEN2 "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
/* A JWK thumbprint is 43 base64url characters; the VA compares strings, so any will do. */
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH2 TOKEN2 ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define ACCOUNT_URL "https://127.0.0.1:14000/my-account/7"

static struct dnsmock *d;
static struct va_config vcfg;

static void setup(void)
{
    d = tu_dnsmock_start();
    memset(&vcfg, 0, sizeof vcfg);
    vcfg.dns_server = dnsmock_addr(d);
    vcfg.timeout_ms = 3000;
}

static void teardown(void)
{
    dnsmock_stop(d);
    d = NULL;
}

static struct ident ident_of(enum ident_type t, const char *v)
{
    struct ident id = {t, (char *)v};
    return id;
}

static struct chall_ctx ctx_of(enum ch_type t, const struct ident *id, const char *token,
                               const char *ka)
{
    struct chall_ctx c;
    memset(&c, 0, sizeof c);
    c.type = t;
    c.ident = id;
    c.token = token;
    c.key_auth = ka;
    c.account_url = ACCOUNT_URL;
    return c;
}

static struct solver *new_solver(const struct solver_config *cfg)
{
    struct solver *sv = NULL;
    enum mc_err err = solver_new(cfg, &sv);
    ck_assert_msg(err == MC_OK, "solver_new: %s", mc_strerror(err));
    return sv;
}

static void assert_valid(const struct va_result *r, const char *what)
{
    ck_assert_msg(r->valid, "%s: not valid: %s", what, r->error.detail);
}

/* ---- http-01 standalone ------------------------------------------------------------- */

START_TEST(http_standalone_valid_then_cleaned)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_HTTP01, &id, TOKEN, KEYAUTH);
    struct va_result r;
    struct solver *sv = new_solver(&cfg);

    ck_assert(solver_handles(sv, CH_HTTP01));
    ck_assert(!solver_handles(sv, CH_DNS01));
    ck_assert_uint_ne(solver_port(sv), 0);
    vcfg.http_port = solver_port(sv);

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    ck_assert_int_eq(solver_wait_ready(sv, &c), MC_OK);
    va_http01(&vcfg, &id, TOKEN, KEYAUTH, &r);
    assert_valid(&r, "http-01 after present");
    ck_assert_str_eq(r.address, "127.0.0.1");

    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    va_http01(&vcfg, &id, TOKEN, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "http-01 still valid after cleanup");
    /* A second cleanup of the same challenge is harmless. */
    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    solver_free(sv);
}
END_TEST

START_TEST(http_standalone_body_and_404)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct ident id = ident_of(IDENT_IP, "127.0.0.1");
    struct chall_ctx c = ctx_of(CH_HTTP01, &id, TOKEN, KEYAUTH);
    struct tu_http h;
    char url[256];
    char *ct;
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/acme-challenge/%s",
             (unsigned)solver_port(sv), TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, KEYAUTH);
    ct = tu_http_header(&h, "Content-Type");
    ck_assert_ptr_nonnull(ct);
    ck_assert_msg(strncmp(ct, "text/plain", 10) == 0, "Content-Type %s", ct);
    free(ct);
    tu_http_free(&h);

    /* Unknown token, malformed token, other path: 404. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/acme-challenge/%s",
             (unsigned)solver_port(sv), TOKEN2);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/acme-challenge/a%%20b",
             (unsigned)solver_port(sv));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/index.html", (unsigned)solver_port(sv));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);

    /* Cleanup removes it. */
    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/acme-challenge/%s",
             (unsigned)solver_port(sv), TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);
    solver_free(sv);
}
END_TEST

/* Hostile tokens never reach the table (or, for webroot, a file name). */
START_TEST(http_standalone_refuses_bad_input)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct ident star = ident_of(IDENT_DNS, "*.example.test");
    struct chall_ctx c = ctx_of(CH_HTTP01, &id, "../etc/passwd", KEYAUTH);
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_INVALID);
    c.token = TOKEN;
    c.key_auth = "x y";
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_INVALID);
    c.key_auth = KEYAUTH;
    c.type = CH_DNS01;
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_UNSUPPORTED);
    c.type = CH_HTTP01;
    c.ident = &star;
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_INVALID);
    solver_free(sv);
}
END_TEST

/* The port is busy: solver_new says so instead of serving nothing. */
START_TEST(http_standalone_port_busy)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct solver *sv = new_solver(&cfg), *sv2 = NULL;
    cfg.port = solver_port(sv);
    ck_assert_int_eq(solver_new(&cfg, &sv2), MC_ERR_IO);
    ck_assert_ptr_null(sv2);
    solver_free(sv);
}
END_TEST

/* certcli bench shares one solver among its workers: many tokens presented and fetched
 * from several threads at once. */
struct http_worker {
    struct solver *sv;
    int idx;
    int ok;
};

static void *http_worker_run(void *arg)
{
    struct http_worker *w = arg;
    char token[64], ka[128], url[256];
    struct ident id = ident_of(IDENT_IP, "127.0.0.1");
    for (int i = 0; i < 20; i++) {
        struct chall_ctx c;
        struct tu_http h;
        snprintf(token, sizeof token, "tok-%d-%d", w->idx, i);
        snprintf(ka, sizeof ka, "%s.thumb", token);
        c = ctx_of(CH_HTTP01, &id, token, ka);
        if (solver_present(w->sv, &c) != MC_OK)
            continue;
        snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/acme-challenge/%s",
                 (unsigned)solver_port(w->sv), token);
        if (tu_http("GET", url, NULL, NULL, NULL, &h) == 0 && h.status == 200 &&
            strcmp(h.body, ka) == 0)
            w->ok++;
        tu_http_free(&h);
        if (solver_cleanup(w->sv, &c) != MC_OK)
            w->ok--;
    }
    return NULL;
}

START_TEST(http_standalone_concurrent)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct solver *sv = new_solver(&cfg);
    pthread_t th[8];
    struct http_worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct http_worker){sv, i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, http_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].ok, 20);
    }
    solver_free(sv);
}
END_TEST

/* ---- http-01 webroot ---------------------------------------------------------------- */

START_TEST(http_webroot_file)
{
    char *root = tu_tmpdir();
    struct solver_config cfg = {.kind = SOLVER_HTTP_WEBROOT, .webroot = root};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_HTTP01, &id, TOKEN, KEYAUTH);
    char path[1200], dir[1024], buf[256];
    struct stat st;
    FILE *f;
    size_t n;
    struct solver *sv = new_solver(&cfg);
    mode_t old = umask(077); /* the modes must not depend on the user's umask */

    ck_assert(solver_handles(sv, CH_HTTP01));
    ck_assert_uint_eq(solver_port(sv), 0);
    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    umask(old);
    snprintf(dir, sizeof dir, "%s/.well-known/acme-challenge", root);
    snprintf(path, sizeof path, "%s/%s", dir, TOKEN);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0755);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, KEYAUTH);

    /* A bad token never becomes a path. */
    c.token = "../../x";
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_INVALID);
    c.token = TOKEN;

    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_eq(errno, ENOENT);

    /* What is left at the end is removed by solver_free, with the directories it made. */
    c.token = TOKEN2;
    c.key_auth = KEYAUTH2;
    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    solver_free(sv);
    snprintf(path, sizeof path, "%s/%s", dir, TOKEN2);
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_ne(stat(dir, &st), 0);
    ck_assert_int_eq(rmdir(root), 0);
    free(root);
}
END_TEST

START_TEST(http_webroot_missing_root)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_WEBROOT,
                                .webroot = "/nonexistent/certcli-webroot"};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_HTTP01, &id, TOKEN, KEYAUTH);
    struct solver *sv = new_solver(&cfg);
    ck_assert_int_ne(solver_present(sv, &c), MC_OK);
    solver_free(sv);
}
END_TEST

/* ---- tls-alpn-01 -------------------------------------------------------------------- */

static void alpn_case(const char *listen, enum ident_type t, const char *name)
{
    struct solver_config cfg = {.kind = SOLVER_ALPN_STANDALONE, .address = listen};
    struct ident id = ident_of(t, name);
    struct chall_ctx c = ctx_of(CH_TLSALPN01, &id, TOKEN, KEYAUTH);
    struct va_result r;
    struct solver *sv = new_solver(&cfg);

    ck_assert(solver_handles(sv, CH_TLSALPN01));
    ck_assert(!solver_handles(sv, CH_HTTP01));
    vcfg.tls_port = solver_port(sv);
    ck_assert_uint_ne(vcfg.tls_port, 0);

    /* Nothing presented: the handshake is refused. */
    va_tlsalpn01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "tls-alpn-01 valid before present");

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    ck_assert_int_eq(solver_wait_ready(sv, &c), MC_OK);
    va_tlsalpn01(&vcfg, &id, KEYAUTH, &r);
    assert_valid(&r, name);
    /* The wrong key authorization is caught by the CA: the certificate carries the hash. */
    va_tlsalpn01(&vcfg, &id, KEYAUTH2, &r);
    ck_assert_msg(!r.valid, "tls-alpn-01 valid for another key authorization");

    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    va_tlsalpn01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "tls-alpn-01 still valid after cleanup");
    solver_free(sv);
}

START_TEST(alpn_dns_name)
{
    alpn_case("127.0.0.1", IDENT_DNS, "alpn.example.test");
}
END_TEST

START_TEST(alpn_ip)
{
    alpn_case("127.0.0.1", IDENT_IP, "127.0.0.1");
}
END_TEST

/* IPv6: the SNI is the nibble name under ip6.arpa (RFC 8738 section 6). */
START_TEST(alpn_ipv6)
{
    alpn_case("::1", IDENT_IP, "::1");
}
END_TEST

/* A client that does not offer acme-tls/1 gets no certificate at all. */
START_TEST(alpn_other_protocol_refused)
{
    struct solver_config cfg = {.kind = SOLVER_ALPN_STANDALONE, .address = "127.0.0.1"};
    struct ident id = ident_of(IDENT_DNS, "alpn.example.test");
    struct chall_ctx c = ctx_of(CH_TLSALPN01, &id, TOKEN, KEYAUTH);
    static const unsigned char h2[] = "\x02h2";
    struct sockaddr_in sa;
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(ctx);
    ssl = SSL_new(ctx);
    ck_assert_ptr_nonnull(ssl);
    ck_assert_int_eq(SSL_set_alpn_protos(ssl, h2, sizeof h2 - 1), 0);
    ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, "alpn.example.test"), 1);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(solver_port(sv));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    SSL_set_fd(ssl, fd);
    ck_assert_int_ne(SSL_connect(ssl), 1);
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    solver_free(sv);
}
END_TEST

/* ---- dns-01 ---------------------------------------------------------------------------- */

#define TSIG_NAME "certcli-key."
#define TSIG_SECRET                                                                                \
    "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==" /* "secret-secret-secret-secret!"                   \
                                                */
#define TSIG_WRONG "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmch"

static void dns_adjust(struct dnsmock_config *cfg, void *arg)
{
    static const struct dnsmock_tsig_key keys[] = {{TSIG_NAME, "hmac-sha256", TSIG_SECRET}};
    (void)arg;
    cfg->tsig_keys = keys;
    cfg->ntsig_keys = 1;
    /* Only 127.0.0.1 is served: an AAAA default of ::1 would name an authoritative
     * server that is not there, and the propagation check asks every one. */
    cfg->default_ipv6 = "";
}

static void post(const char *path, const char *json)
{
    long st = tu_post_json(dnsmock_mgmt_url(d), path, json, NULL);
    ck_assert_msg(st == 200, "POST %s %.200s: %ld", path, json, st);
}

static void setup_dns(void)
{
    d = tu_dnsmock_start_with(dns_adjust, NULL);
    memset(&vcfg, 0, sizeof vcfg);
    vcfg.dns_server = dnsmock_addr(d);
    vcfg.timeout_ms = 3000;
    /* A zone with an authoritative server on loopback, as a real one would be set up. */
    post("/add-zone", "{\"zone\":\"example.test\",\"ns\":\"ns1.example.test\"}");
    post("/add-a", "{\"host\":\"ns1.example.test\",\"addresses\":[\"127.0.0.1\"]}");
}

/* Present: the CA's dns-01 check passes; cleanup: it fails again. */
static void dns01_roundtrip(const struct solver_config *cfg, const char *name)
{
    struct ident id = ident_of(IDENT_DNS, name);
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct va_result r;
    struct solver *sv = new_solver(cfg);

    ck_assert(solver_handles(sv, CH_DNS01));
    ck_assert(solver_handles(sv, CH_DNSACCOUNT01));
    ck_assert(!solver_handles(sv, CH_HTTP01));
    ck_assert_uint_eq(solver_port(sv), 0);
    va_dns01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "dns-01 valid before present");
    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    ck_assert_int_eq(solver_wait_ready(sv, &c), MC_OK);
    va_dns01(&vcfg, &id, KEYAUTH, &r);
    assert_valid(&r, "dns-01 after present");
    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    va_dns01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "dns-01 still valid after cleanup");
    solver_free(sv);
}

START_TEST(dns_mgmt)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(d)};
    dns01_roundtrip(&cfg, "www.example.test");
}
END_TEST

/* A wildcard and its base name share _acme-challenge.<name>: cleaning one up must leave
 * the other's value in place (the management API can only clear a whole name). */
START_TEST(dns_mgmt_wildcard_and_base)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(d)};
    struct ident star = ident_of(IDENT_DNS, "*.example.test");
    struct ident base = ident_of(IDENT_DNS, "example.test");
    struct chall_ctx c1 = ctx_of(CH_DNS01, &star, TOKEN, KEYAUTH);
    struct chall_ctx c2 = ctx_of(CH_DNS01, &base, TOKEN2, KEYAUTH2);
    struct va_result r;
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c1), MC_OK);
    ck_assert_int_eq(solver_present(sv, &c2), MC_OK);
    va_dns01(&vcfg, &star, KEYAUTH, &r);
    assert_valid(&r, "wildcard");
    va_dns01(&vcfg, &base, KEYAUTH2, &r);
    assert_valid(&r, "base");
    ck_assert_int_eq(solver_cleanup(sv, &c1), MC_OK);
    va_dns01(&vcfg, &star, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "wildcard value still there");
    va_dns01(&vcfg, &base, KEYAUTH2, &r);
    assert_valid(&r, "base after the wildcard's cleanup");
    /* solver_free takes away what is left. */
    solver_free(sv);
    va_dns01(&vcfg, &base, KEYAUTH2, &r);
    ck_assert_msg(!r.valid, "base value left behind by solver_free");
}
END_TEST

/* dns-account-01: the record name carries the account label the CA computes. */
START_TEST(dns_account01_mgmt)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(d)};
    struct ident id = ident_of(IDENT_DNS, "acct.example.test");
    struct chall_ctx c = ctx_of(CH_DNSACCOUNT01, &id, TOKEN, KEYAUTH);
    struct va_result r;
    char *fqdn = NULL, *value = NULL;
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &value), MC_OK);
    ck_assert_uint_eq(strlen(fqdn), strlen("_0123456789abcdef._acme-challenge.acct.example.test."));
    ck_assert_msg(strstr(fqdn, "._acme-challenge.acct.example.test.") == fqdn + 17, "%s", fqdn);
    free(fqdn);
    free(value);

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    va_dns_account01(&vcfg, &id, ACCOUNT_URL, KEYAUTH, &r);
    assert_valid(&r, "dns-account-01");
    /* Another account's label is another name: not valid for it. */
    va_dns_account01(&vcfg, &id, ACCOUNT_URL "0", KEYAUTH, &r);
    ck_assert_msg(!r.valid, "dns-account-01 valid for another account");
    /* Plain dns-01 does not see it either. */
    va_dns01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "dns-account-01 record answered dns-01");
    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    va_dns_account01(&vcfg, &id, ACCOUNT_URL, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "dns-account-01 still valid after cleanup");
    solver_free(sv);
}
END_TEST

START_TEST(dns_mgmt_unreachable)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = "http://127.0.0.1:1"};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct solver *sv = new_solver(&cfg);
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_IO);
    solver_free(sv);
}
END_TEST

START_TEST(dns_rfc2136_tsig)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_RFC2136,
                                .server = dnsmock_addr(d),
                                .tsig_name = "certcli-key",
                                .tsig_alg = "hmac-sha256",
                                .tsig_secret = TSIG_SECRET};
    /* The zone found through SOA ... */
    dns01_roundtrip(&cfg, "www.example.test");
    /* ... and given. */
    cfg.zone = "example.test";
    dns01_roundtrip(&cfg, "deep.www.example.test");
}
END_TEST

/* Deleting one exact RR leaves another value at the same name alone. */
START_TEST(dns_rfc2136_exact_delete)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_RFC2136,
                                .server = dnsmock_addr(d),
                                .tsig_name = TSIG_NAME,
                                .tsig_secret = TSIG_SECRET};
    struct ident star = ident_of(IDENT_DNS, "*.example.test");
    struct ident base = ident_of(IDENT_DNS, "example.test");
    struct chall_ctx c1 = ctx_of(CH_DNS01, &star, TOKEN, KEYAUTH);
    struct chall_ctx c2 = ctx_of(CH_DNS01, &base, TOKEN2, KEYAUTH2);
    struct va_result r;
    struct solver *sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c1), MC_OK);
    ck_assert_int_eq(solver_present(sv, &c2), MC_OK);
    ck_assert_int_eq(solver_cleanup(sv, &c1), MC_OK);
    va_dns01(&vcfg, &star, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "deleted value still there");
    va_dns01(&vcfg, &base, KEYAUTH2, &r);
    assert_valid(&r, "the other value");
    ck_assert_int_eq(solver_cleanup(sv, &c2), MC_OK);
    solver_free(sv);
}
END_TEST

/* A wrong secret: the server says NOTAUTH, the solver says MC_ERR_VERIFY at once, and
 * nothing was added. */
START_TEST(dns_rfc2136_wrong_secret)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_RFC2136,
                                .server = dnsmock_addr(d),
                                .zone = "example.test",
                                .tsig_name = TSIG_NAME,
                                .tsig_secret = TSIG_WRONG};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct va_result r;
    struct solver *sv = new_solver(&cfg);
    int64_t t0 = clock_now_ms(NULL);

    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_VERIFY);
    ck_assert_msg(clock_now_ms(NULL) - t0 < 4000, "refusal took as long as a timeout");
    va_dns01(&vcfg, &id, KEYAUTH, &r);
    ck_assert_msg(!r.valid, "an update with a wrong TSIG took effect");
    solver_free(sv);

    /* Unsigned while the server wants TSIG: refused too (an error, not a hang). */
    cfg.tsig_name = NULL;
    cfg.tsig_secret = NULL;
    sv = new_solver(&cfg);
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_PROBLEM);
    solver_free(sv);

    /* Half a key is a config error. */
    cfg.tsig_name = TSIG_NAME;
    ck_assert_int_eq(solver_new(&cfg, &sv), MC_ERR_INVALID);
}
END_TEST

/* ---- hooks ---------------------------------------------------------------------------- */

static char *write_hook(const char *dir, const char *name, const char *body)
{
    char *path = NULL;
    FILE *f;
    ck_assert_int_gt(asprintf(&path, "%s/%s", dir, name), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0700), 0);
    return path;
}

START_TEST(dns_hook_curl)
{
    char *dir = tu_tmpdir(), *hook = NULL, *body = NULL;
    /* The hook checks the documented interface and talks to the management API itself. */
    ck_assert_int_gt(
        asprintf(&body,
                 "[ \"$CERTCLI_ACTION\" = \"$1\" ] || exit 3\n"
                 "[ \"$CERTCLI_FQDN\" = \"$2\" ] || exit 4\n"
                 "[ \"$CERTCLI_TXT_VALUE\" = \"$3\" ] || exit 5\n"
                 "[ \"$CERTCLI_DOMAIN\" = www.example.test ] || exit 6\n"
                 "[ \"$CERTCLI_TOKEN\" = %s ] || exit 7\n"
                 "[ \"$CERTCLI_KEY_AUTH\" = %s ] || exit 8\n"
                 "[ \"$CERTCLI_CHALLENGE\" = dns-01 ] || exit 9\n"
                 "echo \"hook $1 $2\"\n"
                 "case \"$1\" in\n"
                 "present) curl -sf -X POST -d "
                 "\"{\\\"host\\\":\\\"$2\\\",\\\"value\\\":\\\"$3\\\"}\" %s/set-txt ;;\n"
                 "cleanup) curl -sf -X POST -d \"{\\\"host\\\":\\\"$2\\\"}\" %s/clear-txt ;;\n"
                 "*) exit 2 ;;\n"
                 "esac\n",
                 TOKEN, KEYAUTH, dnsmock_mgmt_url(d), dnsmock_mgmt_url(d)),
        0);
    hook = write_hook(dir, "hook.sh", body);
    {
        struct solver_config cfg = {.kind = SOLVER_DNS_HOOK, .hook = hook, .hook_timeout_s = 20};
        dns01_roundtrip(&cfg, "www.example.test");
    }
    unlink(hook);
    rmdir(dir);
    free(hook);
    free(body);
    free(dir);
}
END_TEST

START_TEST(dns_hook_fails)
{
    char *dir = tu_tmpdir();
    char *hook = write_hook(dir, "fail.sh", "echo 'no credentials' >&2\nexit 1\n");
    struct solver_config cfg = {.kind = SOLVER_DNS_HOOK, .hook = hook};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct solver *sv = new_solver(&cfg);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *mem = open_memstream(&logbuf, &loglen);

    ck_assert_ptr_nonnull(mem);
    log_set_stream(mem);
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_IO);
    log_set_stream(stderr);
    fclose(mem);
    /* What the hook said on stderr reaches the log, with the exit code. */
    ck_assert_msg(strstr(logbuf, "stream=stderr line=\"no credentials\"") != NULL, "%s", logbuf);
    ck_assert_msg(strstr(logbuf, "exit=1") != NULL, "%s", logbuf);
    free(logbuf);
    solver_free(sv);
    /* A program that does not exist is the same kind of failure. */
    cfg.hook = "/nonexistent/certcli-hook";
    sv = new_solver(&cfg);
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_IO);
    solver_free(sv);
    unlink(hook);
    rmdir(dir);
    free(hook);
    free(dir);
}
END_TEST

/* A hook that hangs is killed with everything it started (its process group). */
START_TEST(dns_hook_timeout)
{
    char *dir = tu_tmpdir(), *body = NULL, *hook, *pidfile = NULL;
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct solver *sv;
    FILE *f;
    int pid = 0, gone = 0;

    ck_assert_int_gt(asprintf(&pidfile, "%s/sleep.pid", dir), 0);
    ck_assert_int_gt(asprintf(&body, "sleep 30 &\necho $! > %s\nwait\n", pidfile), 0);
    hook = write_hook(dir, "hang.sh", body);
    {
        struct solver_config cfg = {.kind = SOLVER_DNS_HOOK, .hook = hook, .hook_timeout_s = 1};
        sv = new_solver(&cfg);
    }
    ck_assert_int_eq(solver_present(sv, &c), MC_ERR_TIMEOUT);
    f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    ck_assert_int_gt(pid, 1);
    /* The orphaned sleep is reaped by init shortly after the kill; wait a bounded time
     * (10 s: a loaded CI machine can be slow to schedule init). */
    for (int i = 0; i < 500 && !gone; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            gone = 1;
        } else {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    ck_assert_msg(gone, "the hook's child %d survived the timeout", pid);
    /* solver_free would run the hook's cleanup: a present that failed left nothing. */
    solver_free(sv);
    unlink(pidfile);
    unlink(hook);
    rmdir(dir);
    free(pidfile);
    free(hook);
    free(body);
    free(dir);
}
END_TEST

/* ---- propagation ---------------------------------------------------------------------- */

START_TEST(propagation_ready_and_timeout)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(d)};
    struct ident id = ident_of(IDENT_DNS, "www.example.test");
    struct chall_ctx c = ctx_of(CH_DNS01, &id, TOKEN, KEYAUTH);
    struct ident other = ident_of(IDENT_DNS, "other.example.test");
    struct chall_ctx c2 = ctx_of(CH_DNS01, &other, TOKEN2, KEYAUTH2);
    struct solver *sv;
    char *fqdn = NULL, *value = NULL;
    int64_t t0;

    cfg.prop.enabled = true;
    cfg.prop.resolver = dnsmock_addr(d);
    cfg.prop.auth_port = dnsmock_dns_port(d); /* not 53: the point of auth_port */
    cfg.prop.timeout_s = 1;
    cfg.prop.interval_ms = 100;
    sv = new_solver(&cfg);

    ck_assert_int_eq(solver_present(sv, &c), MC_OK);
    ck_assert_int_eq(solver_wait_ready(sv, &c), MC_OK);

    /* Never presented: a bounded wait, then MC_ERR_TIMEOUT. */
    t0 = clock_now_ms(NULL);
    ck_assert_int_eq(solver_wait_ready(sv, &c2), MC_ERR_TIMEOUT);
    ck_assert_msg(clock_now_ms(NULL) - t0 < 10000, "the 1 s bound was not kept");

    /* Present, but with another value: still not ready. */
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &value), MC_OK);
    ck_assert_int_eq(prop_wait(&cfg.prop, fqdn, "not-the-value"), MC_ERR_TIMEOUT);
    ck_assert_int_eq(prop_wait(&cfg.prop, fqdn, value), MC_OK);
    free(fqdn);
    free(value);
    ck_assert_int_eq(solver_cleanup(sv, &c), MC_OK);
    solver_free(sv);
}
END_TEST

/* An RRset too large for UDP: the answer comes back truncated (TC=1, no records) and
 * the check must ask again over TCP to see the value. */
START_TEST(propagation_tcp_fallback)
{
    struct propagation p = {.enabled = true, .timeout_s = 2, .interval_ms = 100};
    char json[256];
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *mem = open_memstream(&logbuf, &loglen);
    enum mc_err err;
    ck_assert_ptr_nonnull(mem);
    p.resolver = dnsmock_addr(d);
    p.auth_port = dnsmock_dns_port(d);
    for (int i = 0; i < 40; i++) {
        snprintf(json, sizeof json,
                 "{\"host\":\"_acme-challenge.big.example.test.\",\"value\":"
                 "\"filler-%02d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                 i);
        post("/set-txt", json);
    }
    post("/set-txt", "{\"host\":\"_acme-challenge.big.example.test.\",\"value\":\"the-value\"}");
    log_set_level(LOGL_DEBUG); /* to see the switch to TCP below */
    log_set_stream(mem);
    err = prop_wait(&p, "_acme-challenge.big.example.test.", "the-value");
    log_set_stream(stderr);
    log_set_level(LOGL_INFO);
    fclose(mem);
    ck_assert_int_eq(err, MC_OK);
    ck_assert_msg(strstr(logbuf, "event=solver.dns.tcp") != NULL, "no TCP retry: %s", logbuf);
    free(logbuf);
}
END_TEST

/* The zone's authoritative server does not answer: a timeout, not a hang. */
START_TEST(propagation_dead_server)
{
    struct propagation p = {.enabled = true, .timeout_s = 1, .interval_ms = 200};
    p.resolver = dnsmock_addr(d);
    p.auth_port = 9; /* discard: nothing answers DNS there */
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.www.example.test.", "x"), MC_ERR_TIMEOUT);
}
END_TEST

/* A second authoritative server on 127.0.0.2, same port as d's (auth_port is one port
 * for every server of a zone), with its own management API. */
static void second_adjust(struct dnsmock_config *cfg, void *arg)
{
    static char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.2:%u", (unsigned)*(uint16_t *)arg);
    cfg->dns_addr = addr;
    cfg->default_ipv6 = "";
}

static struct dnsmock *start_second(void)
{
    uint16_t port = dnsmock_dns_port(d);
    return tu_dnsmock_start_with(second_adjust, &port);
}

static void post_to(struct dnsmock *m, const char *path, const char *json)
{
    long st = tu_post_json(dnsmock_mgmt_url(m), path, json, NULL);
    ck_assert_msg(st == 200, "POST %s %.200s: %ld", path, json, st);
}

static struct propagation quick_prop(void)
{
    struct propagation p = {.enabled = true, .timeout_s = 1, .interval_ms = 100};
    p.resolver = dnsmock_addr(d);
    p.auth_port = dnsmock_dns_port(d);
    return p;
}

/* One nameserver, three addresses: 127.0.0.1 (d), 127.0.0.2 and ::1 where nothing
 * listens (dnsmock's compat mode hands out ::1 for every AAAA this way). A nameserver is
 * one server: the address that answers with the value makes it ready. */
START_TEST(propagation_ns_dead_address)
{
    struct propagation p = quick_prop();
    p.timeout_s = 3;
    post("/add-a", "{\"host\":\"ns1.example.test\",\"addresses\":[\"127.0.0.2\"]}");
    post("/add-aaaa", "{\"host\":\"ns1.example.test\",\"addresses\":[\"::1\"]}");
    post("/set-txt", "{\"host\":\"_acme-challenge.www.example.test.\",\"value\":\"v-1\"}");
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.www.example.test.", "v-1"), MC_OK);
    /* Without the value anywhere it is still a timeout, not a pass by default. */
    p.timeout_s = 1;
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.www.example.test.", "v-2"), MC_ERR_TIMEOUT);
}
END_TEST

/* Two addresses that both answer, one without the value (a secondary that has not
 * transferred yet): not ready until it has it too. */
START_TEST(propagation_stale_secondary)
{
    struct dnsmock *d2 = start_second();
    struct propagation p = quick_prop();
    post("/add-a", "{\"host\":\"ns1.example.test\",\"addresses\":[\"127.0.0.2\"]}");
    post_to(d2, "/add-zone", "{\"zone\":\"example.test\",\"ns\":\"ns1.example.test\"}");
    post("/set-txt", "{\"host\":\"_acme-challenge.www.example.test.\",\"value\":\"v-1\"}");
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.www.example.test.", "v-1"), MC_ERR_TIMEOUT);
    post_to(d2, "/set-txt", "{\"host\":\"_acme-challenge.www.example.test.\",\"value\":\"v-1\"}");
    p.timeout_s = 3;
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.www.example.test.", "v-1"), MC_OK);
    dnsmock_stop(d2);
}
END_TEST

/* dns-01 delegation: _acme-challenge.www.example.test CNAME _acme-challenge.delegated.test,
 * whose zone is served by 127.0.0.2 only. The check follows the CNAME and asks the target
 * zone's server: not ready while only the original zone's server could answer. */
START_TEST(propagation_cname_delegation)
{
    struct dnsmock *d2 = start_second();
    struct propagation p = quick_prop();
    const char *fqdn = "_acme-challenge.www.example.test.";

    post("/add-zone", "{\"zone\":\"delegated.test\",\"ns\":\"ns1.delegated.test\"}");
    post("/add-a", "{\"host\":\"ns1.delegated.test\",\"addresses\":[\"127.0.0.2\"]}");
    post("/set-cname", "{\"host\":\"_acme-challenge.www.example.test.\","
                       "\"target\":\"_acme-challenge.delegated.test.\"}");
    post_to(d2, "/add-zone", "{\"zone\":\"delegated.test\",\"ns\":\"ns1.delegated.test\"}");
    /* The value at d (the original zone's server, and the resolver) is not enough. */
    post("/set-txt", "{\"host\":\"_acme-challenge.delegated.test.\",\"value\":\"v-1\"}");
    ck_assert_int_eq(prop_wait(&p, fqdn, "v-1"), MC_ERR_TIMEOUT);
    post_to(d2, "/set-txt", "{\"host\":\"_acme-challenge.delegated.test.\",\"value\":\"v-1\"}");
    p.timeout_s = 3;
    ck_assert_int_eq(prop_wait(&p, fqdn, "v-1"), MC_OK);
    /* The target's name is what was checked: another value there is not ready. */
    p.timeout_s = 1;
    ck_assert_int_eq(prop_wait(&p, fqdn, "v-2"), MC_ERR_TIMEOUT);
    dnsmock_stop(d2);
}
END_TEST

/* A CNAME loop, and a chain longer than the hop bound: MC_ERR_INVALID at once (a loop
 * does not fix itself by waiting), never a hang. */
START_TEST(propagation_cname_loop)
{
    struct propagation p = quick_prop();
    char json[256];
    p.timeout_s = 30; /* the answer must not come from the deadline */
    post("/set-cname", "{\"host\":\"_acme-challenge.a.example.test.\","
                       "\"target\":\"b.example.test.\"}");
    post("/set-cname", "{\"host\":\"b.example.test.\","
                       "\"target\":\"_acme-challenge.a.example.test.\"}");
    ck_assert_int_eq(prop_wait(&p, "_acme-challenge.a.example.test.", "v"), MC_ERR_INVALID);
    for (int i = 0; i < 12; i++) {
        snprintf(json, sizeof json,
                 "{\"host\":\"c%d.example.test.\",\"target\":\"c%d.example.test.\"}", i, i + 1);
        post("/set-cname", json);
    }
    ck_assert_int_eq(prop_wait(&p, "c0.example.test.", "v"), MC_ERR_INVALID);
}
END_TEST

/* solver.h: port 0 means the kernel picks; 80 and 443 are
 * the command line's to pass, never a silent default of the library. */
START_TEST(standalone_port0_kernel_picks)
{
    /* Loopback only in tests; the address plays no part in the port rule. */
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct solver *sv = new_solver(&cfg);
    ck_assert_uint_ne(solver_port(sv), 0);
    ck_assert_uint_ne(solver_port(sv), 80);
    solver_free(sv);
    cfg.kind = SOLVER_ALPN_STANDALONE;
    sv = new_solver(&cfg);
    ck_assert_uint_ne(solver_port(sv), 0);
    ck_assert_uint_ne(solver_port(sv), 443);
    solver_free(sv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_solvers");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, http_standalone_valid_then_cleaned);
    tcase_add_test(tc, http_standalone_body_and_404);
    tcase_add_test(tc, http_standalone_refuses_bad_input);
    tcase_add_test(tc, http_standalone_port_busy);
    tcase_add_test(tc, http_standalone_concurrent);
    tcase_add_test(tc, http_webroot_file);
    tcase_add_test(tc, http_webroot_missing_root);
    tcase_add_test(tc, standalone_port0_kernel_picks);
    suite_add_tcase(s, tc);

    tc = tcase_create("alpn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, alpn_dns_name);
    tcase_add_test(tc, alpn_ip);
    tcase_add_test(tc, alpn_ipv6);
    tcase_add_test(tc, alpn_other_protocol_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("dns");
    tcase_add_checked_fixture(tc, setup_dns, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dns_mgmt);
    tcase_add_test(tc, dns_mgmt_wildcard_and_base);
    tcase_add_test(tc, dns_account01_mgmt);
    tcase_add_test(tc, dns_mgmt_unreachable);
    tcase_add_test(tc, dns_rfc2136_tsig);
    tcase_add_test(tc, dns_rfc2136_exact_delete);
    tcase_add_test(tc, dns_rfc2136_wrong_secret);
    tcase_add_test(tc, dns_hook_curl);
    tcase_add_test(tc, dns_hook_fails);
    tcase_add_test(tc, dns_hook_timeout);
    tcase_add_test(tc, propagation_ready_and_timeout);
    tcase_add_test(tc, propagation_tcp_fallback);
    tcase_add_test(tc, propagation_dead_server);
    tcase_add_test(tc, propagation_ns_dead_address);
    tcase_add_test(tc, propagation_stale_secondary);
    tcase_add_test(tc, propagation_cname_delegation);
    tcase_add_test(tc, propagation_cname_loop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
