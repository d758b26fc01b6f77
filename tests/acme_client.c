/* acme_client.c: the ACME test client shared by the mockca integration tests (see
 * acme_client.h). One client per process, so its state is file-scope globals. */
#include "acme_client.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/file.h"
#include "common/http.h"
#include "common/jose.h"
#include "common/keys.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "mockca/acme/render.h"

struct mockca *g_m;
CURL *g_curl;
char g_nonce[64];
char g_base[128];
const char *g_user_agent;

static long g_timeout_s = 20;

/* ---- the http-01 responder (the client's side of the challenge) ------------------------ */

static pthread_mutex_t g_tok_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_tok[MAX_TOKENS][64];
static char g_keyauth[MAX_TOKENS][160];
static size_t g_ntok;
static struct http_server *g_resp_srv;

static void responder(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const char *tok = req->nparams > 0 ? req->params[0] : "";
    enum mc_err e = MC_ERR_NOT_FOUND;

    (void)ctx;
    pthread_mutex_lock(&g_tok_mu);
    for (size_t i = 0; i < g_ntok; i++)
        if (strcmp(g_tok[i], tok) == 0) {
            e = http_response_body(resp, 200, "text/plain", g_keyauth[i], strlen(g_keyauth[i]));
            break;
        }
    pthread_mutex_unlock(&g_tok_mu);
    if (e != MC_OK && http_response_error(resp, 404, "no such token") != MC_OK)
        resp->status = 404;
}

static const struct http_route responder_routes[] = {
    {"GET", "/.well-known/acme-challenge/{}", responder},
};

uint16_t ac_responder_start(void)
{
    struct http_server_config hc;

    pthread_mutex_lock(&g_tok_mu);
    g_ntok = 0;
    pthread_mutex_unlock(&g_tok_mu);
    memset(&hc, 0, sizeof(hc));
    hc.bind_addr = "127.0.0.1";
    hc.routes = responder_routes;
    hc.nroutes = 1;
    ck_assert_int_eq(http_server_start(&hc, &g_resp_srv), MC_OK);
    return http_server_port(g_resp_srv);
}

void ac_responder_stop(void)
{
    http_server_stop(g_resp_srv);
    g_resp_srv = NULL;
}

void provision_http(const char *token, const char *keyauth)
{
    pthread_mutex_lock(&g_tok_mu);
    ck_assert_uint_lt(g_ntok, MAX_TOKENS);
    snprintf(g_tok[g_ntok], sizeof(g_tok[0]), "%s", token);
    snprintf(g_keyauth[g_ntok], sizeof(g_keyauth[0]), "%s", keyauth);
    g_ntok++;
    pthread_mutex_unlock(&g_tok_mu);
}

/* ---- responses ----------------------------------------------------------------------- */

size_t collect(char *p, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t add = size * n, old = *buf != NULL ? strlen(*buf) : 0;
    char *nb = realloc(*buf, old + add + 1);
    ck_assert_ptr_nonnull(nb);
    memcpy(nb + old, p, add);
    nb[old + add] = '\0';
    *buf = nb;
    return add;
}

void resp_free(struct resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

char *header(const struct resp *r, const char *name)
{
    char *found = NULL;
    const char *p = r->headers;
    size_t nl = strlen(name);

    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            free(found);
            found = strndup(v, len - (size_t)(v - p));
        }
        p = eol != NULL ? eol + 2 : NULL;
    }
    return found;
}

int header_count(const struct resp *r, const char *name, const char *sub)
{
    const char *p = r->headers;
    size_t nl = strlen(name);
    int n = 0;

    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            char *line = strndup(p, len);
            if (strstr(line, sub) != NULL)
                n++;
            free(line);
        }
        p = eol != NULL ? eol + 2 : NULL;
    }
    return n;
}

bool header_has(const struct resp *r, const char *name, const char *sub)
{
    return header_count(r, name, sub) > 0;
}

/* ---- exchanges ------------------------------------------------------------------------- */

void http_hdrs(const char *method, const char *url, const char *const *hdrs, const char *body,
               struct resp *out)
{
    struct curl_slist *sl = NULL;
    char *nonce;

