/* transcript.c: exchanges as JSON lines (transcript.h). */
#include "mockca/transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/b64url.h"
#include "common/file.h"
#include "common/json.h"

#define TR_REDACTED "REDACTED"
#define TR_JSON_DEPTH 24

struct tr_writer {
    pthread_mutex_t mu;
    int fd;
    bool own_fd;
    size_t max_bytes;
    size_t bytes;
    size_t written;
    size_t dropped;
};

/* Request headers worth keeping: the ones RFC 8555 and the CertCentral API give meaning to.
 * The layer reads headers by name only, so the set is fixed. */
static const char *const tr_req_headers[] = {"Content-Type", "Accept", "Accept-Language",
                                             "User-Agent", "Authorization", "X-DC-DEVKEY"};

static const char *const tr_secret_names[] = {
    "auth_key", "authkey", "api_key", "apikey", "hmac", "hmac_key", "mac_key", "private_key",
    "privatekey", "secret", "password", "key_secret", "tsig_secret",
};

int tr_is_secret_name(const char *name)
{
    for (size_t i = 0; i < sizeof(tr_secret_names) / sizeof(tr_secret_names[0]); i++)
        if (strcasecmp(name, tr_secret_names[i]) == 0)
            return 1;
    return 0;
}

/* ---- writer ---------------------------------------------------------------------------- */

static enum mc_err tr_new(int fd, bool own, size_t max_bytes, struct tr_writer **out)
{
    struct tr_writer *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return MC_ERR_NOMEM;
    pthread_mutex_init(&w->mu, NULL);
    w->fd = fd;
    w->own_fd = own;
    w->max_bytes = max_bytes != 0 ? max_bytes : TR_DEFAULT_MAX_BYTES;
    *out = w;
    return MC_OK;
}

enum mc_err tr_open_path(const char *path, size_t max_bytes, struct tr_writer **out)
{
    enum mc_err e;
    int fd;

    *out = NULL;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return MC_ERR_IO;
    e = tr_new(fd, true, max_bytes, out);
    if (e != MC_OK)
        close(fd);
    return e;
}

enum mc_err tr_open_fd(int fd, size_t max_bytes, struct tr_writer **out)
{
    *out = NULL;
    if (fd < 0)
        return MC_ERR_INVALID;
    return tr_new(fd, false, max_bytes, out);
}

/* Writes all of buf, retrying short writes and EINTR. */
static enum mc_err tr_write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return MC_ERR_IO;
        buf += k;
        n -= (size_t)k;
    }
    return MC_OK;
}

