/* test_fetch.c: mockca's HTTP/1.1 client (mockca/fetch.c) against a tiny server in this
 * process: a thread on 127.0.0.1 (or ::1) port 0 that accepts one connection, records the
 * request, and answers with canned bytes (or with nothing, or over TLS with a self-signed
 * certificate made here). Every wait in the server is bounded by SRV_WAIT_MS. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mockca/fetch.h"

#define SRV_WAIT_MS 5000
#define SRV_REQ_MAX 8192

/* ANSWER: read the request, answer, close. SILENT: read the request, never answer.
 * AT_ONCE: answer before reading anything (a plain server hit with a TLS hello). */
enum srv_mode { SRV_ANSWER, SRV_SILENT, SRV_AT_ONCE };

struct srv {
    int lfd;
    uint16_t port;
    pthread_t th;
    enum srv_mode mode;
    const char *answer; /* bytes sent after the request is read */
    size_t answer_len;
    SSL_CTX *tls; /* non-NULL: speak TLS */
    char req[SRV_REQ_MAX + 1];
    size_t req_len;
    char sni[256];
};

/* Waits for fd to be readable, at most SRV_WAIT_MS. */
static bool srv_wait(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, SRV_WAIT_MS) > 0;
}

static ssize_t srv_recv(SSL *ssl, int fd, char *b, size_t n)
{
    if (ssl != NULL)
        return SSL_read(ssl, b, (int)n);
    if (!srv_wait(fd))
        return -1;
    return recv(fd, b, n, 0);
}

static void srv_send(SSL *ssl, int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = ssl != NULL ? SSL_write(ssl, p, (int)n) : send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the client gave up (a cap test): fine */
        p += w;
        n -= (size_t)w;
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    SSL *ssl = NULL;
    sigset_t set;
    int fd;

    /* A client that stops reading early must not kill the test with SIGPIPE. */
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (!srv_wait(s->lfd))
        return NULL;
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (s->tls != NULL) {
        struct timeval tv = {.tv_sec = SRV_WAIT_MS / 1000};
        const char *name;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ssl = SSL_new(s->tls);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto out;
        name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(s->sni, sizeof(s->sni), "%s", name != NULL ? name : "");
    }
    if (s->mode == SRV_AT_ONCE) {
        char b[256];
        srv_send(ssl, fd, s->answer, s->answer_len);
        /* Closing with the hello unread would reset the connection under the answer. */
        while (srv_recv(ssl, fd, b, sizeof(b)) > 0)
            ;
        goto out;
    }
    /* The request head, then a Content-Length body if there is one. */
    for (;;) {
        char *end, *cl;
        ssize_t r = srv_recv(ssl, fd, s->req + s->req_len, SRV_REQ_MAX - s->req_len);
        if (r <= 0)
            goto out;
        s->req_len += (size_t)r;
        s->req[s->req_len] = '\0';
        end = strstr(s->req, "\r\n\r\n");
        if (end == NULL) {
            if (s->req_len == SRV_REQ_MAX)
                goto out;
            continue;
        }
        cl = strstr(s->req, "Content-Length: ");
        if (cl == NULL || s->req_len >= (size_t)(end + 4 - s->req) + strtoul(cl + 16, NULL, 10))
            break;
    }
    if (s->mode == SRV_SILENT) {
        char b[256];
        /* Never answer; wait (bounded) for the client to give up and close. */
        while (srv_recv(ssl, fd, b, sizeof(b)) > 0)
            ;
        goto out;
    }
    srv_send(ssl, fd, s->answer, s->answer_len);
    if (ssl != NULL)
        SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void srv_start(struct srv *s, bool v6, const char *answer, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    s->answer = answer;
    s->answer_len = answer != NULL && len == 0 ? strlen(answer) : len;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*a);
    }
    s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(s->lfd, 0);
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&ss, sl), 0);
    ck_assert_int_eq(listen(s->lfd, 4), 0);
    ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&ss, &sl), 0);
    s->port =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    SSL_CTX_free(s->tls);
}

/* A P-256 key and a self-signed certificate for the TLS server. */
static SSL_CTX *tls_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(ctx);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fetch test", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, x), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, k), 1);
    X509_free(x);
    EVP_PKEY_free(k);
    return ctx;
}

