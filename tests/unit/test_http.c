/* test_http.c: the HTTP(S) server layer, driven over loopback with libcurl. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/http.h"

/* ---------- a small libcurl client ---------- */

struct buf {
    char *p;
    size_t n;
};

struct res {
    CURLcode rc;
    long status;
    char *body;
    size_t len;
    char *hdrs;
};

struct upload {
    const char *data;
    size_t len;
    size_t off;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);

    if (np == NULL)
        return 0;
    memcpy(np + b->n, data, add);
    b->n += add;
    np[b->n] = '\0';
    b->p = np;
    return add;
}

static size_t feed(char *dst, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;

    if (n > u->len - u->off)
        n = u->len - u->off;
    if (n > 700)
        n = 700; /* several chunks */
    memcpy(dst, u->data + u->off, n);
    u->off += n;
    return n;
}

struct req_opts {
    const char *method;
    const char *body; /* NULL: none */
    size_t body_len;
    bool chunked;       /* send the body with Transfer-Encoding: chunked */
    const char *hdr1;   /* an extra header line, or NULL */
    const char *cafile; /* verify against this; NULL: no verification */
};

static void req(const char *url, const struct req_opts *o, struct res *out)
{
    struct buf body = {0}, hdrs = {0};
    struct curl_slist *list = NULL;
    struct upload up = {0};
    CURL *c = curl_easy_init();

    ck_assert_ptr_nonnull(c);
    memset(out, 0, sizeof(*out));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    if (o != NULL && o->method != NULL && strcmp(o->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (o != NULL && o->method != NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
    if (o != NULL && o->body != NULL && !o->chunked) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)o->body_len);
    }
    if (o != NULL && o->body != NULL && o->chunked) {
        up.data = o->body;
        up.len = o->body_len;
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        list = curl_slist_append(list, "Transfer-Encoding: chunked");
    }
    /* No "Expect: 100-continue" wait: bodies go straight out, as most clients send them. */
    list = curl_slist_append(list, "Expect:");
    if (o != NULL && o->hdr1 != NULL)
        list = curl_slist_append(list, o->hdr1);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (o != NULL && o->cafile != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->cafile);
    } else {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    out->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = body.p != NULL ? body.p : strdup("");
    out->len = body.n;
    out->hdrs = hdrs.p != NULL ? hdrs.p : strdup("");
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
}

static void res_free(struct res *r)
{
    free(r->body);
    free(r->hdrs);
    memset(r, 0, sizeof(*r));
}

/* The value of header name in the response (last one if repeated), new string, or NULL. */
static char *res_header(const struct res *r, const char *name)
{
    size_t nlen = strlen(name);
    const char *line = r->hdrs;
    char *found = NULL;

    while (line != NULL && *line != '\0') {
        const char *eol = strstr(line, "\r\n");
        size_t llen = eol != NULL ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            free(found);
            found = strndup(v, llen - (size_t)(v - line));
        }
        line = eol != NULL ? eol + 2 : NULL;
    }
    return found;
}

static void get(uint16_t port, const char *path, struct res *out)
{
    char url[512];

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    req(url, NULL, out);
}

static void call(uint16_t port, const char *path, const struct req_opts *o, struct res *out)
{
    char url[512];

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    req(url, o, out);
}

static void assert_header(const struct res *r, const char *name, const char *want)
{
    char *v = res_header(r, name);

    ck_assert_msg(v != NULL, "no %s header in:\n%s", name, r->hdrs);
    ck_assert_str_eq(v, want);
    free(v);
}

/* ---------- the server under test ---------- */

struct tctx {
    atomic_int hello_calls;
};

static struct tctx g_ctx;

static void must(enum mc_err err)
{
    ck_assert_int_eq(err, MC_OK);
}

static void h_hello(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    struct tctx *t = ctx;

    (void)rq;
    atomic_fetch_add(&t->hello_calls, 1);
    must(http_response_body(resp, 200, "text/plain", "hello", 5));
}

