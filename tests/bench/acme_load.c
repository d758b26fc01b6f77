/* acme_load.c: a small sequential ACME client for mockca_bench.sh, and its start-up timer.
 *
 *   acme_load start URL TIMEOUT_MS -- CMD [ARGS...]
 *       forks and execs CMD, polls GET URL (TLS not verified: mockca makes its certificate at
 *       start) until it answers 200 with a directory (a "newNonce" member), prints
 *       "MS PID" (MS = milliseconds from just before fork to that answer, as a decimal), then
 *       stops the child (SIGTERM, a bounded wait, SIGKILL). Exit 1 if it never answered.
 *   acme_load issue DIR_URL N CAFILE TAG
 *       one ES256 account, then N times: newOrder for one name (TAG-I.example.com), fetch the
 *       authorization, POST its http-01 challenge (the server must be run with
 *       PEBBLE_VA_ALWAYS_VALID=1: nothing here serves the key authorization), poll the order
 *       to ready, finalize with a CSR for a fresh P-256 key, poll to valid, download the
 *       chain. Prints "ok K fail F seconds S rate R requests Q". Exit 1 if nothing issued.
 *
 * Not part of the CMake build: the benchmark compiles it with
 *   cc -O2 -o acme_load acme_load.c -lcurl -lcrypto -lcjson
 * Same client, same single connection (keep-alive), same polling for both servers, so the
 * rates compare the servers. Every loop is bounded in count and time.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AL_BODY_CAP (1024 * 1024)
#define AL_HDR_CAP 2048
#define AL_POLLS 2000      /* order polls per step, 2 ms apart: at most ~4 s + request time */
#define AL_NONCE_RETRIES 5 /* badNonce retries per request */

struct al_resp {
    long status;
    char *body;
    size_t len;
    char nonce[AL_HDR_CAP];
    char location[AL_HDR_CAP];
    bool overflow;
};

struct al_client {
    CURL *curl;
    const char *cafile;
    EVP_PKEY *key;
    char *jwk; /* JSON text of the public JWK */
    char *kid;
    char nonce[AL_HDR_CAP];
    char new_nonce[AL_HDR_CAP], new_account[AL_HDR_CAP], new_order[AL_HDR_CAP];
    unsigned long requests;
};

static double al_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void al_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static size_t al_body_cb(char *p, size_t sz, size_t n, void *ud)
{
    struct al_resp *r = ud;
    size_t add = sz * n;
    char *nb = NULL;

    if (r->len + add > AL_BODY_CAP) {
        r->overflow = true;
        return 0;
    }
    nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Copies the value of header NAME from line P (len N) into OUT, trimmed. */
static void al_header_value(const char *p, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    size_t vl;

    if (n <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
        return;
    p += nl + 1;
    n -= nl + 1;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    vl = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, vl);
    out[vl] = '\0';
}

static size_t al_header_cb(char *p, size_t sz, size_t n, void *ud)
{
    struct al_resp *r = ud;

    al_header_value(p, sz * n, "Replay-Nonce", r->nonce, sizeof(r->nonce));
    al_header_value(p, sz * n, "Location", r->location, sizeof(r->location));
    return sz * n;
}

static void al_resp_reset(struct al_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* One request on the client's connection. BODY NULL: GET (or HEAD when head). */
static bool al_http(struct al_client *c, const char *url, const char *body, bool head,
                    struct al_resp *r)
{
    struct curl_slist *hdrs = NULL;
    CURLcode cc;

    al_resp_reset(r);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, al_body_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, al_header_cb);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 10000L);
    if (c->cafile != NULL && strcmp(c->cafile, "-k") != 0) {
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cafile);
    } else {
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (head)
        curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/jose+json");
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    }
    cc = curl_easy_perform(c->curl);
    curl_slist_free_all(hdrs);
    c->requests++;
    if (cc != CURLE_OK) {
        fprintf(stderr, "acme_load: %s: %s\n", url, curl_easy_strerror(cc));
        return false;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->nonce[0] != '\0')
        memcpy(c->nonce, r->nonce, sizeof(c->nonce));
    return true;
}