static void req_get(struct fetch_request *r, const char *url, const char *addr)
{
    memset(r, 0, sizeof(*r));
    r->url = url;
    r->addr = addr;
    r->user_agent = "fetch-test";
    r->timeout_ms = SRV_WAIT_MS;
}

/* ---------- URLs ---------- */

START_TEST(url_parse_accepts)
{
    struct fetch_url u;
    ck_assert_int_eq(fetch_url_parse("http://example.test/a/b?x=1#frag", &u), MC_OK);
    ck_assert(!u.https);
    ck_assert_str_eq(u.host, "example.test");
    ck_assert_int_eq(u.port, 80);
    ck_assert(!u.port_given);
    ck_assert(!u.host_is_ip);
    ck_assert_str_eq(u.target, "/a/b?x=1"); /* the fragment is never sent */
    ck_assert_int_eq(fetch_url_parse("HTTPS://[::1]:8443", &u), MC_OK);
    ck_assert(u.https);
    ck_assert(u.host_is_ip);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 8443);
    ck_assert_str_eq(u.target, "/");
    ck_assert_int_eq(fetch_url_parse("https://10.0.0.1?q", &u), MC_OK);
    ck_assert_int_eq(u.port, 443);
    ck_assert(u.host_is_ip);
    ck_assert_str_eq(u.target, "/?q");
}
END_TEST

START_TEST(url_parse_refuses)
{
    static const char *const bad[] = {
        "ftp://example.test/",
        "http://user@example.test/",
        "http://a:b@example.test/",
        "http:///path",
        "http://example.test:/",
        "http://example.test:0/",
        "http://example.test:65536/",
        "http://example.test:8x/",
        "http://exa mple.test/",
        "http://example.test/a b",
        "http://\xc3\xa9.test/",
        "http://[::1/",
        "http://[fe80::1%eth0]/",
        "http://1.2.3/",
        "http://a..b/",
        "example.test/",
        "http://ex\x01.test/",
    };
    struct fetch_url u;
    char *longurl = malloc(FETCH_URL_MAX + 32);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(fetch_url_parse(bad[i], &u) == MC_ERR_INVALID, "accepted %s", bad[i]);
    ck_assert_ptr_nonnull(longurl);
    strcpy(longurl, "http://example.test/");
    memset(longurl + strlen(longurl), 'a', FETCH_URL_MAX);
    longurl[FETCH_URL_MAX + 1] = '\0';
    ck_assert_int_eq(fetch_url_parse(longurl, &u), MC_ERR_TOO_BIG);
    free(longurl);
}
END_TEST

START_TEST(url_join_cases)
{
    static const char *const cases[][3] = {
        {"http://a.test:81/x/y?q", "https://b.test/z", "https://b.test/z"},
        {"http://a.test:81/x/y?q", "/z?k=1", "http://a.test:81/z?k=1"},
        {"http://a.test:81/x/y?q", "z", "http://a.test:81/x/z"},
        {"http://a.test:81/x/y?q", "../../../z", "http://a.test:81/z"},
        {"http://a.test:81/x/y/", "./z/.", "http://a.test:81/x/y/z/"},
        {"http://a.test:81/x/y?q", "//c.test:5/p", "http://c.test:5/p"},
        {"http://a.test:81/x/y?q", "?r", "http://a.test:81/x/y?r"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        ck_assert_int_eq(fetch_url_join(cases[i][0], cases[i][1], &out), MC_OK);
        ck_assert_str_eq(out, cases[i][2]);
        free(out);
    }
    {
        char *out = NULL;
        ck_assert_int_eq(fetch_url_join("http://a.test/", "ftp://b.test/", &out), MC_ERR_INVALID);
        ck_assert_ptr_null(out);
    }
}
END_TEST

/* ---------- requests against the in-test server ---------- */

START_TEST(get_content_length)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128], host[64];
    srv_start(&s, false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", 0);
    /* A name in the URL, the address given: nothing is resolved. */
    snprintf(url, sizeof(url), "http://example.test:%u/p?q=1", (unsigned)s.port);
    req_get(&rq, url, "127.0.0.1");
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_uint_eq(rs.body_len, 5);
    ck_assert_str_eq(rs.body, "hello");
    ck_assert_ptr_null(rs.location);
    ck_assert_ptr_nonnull(strstr(s.req, "GET /p?q=1 HTTP/1.1\r\n"));
    snprintf(host, sizeof(host), "\r\nHost: example.test:%u\r\n", (unsigned)s.port);
    ck_assert_ptr_nonnull(strstr(s.req, host));
    ck_assert_ptr_nonnull(strstr(s.req, "\r\nConnection: close\r\n"));
    ck_assert_ptr_nonnull(strstr(s.req, "\r\nUser-Agent: fetch-test\r\n"));
    fetch_response_free(&rs);
    fetch_response_free(NULL);
}
END_TEST