static void h_head(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    (void)rq;
    must(http_response_header(resp, "X-Head", "1"));
    must(http_response_body(resp, 200, "text/plain", "abc", 3));
}

static void h_params(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    char out[256];
    size_t off = 0;

    (void)ctx;
    out[0] = '\0';
    for (size_t i = 0; i < rq->nparams; i++) {
        int n = snprintf(out + off, sizeof(out) - off, "[%s]", rq->params[i]);
        ck_assert(n > 0 && (size_t)n < sizeof(out) - off);
        off += (size_t)n;
    }
    must(http_response_body(resp, 200, "text/plain", out, off));
}

static void h_echo(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    ck_assert_int_eq(rq->body[rq->body_len], 0); /* NUL-terminated as promised */
    must(http_response_body(resp, 200, "application/octet-stream", rq->body, rq->body_len));
}

static void h_json(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    cJSON *j = cJSON_CreateObject();

    (void)ctx;
    (void)rq;
    ck_assert_ptr_nonnull(cJSON_AddTrueToObject(j, "ok"));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(j, "quote", "a\"b"));
    must(http_response_json(resp, 201, j));
    cJSON_Delete(j);
}

static void h_problem(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    cJSON *subs = cJSON_CreateArray();
    cJSON *one = cJSON_CreateObject();

    (void)ctx;
    (void)rq;
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(one, "type", "urn:x:sub"));
    cJSON_AddItemToArray(subs, one);
    must(http_response_problem(resp, 400, "urn:ietf:params:acme:error:malformed", "bad \"thing\"",
                               subs));
    cJSON_Delete(subs);
}

static void h_query(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    const char *name = http_request_query(rq, "name");
    const char *x = http_request_query(rq, "x");
    const char *missing = http_request_query(rq, "missing");
    char out[256];
    int n;

    (void)ctx;
    n = snprintf(out, sizeof(out), "name=%s;x=%s;missing=%s;hdr=%s;host=%s",
                 name != NULL ? name : "(null)", x != NULL ? x : "(null)",
                 missing != NULL ? missing : "(null)",
                 http_request_header(rq, "x-custom") != NULL ? http_request_header(rq, "X-CUSTOM")
                                                             : "(null)",
                 rq->host);
    must(http_response_body(resp, 200, "text/plain", out, (size_t)n));
}

static void h_remote(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    must(http_response_body(resp, 200, "text/plain", rq->remote_addr, strlen(rq->remote_addr)));
}

static void h_drop(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    (void)rq;
    must(http_response_body(resp, 200, "text/plain", "never seen", 10));
    resp->drop = true;
}

static void h_trunc(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    char body[1000];

    (void)ctx;
    (void)rq;
    memset(body, 'x', sizeof(body));
    must(http_response_body(resp, 200, "text/plain", body, sizeof(body)));
    resp->truncate = true;
}

static void h_delay(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    (void)rq;
    must(http_response_body(resp, 200, "text/plain", "late", 4));
    resp->delay_ms = 300;
}

static void h_ok(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    must(http_response_body(resp, 200, "text/plain", rq->method, strlen(rq->method)));
}

static const struct http_route g_routes[] = {
    {"GET", "/hello", h_hello},
    {"HEAD", "/hello", h_head},
    {"GET", "/items/{}/sub/{}", h_params},
    {"GET", "/files/*", h_params},
    {"POST", "/echo", h_echo},
    {"GET", "/json", h_json},
    {"GET", "/problem", h_problem},
    {"GET", "/query", h_query},
    {"GET", "/remote", h_remote},
    {"GET", "/drop", h_drop},
    {"GET", "/trunc", h_trunc},
    {"GET", "/delay", h_delay},
    {"GET", "/thing/{}", h_ok},
    {"PUT", "/thing/{}", h_ok},
    {"GET", "/thing/*", h_ok},
    {"DELETE", "/thing/*", h_ok},
    {"GET", "/", h_ok},
};