/* base64url without padding of IN (len N); caller frees. */
static char *al_b64url(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    int len;
    int i, j = 0;

    if (out == NULL)
        return NULL;
    len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    for (i = 0; i < len; i++) {
        if (out[i] == '=')
            break;
        out[j++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    out[j] = '\0';
    return out;
}

static char *al_b64url_str(const char *s)
{
    return al_b64url((const unsigned char *)s, strlen(s));
}

static bool al_coord(EVP_PKEY *k, const char *param, char **out)
{
    BIGNUM *bn = NULL;
    unsigned char buf[32];
    bool ok = false;

    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
        goto out;
    if (BN_bn2binpad(bn, buf, sizeof(buf)) != (int)sizeof(buf))
        goto out;
    *out = al_b64url(buf, sizeof(buf));
    ok = *out != NULL;
out:
    BN_free(bn);
    return ok;
}

static bool al_make_jwk(struct al_client *c)
{
    char *x = NULL, *y = NULL;
    cJSON *j = NULL;
    bool ok = false;

    if (!al_coord(c->key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !al_coord(c->key, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
        goto out;
    /* Members in lexicographic order, as a thumbprint would want. */
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "crv", "P-256");
    cJSON_AddStringToObject(j, "kty", "EC");
    cJSON_AddStringToObject(j, "x", x);
    cJSON_AddStringToObject(j, "y", y);
    c->jwk = cJSON_PrintUnformatted(j);
    ok = c->jwk != NULL;
out:
    cJSON_Delete(j);
    free(x);
    free(y);
    return ok;
}

/* ES256 signature (raw r||s, base64url) of MSG. */
static char *al_sign(EVP_PKEY *key, const char *msg)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128], raw[64];
    const unsigned char *p = der;
    size_t dlen = sizeof(der);
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    char *out = NULL;

    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &dlen, (const unsigned char *)msg, strlen(msg)) != 1)
        goto out;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    if (sig == NULL)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
        goto out;
    out = al_b64url(raw, sizeof(raw));
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return out;
}

static bool al_fresh_nonce(struct al_client *c)
{
    struct al_resp r = {0};
    bool ok = al_http(c, c->new_nonce, NULL, true, &r) && c->nonce[0] != '\0';

    al_resp_reset(&r);
    return ok;
}

static bool al_is_bad_nonce(const struct al_resp *r)
{
    return r->status == 400 && r->body != NULL &&
           strstr(r->body, "urn:ietf:params:acme:error:badNonce") != NULL;
}

/* Signed POST of PAYLOAD (NULL: POST-as-GET) to URL; retries badNonce. */
static bool al_post(struct al_client *c, const char *url, const char *payload, struct al_resp *r)
{
    int attempt;
    bool ok = false;

    for (attempt = 0; attempt <= AL_NONCE_RETRIES; attempt++) {
        cJSON *prot = NULL;
        char *ptext = NULL, *p64 = NULL, *pl64 = NULL, *input = NULL, *sig = NULL, *body = NULL;
        cJSON *jws = NULL;
        size_t ilen;

        if (c->nonce[0] == '\0' && !al_fresh_nonce(c))
            return false;
        prot = cJSON_CreateObject();
        cJSON_AddStringToObject(prot, "alg", "ES256");
        cJSON_AddStringToObject(prot, "nonce", c->nonce);
        cJSON_AddStringToObject(prot, "url", url);
        if (c->kid != NULL)
            cJSON_AddStringToObject(prot, "kid", c->kid);
        else
            cJSON_AddItemToObject(prot, "jwk", cJSON_Parse(c->jwk));
        c->nonce[0] = '\0';
        ptext = cJSON_PrintUnformatted(prot);
        p64 = al_b64url_str(ptext);
        pl64 = payload != NULL ? al_b64url_str(payload) : strdup("");
        ilen = strlen(p64) + strlen(pl64) + 2;
        input = malloc(ilen);
        if (input != NULL)
            snprintf(input, ilen, "%s.%s", p64, pl64);
        sig = input != NULL ? al_sign(c->key, input) : NULL;
        if (sig != NULL) {
            jws = cJSON_CreateObject();
            cJSON_AddStringToObject(jws, "protected", p64);
            cJSON_AddStringToObject(jws, "payload", pl64);
            cJSON_AddStringToObject(jws, "signature", sig);
            body = cJSON_PrintUnformatted(jws);
        }
        ok = body != NULL && al_http(c, url, body, false, r);
        cJSON_Delete(prot);
        cJSON_Delete(jws);
        free(ptext);
        free(p64);
        free(pl64);
        free(input);
        free(sig);
        free(body);
        if (!ok || !al_is_bad_nonce(r))
            return ok;
    }
    return ok;
}

