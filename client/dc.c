/* dc.c: the CertCentral client's transport (dc.h): one exchange on the client's libcurl
 * handle (body capped while it arrives, JSON parsed with caps), the error envelope, the 429
 * retry, and the request token. The typed endpoints are in dc_api.c. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "client/curlx.h"
#include "client/dc.h"
#include "client/dc_int.h"
#include "client/retry.h"
#include "client/wire.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/prng.h"

#ifndef MOCKCA_VERSION
#define MOCKCA_VERSION "0"
#endif

#define DC_MAX_HEADER_BYTES (64 * 1024)
#define DC_MAX_KEY 256
#define DC_MAX_CODE 256
#define DC_MAX_MESSAGE 1024
#define DC_BACKOFF_BASE_MS 1000
#define DC_BACKOFF_CAP_MS 30000

struct dc_client {
    char *base_url, *api_key, *ca_bundle, *user_agent;
    bool insecure;
    long timeout_s;
    int rate_retries;
    long max_wait_s;

    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    struct prng prng;

    struct dc_error err;
    bool have_err;
    char msg[1400];
    uint64_t requests, rate_waits;
};

struct dc_rx {
    struct cx_body body; /* the write callback's data */
    bool too_big;        /* the headers passed DC_MAX_HEADER_BYTES */
    size_t header_bytes;
    char *content_type, *retry_after;
};

void dc_opts_init(struct dc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = 30;
    o->rate_retries = 3;
    o->max_wait_s = 60;
}

/* ---- small helpers ---------------------------------------------------------------------- */

void dc_sleep(int64_t ms)
{
    cx_sleep_ms(ms);
}

/* Server text goes into messages and logs: keep it one printable line. */
static void dc_printable(char *s)
{
    for (char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = ' ';
}

void dc_set_msg(struct dc_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    dc_printable(c->msg);
}

void dc_error_clear(struct dc_error *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->items[i].code);
        free(e->items[i].message);
    }
    free(e->items);
    memset(e, 0, sizeof *e);
    e->retry_after_s = -1;
}

void dc_resp_free(struct dc_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->content_type);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

bool dc_id_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    n = strnlen(s, DC_MAX_ID + 1);
    if (n == 0 || n > DC_MAX_ID || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' && ch != ':')
            return false;
    }
    return true;
}

/* ---- the error envelope (A0) ------------------------------------------------------------ */

static enum mc_err dc_error_add(struct dc_error *e, const char *code, const char *message)
{
    struct dc_error_item *it;
    if (e->n >= DC_MAX_ERRORS)
        return MC_OK;
    it = &e->items[e->n];
    it->code = strndup(code, DC_MAX_CODE);
    it->message = strndup(message != NULL ? message : "", DC_MAX_MESSAGE);
    if (it->code == NULL || it->message == NULL) {
        free(it->code);
        free(it->message);
        it->code = it->message = NULL;
        return MC_ERR_NOMEM;
    }
    dc_printable(it->code);
    dc_printable(it->message);
    e->n++;
    return MC_OK;
}

static enum mc_err dc_error_item_from(struct dc_error *e, const cJSON *it)
{
    const char *code = NULL, *message = NULL;
    if (!cJSON_IsObject(it) || json_get_string(it, "code", &code) != MC_OK)
        return MC_OK; /* an item without a string code says nothing we can act on */
    if (json_get_string(it, "message", &message) != MC_OK)
        message = "";
    return dc_error_add(e, code, message);
}

