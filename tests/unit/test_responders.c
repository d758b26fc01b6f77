/* test_responders.c: the chal_store, the http-01 responder (over curl) and the
 * tls-alpn-01 responder (over an OpenSSL client), on 127.0.0.1 port 0 with a hand-built
 * struct dnsmock. */
#include "dnsmock/responders.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/csr.h"
#include "common/log.h"
#include "common/x509.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"
#include "testutil.h"

#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static struct dnsmock *d;

static void setup(void)
{
    d = calloc(1, sizeof(*d));
    ck_assert_ptr_nonnull(d);
    d->chals = chal_store_new();
    d->history = history_new(100);
    ck_assert_ptr_nonnull(d->chals);
    ck_assert_ptr_nonnull(d->history);
    log_set_stream(NULL);
}

static void teardown(void)
{
    http_server_stop(d->http01);
    tlsalpn_responder_stop(d->tlsalpn);
    chal_store_free(d->chals);
    history_free(d->history);
    free(d);
    d = NULL;
}

/* ---- chal_store --------------------------------------------------------------------- */

START_TEST(store_validates_input)
{
    struct chal_store *cs = d->chals;

    ck_assert_int_eq(chal_add_http01(cs, TOKEN, KEYAUTH), MC_OK);
    ck_assert_int_eq(chal_add_http01(cs, "../etc/passwd", "x"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_http01(cs, "", "x"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_redirect(cs, "no-slash", "http://x/"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_redirect(cs, "/p", "ftp://x/"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_redirect(cs, "/p", "http://x/\r\nSet-Cookie: a=b"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_redirect(cs, "/p", "https://x/"), MC_OK);
    ck_assert_int_eq(chal_add_tlsalpn01(cs, "bad host", "x"), MC_ERR_INVALID);
    ck_assert_int_eq(chal_add_tlsalpn01(cs, "Example.COM.", "x"), MC_OK);
    ck_assert_int_eq(chal_del_http01(cs, TOKEN), MC_OK);
    ck_assert_int_eq(chal_del_http01(cs, TOKEN), MC_OK); /* idempotent, as challtestsrv */
    chal_store_clear(cs);
    chal_store_free(NULL);
}
END_TEST

START_TEST(store_is_bounded)
{
    char tok[32];
    enum mc_err err = MC_OK;

    for (int i = 0; i < CHAL_MAX_ENTRIES && err == MC_OK; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        err = chal_add_http01(d->chals, tok, "c");
    }
    ck_assert_int_eq(err, MC_OK);
    ck_assert_int_eq(chal_add_http01(d->chals, "one-more", "c"), MC_ERR_LIMIT);
    /* replacing an existing token is not growth */
    ck_assert_int_eq(chal_add_http01(d->chals, "t0", "new"), MC_OK);
}
END_TEST

/* ---- http-01 ------------------------------------------------------------------------ */

static char base[64];

static void start_http(void)
{
    ck_assert_int_eq(http01_responder_start(d, "127.0.0.1:0", &d->http01), MC_OK);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)http_server_port(d->http01));
}

START_TEST(http01_serves_token_and_404s_unknown)
{
    char url[256];
    struct tu_http r;
    const char *ua[] = {"User-Agent: test-validator/1", "Host: www.example.com", NULL};
    cJSON *hist;

    ck_assert_int_eq(chal_add_http01(d->chals, TOKEN, KEYAUTH), MC_OK);
    start_http();
    snprintf(url, sizeof(url), "%s/.well-known/acme-challenge/%s", base, TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, ua, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, KEYAUTH);
    {
        char *ct = tu_http_header(&r, "Content-Type");
        ck_assert_ptr_nonnull(ct);
        ck_assert(strncmp(ct, "text/plain", 10) == 0);
        free(ct);
    }
    tu_http_free(&r);

    snprintf(url, sizeof(url), "%s/.well-known/acme-challenge/unknown-token", base);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    tu_http_free(&r);

    /* deleted tokens are gone */
    ck_assert_int_eq(chal_del_http01(d->chals, TOKEN), MC_OK);
    snprintf(url, sizeof(url), "%s/.well-known/acme-challenge/%s", base, TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    tu_http_free(&r);

    /* the first request is in the history under its Host, with its user agent */
    hist = history_get(d->history, HISTORY_HTTP, "www.example.com");
    ck_assert_ptr_nonnull(hist);
    ck_assert_int_eq(cJSON_GetArraySize(hist), 1);
    {
        char *txt = cJSON_PrintUnformatted(hist);
        ck_assert_ptr_nonnull(strstr(txt, TOKEN));
        free(txt);
    }
    cJSON_Delete(hist);
}
END_TEST

START_TEST(http01_redirects)
{
    char url[256];
    struct tu_http r;
    char *loc;

    ck_assert_int_eq(chal_add_http01(d->chals, TOKEN, KEYAUTH), MC_OK);
    ck_assert_int_eq(chal_add_redirect(d->chals, "/.well-known/acme-challenge/" TOKEN,
                                       "https://elsewhere.example/target"),
                     MC_OK);
    ck_assert_int_eq(chal_add_redirect(d->chals, "/any/path", "http://other.example/x"), MC_OK);
    start_http();

    /* a redirect wins over the token, as in challtestsrv */
    snprintf(url, sizeof(url), "%s/.well-known/acme-challenge/%s", base, TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 302);
    loc = tu_http_header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_str_eq(loc, "https://elsewhere.example/target");
    free(loc);
    tu_http_free(&r);

    snprintf(url, sizeof(url), "%s/any/path", base);
    ck_assert_int_eq(tu_http("POST", url, "x", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 302);
    loc = tu_http_header(&r, "Location");
    ck_assert_str_eq(loc, "http://other.example/x");
    free(loc);
    tu_http_free(&r);

    /* deleting the redirect uncovers the token */
    ck_assert_int_eq(chal_del_redirect(d->chals, "/.well-known/acme-challenge/" TOKEN), MC_OK);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    tu_http_free(&r);
    snprintf(url, sizeof(url), "%s/.well-known/acme-challenge/%s", base, TOKEN);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, KEYAUTH);
    tu_http_free(&r);
}
END_TEST

/* ---- tls-alpn-01 -------------------------------------------------------------------- */

struct tls_result {
    bool ok;
    X509 *cert;
    char alpn[32];
};

/* One handshake with sni (NULL: none) and alpn in wire form (NULL: no ALPN). */
static void tls_dial(uint16_t port, const char *sni, const unsigned char *alpn, size_t alpn_len,
                     struct tls_result *out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 5};
    const unsigned char *sel = NULL;
    unsigned sel_len = 0;

    memset(out, 0, sizeof(*out));
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (sni != NULL)
        SSL_set_tlsext_host_name(ssl, sni);
    if (alpn != NULL)
        ck_assert_int_eq(SSL_set_alpn_protos(ssl, alpn, (unsigned)alpn_len), 0);
    if (SSL_connect(ssl) == 1) {
        out->ok = true;
        out->cert = SSL_get1_peer_certificate(ssl);
        SSL_get0_alpn_selected(ssl, &sel, &sel_len);
        if (sel_len < sizeof(out->alpn)) {
            memcpy(out->alpn, sel, sel_len);
            out->alpn[sel_len] = '\0';
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
}

static const unsigned char ALPN_ACME[] = "\x0a"
                                         "acme-tls/1";

static uint16_t start_tls(void)
{
    ck_assert_int_eq(tlsalpn_responder_start(d, "127.0.0.1:0", &d->tlsalpn), MC_OK);
    ck_assert_uint_gt(tlsalpn_responder_port(d->tlsalpn), 0);
    return tlsalpn_responder_port(d->tlsalpn);
}

static void check_cert(X509 *cert, enum ident_type type, const char *san, const char *keyauth)
{
    uint8_t got[32], want[32];
    unsigned wl = 0;
    struct ident_list sans = {0};

    ck_assert_ptr_nonnull(cert);
    ck_assert_int_eq(x509_acme_identifier(cert, got), MC_OK);
    ck_assert(EVP_Digest(keyauth, strlen(keyauth), want, &wl, EVP_sha256(), NULL) == 1);
    ck_assert_mem_eq(got, want, 32);
    ck_assert_int_eq(x509_sans(cert, &sans), MC_OK);
    ck_assert_uint_eq(sans.n, 1);
    ck_assert_int_eq(sans.v[0].type, type);
    ck_assert_str_eq(sans.v[0].value, san);
    ident_list_free(&sans);
}

START_TEST(tlsalpn_serves_rfc8737_cert)
{
    struct tls_result r;
    uint16_t port;
    cJSON *hist;

    ck_assert_int_eq(chal_add_tlsalpn01(d->chals, "www.example.com", KEYAUTH), MC_OK);
    port = start_tls();
    tls_dial(port, "www.example.com", ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert_msg(r.ok, "handshake with acme-tls/1 and a known SNI must succeed");
    ck_assert_str_eq(r.alpn, "acme-tls/1");
    check_cert(r.cert, IDENT_DNS, "www.example.com", KEYAUTH);
    X509_free(r.cert);

    hist = history_get(d->history, HISTORY_TLSALPN, "www.example.com");
    ck_assert_int_eq(cJSON_GetArraySize(hist), 1);
    cJSON_Delete(hist);
}
END_TEST

START_TEST(tlsalpn_refuses_without_alpn_or_unknown_sni)
{
    static const unsigned char two[] = "\x02h2\x0a"
                                       "acme-tls/1";
    struct tls_result r;
    uint16_t port;

    ck_assert_int_eq(chal_add_tlsalpn01(d->chals, "www.example.com", KEYAUTH), MC_OK);
    port = start_tls();
    tls_dial(port, "www.example.com", NULL, 0, &r);
    ck_assert_msg(!r.ok, "no ALPN: the handshake must fail");
    tls_dial(port, "www.example.com", two, sizeof(two) - 1, &r);
    ck_assert_msg(!r.ok, "ALPN with another protocol besides acme-tls/1 must fail");
    tls_dial(port, "unknown.example.com", ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert_msg(!r.ok, "unknown SNI must fail");
    tls_dial(port, NULL, ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert_msg(!r.ok, "no SNI must fail");
    /* and the responder still works after failed handshakes */
    tls_dial(port, "www.example.com", ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert(r.ok);
    X509_free(r.cert);
}
END_TEST

START_TEST(tlsalpn_ip_identifier_by_reverse_name)
{
    struct tls_result r;
    uint16_t port;

    ck_assert_int_eq(chal_add_tlsalpn01(d->chals, "192.0.2.7", KEYAUTH), MC_OK);
    ck_assert_int_eq(chal_add_tlsalpn01(d->chals, "2001:db8::1", KEYAUTH), MC_OK);
    port = start_tls();
    /* RFC 8738 section 6: the SNI is the reverse-mapping name, the SAN is the IP */
    tls_dial(port, "7.2.0.192.in-addr.arpa", ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert(r.ok);
    check_cert(r.cert, IDENT_IP, "192.0.2.7", KEYAUTH);
    X509_free(r.cert);
    tls_dial(port, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
             ALPN_ACME, sizeof(ALPN_ACME) - 1, &r);
    ck_assert(r.ok);
    check_cert(r.cert, IDENT_IP, "2001:db8::1", KEYAUTH);
    X509_free(r.cert);
}
END_TEST

START_TEST(tlsalpn_silent_client_does_not_block_stop)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    uint16_t port = start_tls();

    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    usleep(100 * 1000);                 /* let the accept thread pick it up */
    tlsalpn_responder_stop(d->tlsalpn); /* must return though the client never speaks */
    d->tlsalpn = NULL;
    close(fd);
}
END_TEST

static Suite *responders_suite(void)
{
    Suite *s = suite_create("responders");
    TCase *tc = tcase_create("responders");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, store_validates_input);
    tcase_add_test(tc, store_is_bounded);
    tcase_add_test(tc, http01_serves_token_and_404s_unknown);
    tcase_add_test(tc, http01_redirects);
    tcase_add_test(tc, tlsalpn_serves_rfc8737_cert);
    tcase_add_test(tc, tlsalpn_refuses_without_alpn_or_unknown_sni);
    tcase_add_test(tc, tlsalpn_ip_identifier_by_reverse_name);
    tcase_add_test(tc, tlsalpn_silent_client_does_not_block_stop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(responders_suite());
    int failed;

    /* SIGPIPE is left at its default on purpose: the responder writes close_notify to
     * clients that have already gone, and must not end the process when it does. */

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
