/* curlx.c: libcurl plumbing shared by the client's transports (curlx.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/curlx.h"
#include "common/log.h"

/* Each setopt is checked through one accumulated code: the first failure wins. */
#define CX_SET(h, rc, opt, val)                                                                    \
    do {                                                                                           \
        if ((rc) == CURLE_OK)                                                                      \
            (rc) = curl_easy_setopt((h), opt, val);                                                \
    } while (0)

const char *cx_trust_file(const char *ca_bundle)
{
    const char *env;

    if (ca_bundle != NULL && ca_bundle[0] != '\0')
        return ca_bundle;
    env = getenv("SSL_CERT_FILE");
    if (env != NULL && env[0] != '\0')
        return env;
    env = getenv("CURL_CA_BUNDLE");
    if (env != NULL && env[0] != '\0')
        return env;
    return NULL;
}

CURLcode cx_set_tls(CURL *h, const char *ca_bundle, bool insecure)
{
    CURLcode rc = CURLE_OK;
    const char *ca = cx_trust_file(ca_bundle);

    if (insecure) {
        CX_SET(h, rc, CURLOPT_SSL_VERIFYPEER, 0L);
        CX_SET(h, rc, CURLOPT_SSL_VERIFYHOST, 0L);
        return rc;
    }
    CX_SET(h, rc, CURLOPT_SSL_VERIFYPEER, 1L);
    CX_SET(h, rc, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca != NULL)
        CX_SET(h, rc, CURLOPT_CAINFO, ca);
    return rc;
}

enum mc_err cx_setup(CURL *h, const struct cx_opts *o, CURLcode *why)
{
    CURLcode rc = CURLE_OK;

    CX_SET(h, rc, CURLOPT_NOSIGNAL, 1L);
    CX_SET(h, rc, CURLOPT_TCP_KEEPALIVE, 1L);
    CX_SET(h, rc, CURLOPT_FOLLOWLOCATION, 0L);
    CX_SET(h, rc, CURLOPT_PROTOCOLS_STR, "http,https");
    CX_SET(h, rc, CURLOPT_TIMEOUT, o->timeout_s);
    CX_SET(h, rc, CURLOPT_CONNECTTIMEOUT, o->timeout_s < 10 ? o->timeout_s : 10L);
    CX_SET(h, rc, CURLOPT_USERAGENT, o->user_agent);
    CX_SET(h, rc, CURLOPT_ERRORBUFFER, o->errbuf);
    CX_SET(h, rc, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    CX_SET(h, rc, CURLOPT_WRITEFUNCTION, o->on_body);
    CX_SET(h, rc, CURLOPT_HEADERFUNCTION, o->on_header);
    if (o->insecure)
        log_msg(LOGL_WARN, "certcli.insecure", "url=%s tls_verify=off",
                o->warn_url != NULL ? o->warn_url : "-");
    if (rc == CURLE_OK)
        rc = cx_set_tls(h, o->ca_bundle, o->insecure);
    *why = rc;
    return rc == CURLE_OK ? MC_OK : MC_ERR_IO;
}

CURLcode cx_exchange(CURL *h, const char *method, const char *url, const char *body,
                     struct curl_slist *hdrs, void *wdata, void *hdata)
{
    CURLcode rc = CURLE_OK;
    const char *b = body != NULL ? body : "";

    CX_SET(h, rc, CURLOPT_URL, url);
    CX_SET(h, rc, CURLOPT_WRITEDATA, wdata);
    CX_SET(h, rc, CURLOPT_HEADERDATA, hdata);
    /* Reset the method from the previous exchange on this handle first. */
    CX_SET(h, rc, CURLOPT_NOBODY, 0L);
    CX_SET(h, rc, CURLOPT_HTTPGET, 1L);
    CX_SET(h, rc, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    if (strcmp(method, "HEAD") == 0) {
        CX_SET(h, rc, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        CX_SET(h, rc, CURLOPT_POST, 1L);
        CX_SET(h, rc, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(b));
        CX_SET(h, rc, CURLOPT_POSTFIELDS, b);
        if (strcmp(method, "POST") != 0)
            CX_SET(h, rc, CURLOPT_CUSTOMREQUEST, method);
    }
    CX_SET(h, rc, CURLOPT_HTTPHEADER, hdrs);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    /* Drop pointers to this call's headers and body before anything else can run. */
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    return rc;
}

const char *cx_why(CURLcode rc, const char *errbuf)
{
    return errbuf != NULL && errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
}

size_t cx_on_body(char *p, size_t size, size_t n, void *ud)
{
    struct cx_body *b = ud;
    size_t k = size * n;

    if (k > b->max - b->len) {
        /* Returning short aborts the transfer (CURLE_WRITE_ERROR): a hostile body stops
         * at the cap instead of being buffered. */
        b->too_big = true;
        return 0;
    }
    if (b->len + k + 1 > b->cap) {
        size_t ncap = b->cap == 0 ? 4096 : b->cap;
        while (ncap < b->len + k + 1)
            ncap *= 2;
        if (ncap > b->max + 1)
            ncap = b->max + 1;
        char *nb = realloc(b->buf, ncap);
        if (nb == NULL)
            return 0;
        b->buf = nb;
        b->cap = ncap;
    }
    memcpy(b->buf + b->len, p, k);
    b->len += k;
    b->buf[b->len] = '\0';
    return k;
}

enum mc_err cx_body_take(struct cx_body *b, char **out, size_t *len)
{
    if (b->buf == NULL) {
        b->buf = calloc(1, 1); /* NUL-terminated even when empty */
        if (b->buf == NULL)
            return MC_ERR_NOMEM;
    }
    *out = b->buf;
    *len = b->len;
    b->buf = NULL;
    b->len = b->cap = 0;
    return MC_OK;
}

enum cx_hline cx_header_line(const char *p, size_t k, struct cx_field *f)
{
    size_t len = k;

    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
        return CX_HLINE_STATUS;
    const char *colon = memchr(p, ':', len);
    if (colon == NULL)
        return CX_HLINE_OTHER;
    f->name = p;
    f->nlen = (size_t)(colon - p);
    f->value = colon + 1;
    f->vlen = len - f->nlen - 1;
    while (f->vlen > 0 && (*f->value == ' ' || *f->value == '\t')) {
        f->value++;
        f->vlen--;
    }
    while (f->vlen > 0 && (f->value[f->vlen - 1] == ' ' || f->value[f->vlen - 1] == '\t'))
        f->vlen--;
    return CX_HLINE_FIELD;
}

bool cx_field_is(const struct cx_field *f, const char *name)
{
    return f->nlen == strlen(name) && strncasecmp(f->name, name, f->nlen) == 0;
}

bool cx_keep(char **slot, const char *v, size_t n)
{
    char *c = strndup(v, n);
    if (c == NULL)
        return false;
    free(*slot);
    *slot = c;
    return true;
}

bool cx_media_is(const char *ct, const char *type)
{
    if (ct == NULL)
        return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

void cx_sleep_ms(int64_t ms)
{
    struct timespec req, rem;

    if (ms <= 0)
        return;
    req.tv_sec = (time_t)(ms / 1000);
    req.tv_nsec = (long)(ms % 1000) * 1000000L;
    for (int i = 0; i < 1000; i++) {
        if (nanosleep(&req, &rem) == 0 || errno != EINTR)
            return;
        req = rem;
    }
}