    memset(out, 0, sizeof(*out));
    curl_easy_reset(g_curl);
    struct curl_blob blob = {.data = (void *)mockca_tls_root_pem(g_m),
                             .len = strlen(mockca_tls_root_pem(g_m)),
                             .flags = CURL_BLOB_COPY};
    ck_assert_int_eq(curl_easy_setopt(g_curl, CURLOPT_CAINFO_BLOB, &blob), CURLE_OK);
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT, g_timeout_s);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(g_curl, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(g_curl, CURLOPT_HEADERDATA, &out->headers);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(g_curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(g_curl, CURLOPT_CUSTOMREQUEST, method);
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    sl = curl_slist_append(sl, "Expect:");
    curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, sl);
    if (g_user_agent != NULL)
        curl_easy_setopt(g_curl, CURLOPT_USERAGENT, g_user_agent);
    CURLcode rc = curl_easy_perform(g_curl);
    curl_slist_free_all(sl);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->body == NULL)
        out->body = strdup("");
    if (out->headers == NULL)
        out->headers = strdup("");
    out->len = strlen(out->body);
    /* Every response carries a nonce (RFC 8555 section 6.5): the tests rely on it. */
    nonce = header(out, "Replay-Nonce");
    ck_assert_msg(nonce != NULL, "%s %s -> %ld without Replay-Nonce", method, url, out->status);
    snprintf(g_nonce, sizeof(g_nonce), "%s", nonce);
    free(nonce);
}

void http(const char *method, const char *url, const char *body, struct resp *out)
{
    const char *hdrs[] = {JOSE_CT, NULL};
    http_hdrs(method, url, hdrs, body, out);
}

char *url_of(const char *path)
{
    size_t n = strlen(g_base) + strlen(path) + 1;
    char *u = malloc(n);
    ck_assert_ptr_nonnull(u);
    snprintf(u, n, "%s%s", g_base, path);
    return u;
}

cJSON *body_json(const struct resp *r)
{
    cJSON *j = cJSON_Parse(r->body);
    ck_assert_msg(j != NULL, "not JSON: %s", r->body);
    return j;
}

const char *jstr(const cJSON *j, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    ck_assert_msg(s != NULL, "no string %s", name);
    return s;
}

static void problem_check(const struct resp *r, long status, const char *name, bool member)
{
    char urn[128], *ct = header(r, "Content-Type");
    cJSON *j = body_json(r);

    snprintf(urn, sizeof(urn), URN "%s", name);
    ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status, r->body);
    ck_assert_ptr_nonnull(ct);
    ck_assert_str_eq(ct, "application/problem+json");
    ck_assert_msg(strcmp(jstr(j, "type"), urn) == 0, "type: %s, want %s", r->body, name);
    if (member)
        ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "status")),
                         (int)status);
    free(ct);
    cJSON_Delete(j);
}

void assert_problem(const struct resp *r, long status, const char *name)
{
    problem_check(r, status, name, false);
}

void assert_problem_status(const struct resp *r, long status, const char *name)
{
    problem_check(r, status, name, true);
}

/* ---- signed requests ------------------------------------------------------------------- */

EVP_PKEY *newkey(void)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    return k;
}

void post_url_nonce(const char *url, EVP_PKEY *key, const char *kid, const char *payload,
                    const char *nonce, struct resp *out)
{
    enum jose_alg alg;
    cJSON *h = cJSON_CreateObject(), *jws = NULL;
    char *body;

    cJSON_AddStringToObject(h, "nonce", nonce != NULL ? nonce : g_nonce);
    cJSON_AddStringToObject(h, "url", url);
    if (kid != NULL) {
        cJSON_AddStringToObject(h, "kid", kid);
    } else {
        cJSON *jwk = NULL;
        ck_assert_int_eq(jwk_to_json(key, &jwk), MC_OK);
        cJSON_AddItemToObject(h, "jwk", jwk);
    }
    ck_assert_int_eq(jose_alg_for_key(key, &alg), MC_OK);
    ck_assert_int_eq(jws_sign(key, alg, h, (const uint8_t *)payload,
                              payload != NULL ? strlen(payload) : 0, &jws),
                     MC_OK);
    body = cJSON_PrintUnformatted(jws);
    http("POST", url, body, out);
    free(body);
    cJSON_Delete(jws);
    cJSON_Delete(h);
}

void post_url(const char *url, EVP_PKEY *key, const char *kid, const char *payload,
              struct resp *out)
{
    post_url_nonce(url, key, kid, payload, NULL, out);
}

void post(const char *path, EVP_PKEY *key, const char *kid, const char *payload, struct resp *out)
{
    char *url = url_of(path);
    post_url(url, key, kid, payload, out);
    free(url);
}

long new_account(EVP_PKEY *key, const char *payload, char **location)
{
    struct resp r;
    long st;

    post(ACME_PATH_NEW_ACCOUNT, key, NULL, payload, &r);
    st = r.status;
    if (location != NULL)
        *location = header(&r, "Location");
    resp_free(&r);
    return st;
}

char *account(EVP_PKEY *key)
{
    char *loc = NULL;
    ck_assert_int_eq(new_account(key, "{\"termsOfServiceAgreed\":true}", &loc), 201);
    ck_assert_ptr_nonnull(loc);
    return loc;
}

/* ---- ACME steps (order, challenges, finalize) ------------------------------------------- */