static void before(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    (void)ctx;
    if (http_request_header(rq, "X-Block") != NULL)
        must(http_response_error(resp, 403, "blocked"));
}

static void after(void *ctx, const struct http_request *rq, struct http_response *resp)
{
    char v[16];

    (void)ctx;
    (void)rq;
    snprintf(v, sizeof(v), "%d", resp->status);
    must(http_response_header(resp, "X-After", v));
}

static void problem_errors(void *ctx, const struct http_request *rq, int status,
                           const char *message, struct http_response *resp)
{
    (void)ctx;
    (void)rq;
    ck_assert_int_eq(resp->status, status);
    must(http_response_problem(resp, status, "urn:test:layer", message, NULL));
}

static struct http_server_config base_cfg(void)
{
    struct http_server_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.bind_addr = "127.0.0.1";
    cfg.routes = g_routes;
    cfg.nroutes = sizeof(g_routes) / sizeof(g_routes[0]);
    cfg.ctx = &g_ctx;
    cfg.max_body = 1024;
    cfg.threads = 4;
    cfg.before = before;
    cfg.after = after;
    return cfg;
}

static struct http_server *start(const struct http_server_config *cfg)
{
    struct http_server *s = NULL;

    ck_assert_int_eq(http_server_start(cfg, &s), MC_OK);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_ne(http_server_port(s), 0);
    return s;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---------- tests ---------- */

START_TEST(test_literal_route)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;

    get(http_server_port(s), "/hello", &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello");
    assert_header(&r, "Content-Type", "text/plain");
    assert_header(&r, "X-After", "200");
    res_free(&r);

    get(http_server_port(s), "/", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "GET");
    res_free(&r);
    /* A literal route does not match a longer path or a trailing slash. */
    get(http_server_port(s), "/hello/", &r);
    ck_assert_int_eq(r.status, 404);
    res_free(&r);
    get(http_server_port(s), "/hellox", &r);
    ck_assert_int_eq(r.status, 404);
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_params_and_star)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;