static bool al_directory(struct al_client *c, const char *url)
{
    struct al_resp r = {0};
    cJSON *d = NULL;
    const char *names[] = {"newNonce", "newAccount", "newOrder"};
    char *dst[] = {c->new_nonce, c->new_account, c->new_order};
    bool ok = false;
    size_t i;

    if (!al_http(c, url, NULL, false, &r) || r.status != 200)
        goto out;
    d = cJSON_Parse(r.body);
    for (i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, names[i]);

        if (!cJSON_IsString(v) || strlen(v->valuestring) >= AL_HDR_CAP)
            goto out;
        memcpy(dst[i], v->valuestring, strlen(v->valuestring) + 1);
    }
    ok = true;
out:
    cJSON_Delete(d);
    al_resp_reset(&r);
    return ok;
}

static const char *al_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Polls ORDER_URL until its status is WANT; *out gets the last order object. */
static bool al_poll_order(struct al_client *c, const char *order_url, const char *want,
                          cJSON **out)
{
    struct al_resp r = {0};
    int i;

    for (i = 0; i < AL_POLLS; i++) {
        const char *st;

        if (!al_post(c, order_url, NULL, &r) || r.status != 200)
            break;
        cJSON_Delete(*out);
        *out = cJSON_Parse(r.body);
        st = al_str(*out, "status");
        if (st != NULL && strcmp(st, want) == 0) {
            al_resp_reset(&r);
            return true;
        }
        if (st == NULL || strcmp(st, "invalid") == 0)
            break;
        al_sleep_ms(2);
    }
    fprintf(stderr, "acme_load: order %s never became %s (status %ld): %.300s\n", order_url,
            want, r.status, r.body != NULL ? r.body : "");
    al_resp_reset(&r);
    return false;
}

/* DER CSR for NAME with a fresh P-256 key, base64url. */
static char *al_csr(const char *name)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subj = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_EXTENSION *san = NULL;
    unsigned char *der = NULL;
    char sanv[300];
    char *out = NULL;
    int dlen;

    if (k == NULL || req == NULL)
        goto out;
    subj = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1,
                               0);
    X509_REQ_set_pubkey(req, k);
    snprintf(sanv, sizeof(sanv), "DNS:%s", name);
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sanv);
    exts = sk_X509_EXTENSION_new_null();
    if (san == NULL || exts == NULL)
        goto out;
    sk_X509_EXTENSION_push(exts, san);
    san = NULL;
    if (X509_REQ_add_extensions(req, exts) != 1 || X509_REQ_sign(req, k, EVP_sha256()) <= 0)
        goto out;
    dlen = i2d_X509_REQ(req, &der);
    if (dlen <= 0)
        goto out;
    out = al_b64url(der, (size_t)dlen);
out:
    OPENSSL_free(der);
    X509_EXTENSION_free(san);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    return out;
}