void pause_a_little(void)
{
    struct timespec ts = {0, POLL_SLEEP_NS};
    nanosleep(&ts, NULL);
}

char *new_order(EVP_PKEY *key, const char *kid, const char *payload, cJSON **order)
{
    struct resp r;
    char *loc;

    post(ACME_PATH_NEW_ORDER, key, kid, payload, &r);
    ck_assert_msg(r.status == 201, "newOrder: %ld %s", r.status, r.body);
    loc = header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_ptr_nonnull(strstr(loc, ACME_PATH_ORDER));
    *order = body_json(&r);
    ck_assert_str_eq(jstr(*order, "status"), "pending");
    resp_free(&r);
    return loc;
}

cJSON *fetch(EVP_PKEY *key, const char *kid, const char *url)
{
    struct resp r;
    cJSON *j;

    post_url(url, key, kid, NULL, &r);
    ck_assert_msg(r.status == 200, "%s: %ld %s", url, r.status, r.body);
    j = body_json(&r);
    resp_free(&r);
    return j;
}

cJSON *poll_status(EVP_PKEY *key, const char *kid, const char *url, const char *want)
{
    for (int i = 0; i < POLL_TRIES; i++) {
        cJSON *j = fetch(key, kid, url);
        const char *st = jstr(j, "status");
        if (strcmp(st, want) == 0)
            return j;
        ck_assert_msg(strcmp(st, "pending") == 0 || strcmp(st, "processing") == 0 ||
                          strcmp(st, "ready") == 0,
                      "%s is %s, want %s: %s", url, st, want, cJSON_PrintUnformatted(j));
        cJSON_Delete(j);
        pause_a_little();
    }
    ck_abort_msg("%s never became %s", url, want);
    return NULL;
}

char *keyauth_of(EVP_PKEY *key, const char *token)
{
    char *thumb = NULL, *ka;
    size_t n;

    ck_assert_int_eq(jwk_thumbprint(key, &thumb), MC_OK);
    n = strlen(token) + strlen(thumb) + 2;
    ka = malloc(n);
    ck_assert_ptr_nonnull(ka);
    snprintf(ka, n, "%s.%s", token, thumb);
    free(thumb);
    return ka;
}

void set_txt(const char *name, const char *keyauth)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    char *v = NULL, host[300];

    SHA256((const unsigned char *)keyauth, strlen(keyauth), d);
    ck_assert_int_eq(b64url_encode(d, sizeof(d), &v), MC_OK);
    snprintf(host, sizeof(host), "_acme-challenge.%s", name);
    ck_assert_int_eq(zone_add_txt(dnsmock_zones(mockca_dnsmock(g_m)), host, v, strlen(v)), MC_OK);
    free(v);
}

const cJSON *challenge_of(const cJSON *a, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(a, "challenges"))
    {
        if (strcmp(jstr(c, "type"), type) == 0)
            return c;
    }
    ck_abort_msg("no %s challenge", type);
    return NULL;
}

void answer_all(EVP_PKEY *key, const char *kid, const cJSON *order, const char *type,
                bool bad_keyauth)
{
    const cJSON *au;

    cJSON_ArrayForEach(au, cJSON_GetObjectItemCaseSensitive(order, "authorizations"))
    {
        cJSON *a = fetch(key, kid, au->valuestring);
        const cJSON *c = challenge_of(a, type);
        const cJSON *ident = cJSON_GetObjectItemCaseSensitive(a, "identifier");
        char *ka = keyauth_of(key, jstr(c, "token"));
        struct resp r;

        if (bad_keyauth)
            ka[0] = ka[0] == 'A' ? 'B' : 'A';
        if (strcmp(type, "http-01") == 0)
            provision_http(jstr(c, "token"), ka);
        else
            set_txt(jstr(ident, "value"), ka);
        post_url(jstr(c, "url"), key, kid, "{}", &r);
        ck_assert_msg(r.status == 200, "challenge: %ld %s", r.status, r.body);
        ck_assert_int_eq(header_count(&r, "Link", "rel=\"up\""), 1);
        ck_assert_int_eq(header_count(&r, "Link", au->valuestring), 1);
        resp_free(&r);
        free(ka);
        cJSON_Delete(a);
    }
}

char *csr_b64(EVP_PKEY *key, const char *cn, const char *const *names, size_t n)
{
    struct ident_list l = {0};
    X509_REQ *req = NULL;
    uint8_t *der = NULL;
    size_t dn = 0;
    char *b = NULL;

    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, names[i]), MC_OK);
    ck_assert_int_eq(csr_build(key, cn, &l, false, &req), MC_OK);
    ck_assert_int_eq(csr_to_der(req, &der, &dn), MC_OK);
    ck_assert_int_eq(b64url_encode(der, dn, &b), MC_OK);
    free(der);
    X509_REQ_free(req);
    ident_list_free(&l);
    return b;
}