    get(http_server_port(s), "/items/abc/sub/42", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "[abc][42]");
    res_free(&r);
    /* "{}" is exactly one non-empty segment. */
    get(http_server_port(s), "/items/a/b/sub/42", &r);
    ck_assert_int_eq(r.status, 404);
    res_free(&r);
    get(http_server_port(s), "/items//sub/42", &r);
    ck_assert_int_eq(r.status, 404);
    res_free(&r);
    /* "*" takes the rest, slashes included, and may be empty. */
    get(http_server_port(s), "/files/a/b/c.txt", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "[a/b/c.txt]");
    res_free(&r);
    get(http_server_port(s), "/files/", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "[]");
    res_free(&r);
    get(http_server_port(s), "/files", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "[]");
    res_free(&r);
    /* The path is percent-decoded before routing. */
    get(http_server_port(s), "/items/a%20b/sub/x", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "[a b][x]");
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_404_405)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    struct req_opts patch = {.method = "PATCH"};
    struct req_opts head = {.method = "HEAD"};
    struct req_opts post = {.method = "POST", .body = "x", .body_len = 1};

    get(http_server_port(s), "/nowhere", &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 404);
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    assert_header(&r, "X-After", "404"); /* the after hook runs on the layer's own answers */
    ck_assert_uint_gt(r.len, 0);
    ck_assert_int_eq(r.body[r.len - 1], '\n');
    res_free(&r);

    /* Two GET routes match: Allow names GET once, methods in table order. */
    call(http_server_port(s), "/thing/x", &patch, &r);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "GET, PUT, DELETE");
    assert_header(&r, "X-After", "405");
    res_free(&r);
    /* Only the "*" routes match two segments. */
    call(http_server_port(s), "/thing/x/y", &patch, &r);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "GET, DELETE");
    res_free(&r);
    call(http_server_port(s), "/thing/x/y", &(struct req_opts){.method = "DELETE"}, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "DELETE");
    res_free(&r);

    /* HEAD is its own method: routed to its own handler, no body sent... */
    call(http_server_port(s), "/hello", &head, &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "X-Head", "1");
    ck_assert_uint_eq(r.len, 0);
    res_free(&r);
    /* ...and not served by GET routes. */
    call(http_server_port(s), "/json", &head, &r);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "GET");
    res_free(&r);
    call(http_server_port(s), "/hello", &post, &r);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Allow", "GET, HEAD");
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_body_cap)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    char big[4096], fit[1024];
    struct req_opts o = {.method = "POST"};

    for (size_t i = 0; i < sizeof(fit); i++)
        fit[i] = (char)(i * 7 + 3); /* every byte value, NUL included */
    memset(big, 'B', sizeof(big));

    /* Exactly the cap, binary: accepted and echoed byte for byte. */
    o.body = fit;
    o.body_len = sizeof(fit);
    call(http_server_port(s), "/echo", &o, &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, sizeof(fit));
    ck_assert(memcmp(r.body, fit, sizeof(fit)) == 0);
    res_free(&r);
    o.body_len = sizeof(fit) - 1;
    call(http_server_port(s), "/echo", &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, sizeof(fit) - 1);
    ck_assert(memcmp(r.body, fit, sizeof(fit) - 1) == 0);
    res_free(&r);
    /* The same bytes chunked (no Content-Length) also arrive intact. */
    o.chunked = true;
    o.body_len = sizeof(fit);
    call(http_server_port(s), "/echo", &o, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, sizeof(fit));
    ck_assert(memcmp(r.body, fit, sizeof(fit)) == 0);
    res_free(&r);

    /* One byte over, announced by Content-Length: 413 from the layer. */
    o.chunked = false;
    o.body = big;
    o.body_len = sizeof(fit) + 1;
    call(http_server_port(s), "/echo", &o, &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 413);
    assert_header(&r, "X-After", "413");
    assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
    res_free(&r);
    /* Over the cap without Content-Length (chunked): 413 once the upload ends. */
    o.chunked = true;
    o.body_len = sizeof(big);
    call(http_server_port(s), "/echo", &o, &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 413);
    res_free(&r);
    /* 413 comes before routing: even an unknown path gets it. */
    o.chunked = false;
    call(http_server_port(s), "/nowhere", &o, &r);
    ck_assert_int_eq(r.status, 413);
    res_free(&r);

    /* The server still works afterwards. */
    get(http_server_port(s), "/hello", &r);
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    http_server_stop(s);
}
END_TEST