enum mc_err dc_error_parse(long status, const char *body, size_t len, struct dc_error *out)
{
    cJSON *j = NULL;
    const cJSON *errs = NULL, *it;
    enum mc_err err = MC_OK;

    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    out->status = status;
    if (body == NULL || len == 0)
        return MC_OK;
    /* Not an envelope (HTML from a proxy, truncated JSON): no items, not a failure. */
    if (json_parse(body, len, DC_MAX_JSON, JSON_DEFAULT_MAX_DEPTH, &j) != MC_OK ||
        !cJSON_IsObject(j))
        goto out;
    out->items = calloc(DC_MAX_ERRORS, sizeof *out->items);
    if (out->items == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (json_get_array(j, "errors", &errs) == MC_OK) {
        cJSON_ArrayForEach(it, errs)
        {
            err = dc_error_item_from(out, it);
            if (err != MC_OK)
                goto out;
        }
    } else if (json_get_object(j, "errors", &errs) == MC_OK) {
        /* The object form riboseinc's fixtures use (spec A0 says it is wrong; we read it
         * rather than lose the code). */
        err = dc_error_item_from(out, errs);
    }
out:
    cJSON_Delete(j);
    if (err != MC_OK)
        dc_error_clear(out);
    return err;
}

bool dc_error_has(const struct dc_error *e, const char *code)
{
    size_t n;
    if (e == NULL || code == NULL)
        return false;
    n = strlen(code);
    for (size_t i = 0; i < e->n; i++) {
        const char *c = e->items[i].code;
        if (strncmp(c, code, n) == 0 && (c[n] == '\0' || c[n] == '|'))
            return true;
    }
    return false;
}

/* ---- the client ----------------------------------------------------------------------- */

static char *dc_dup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

static size_t dc_on_header(char *p, size_t size, size_t n, void *ud)
{
    struct dc_rx *rx = ud;
    size_t k = size * n;
    struct cx_field f;

    rx->header_bytes += k;
    if (rx->header_bytes > DC_MAX_HEADER_BYTES) {
        rx->too_big = true;
        return 0;
    }
    switch (cx_header_line(p, k, &f)) {
    case CX_HLINE_STATUS:
        /* A 1xx came first: only the final response's headers count. */
        free(rx->content_type);
        free(rx->retry_after);
        rx->content_type = rx->retry_after = NULL;
        return k;
    case CX_HLINE_OTHER:
        return k;
    case CX_HLINE_FIELD:
        break;
    }
    bool ok = true;
    if (cx_field_is(&f, "Content-Type"))
        ok = cx_keep(&rx->content_type, f.value, f.vlen);
    else if (cx_field_is(&f, "Retry-After"))
        ok = cx_keep(&rx->retry_after, f.value, f.vlen);
    return ok ? k : 0;
}

/* TLS trust as session.c has it (cx_trust_file). */
static enum mc_err dc_curl_setup(struct dc_client *c)
{
    struct cx_opts o = {
        .timeout_s = c->timeout_s,
        .user_agent = c->user_agent,
        .errbuf = c->curl_err,
        .max_body = DC_MAX_BODY,
        .on_body = cx_on_body,
        .on_header = dc_on_header,
        .ca_bundle = c->ca_bundle,
        .insecure = c->insecure,
        .warn_url = c->base_url,
    };
    CURLcode rc;