/* One issuance for NAME; true when the chain was downloaded. */
static bool al_issue_one(struct al_client *c, const char *name)
{
    struct al_resp r = {0};
    cJSON *req = NULL, *ord = NULL, *authz = NULL, *ids, *id;
    char *payload = NULL, *csr = NULL;
    char order_url[AL_HDR_CAP], finalize[AL_HDR_CAP], chall[AL_HDR_CAP] = "";
    const cJSON *auths, *chs, *ch;
    const char *s;
    bool ok = false;

    req = cJSON_CreateObject();
    ids = cJSON_AddArrayToObject(req, "identifiers");
    id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "type", "dns");
    cJSON_AddStringToObject(id, "value", name);
    cJSON_AddItemToArray(ids, id);
    payload = cJSON_PrintUnformatted(req);
    if (!al_post(c, c->new_order, payload, &r) || r.status != 201 || r.location[0] == '\0') {
        fprintf(stderr, "acme_load: newOrder: %ld %.300s\n", r.status, r.body ? r.body : "");
        goto out;
    }
    memcpy(order_url, r.location, sizeof(order_url));
    ord = cJSON_Parse(r.body);
    s = al_str(ord, "finalize");
    auths = cJSON_GetObjectItemCaseSensitive(ord, "authorizations");
    if (s == NULL || strlen(s) >= sizeof(finalize) || !cJSON_IsArray(auths) ||
        !cJSON_IsString(cJSON_GetArrayItem(auths, 0)))
        goto out;
    memcpy(finalize, s, strlen(s) + 1);
    if (!al_post(c, cJSON_GetArrayItem(auths, 0)->valuestring, NULL, &r) || r.status != 200)
        goto out;
    authz = cJSON_Parse(r.body);
    s = al_str(authz, "status");
    if (s == NULL || strcmp(s, "valid") != 0) {
        chs = cJSON_GetObjectItemCaseSensitive(authz, "challenges");
        cJSON_ArrayForEach(ch, chs)
        {
            const char *t = al_str(ch, "type"), *u = al_str(ch, "url");

            if (t != NULL && u != NULL && strcmp(t, "http-01") == 0 && strlen(u) < AL_HDR_CAP)
                memcpy(chall, u, strlen(u) + 1);
        }
        if (chall[0] == '\0' || !al_post(c, chall, "{}", &r) || r.status != 200) {
            fprintf(stderr, "acme_load: challenge: %ld %.300s\n", r.status,
                    r.body ? r.body : "");
            goto out;
        }
    }
    if (!al_poll_order(c, order_url, "ready", &ord))
        goto out;
    csr = al_csr(name);
    if (csr == NULL)
        goto out;
    cJSON_Delete(req);
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "csr", csr);
    free(payload);
    payload = cJSON_PrintUnformatted(req);
    if (!al_post(c, finalize, payload, &r) || r.status != 200) {
        fprintf(stderr, "acme_load: finalize: %ld %.300s\n", r.status, r.body ? r.body : "");
        goto out;
    }
    if (!al_poll_order(c, order_url, "valid", &ord))
        goto out;
    s = al_str(ord, "certificate");
    if (s == NULL || !al_post(c, s, NULL, &r) || r.status != 200 || r.body == NULL ||
        strstr(r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
        fprintf(stderr, "acme_load: certificate: %ld\n", r.status);
        goto out;
    }
    ok = true;
out:
    al_resp_reset(&r);
    cJSON_Delete(req);
    cJSON_Delete(ord);
    cJSON_Delete(authz);
    free(payload);
    free(csr);
    return ok;
}