/* Sends raw bytes and reads what comes back within timeout_ms; returns bytes read. */
static size_t raw_exchange(uint16_t port, const char *msg, char *out, size_t outn, int timeout_ms)
{
    struct sockaddr_in a;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    ck_assert_int_eq(send(fd, msg, strlen(msg), MSG_NOSIGNAL), (ssize_t)strlen(msg));
    while (got + 1 < outn) {
        ssize_t n = recv(fd, out + got, outn - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    close(fd);
    return got;
}

START_TEST(test_body_cap_early)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    char out[2048];
    double t0 = now_ms();

    /* A Content-Length over the cap is refused from the headers alone: the 413 arrives
     * although not one byte of the announced body was sent. */
    raw_exchange(http_server_port(s),
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                 "Expect: 100-continue\r\n\r\n",
                 out, sizeof(out), 5000);
    ck_assert_msg(strncmp(out, "HTTP/1.1 413", 12) == 0, "got: %s", out);
    ck_assert_msg(strstr(out, "100 Continue") == NULL, "asked for the body: %s", out);
    ck_assert_double_lt(now_ms() - t0, 4000.0);
    http_server_stop(s);
}
END_TEST

START_TEST(test_json_and_problem)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    cJSON *j;

    get(http_server_port(s), "/json", &r);
    ck_assert_int_eq(r.status, 201);
    assert_header(&r, "Content-Type", "application/json");
    j = cJSON_Parse(r.body);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "quote")->valuestring, "a\"b");
    cJSON_Delete(j);
    res_free(&r);

    get(http_server_port(s), "/problem", &r);
    ck_assert_int_eq(r.status, 400);
    assert_header(&r, "Content-Type", "application/problem+json");
    j = cJSON_Parse(r.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "type")->valuestring,
                     "urn:ietf:params:acme:error:malformed");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "detail")->valuestring, "bad \"thing\"");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "status")->valueint, 400);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "subproblems")), 1);
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "subproblems"), 0), "type")
            ->valuestring,
        "urn:x:sub");
    cJSON_Delete(j);
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_error_hook)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s;
    struct res r;
    cJSON *j;

    cfg.error = problem_errors;
    s = start(&cfg);
    get(http_server_port(s), "/nowhere", &r);
    ck_assert_int_eq(r.status, 404);
    assert_header(&r, "Content-Type", "application/problem+json");
    j = cJSON_Parse(r.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "type")->valuestring, "urn:test:layer");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "status")->valueint, 404);
    cJSON_Delete(j);
    res_free(&r);
    call(http_server_port(s), "/thing/x", &(struct req_opts){.method = "PATCH"}, &r);
    ck_assert_int_eq(r.status, 405);
    assert_header(&r, "Content-Type", "application/problem+json");
    assert_header(&r, "Allow", "GET, PUT, DELETE");
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_before_hook)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    struct req_opts blocked = {.hdr1 = "X-Block: 1"};

    atomic_store(&g_ctx.hello_calls, 0);
    call(http_server_port(s), "/hello", &blocked, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body, "blocked\n");
    assert_header(&r, "X-After", "403");
    res_free(&r);
    ck_assert_int_eq(atomic_load(&g_ctx.hello_calls), 0); /* the handler never ran */
    /* It also answers for paths with no route. */
    call(http_server_port(s), "/nowhere", &blocked, &r);
    ck_assert_int_eq(r.status, 403);
    res_free(&r);
    get(http_server_port(s), "/hello", &r);
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    ck_assert_int_eq(atomic_load(&g_ctx.hello_calls), 1);
    http_server_stop(s);
}
END_TEST

START_TEST(test_faults)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    double t0, elapsed;

    get(http_server_port(s), "/drop", &r);
    ck_assert_msg(r.rc == CURLE_GOT_NOTHING || r.rc == CURLE_RECV_ERROR, "drop: curl said %d (%s)",
                  (int)r.rc, curl_easy_strerror(r.rc));
    ck_assert_int_eq(r.status, 0);
    res_free(&r);

    get(http_server_port(s), "/trunc", &r);
    ck_assert_msg(r.rc == CURLE_PARTIAL_FILE, "truncate: curl said %d (%s)", (int)r.rc,
                  curl_easy_strerror(r.rc));
    ck_assert_int_eq(r.status, 200);
    assert_header(&r, "Content-Length", "1000");
    ck_assert_uint_eq(r.len, 500);
    res_free(&r);

    t0 = now_ms();
    get(http_server_port(s), "/delay", &r);
    elapsed = now_ms() - t0;
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_str_eq(r.body, "late");
    ck_assert_msg(elapsed >= 300.0, "answered after %.1f ms, before the 300 ms delay", elapsed);
    res_free(&r);

    /* The server is unharmed. */
    get(http_server_port(s), "/hello", &r);
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    http_server_stop(s);
}
END_TEST