    if (cx_setup(c->curl, &o, &rc) != MC_OK) {
        dc_set_msg(c, "libcurl setup: %s", curl_easy_strerror(rc));
        return MC_ERR_IO;
    }
    return MC_OK;
}

static bool dc_key_ok(const char *k)
{
    size_t n;
    if (k == NULL)
        return false;
    n = strnlen(k, DC_MAX_KEY + 1);
    if (n == 0 || n > DC_MAX_KEY)
        return false;
    /* It goes into a header line: no control bytes, no spaces at either end. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] == 0x7f)
            return false;
    return true;
}

enum mc_err dc_new(const struct dc_opts *o, struct dc_client **out)
{
    struct dc_client *c = NULL;
    enum mc_err err = MC_OK;
    const char *base;
    char ua[64];
    size_t bl;

    if (o == NULL || out == NULL || !dc_key_ok(o->api_key))
        return MC_ERR_INVALID;
    base = o->base_url != NULL ? o->base_url : DC_DEFAULT_BASE_URL;
    if (wire_check_url(base) != MC_OK)
        return MC_ERR_INVALID;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return MC_ERR_NOMEM;
    c->err.retry_after_s = -1;
    bl = strlen(base);
    c->base_url = malloc(bl + 2);
    if (c->base_url == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    /* Paths are appended without a leading '/': the base must end with one. */
    snprintf(c->base_url, bl + 2, "%s%s", base, bl > 0 && base[bl - 1] == '/' ? "" : "/");
    snprintf(ua, sizeof ua, "certcli/%s", MOCKCA_VERSION);
    c->api_key = strdup(o->api_key);
    c->ca_bundle = dc_dup(o->ca_bundle);
    c->user_agent = strdup(o->user_agent != NULL ? o->user_agent : ua);
    if (c->api_key == NULL || c->user_agent == NULL || (o->ca_bundle != NULL && c->ca_bundle == NULL)) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    c->insecure = o->insecure;
    c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
    c->rate_retries = o->rate_retries >= 0 ? o->rate_retries : 3;
    c->max_wait_s = o->max_wait_s >= 0 ? o->max_wait_s : 60;
    prng_seed(&c->prng, o->seed != 0 ? o->seed : prng_seed_from_os());
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = dc_curl_setup(c);
    if (err != MC_OK)
        goto out;
    log_msg(LOGL_DEBUG, "certcli.dc.new", "base=%s key=%s", c->base_url, log_secret(c->api_key));
    *out = c;
    c = NULL;
out:
    dc_free(c);
    return err;
}

void dc_free(struct dc_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    if (c->api_key != NULL) {
        OPENSSL_cleanse(c->api_key, strlen(c->api_key));
        free(c->api_key);
    }
    free(c->ca_bundle);
    free(c->user_agent);
    dc_error_clear(&c->err);
    free(c);
}

const char *dc_base_url(const struct dc_client *c)
{
    return c->base_url;
}

const struct dc_error *dc_last_error(const struct dc_client *c)
{
    return c != NULL && c->have_err ? &c->err : NULL;
}

const char *dc_last_message(const struct dc_client *c)
{
    if (c == NULL)
        return "no client";
    return c->msg[0] != '\0' ? c->msg : "no error";
}

void dc_stats(const struct dc_client *c, uint64_t *requests, uint64_t *rate_waits)
{
    if (requests != NULL)
        *requests = c->requests;
    if (rate_waits != NULL)
        *rate_waits = c->rate_waits;
}

/* ---- one exchange --------------------------------------------------------------------- */

/* One HTTP exchange; *out holds any completed response. MC_ERR_IO, MC_ERR_TOO_BIG,
 * MC_ERR_INVALID (JSON declared and not valid) leave *out empty. */
static enum mc_err dc_http_once(struct dc_client *c, const char *method, const char *url,
                                const char *body, struct dc_resp *out, long *retry_after)
{
    struct dc_rx rx = {.body = {.max = DC_MAX_BODY}};
    struct curl_slist *hdrs = NULL, *h2;
    char keyh[DC_MAX_KEY + 16];
    enum mc_err err = MC_OK;
    CURLcode rc;

    dc_resp_free(out);
    *retry_after = -1;
    c->curl_err[0] = '\0';
    c->requests++;

    snprintf(keyh, sizeof keyh, "X-DC-DEVKEY: %s", c->api_key);
    hdrs = curl_slist_append(NULL, keyh);
    OPENSSL_cleanse(keyh, sizeof keyh);
    h2 = hdrs != NULL ? curl_slist_append(hdrs, "Accept: application/json, */*") : NULL;
    if (h2 != NULL && (body != NULL || strcmp(method, "GET") != 0))
        h2 = curl_slist_append(h2, "Content-Type: application/json");
    if (h2 == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    rc = cx_exchange(c->curl, method, url, body, hdrs, &rx.body, &rx);

    if (rx.too_big || rx.body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        dc_set_msg(c, "%s %s: response over %d bytes", method, url, DC_MAX_BODY);
        err = MC_ERR_TOO_BIG;
        goto out;
    }
    if (rc != CURLE_OK) {
        dc_set_msg(c, "%s %s: %s", method, url, cx_why(rc, c->curl_err));
        err = rc == CURLE_OUT_OF_MEMORY ? MC_ERR_NOMEM : MC_ERR_IO;
        goto out;
    }
    (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
    err = cx_body_take(&rx.body, &out->body, &out->len);
    if (err != MC_OK)
        goto out;
    out->content_type = rx.content_type;
    rx.content_type = NULL;
    if (rx.retry_after != NULL) {
        int64_t ra;
        if (retry_after_parse(rx.retry_after, clock_now(NULL), &ra) == MC_OK)
            *retry_after = (long)ra;
        else
            log_msg(LOGL_WARN, "certcli.dc.bad_retry_after", "url=%s", url);
    }
    /* Error bodies are parsed by dc_error_parse; only a 2xx JSON body must be valid. */
    if (out->status >= 200 && out->status < 300 &&
        cx_media_is(out->content_type, "application/json") && out->len > 0) {
        err = json_parse(out->body, out->len, DC_MAX_JSON, JSON_DEFAULT_MAX_DEPTH, &out->json);
        if (err != MC_OK) {
            dc_set_msg(c, "%s %s: HTTP %ld with JSON that does not parse", method, url,
                       out->status);
            err = err == MC_ERR_NOMEM ? MC_ERR_NOMEM : MC_ERR_INVALID;
            goto out;
        }
    }
    log_msg(LOGL_DEBUG, "certcli.dc.http", "method=%s status=%ld len=%zu", method, out->status,
            out->len);
out:
    curl_slist_free_all(hdrs);
    free(rx.body.buf);
    free(rx.content_type);
    free(rx.retry_after);
    if (err != MC_OK)
        dc_resp_free(out);
    return err;
}

/* Keeps the error of response r as the client's last error and message. */
static enum mc_err dc_keep_error(struct dc_client *c, const char *method, const char *path,
                                 const struct dc_resp *r, long retry_after)
{
    enum mc_err err;
    dc_error_clear(&c->err);
    err = dc_error_parse(r->status, r->body, r->len, &c->err);
    if (err != MC_OK)
        return err;
    c->err.retry_after_s = retry_after;
    c->have_err = true;
    if (c->err.n > 0)
        dc_set_msg(c, "%s: %s (HTTP %ld, %s %s)", c->err.items[0].code, c->err.items[0].message,
                   r->status, method, path);
    else
        dc_set_msg(c, "HTTP %ld without a CertCentral error body (%s %s)", r->status, method,
                   path);
    return MC_OK;
}

enum mc_err dc_request(struct dc_client *c, const char *method, const char *path,
                       const cJSON *body, struct dc_resp *out)
{
    char *url = NULL, *text = NULL;
    enum mc_err err = MC_OK;
    size_t n;
    long ra = -1;

    memset(out, 0, sizeof *out);
    if (c == NULL || method == NULL || path == NULL)
        return MC_ERR_INVALID;
    c->have_err = false;
    c->msg[0] = '\0';
    size_t bl = strlen(c->base_url), pl = strlen(path);
    n = bl + pl + 1;
    if (n > WIRE_MAX_URL) {
        dc_set_msg(c, "URL over %d bytes", WIRE_MAX_URL);
        return MC_ERR_TOO_BIG;
    }
    url = malloc(n);
    if (url == NULL)
        return MC_ERR_NOMEM;
    /* Two copies, not snprintf: the length is known, and GCC's -Wformat-truncation at
     * -O2 cannot see that n already fits both. */
    memcpy(url, c->base_url, bl);
    memcpy(url + bl, path, pl + 1);
    if (body != NULL) {
        err = json_print(body, &text);
        if (err != MC_OK)
            goto out;
    }
    for (int attempt = 0;; attempt++) {
        err = dc_http_once(c, method, url, text, out, &ra);
        if (err != MC_OK)
            goto out;
        if (out->status >= 200 && out->status < 300)
            goto out;
        err = dc_keep_error(c, method, path, out, ra);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_PROBLEM;
        if (out->status != 429 || attempt >= c->rate_retries)
            goto out;
        /* A0: 429 request_limit_exceeded, rolling windows per key. Wait out what the server
         * names; a wait longer than we may take is the caller's to report. */
        int64_t wait_ms;
        if (ra >= 0) {
            if (ra > c->max_wait_s)
                goto out;
            wait_ms = (int64_t)ra * 1000;
        } else {
            wait_ms = retry_backoff_ms(attempt, DC_BACKOFF_BASE_MS, DC_BACKOFF_CAP_MS,
                                       RETRY_JITTER_EQUAL, &c->prng);
            if (wait_ms > (int64_t)c->max_wait_s * 1000)
                wait_ms = (int64_t)c->max_wait_s * 1000;
        }
        log_msg(LOGL_INFO, "certcli.dc.rate_limited", "path=%s wait_ms=%lld attempt=%d", path,
                (long long)wait_ms, attempt + 1);
        c->rate_waits++;
        dc_resp_free(out);
        cx_sleep_ms(wait_ms);
    }
out:
    free(url);
    free(text);
    return err;
}

/* ---- request tokens (A10) ------------------------------------------------------------- */

void dc_base36(const uint8_t mac[32], char out[51])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint8_t n[32];
    int pos = 50;

    /* Long division of the big-endian number by 36, least significant digit first; 50
     * digits always suffice (36^50 > 2^256), the rest is the '0' padding of A10. */
    memcpy(n, mac, sizeof n);
    out[50] = '\0';
    while (pos > 0) {
        unsigned rem = 0;
        bool zero = true;
        for (size_t i = 0; i < sizeof n; i++) {
            unsigned cur = (rem << 8) | n[i];
            n[i] = (uint8_t)(cur / 36);
            rem = cur % 36;
            if (n[i] != 0)
                zero = false;
        }
        out[--pos] = digits[rem];
        if (zero)
            break;
    }
    while (pos > 0)
        out[--pos] = '0';
}

void dc_timestamp(int64_t t, char ts[15])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(ts, 15, "%Y%m%d%H%M%S", &tm) != 14)
        snprintf(ts, 15, "00000000000000");
}