static int al_cmd_issue(const char *dir_url, long n, const char *cafile, const char *tag)
{
    struct al_client c = {0};
    struct al_resp r = {0};
    long i, okn = 0, failn = 0, streak = 0;
    double t0, secs;
    char name[256];
    int rc = 1;

    c.curl = curl_easy_init();
    c.cafile = cafile;
    c.key = EVP_EC_gen("P-256");
    if (c.curl == NULL || c.key == NULL || !al_make_jwk(&c))
        goto out;
    if (!al_directory(&c, dir_url)) {
        fprintf(stderr, "acme_load: no directory at %s\n", dir_url);
        goto out;
    }
    if (!al_post(&c, c.new_account, "{\"termsOfServiceAgreed\":true}", &r) ||
        (r.status != 201 && r.status != 200) || r.location[0] == '\0') {
        fprintf(stderr, "acme_load: newAccount: %ld %.300s\n", r.status, r.body ? r.body : "");
        goto out;
    }
    c.kid = strdup(r.location);
    t0 = al_now_ms();
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s-%ld.example.com", tag, i);
        if (al_issue_one(&c, name)) {
            okn++;
            streak = 0;
        } else {
            failn++;
            if (++streak >= 10) {
                fprintf(stderr, "acme_load: 10 failures in a row, stopping\n");
                break;
            }
        }
    }
    secs = (al_now_ms() - t0) / 1e3;
    printf("ok %ld fail %ld seconds %.3f rate %.2f requests %lu\n", okn, failn, secs,
           secs > 0 ? (double)okn / secs : 0.0, c.requests);
    rc = okn > 0 ? 0 : 1;
out:
    al_resp_reset(&r);
    free(c.kid);
    free(c.jwk);
    EVP_PKEY_free(c.key);
    if (c.curl != NULL)
        curl_easy_cleanup(c.curl);
    return rc;
}

static size_t al_discard_cb(char *p, size_t sz, size_t n, void *ud)
{
    struct al_resp *r = ud;

    return al_body_cb(p, sz, n, r);
}

static void al_stop_child(pid_t pid)
{
    int i, st;

    kill(pid, SIGTERM);
    for (i = 0; i < 500; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return;
        al_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

static int al_cmd_start(const char *url, long timeout_ms, char **argv)
{
    CURL *curl = curl_easy_init();
    struct al_resp r = {0};
    double t0, t;
    pid_t pid;
    int st;
    long code = 0;

    if (curl == NULL)
        return 1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, al_discard_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    t0 = al_now_ms();
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the timer */
        /* The server's banner and logs must not mix with the timing printed here. */
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
            close(devnull);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    for (;;) {
        t = al_now_ms();
        if (t - t0 > (double)timeout_ms || waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "acme_load: %s did not answer %s within %ld ms\n", argv[0], url,
                    timeout_ms);
            al_stop_child(pid);
            curl_easy_cleanup(curl);
            return 1;
        }
        al_resp_reset(&r);
        /* A new connection each try, as a fresh client would make. */
        curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
        if (curl_easy_perform(curl) == CURLE_OK &&
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200 &&
            r.body != NULL && strstr(r.body, "newNonce") != NULL)
            break;
        al_sleep_ms(1);
    }
    t = al_now_ms();
    printf("%.1f %d\n", t - t0, (int)pid);
    fflush(stdout);
    al_resp_reset(&r);
    curl_easy_cleanup(curl);
    al_stop_child(pid);
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long n;
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc >= 6 && strcmp(argv[1], "start") == 0 && strcmp(argv[4], "--") == 0) {
        errno = 0;
        n = strtol(argv[3], &end, 10);
        if (errno != 0 || *end != '\0' || n <= 0 || n > 600000)
            return 2;
        rc = al_cmd_start(argv[2], n, argv + 5);
    } else if (argc == 6 && strcmp(argv[1], "issue") == 0) {
        errno = 0;
        n = strtol(argv[3], &end, 10);
        if (errno != 0 || *end != '\0' || n <= 0 || n > 10000000)
            return 2;
        rc = al_cmd_issue(argv[2], n, argv[4], argv[5]);
    } else {
        fprintf(stderr, "usage: acme_load start URL TIMEOUT_MS -- CMD [ARGS...]\n"
                        "       acme_load issue DIR_URL N CAFILE|-k TAG\n");
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