START_TEST(test_query_headers_remote)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    struct res r;
    char want[128];
    struct req_opts o = {.hdr1 = "X-Custom: v1"};

    call(http_server_port(s), "/query?name=a%20b&x=1", &o, &r);
    ck_assert_int_eq(r.status, 200);
    snprintf(want, sizeof(want), "name=a b;x=1;missing=(null);hdr=v1;host=127.0.0.1:%u",
             (unsigned)http_server_port(s));
    ck_assert_str_eq(r.body, want);
    res_free(&r);

    get(http_server_port(s), "/remote", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "127.0.0.1");
    res_free(&r);
    http_server_stop(s);
}
END_TEST

/* A self-signed P-256 certificate for 127.0.0.1, as PEM strings. */
static void make_cert(char **cert_pem, char **key_pem)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *nm;
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    BIO *b;
    char *p;
    long n;

    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, X509_VERSION_3), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    nm = X509_get_subject_name(x);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"127.0.0.1", -1, -1, 0),
                     1);
    ck_assert_int_eq(X509_set_issuer_name(x, nm), 1);
    ck_assert_int_eq(X509_set_pubkey(x, k), 1);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);

    b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
    n = BIO_get_mem_data(b, &p);
    *cert_pem = strndup(p, (size_t)n);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &p);
    *key_pem = strndup(p, (size_t)n);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
}

START_TEST(test_https)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = NULL;
    char *cert = NULL, *key = NULL;
    char path[] = "/tmp/test_http_cert_XXXXXX";
    char url[128];
    struct res r;
    struct req_opts o = {.cafile = path};
    int fd;

    make_cert(&cert, &key);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, cert, strlen(cert)), (ssize_t)strlen(cert));
    close(fd);
    cfg.tls_cert_pem = cert;
    cfg.tls_key_pem = key;
    s = start(&cfg);

    /* Verified against the test's own certificate. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/hello", (unsigned)http_server_port(s));
    req(url, &o, &r);
    ck_assert_msg(r.rc == CURLE_OK, "curl: %s", curl_easy_strerror(r.rc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello");
    res_free(&r);
    /* Plain HTTP to the TLS port is not served as HTTP. */
    get(http_server_port(s), "/hello", &r);
    ck_assert(r.rc != CURLE_OK || r.status != 200);
    res_free(&r);
    http_server_stop(s);

    /* Half a pair is invalid; a key that does not match the certificate is refused. */
    cfg.tls_key_pem = NULL;
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID);
    ck_assert_ptr_null(s);
    {
        char *cert2 = NULL, *key2 = NULL;
        make_cert(&cert2, &key2);
        cfg.tls_key_pem = key2;
        ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_CRYPTO);
        cfg.tls_key_pem = "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n";
        ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_CRYPTO);
        ck_assert_ptr_null(s);
        free(cert2);
        free(key2);
    }
    unlink(path);
    free(cert);
    free(key);
}
END_TEST

static bool ipv6_loopback_usable(void)
{
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool ok;

    if (fd < 0)
        return false;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

START_TEST(test_ipv6)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = NULL;
    char url[128];
    struct res r;

    if (!ipv6_loopback_usable()) {
        fprintf(stderr, "test_ipv6: SKIPPED: ::1 is not available on this host\n");
        return;
    }
    cfg.bind_addr = "::1";
    s = start(&cfg);
    snprintf(url, sizeof(url), "http://[::1]:%u/remote", (unsigned)http_server_port(s));
    req(url, NULL, &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "::1");
    res_free(&r);
    http_server_stop(s);
}
END_TEST