void finalize(EVP_PKEY *key, const char *kid, const cJSON *order, const char *csr, struct resp *r)
{
    cJSON *p = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(p, "csr", csr);
    s = cJSON_PrintUnformatted(p);
    post_url(jstr(order, "finalize"), key, kid, s, r);
    free(s);
    cJSON_Delete(p);
}

cJSON *issue_ex(EVP_PKEY *key, const char *kid, const char *const *names, size_t n,
                const char *type, EVP_PKEY *ck_in, const char *replaces)
{
    cJSON *p = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(p, "identifiers"), *order,
          *ready, *valid;
    char *payload, *loc, *csr;
    EVP_PKEY *ck = ck_in != NULL ? ck_in : newkey();
    struct resp r;

    for (size_t i = 0; i < n; i++) {
        cJSON *id = cJSON_CreateObject();
        cJSON_AddStringToObject(id, "type", "dns");
        cJSON_AddStringToObject(id, "value", names[i]);
        cJSON_AddItemToArray(ids, id);
    }
    if (replaces != NULL)
        cJSON_AddStringToObject(p, "replaces", replaces);
    payload = cJSON_PrintUnformatted(p);
    loc = new_order(key, kid, payload, &order);
    if (replaces != NULL)
        ck_assert_str_eq(jstr(order, "replaces"), replaces);
    answer_all(key, kid, order, type, false);
    ready = poll_status(key, kid, loc, "ready");
    csr = csr_b64(ck, names[0], names, n);
    finalize(key, kid, ready, csr, &r);
    ck_assert_msg(r.status == 200, "finalize: %ld %s", r.status, r.body);
    resp_free(&r);
    valid = poll_status(key, kid, loc, "valid");
    free(csr);
    cJSON_Delete(ready);
    cJSON_Delete(order);
    free(loc);
    free(payload);
    cJSON_Delete(p);
    if (ck_in == NULL)
        EVP_PKEY_free(ck);
    return valid;
}

cJSON *issue(EVP_PKEY *key, const char *kid, const char *const *names, size_t n, const char *type)
{
    return issue_ex(key, kid, names, n, type, NULL, NULL);
}

/* ---- attach / detach ------------------------------------------------------------------- */

void ac_set_timeout(long seconds)
{
    g_timeout_s = seconds;
}

void ac_attach(struct mockca *m)
{
    struct resp r;

    g_m = m;
    g_timeout_s = 20;
    ck_assert_ptr_nonnull(mockca_tls_root_pem(g_m));
    const char *dir = mockca_directory_url(g_m);
    ck_assert_ptr_nonnull(strstr(dir, ACME_PATH_DIRECTORY));
    snprintf(g_base, sizeof(g_base), "%.*s", (int)(strlen(dir) - strlen(ACME_PATH_DIRECTORY)), dir);
    g_curl = curl_easy_init();
    ck_assert_ptr_nonnull(g_curl);
    /* The first nonce, as a client gets it (RFC 8555 section 7.2). */
    char *u = url_of(ACME_PATH_NONCE);
    http("HEAD", u, NULL, &r);
    free(u);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
}

void ac_detach(void)
{
    curl_easy_cleanup(g_curl);
    g_curl = NULL;
    g_m = NULL;
}

void ac_start(void (*adjust)(struct mockca_config *cfg), bool with_mgmt)
{
    struct mockca_config cfg;
    struct mockca *m = NULL;

    /* The responder first: its port is the CA's http-01 port. */
    uint16_t http_port = ac_responder_start();

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    free(cfg.listen_addr);
    cfg.listen_addr = strdup("127.0.0.1:0");
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup(with_mgmt ? "127.0.0.1:0" : "");
    free(cfg.dns_listen_addr); /* the embedded dnsmock: port 0, never the binary's 8053 */
    cfg.dns_listen_addr = strdup("127.0.0.1:0");
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup("127.0.0.1:0");
    cfg.http_port = http_port;
    cfg.va_nosleep = true;
    cfg.authz_reuse_pct = 0;
    /* Tests that count what a sweep drops sweep themselves; one that tests the sweeper
     * thread sets an interval in adjust. */
    cfg.sweep_interval_s = 0;
    if (adjust != NULL)
        adjust(&cfg);
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_OK);
    ck_assert_ptr_nonnull(mockca_dnsmock(m));
    ac_attach(m);
}

void ac_stop(void)
{
    struct mockca *m = g_m;

    ac_detach();
    mockca_stop(m);
    ac_responder_stop();
}

void ac_write_tls_root(const char *path)
{
    const char *pem = mockca_tls_root_pem(g_m);

    ck_assert_ptr_nonnull(pem);
    ck_assert_int_eq(file_write_atomic(path, pem, strlen(pem), 0644), MC_OK);
}