START_TEST(get_chunked)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    srv_start(&s, false,
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
              0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
    req_get(&rq, url, NULL); /* an IP literal in the URL: no address needed */
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_str_eq(rs.body, "hello, world");
    ck_assert_uint_eq(rs.body_len, 12);
    fetch_response_free(&rs);
}
END_TEST

START_TEST(get_to_close_and_interim)
{
    /* A 100 Continue first (skipped), then a body framed by the end of the connection. */
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    srv_start(&s, false, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nnope", 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
    req_get(&rq, url, NULL);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 404);
    ck_assert_str_eq(rs.body, "nope");
    fetch_response_free(&rs);
}
END_TEST

START_TEST(redirect_location)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128], want[128], *next = NULL;
    srv_start(&s, false, "HTTP/1.1 302 Found\r\nLocation: /moved/here\r\nContent-Length: 0\r\n\r\n",
              0);
    snprintf(url, sizeof(url), "http://a.test:%u/start", (unsigned)s.port);
    req_get(&rq, url, "127.0.0.1");
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 302);
    ck_assert_ptr_nonnull(rs.location);
    ck_assert_str_eq(rs.location, "/moved/here");
    ck_assert_int_eq(fetch_url_join(url, rs.location, &next), MC_OK);
    snprintf(want, sizeof(want), "http://a.test:%u/moved/here", (unsigned)s.port);
    ck_assert_str_eq(next, want);
    free(next);
    fetch_response_free(&rs);
}
END_TEST

START_TEST(post_body)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    const char *json = "{\"ip\":\"127.0.0.1\"}";
    srv_start(&s, false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/set-default-ipv4", (unsigned)s.port);
    req_get(&rq, url, NULL);
    rq.method = "POST";
    rq.body = json;
    rq.body_len = strlen(json);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_ptr_nonnull(strstr(s.req, "POST /set-default-ipv4 HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(s.req, "\r\nContent-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(s.req, "\r\nContent-Length: 18\r\n"));
    ck_assert_ptr_nonnull(strstr(s.req, "\r\n\r\n{\"ip\":\"127.0.0.1\"}"));
    fetch_response_free(&rs);
}
END_TEST

START_TEST(body_over_cap)
{
    static const char *const answers[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n0123456789abcdef", /* framed by the close */
    };
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        struct srv s = {0};
        struct fetch_request rq;
        struct fetch_response rs;
        char url[128];
        srv_start(&s, false, answers[i], 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
        req_get(&rq, url, NULL);
        rq.body_max = 10;
        ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_TOO_BIG);
        srv_stop(&s);
        ck_assert_msg(rs.body_over_cap, "answer %zu", i);
        ck_assert_ptr_nonnull(strstr(rs.err, "larger than 10 bytes"));
        ck_assert_ptr_null(rs.body);
        fetch_response_free(&rs);
    }
}
END_TEST

START_TEST(header_over_cap)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    size_t n = FETCH_HEAD_MAX + 2048;
    const char *head = "HTTP/1.1 200 OK\r\nX-Big: ";
    char *big = malloc(n + 64);
    ck_assert_ptr_nonnull(big);
    strcpy(big, head);
    memset(big + strlen(head), 'x', n);
    strcpy(big + strlen(head) + n, "\r\n\r\n");
    srv_start(&s, false, big, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
    req_get(&rq, url, NULL);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_TOO_BIG);
    srv_stop(&s);
    free(big);
    ck_assert(!rs.body_over_cap);
    ck_assert_ptr_nonnull(strstr(rs.err, "header block"));
    fetch_response_free(&rs);
}
END_TEST

START_TEST(never_answers)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    s.mode = SRV_SILENT;
    srv_start(&s, false, NULL, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
    req_get(&rq, url, NULL);
    rq.timeout_ms = 300; /* well under the server's own bound */
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_TIMEOUT);
    srv_stop(&s);
    ck_assert_ptr_nonnull(strstr(rs.err, "timed out"));
    ck_assert_ptr_nonnull(strstr(s.req, "GET / HTTP/1.1")); /* it was sent, then waited */
    fetch_response_free(&rs);
}
END_TEST