struct worker {
    uint16_t port;
    int id;
    int failures;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 5; i++) {
        char path[64], want[64];
        struct res r;

        snprintf(path, sizeof(path), "/items/w%d/sub/%d", w->id, i);
        snprintf(want, sizeof(want), "[w%d][%d]", w->id, i);
        get(w->port, path, &r);
        if (r.rc != CURLE_OK || r.status != 200 || strcmp(r.body, want) != 0)
            w->failures++;
        res_free(&r);
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    struct http_server_config cfg = base_cfg();
    struct http_server *s = start(&cfg);
    pthread_t th[20];
    struct worker w[20];

    for (int i = 0; i < 20; i++) {
        w[i] = (struct worker){.port = http_server_port(s), .id = i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(w[i].failures == 0, "client %d: %d wrong answers", i, w[i].failures);
    }
    http_server_stop(s);
}
END_TEST

START_TEST(test_start_errors)
{
    static const char *const bad_patterns[] = {
        "", "hello", "/a/*/b", "/a{}", "/x*", "/{", "/a/**", "/a b", "/a?b",
    };
    struct http_server_config cfg = base_cfg();
    struct http_server *s = NULL, *s2 = NULL;
    struct http_route rt[1];

    for (size_t i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++) {
        rt[0] = (struct http_route){"GET", bad_patterns[i], h_ok};
        cfg.routes = rt;
        cfg.nroutes = 1;
        ck_assert_msg(http_server_start(&cfg, &s) == MC_ERR_INVALID, "pattern '%s' accepted",
                      bad_patterns[i]);
        ck_assert_ptr_null(s);
    }
    rt[0] = (struct http_route){"get", "/a", h_ok};
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID);
    rt[0] = (struct http_route){"GET", "/a", NULL};
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID);
    rt[0] = (struct http_route){"GET", "/{}/{}/{}/{}/{}/{}/{}/{}/{}", h_ok};
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID); /* > HTTP_MAX_PARAMS */
    rt[0] = (struct http_route){"GET", "/{}/{}/{}/{}/{}/{}/{}/*", h_ok};
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_OK);
    http_server_stop(s);
    s = NULL;

    cfg = base_cfg();
    cfg.bind_addr = "1.2.3";
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID);
    cfg.bind_addr = "example.com";
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_ERR_INVALID);

    /* A port already in use: MC_ERR_IO. */
    cfg.bind_addr = NULL; /* 127.0.0.1 */
    s = start(&cfg);
    cfg.port = http_server_port(s);
    ck_assert_int_eq(http_server_start(&cfg, &s2), MC_ERR_IO);
    ck_assert_ptr_null(s2);
    http_server_stop(s);
    http_server_stop(NULL);
    ck_assert_uint_eq(http_server_port(NULL), 0);
}
END_TEST

START_TEST(test_thread_counts)
{
    static const unsigned counts[] = {0, 1, 3};
    struct http_server_config cfg = base_cfg();

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct http_server *s;
        struct res r;

        cfg.threads = counts[i];
        cfg.max_body = 0; /* the default cap */
        s = start(&cfg);
        get(http_server_port(s), "/hello", &r);
        ck_assert_int_eq(r.status, 200);
        res_free(&r);
        http_server_stop(s);
    }
}
END_TEST

START_TEST(test_split_hostport)
{
    static const struct {
        const char *in;
        enum mc_err err;
        const char *host;
        unsigned port;
    } cases[] = {
        {"127.0.0.1:80", MC_OK, "127.0.0.1", 80},
        {"0.0.0.0:0", MC_OK, "0.0.0.0", 0},
        {"[::1]:8053", MC_OK, "::1", 8053},
        {"[::]:65535", MC_OK, "::", 65535},
        {":5002", MC_OK, "", 5002},
        {"localhost:80", MC_OK, "127.0.0.1", 80},
        {"127.0.0.1:65536", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1:", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1:-1", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1:+80", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1:8x", MC_ERR_INVALID, NULL, 0},
        {"127.0.0.1:080080", MC_ERR_INVALID, NULL, 0},
        {"::1:80", MC_ERR_INVALID, NULL, 0},
        {"[::1]80", MC_ERR_INVALID, NULL, 0},
        {"[::1]", MC_ERR_INVALID, NULL, 0},
        {"[]:80", MC_ERR_INVALID, NULL, 0},
        {"[127.0.0.1]:80", MC_ERR_INVALID, NULL, 0},
        {"example.com:80", MC_ERR_INVALID, NULL, 0},
        {"1.2.3:80", MC_ERR_INVALID, NULL, 0},
        {"", MC_ERR_INVALID, NULL, 0},
        {"garbage", MC_ERR_INVALID, NULL, 0},
    };
    char host[64];
    uint16_t port;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum mc_err err = http_split_hostport(cases[i].in, host, sizeof(host), &port);
        ck_assert_msg(err == cases[i].err, "'%s': got %d want %d", cases[i].in, err, cases[i].err);
        if (err == MC_OK) {
            ck_assert_str_eq(host, cases[i].host);
            ck_assert_uint_eq(port, cases[i].port);
        }
    }
    ck_assert_int_eq(http_split_hostport("[::1]:80", host, 3, &port), MC_ERR_TOO_BIG);
}
END_TEST