enum mc_err dc_request_token(const char *auth_key, const char *ts, const char *csr,
                             char out[DC_TOKEN_LEN + 1])
{
    uint8_t mac[32];
    unsigned int maclen = 0;
    char *msg = NULL;
    size_t tl, cl;

    if (auth_key == NULL || ts == NULL || csr == NULL || strlen(ts) != 14)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < 14; i++)
        if (!isdigit((unsigned char)ts[i]))
            return MC_ERR_INVALID;
    tl = 14;
    cl = strlen(csr);
    msg = malloc(tl + cl + 1);
    if (msg == NULL)
        return MC_ERR_NOMEM;
    memcpy(msg, ts, tl);
    memcpy(msg + tl, csr, cl + 1);
    /* A10: key = the AuthKey's bytes, message = timestamp + CSR as sent in the order. */
    if (HMAC(EVP_sha256(), auth_key, (int)strlen(auth_key), (const unsigned char *)msg, tl + cl,
             mac, &maclen) == NULL ||
        maclen != sizeof mac) {
        free(msg);
        log_openssl_errors(LOGL_ERROR, "certcli.dc.hmac");
        return MC_ERR_CRYPTO;
    }
    free(msg);
    memcpy(out, ts, 14);
    dc_base36(mac, out + 14);
    OPENSSL_cleanse(mac, sizeof mac);
    return MC_OK;
}