void tr_close(struct tr_writer *w)
{
    char line[64];
    int n;

    if (w == NULL)
        return;
    if (w->dropped > 0) {
        n = snprintf(line, sizeof(line), "{\"dropped\":%zu}\n", w->dropped);
        if (n > 0 && tr_write_all(w->fd, line, (size_t)n) != MC_OK) {
            /* Nothing to tell: the transcript is already cut short. */
        }
    }
    if (w->own_fd)
        close(w->fd);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

enum mc_err tr_write(struct tr_writer *w, cJSON *rec)
{
    char *text = NULL;
    enum mc_err e = MC_OK;
    size_t n;

    pthread_mutex_lock(&w->mu);
    cJSON_DeleteItemFromObject(rec, "seq");
    if (cJSON_AddNumberToObject(rec, "seq", (double)(w->written + w->dropped + 1)) == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    text = cJSON_PrintUnformatted(rec);
    if (text == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    n = strlen(text);
    if (w->bytes + n + 1 > w->max_bytes) {
        w->dropped++;
        e = MC_ERR_LIMIT;
        goto out;
    }
    /* One write of line plus newline, so lines from several workers never interleave. */
    text[n] = '\n';
    e = tr_write_all(w->fd, text, n + 1);
    if (e == MC_OK) {
        w->bytes += n + 1;
        w->written++;
    }
out:
    pthread_mutex_unlock(&w->mu);
    free(text);
    return e;
}

void tr_counts(struct tr_writer *w, size_t *written, size_t *dropped)
{
    pthread_mutex_lock(&w->mu);
    if (written != NULL)
        *written = w->written;
    if (dropped != NULL)
        *dropped = w->dropped;
    pthread_mutex_unlock(&w->mu);
}

/* ---- building a record ------------------------------------------------------------------ */

/* Replaces the value of every secret-named member (at any depth) by "REDACTED". */
static void tr_redact(cJSON *j)
{
    cJSON *c, *next;

    if (j == NULL)
        return;
    for (c = j->child; c != NULL; c = next) {
        next = c->next; /* c may be replaced below */
        if (c->string != NULL && cJSON_IsObject(j) && tr_is_secret_name(c->string)) {
            cJSON *r = cJSON_CreateString(TR_REDACTED);
            /* By name, so the member keeps it (the pointer form would drop it). */
            if (r != NULL)
                cJSON_ReplaceItemInObjectCaseSensitive(j, c->string, r);
            continue;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            tr_redact(c);
    }
}

/* A body as JSON when it parses, else as a string cut at TR_MAX_BODY. *truncated says so. */
static cJSON *tr_body(const char *data, size_t len, bool *truncated)
{
    cJSON *j = NULL;

    *truncated = false;
    if (data == NULL || len == 0)
        return cJSON_CreateString("");
    if (len <= TR_MAX_BODY && json_parse(data, len, TR_MAX_BODY, TR_JSON_DEPTH, &j) == MC_OK) {
        tr_redact(j);
        return j;
    }
    if (len > TR_MAX_BODY) {
        *truncated = true;
        len = TR_MAX_BODY;
    }
    /* Bodies may hold NUL or invalid UTF-8 bytes: keep printable ASCII, PEM and text as
     * they are, and replace the rest with '?', so the line stays valid JSON. */
    char *s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        s[i] = (ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\r' || ch == '\t' ? (char)ch : '?';
    }
    s[len] = '\0';
    j = cJSON_CreateString(s);
    free(s);
    return j;
}

/* Decodes one base64url member of a JWS into JSON (or "" when empty); NULL when it is
 * neither. */
static cJSON *tr_b64_json(const cJSON *jws, const char *member)
{
    const char *s = NULL;
    uint8_t *raw = NULL;
    size_t n = 0;
    cJSON *j = NULL;

    if (json_get_string(jws, member, &s) != MC_OK)
        return NULL;
    if (s[0] == '\0')
        return cJSON_CreateString("");
    if (b64url_decode(s, strlen(s), &raw, &n) != MC_OK)
        return NULL;
    if (json_parse((const char *)raw, n, TR_MAX_BODY, TR_JSON_DEPTH, &j) != MC_OK)
        j = NULL;
    free(raw);
    return j;
}

/* A flattened JWS {"protected","payload","signature"} as {"protected": {...}, "payload":
 * {...}|""}, the signature dropped; NULL when body is not one. */
static cJSON *tr_jws(const cJSON *body, int depth)
{
    cJSON *out = NULL, *prot = NULL, *payload = NULL, *inner = NULL;

    if (!cJSON_IsObject(body) || cJSON_GetObjectItemCaseSensitive(body, "protected") == NULL ||
        cJSON_GetObjectItemCaseSensitive(body, "signature") == NULL)
        return NULL;
    prot = tr_b64_json(body, "protected");
    payload = tr_b64_json(body, "payload");
    out = cJSON_CreateObject();
    if (prot == NULL || payload == NULL || out == NULL)
        goto fail;
    if (cJSON_IsObject(payload) && depth == 0) {
        /* EAB (RFC 8555 section 7.3.4): its signature is the MAC: keep the header only.
         * keyChange (section 7.3.5): an inner JWS, decoded as the outer one. */
        cJSON *eab = cJSON_GetObjectItemCaseSensitive(payload, "externalAccountBinding");
        if (eab != NULL) {
            cJSON *eprot = tr_b64_json(eab, "protected");
            cJSON *e2 = cJSON_CreateObject();
            if (e2 == NULL || eprot == NULL || !cJSON_AddItemToObject(e2, "protected", eprot) ||
                cJSON_AddStringToObject(e2, "signature", TR_REDACTED) == NULL) {
                cJSON_Delete(eprot);
                cJSON_Delete(e2);
                goto fail;
            }
            cJSON_ReplaceItemInObjectCaseSensitive(payload, "externalAccountBinding", e2);
        }
        inner = tr_jws(payload, depth + 1);
        if (inner != NULL) {
            cJSON_Delete(payload);
            payload = inner;
            inner = NULL;
        }
    }
    tr_redact(payload);
    if (!cJSON_AddItemToObject(out, "protected", prot)) {
        cJSON_Delete(payload);
        cJSON_Delete(out);
        return NULL;
    }
    prot = NULL;
    if (!cJSON_AddItemToObject(out, "payload", payload)) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
fail:
    cJSON_Delete(prot);
    cJSON_Delete(payload);
    cJSON_Delete(out);
    return NULL;
}

static enum mc_err tr_add_headers_req(cJSON *side, const struct http_request *req)
{
    cJSON *h = cJSON_AddObjectToObject(side, "headers");

    if (h == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < sizeof(tr_req_headers) / sizeof(tr_req_headers[0]); i++) {
        const char *v = http_request_header(req, tr_req_headers[i]);
        if (v == NULL)
            continue;
        if (strcasecmp(tr_req_headers[i], "Authorization") == 0 ||
            strcasecmp(tr_req_headers[i], "X-DC-DEVKEY") == 0)
            v = TR_REDACTED;
        if (cJSON_AddStringToObject(h, tr_req_headers[i], v) == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static const char *tr_resp_header(const struct http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (resp->headers[i].name != NULL && strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

static enum mc_err tr_add_headers_resp(cJSON *side, const struct http_response *resp)
{
    cJSON *h = cJSON_AddObjectToObject(side, "headers");

    if (h == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < resp->nheaders; i++) {
        const char *name = resp->headers[i].name, *v = resp->headers[i].value;
        cJSON *old;
        if (name == NULL || v == NULL)
            continue;
        /* Link may repeat (RFC 8555 section 7.4.2 alternates, "up", "index"): join the
         * values as HTTP does, with ", ". */
        old = cJSON_GetObjectItem(h, name);
        if (old != NULL && cJSON_IsString(old)) {
            size_t n = strlen(old->valuestring) + strlen(v) + 3;
            char *joined = malloc(n);
            if (joined == NULL)
                return MC_ERR_NOMEM;
            snprintf(joined, n, "%s, %s", old->valuestring, v);
            cJSON_ReplaceItemInObject(h, name, cJSON_CreateString(joined));
            free(joined);
            continue;
        }
        if (cJSON_AddStringToObject(h, name, v) == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

enum mc_err tr_build(const char *listener, int64_t at_ms, const struct http_request *req,
                     const struct http_response *resp, cJSON **out)
{
    cJSON *rec = NULL, *rq = NULL, *rs = NULL, *body = NULL, *jws = NULL;
    const char *ua = http_request_header(req, "User-Agent");
    const char *account = NULL;
    bool trunc = false;
    enum mc_err e = MC_ERR_NOMEM;

    *out = NULL;
    rec = cJSON_CreateObject();
    if (rec == NULL)
        goto out;
    if (cJSON_AddNumberToObject(rec, "time", (double)at_ms) == NULL ||
        cJSON_AddStringToObject(rec, "listener", listener) == NULL ||
        cJSON_AddStringToObject(rec, "method", req->method != NULL ? req->method : "") == NULL ||
        cJSON_AddStringToObject(rec, "path", req->path != NULL ? req->path : "") == NULL)
        goto out;
    rq = cJSON_AddObjectToObject(rec, "request");
    if (rq == NULL || tr_add_headers_req(rq, req) != MC_OK)
        goto out;
    body = tr_body((const char *)req->body, req->body_len, &trunc);
    if (body == NULL)
        goto out;
    jws = tr_jws(body, 0);
    if (jws != NULL) {
        cJSON *prot = cJSON_GetObjectItemCaseSensitive(jws, "protected");
        cJSON *kid = cJSON_GetObjectItemCaseSensitive(prot, "kid");
        cJSON_Delete(body);
        body = jws;
        jws = NULL;
        if (cJSON_IsString(kid))
            account = kid->valuestring;
    }
    if (cJSON_AddBoolToObject(rq, "jws", cJSON_GetObjectItem(body, "protected") != NULL) == NULL)
        goto out;
    if (trunc && cJSON_AddTrueToObject(rq, "truncated") == NULL)
        goto out;
    if (!cJSON_AddItemToObject(rq, "body", body)) {
        cJSON_Delete(body);
        goto out;
    }
    if (cJSON_AddNumberToObject(rec, "status", resp->status) == NULL)
        goto out;
    rs = cJSON_AddObjectToObject(rec, "response");
    if (rs == NULL || tr_add_headers_resp(rs, resp) != MC_OK)
        goto out;
    if (resp->drop && cJSON_AddTrueToObject(rs, "dropped") == NULL)
        goto out;
    body = tr_body(resp->body, resp->body_len, &trunc);
    if (body == NULL)
        goto out;
    if (!cJSON_AddItemToObject(rs, "body", body)) {
        cJSON_Delete(body);
        goto out;
    }
    if (trunc && cJSON_AddTrueToObject(rs, "truncated") == NULL)
        goto out;
    /* A new account (RFC 8555 section 7.3) is signed with "jwk": its URL is the Location. */
    if (account == NULL && resp->status >= 200 && resp->status < 300 &&
        cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "body"), "protected") != NULL)
        account = tr_resp_header(resp, "Location");
    if ((account != NULL ? cJSON_AddStringToObject(rec, "account", account)
                         : cJSON_AddNullToObject(rec, "account")) == NULL)
        goto out;
    if ((ua != NULL ? cJSON_AddStringToObject(rec, "user_agent", ua)
                    : cJSON_AddNullToObject(rec, "user_agent")) == NULL)
        goto out;
    *out = rec;
    rec = NULL;
    e = MC_OK;
out:
    cJSON_Delete(jws);
    cJSON_Delete(rec);
    return e;
}

/* ---- reading -------------------------------------------------------------------------- */

enum mc_err tr_load(const char *path, size_t max_bytes, cJSON **out, char *err, size_t errn)
{
    char *text = NULL;
    size_t len = 0, lineno = 0, count = 0;
    cJSON *arr = NULL;
    enum mc_err e;

    *out = NULL;
    if (err != NULL && errn > 0)
        err[0] = '\0';
    e = file_read_all(path, max_bytes != 0 ? max_bytes : TR_DEFAULT_MAX_BYTES, &text, &len);
    if (e != MC_OK) {
        if (err != NULL)
            snprintf(err, errn, "%s: cannot read: %s", path, mc_strerror(e));
        return e;
    }
    arr = cJSON_CreateArray();
    if (arr == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
        cJSON *j = NULL;
        bool blank = true;

        pos += n + (nl != NULL ? 1 : 0);
        lineno++;
        for (size_t i = 0; i < n; i++)
            if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                blank = false;
        if (blank)
            continue;
        e = json_parse(line, n, TR_MAX_LINE, 64, &j);
        if (e != MC_OK || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            if (err != NULL)
                snprintf(err, errn, "%s:%zu: not a JSON object", path, lineno);
            e = MC_ERR_INVALID;
            goto out;
        }
        if (cJSON_GetObjectItemCaseSensitive(j, "method") == NULL) {
            cJSON_Delete(j);
            continue;
        }
        if (++count > TR_MAX_RECORDS) {
            cJSON_Delete(j);
            if (err != NULL)
                snprintf(err, errn, "%s: more than %d records", path, TR_MAX_RECORDS);
            e = MC_ERR_TOO_BIG;
            goto out;
        }
        cJSON_AddItemToArray(arr, j);
    }
    *out = arr;
    arr = NULL;
    e = MC_OK;
out:
    cJSON_Delete(arr);
    free(text);
    return e;
}