START_TEST(test_response_helpers)
{
    struct http_response resp;
    char name[16];

    memset(&resp, 0, sizeof(resp));
    ck_assert_int_eq(http_response_header(&resp, "X-A", "a\r\nInjected: 1"), MC_ERR_INVALID);
    ck_assert_int_eq(http_response_header(&resp, "X-A\n", "a"), MC_ERR_INVALID);
    ck_assert_uint_eq(resp.nheaders, 0);

    /* A caller's Content-Type wins whether it comes before or after the helper. */
    must(http_response_header(&resp, "content-type", "application/jose+json"));
    must(http_response_error(&resp, 400, "x"));
    ck_assert_uint_eq(resp.nheaders, 1);
    ck_assert_str_eq(resp.headers[0].value, "application/jose+json");
    ck_assert_str_eq(resp.body, "x\n");
    ck_assert_int_eq(resp.status, 400);
    http_response_reset(&resp);
    ck_assert_uint_eq(resp.nheaders, 0);
    ck_assert_ptr_null(resp.body);

    must(http_response_error(&resp, 400, "x"));
    must(http_response_header(&resp, "Content-Type", "application/pem-certificate-chain"));
    ck_assert_uint_eq(resp.nheaders, 1);
    ck_assert_str_eq(resp.headers[0].value, "application/pem-certificate-chain");
    http_response_reset(&resp);

    /* A second helper replaces the first helper's type. */
    must(http_response_error(&resp, 400, "x"));
    must(http_response_problem(&resp, 403, NULL, NULL, NULL));
    ck_assert_uint_eq(resp.nheaders, 1);
    ck_assert_str_eq(resp.headers[0].name, "Content-Type");
    ck_assert_str_eq(resp.headers[0].value, "application/problem+json");
    ck_assert_str_eq(resp.body, "{\"type\":\"about:blank\",\"status\":403}");
    http_response_reset(&resp);

    /* Repeated headers append (e.g. several Link headers) up to the limit. */
    for (int i = 0; i < HTTP_MAX_RESP_HEADERS; i++) {
        snprintf(name, sizeof(name), "X-%d", i);
        must(http_response_header(&resp, "Link", name));
    }
    ck_assert_int_eq(http_response_header(&resp, "Link", "over"), MC_ERR_LIMIT);
    ck_assert_int_eq(http_response_body(&resp, 200, "text/plain", "a", 1), MC_ERR_LIMIT);
    http_response_reset(&resp);
    http_response_reset(NULL);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_literal_route);
    tcase_add_test(tc, test_params_and_star);
    tcase_add_test(tc, test_404_405);
    tcase_add_test(tc, test_body_cap);
    tcase_add_test(tc, test_body_cap_early);
    tcase_add_test(tc, test_json_and_problem);
    tcase_add_test(tc, test_error_hook);
    tcase_add_test(tc, test_before_hook);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_query_headers_remote);
    tcase_add_test(tc, test_https);
    tcase_add_test(tc, test_ipv6);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_start_errors);
    tcase_add_test(tc, test_thread_counts);
    tcase_add_test(tc, test_split_hostport);
    tcase_add_test(tc, test_response_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_ALL);
    sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