START_TEST(connection_refused)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    /* A port the kernel just gave us and that nobody listens on any more. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://example.test:%u/", (unsigned)ntohs(a.sin_port));
    req_get(&rq, url, "127.0.0.1");
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_IO);
    ck_assert_msg(strstr(rs.err, "refused") != NULL, "%s", rs.err);
    fetch_response_free(&rs);
    /* No address and a name in the URL: refused before any socket, never resolved. */
    req_get(&rq, url, NULL);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_INVALID);
    fetch_response_free(&rs);
}
END_TEST

START_TEST(garbage_status_line)
{
    static const char *const answers[] = {
        "SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", /* cut short */
    };
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        struct srv s = {0};
        struct fetch_request rq;
        struct fetch_response rs;
        char url[128];
        srv_start(&s, false, answers[i], 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)s.port);
        req_get(&rq, url, NULL);
        ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_INVALID);
        srv_stop(&s);
        if (i == 0)
            ck_assert_msg(strstr(rs.err, "status line") != NULL, "%s", rs.err);
        ck_assert_int_ne(rs.status, 200);
        fetch_response_free(&rs);
    }
}
END_TEST

START_TEST(https_self_signed)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    s.tls = tls_ctx();
    srv_start(&s, false, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure", 0);
    snprintf(url, sizeof(url), "https://tls.example.test:%u/x", (unsigned)s.port);
    req_get(&rq, url, "127.0.0.1");
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_str_eq(rs.body, "secure");
    ck_assert_str_eq(s.sni, "tls.example.test"); /* SNI: the URL's name */
    fetch_response_free(&rs);
}
END_TEST

START_TEST(https_to_plain_server)
{
    /* A plain HTTP server behind an https URL: a TLS failure, told apart from the rest. */
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128];
    s.mode = SRV_AT_ONCE;
    srv_start(&s, false, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/", (unsigned)s.port);
    req_get(&rq, url, NULL);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_ERR_CRYPTO);
    srv_stop(&s);
    ck_assert_ptr_nonnull(strstr(rs.err, "TLS handshake"));
    fetch_response_free(&rs);
}
END_TEST

START_TEST(ipv6_literal)
{
    struct srv s = {0};
    struct fetch_request rq;
    struct fetch_response rs;
    char url[128], host[64];
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a6, sizeof(a6)) == 0;
    if (probe >= 0)
        close(probe);
    if (!have_v6) {
        fprintf(stderr, "ipv6_literal: no ::1 on this host, not run\n");
        return;
    }
    srv_start(&s, true, "HTTP/1.1 204 No Content\r\n\r\n", 0);
    snprintf(url, sizeof(url), "http://[::1]:%u/v6", (unsigned)s.port);
    req_get(&rq, url, NULL);
    ck_assert_int_eq(fetch_do(&rq, &rs), MC_OK);
    srv_stop(&s);
    ck_assert_int_eq(rs.status, 204);
    ck_assert_uint_eq(rs.body_len, 0);
    ck_assert_str_eq(rs.body, "");
    snprintf(host, sizeof(host), "\r\nHost: [::1]:%u\r\n", (unsigned)s.port);
    ck_assert_ptr_nonnull(strstr(s.req, host));
    fetch_response_free(&rs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fetch");
    TCase *u = tcase_create("url");
    TCase *h = tcase_create("http");
    tcase_add_test(u, url_parse_accepts);
    tcase_add_test(u, url_parse_refuses);
    tcase_add_test(u, url_join_cases);
    tcase_add_test(h, get_content_length);
    tcase_add_test(h, get_chunked);
    tcase_add_test(h, get_to_close_and_interim);
    tcase_add_test(h, redirect_location);
    tcase_add_test(h, post_body);
    tcase_add_test(h, body_over_cap);
    tcase_add_test(h, header_over_cap);
    tcase_add_test(h, never_answers);
    tcase_add_test(h, connection_refused);
    tcase_add_test(h, garbage_status_line);
    tcase_add_test(h, https_self_signed);
    tcase_add_test(h, https_to_plain_server);
    tcase_add_test(h, ipv6_literal);
    suite_add_tcase(s, u);
    suite_add_tcase(s, h);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
