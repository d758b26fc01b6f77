/* mockca.c: the in-process lifecycle of mockca (mockca.h): builds every part in order,
 * binds the listeners, and tears them down in reverse. */
#include "mockca/mockca.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/file.h"
#include "common/pem.h"
#include "common/log.h"
#include "common/report.h"
#include "dnsmock/dnsmock.h"
#include "mockca/acme/afault.h"
#include "mockca/acme/nonce.h"
#include "mockca/acme/render.h"
#include "mockca/acme/wfe.h"
#include "mockca/ca.h"
#include "mockca/cc/cc.h"
#include "mockca/cconf.h"
#include "mockca/internal.h"
#include "mockca/issueq.h"
#include "mockca/mgmt.h"
#include "mockca/ratelimit.h"
#include "mockca/store.h"
#include "mockca/transcript.h"
#include "mockca/vaq.h"

#define MOCKCA_HOST_MAX 64

static void mockca_mgmt_after(void *ctx, const struct http_request *req,
                              struct http_response *resp);

/* ---- addresses ----------------------------------------------------------------------- */

/* Splits a listener address into the address to bind and the host to put in URLs. Go's
 * ":14000" (all interfaces) binds 0.0.0.0; URLs then name loopback, which the generated
 * certificate covers. */
static enum mc_err mockca_addr(const char *addr, char *bind, size_t bindn, char *url_host,
                               size_t urln, uint16_t *port)
{
    char host[MOCKCA_HOST_MAX];
    enum mc_err e;

    e = http_split_hostport(addr, host, sizeof(host), port);
    if (e != MC_OK)
        return e;
    if (host[0] == '\0')
        snprintf(host, sizeof(host), "0.0.0.0");
    snprintf(bind, bindn, "%s", host);
    if (strcmp(host, "0.0.0.0") == 0 || strcasecmp(host, "localhost") == 0)
        snprintf(url_host, urln, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(url_host, urln, "[::1]");
    else if (strchr(host, ':') != NULL)
        snprintf(url_host, urln, "[%s]", host);
    else
        snprintf(url_host, urln, "%s", host);
    return MC_OK;
}

/* ---- parts ------------------------------------------------------------------------------ */

static enum mc_err mockca_tls(struct mockca *m)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "::1"};

    if ((m->cfg.tls_cert_file == NULL) != (m->cfg.tls_key_file == NULL)) {
        log_msg(LOGL_ERROR, "mockca.tls", "err=%s", "certificate_and_privateKey_go_together");
        return MC_ERR_INVALID;
    }
    if (m->cfg.tls_cert_file != NULL)
        return tlscert_load(m->cfg.tls_cert_file, m->cfg.tls_key_file, &m->tls);
    return tlscert_generate(names, sizeof(names) / sizeof(names[0]), &m->tls);
}

/* The embedded dnsmock: DNS and management where cfg says (NULL: loopback port 0); no
 * http-01, https-01 or tls-alpn-01 responders, since the client under test serves those
 * ports itself. It shares the run's clock and seed. */
static enum mc_err mockca_dns(struct mockca *m)
{
    struct dnsmock_config dc;
    enum mc_err e;
    int w;

    if (m->cfg.dns_server != NULL) {
        w = snprintf(m->dns_addr, sizeof(m->dns_addr), "%s", m->cfg.dns_server);
        return w < 0 || (size_t)w >= sizeof(m->dns_addr) ? MC_ERR_INVALID : MC_OK;
    }
    dnsmock_config_init(&dc);
    dc.dns_addr = m->cfg.dns_listen_addr != NULL ? m->cfg.dns_listen_addr : "127.0.0.1:0";
    dc.mgmt_addr = m->cfg.dns_mgmt_addr != NULL ? m->cfg.dns_mgmt_addr : "127.0.0.1:0";
    dc.fault_seed = fault_engine_seed(m->faults);
    dc.http01_addr = "";
    dc.https01_addr = "";
    dc.tlsalpn01_addr = "";
    dc.doh_addr = "";
    dc.clock = m->clock; /* one clock: freezing time freezes the DNS mock's too */
    e = dnsmock_start(&dc, &m->dns);
    if (e != MC_OK) {
        log_msg(LOGL_ERROR, "mockca.dns", "dns=%s management=%s err=%s", dc.dns_addr,
                dc.mgmt_addr, mc_strerror(e));
        return e;
    }
    snprintf(m->dns_addr, sizeof(m->dns_addr), "%s", dnsmock_addr(m->dns));
    return MC_OK;
}

static enum mc_err mockca_new_ca(struct mockca *m)
{
    struct ca_config cc;
    char *ocsp = NULL, *crl = NULL, *issuer = NULL, *root = NULL, *root_key = NULL;
    size_t len = 0;
    enum mc_err e = MC_OK;

    memset(&cc, 0, sizeof(cc));
    /* A root of the user's (caRootCertificate, caRootPrivateKey): issue under it, so the
     * trust a test suite already ships keeps working from run to run. */
    if (m->cfg.ca_root_cert_file != NULL && m->cfg.ca_root_key_file != NULL) {
        e = file_read_all(m->cfg.ca_root_cert_file, PEM_MAX_LEN, &root, &len);
        if (e == MC_OK)
            e = file_read_all(m->cfg.ca_root_key_file, PEM_MAX_LEN, &root_key, &len);
        if (e != MC_OK) {
            log_msg(LOGL_ERROR, "ca.root_file", "err=%s", mc_strerror(e));
            goto out;
        }
        cc.root_cert_pem = root;
        cc.root_key_pem = root_key;
    }
    e = render_url(m->base_url, MOCKCA_PATH_OCSP, NULL, &ocsp);
    if (e == MC_OK)
        e = render_url(m->base_url, MOCKCA_PATH_CRL, NULL, &crl);
    if (e == MC_OK)
        e = render_url(m->base_url, MOCKCA_PATH_ISSUER, NULL, &issuer);
    if (e != MC_OK)
        goto out;
    cc.key_type = m->cfg.ca_key_type;
    cc.chain_length = m->cfg.chain_length;
    cc.alternate_roots = m->cfg.alternate_roots;
    cc.ocsp_url = m->cfg.ocsp_url != NULL ? m->cfg.ocsp_url : ocsp;
    cc.crl_url = crl;
    cc.issuer_url = issuer;
    cc.clock = m->clock;
    e = ca_new(&cc, &m->ca);
out:
    free(root);
    if (root_key != NULL)
        OPENSSL_cleanse(root_key, strlen(root_key));
    free(root_key);
    free(ocsp);
    free(crl);
    free(issuer);
    return e;
}

/* The validation workers, with Pebble's sleep knobs and the CAA identities. */
static enum mc_err mockca_vaq(struct mockca *m)
{
    struct vaq_config vc;

    memset(&vc, 0, sizeof(vc));
    vc.store = m->store;
    vc.va = &m->va;
    vc.always_valid = m->cfg.va_always_valid;
    vc.nosleep = m->cfg.va_nosleep;
    vc.sleep_max_s = m->cfg.va_sleep_max_s;
    vc.rng = &m->rng;
    vc.rng_mu = &m->rng_mu;
    vc.cconf = m->cconf;
    vc.caa_domains = (const char *const *)m->cfg.caa_identities;
    vc.n_caa_domains = m->cfg.n_caa_identities;
    if (m->cfg.rl_failed_validations.count > 0) {
        vc.limits = m->limits;
        vc.failed_window_ms = m->cfg.rl_failed_validations.window_s * 1000;
    }
    afault_vaq_config(m, &vc); /* stall_validation */
    return vaq_new(&vc, &m->vaq);
}

/* ---- randomness and Retry-After ---------------------------------------------------- */

uint64_t mockca_rand(struct mockca *m)
{
    uint64_t v;

    pthread_mutex_lock(&m->rng_mu);
    v = prng_next(&m->rng);
    pthread_mutex_unlock(&m->rng_mu);
    return v;
}

static uint64_t mockca_rand_cb(void *ctx)
{
    return mockca_rand(ctx);
}

bool mockca_http_date(int64_t t, char *buf, size_t n)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t tt = (time_t)t;
    int w;

    if (t < 0 || t > 253402300799LL || gmtime_r(&tt, &tm) == NULL) /* up to 9999-12-31 */
        return false;
    w = snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return w > 0 && (size_t)w < n;
}

void mockca_retry_after(struct mockca *m, struct http_response *resp, int64_t s)
{
    char v[40];
    int form = m->cfg.retry_after_form;

    if (s < 1)
        s = 1;
    if (form != MOCKCA_RETRY_AFTER_SECONDS && form != MOCKCA_RETRY_AFTER_DATE)
        form = (mockca_rand(m) & 1) != 0 ? MOCKCA_RETRY_AFTER_DATE : MOCKCA_RETRY_AFTER_SECONDS;
    /* The date is s seconds past REAL time, like the Date header the HTTP layer sends:
     * clients read an HTTP-date against their own wall clock, so a date on the virtual
     * clock would make them wait years (or not at all) once a test moves that clock. */
    if (form != MOCKCA_RETRY_AFTER_DATE || !mockca_http_date(clock_now(NULL) + s, v, sizeof(v)))
        snprintf(v, sizeof(v), "%lld", (long long)s);
    if (http_response_header(resp, "Retry-After", v) != MC_OK)
        log_msg(LOGL_WARN, "acme.retry_after", "err=cannot_add");
}

/* ---- housekeeping ---------------------------------------------------------------------- */

void mockca_sweep(struct mockca *m, size_t *store_dropped, size_t *ca_pruned)
{
    size_t dropped = store_sweep(m->store);
    size_t pruned = ca_prune(m->ca);
    struct store_counts sc;

    /* glibc keeps freed memory in per-thread arenas; hand it back once objects went, so
     * resident memory follows what the store holds (tests/bench/mockca_bench.sh). */
    if (dropped + pruned > 0)
        malloc_trim(0);
    store_counts(m->store, &sc);
    log_msg(dropped + pruned > 0 ? LOGL_INFO : LOGL_DEBUG, "mockca.sweep",
            "dropped=%zu pruned=%zu accounts=%zu orders=%zu authzs=%zu challenges=%zu certs=%zu",
            dropped, pruned, sc.accounts, sc.orders, sc.authzs, sc.challenges, sc.certs);
    if (store_dropped != NULL)
        *store_dropped = dropped;
    if (ca_pruned != NULL)
        *ca_pruned = pruned;
}

void mockca_rate_limited(struct http_response *resp, int64_t retry_after_ms, const char *detail)
{
    char v[32];
    int64_t s = retry_after_ms / 1000 + (retry_after_ms % 1000 != 0 ? 1 : 0);

    wfe_problemf(resp, ACME_P_RATE_LIMITED, 0, "%s", detail);
    snprintf(v, sizeof(v), "%lld", (long long)(s > 0 ? s : 1));
    if (http_response_header(resp, "Retry-After", v) != MC_OK)
        log_msg(LOGL_WARN, "acme.retry_after", "err=cannot_add");
}

/* Sweeps every sweep_interval_s seconds of real time, not of the mockca clock: a frozen
 * clock must not stop the memory bound, and an advanced one must not spin. Waits on the
 * condition variable so that mockca_stop ends it at once. */
static void *mockca_sweeper(void *arg)
{
    struct mockca *m = arg;
    struct timespec next;

    pthread_mutex_lock(&m->sweep_mu);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &next);
        next.tv_sec += (time_t)m->cfg.sweep_interval_s;
        while (!m->sweep_stop) {
            int rc = pthread_cond_timedwait(&m->sweep_cv, &m->sweep_mu, &next);
            if (rc == ETIMEDOUT)
                break;
        }
        if (m->sweep_stop)
            break;
        pthread_mutex_unlock(&m->sweep_mu);
        mockca_sweep(m, NULL, NULL);
        pthread_mutex_lock(&m->sweep_mu);
    }
    pthread_mutex_unlock(&m->sweep_mu);
    return NULL;
}

static enum mc_err mockca_sweeper_start(struct mockca *m)
{
    if (m->cfg.sweep_interval_s <= 0)
        return MC_OK;
    if (pthread_create(&m->sweeper, NULL, mockca_sweeper, m) != 0)
        return MC_ERR_NOMEM;
    m->sweeper_started = true;
    return MC_OK;
}

static void mockca_sweeper_stop(struct mockca *m)
{
    if (!m->sweeper_started)
        return;
    pthread_mutex_lock(&m->sweep_mu);
    m->sweep_stop = true;
    pthread_cond_broadcast(&m->sweep_cv);
    pthread_mutex_unlock(&m->sweep_mu);
    pthread_join(m->sweeper, NULL);
    m->sweeper_started = false;
}

static enum mc_err mockca_mgmt(struct mockca *m)
{
    struct http_server_config hc;
    char bind[MOCKCA_HOST_MAX], host[MOCKCA_HOST_MAX + 2];
    uint16_t port;
    enum mc_err e;

    if (m->cfg.mgmt_addr == NULL || m->cfg.mgmt_addr[0] == '\0')
        return MC_OK;
    e = mockca_addr(m->cfg.mgmt_addr, bind, sizeof(bind), host, sizeof(host), &port);
    if (e != MC_OK)
        return e;
    mgmt_server_config(m, bind, port, &hc);
    m->mgmt_after = hc.after;
    hc.after = mockca_mgmt_after;
    e = http_server_start(&hc, &m->mgmt);
    if (e != MC_OK)
        return e;
    snprintf(m->mgmt_url, sizeof(m->mgmt_url), "https://%s:%u", host,
             (unsigned)http_server_port(m->mgmt));
    return MC_OK;
}

/* ---- recording ------------------------------------------------------------------------ */

/* Hands one exchange to the transcript and the observer. Called from the listeners' after
 * hooks, so it sees the answer as sent (Replay-Nonce and Link included). */
static void mockca_record(struct mockca *m, const char *listener, const struct http_request *req,
                          const struct http_response *resp)
{
    cJSON *rec = NULL;

    if (!atomic_load(&m->recording))
        return;
    if (tr_build(listener, clock_now_ms(m->clock), req, resp, &rec) != MC_OK) {
        log_msg(LOGL_WARN, "mockca.transcript", "err=%s path=%s", "cannot_build_record",
                req->path);
        return;
    }
    pthread_mutex_lock(&m->rec_mu);
    if (m->transcript != NULL && tr_write(m->transcript, rec) == MC_ERR_IO)
        log_msg(LOGL_WARN, "mockca.transcript", "err=%s", "write_failed");
    if (m->observer != NULL)
        m->observer(m->observer_ctx, rec);
    pthread_mutex_unlock(&m->rec_mu);
    cJSON_Delete(rec);
}

static void mockca_mgmt_after(void *ctx, const struct http_request *req,
                              struct http_response *resp)
{
    struct mockca *m = ctx;

    if (m->mgmt_after != NULL)
        m->mgmt_after(ctx, req, resp);
    mockca_record(m, "mgmt", req, resp);
}

static void mockca_update_recording(struct mockca *m)
{
    atomic_store(&m->recording, m->transcript != NULL || m->observer != NULL);
}

static enum mc_err mockca_transcript_set(struct mockca *m, struct tr_writer *w)
{
    struct tr_writer *old;

    pthread_mutex_lock(&m->rec_mu);
    old = m->transcript;
    m->transcript = w;
    mockca_update_recording(m);
    pthread_mutex_unlock(&m->rec_mu);
    tr_close(old);
    return MC_OK;
}

enum mc_err mockca_transcript_open(struct mockca *m, const char *path, size_t max_bytes)
{
    struct tr_writer *w = NULL;
    enum mc_err e = tr_open_path(path, max_bytes, &w);

    if (e != MC_OK) {
        log_msg(LOGL_ERROR, "mockca.transcript", "path=%s err=%s", path, mc_strerror(e));
        return e;
    }
    return mockca_transcript_set(m, w);
}

enum mc_err mockca_transcript_fd(struct mockca *m, int fd, size_t max_bytes)
{
    struct tr_writer *w = NULL;
    enum mc_err e = tr_open_fd(fd, max_bytes, &w);

    if (e != MC_OK)
        return e;
    return mockca_transcript_set(m, w);
}

void mockca_transcript_close(struct mockca *m, size_t *written, size_t *dropped)
{
    struct tr_writer *w;

    if (written != NULL)
        *written = 0;
    if (dropped != NULL)
        *dropped = 0;
    pthread_mutex_lock(&m->rec_mu);
    w = m->transcript;
    m->transcript = NULL;
    mockca_update_recording(m);
    pthread_mutex_unlock(&m->rec_mu);
    if (w != NULL)
        tr_counts(w, written, dropped);
    tr_close(w);
}

void mockca_set_observer(struct mockca *m, mockca_observer_fn fn, void *ctx)
{
    pthread_mutex_lock(&m->rec_mu);
    m->observer = fn;
    m->observer_ctx = fn != NULL ? ctx : NULL;
    mockca_update_recording(m);
    pthread_mutex_unlock(&m->rec_mu);
}

/* ---- CertCentral on the ACME listener ------------------------------------------------ */

/* Every method the API uses, and a few it does not, so that cc_handle (not the layer)
 * answers them: its 405 is in the CertCentral envelope. */
static const char *const mockca_cc_methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                                "OPTIONS"};
#define MOCKCA_CC_NMETHODS (sizeof(mockca_cc_methods) / sizeof(mockca_cc_methods[0]))

enum mc_err mockca_cc_key_generate(char out[MOCKCA_CC_KEY_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char buf[64];
    size_t n = 0;

    /* Rejection sampling (bytes below 252 = 7 * 36), so each character is uniform; 64
     * bytes give 32 accepted ones unless the generator is broken, and the bound keeps the
     * loop finite either way. */
    for (int round = 0; round < 8 && n < MOCKCA_CC_KEY_LEN; round++) {
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return MC_ERR_CRYPTO;
        for (size_t i = 0; i < sizeof(buf) && n < MOCKCA_CC_KEY_LEN; i++)
            if (buf[i] < 252)
                out[n++] = alphabet[buf[i] % 36];
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (n < MOCKCA_CC_KEY_LEN)
        return MC_ERR_CRYPTO;
    out[n] = '\0';
    return MC_OK;
}

static bool mockca_is_cc(const struct http_request *req)
{
    return strncmp(req->path, CC_PREFIX, strlen(CC_PREFIX)) == 0;
}

/* {"errors":[{"code","message"}]}: CertCentral's error envelope, for the answers the hooks
 * give before cc_handle runs (cc_layer_error covers only the layer's 404/405/413). */
static void mockca_cc_error(struct http_response *resp, int status, const char *code,
                            const char *message)
{
    cJSON *j = cJSON_CreateObject(), *arr = NULL, *e = NULL;

    if (j != NULL)
        arr = cJSON_AddArrayToObject(j, "errors");
    if (arr != NULL)
        e = cJSON_CreateObject();
    if (e == NULL || !cJSON_AddItemToArray(arr, e) ||
        cJSON_AddStringToObject(e, "code", code) == NULL ||
        cJSON_AddStringToObject(e, "message", message) == NULL ||
        http_response_json(resp, status, j) != MC_OK)
        resp->status = status;
    cJSON_Delete(j);
}

/* The route under CC_PREFIX: ctx is the mockca, the handler's is the cc server. m->cc is
 * set before `ready`, and the before hook refuses everything until then. */
static void mockca_cc_route(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;

    cc_handle(m->cc, req, resp);
}

/* CertCentral requests are not ACME requests: no JWS, nonce, User-Agent or Content-Type
 * rule applies to them, and their answers carry no Replay-Nonce or Link rel="index". Only
 * the "not ready yet" answer is shared, in CertCentral's envelope. */
static void mockca_acme_before(void *ctx, const struct http_request *req,
                               struct http_response *resp)
{
    struct mockca *m = ctx;

    if (!mockca_is_cc(req)) {
        m->wfe_before(ctx, req, resp);
        cconf_begin(m->cconf, req, resp);
        return;
    }
    if (!atomic_load(&m->ready))
        mockca_cc_error(resp, 503, "service_unavailable", "mockca is starting");
    else
        (void)afault_cc_before(m, req, resp); /* faults answer before any handler */
}

static void mockca_acme_after(void *ctx, const struct http_request *req,
                              struct http_response *resp)
{
    struct mockca *m = ctx;
    bool cc = mockca_is_cc(req);

    if (!cc) {
        m->wfe_after(ctx, req, resp);
        cconf_end(m->cconf, req, resp);
    }
    mockca_record(m, cc ? "certcentral" : "acme", req, resp);
}

static void mockca_acme_error(void *ctx, const struct http_request *req, int status,
                              const char *message, struct http_response *resp)
{
    struct mockca *m = ctx;

    if (mockca_is_cc(req))
        cc_layer_error(req, status, message, resp);
    else
        m->wfe_error(ctx, req, status, message, resp);
}

/* Turns wfe's listener config into the shared listener's: wfe's routes plus every method of
 * CC_PREFIX "*", mockca's hooks around wfe's, and a body cap that fits both protocols (the
 * ACME checks keep their own cap, m->check.max_body). */
static enum mc_err mockca_acme_config(struct mockca *m, struct http_server_config *hc)
{
    size_t n = hc->nroutes + MOCKCA_CC_NMETHODS;

    m->acme_routes = calloc(n, sizeof(*m->acme_routes));
    if (m->acme_routes == NULL)
        return MC_ERR_NOMEM;
    memcpy(m->acme_routes, hc->routes, hc->nroutes * sizeof(*hc->routes));
    for (size_t i = 0; i < MOCKCA_CC_NMETHODS; i++) {
        struct http_route *r = &m->acme_routes[hc->nroutes + i];
        r->method = mockca_cc_methods[i];
        r->pattern = CC_PREFIX "*";
        r->fn = mockca_cc_route;
    }
    hc->routes = m->acme_routes;
    hc->nroutes = n;
    m->wfe_before = hc->before;
    m->wfe_after = hc->after;
    m->wfe_error = hc->error;
    hc->before = mockca_acme_before;
    hc->after = mockca_acme_after;
    hc->error = mockca_acme_error;
    if (hc->max_body < CC_MAX_BODY)
        hc->max_body = CC_MAX_BODY;
    return MC_OK;
}

/* The CertCentral front end over the run's CA and clock. DCV asks the DNS server the ACME
 * validator asks and fetches fileauth.txt from the ACME httpPort unless cfg.cc says
 * otherwise, so the same test DNS zones and responders serve both protocols. */
static enum mc_err mockca_cc_new(struct mockca *m)
{
    const struct mockca_cc_config *c = &m->cfg.cc;
    struct cc_key_config keys[MOCKCA_MAX_CC_KEYS];
    struct cc_config cc;
    size_t n = 0;
    enum mc_err e;

    memset(&cc, 0, sizeof(cc));
    for (size_t i = 0; i < c->n_keys && i < MOCKCA_MAX_CC_KEYS; i++) {
        keys[n].key = c->keys[i].key;
        keys[n].role = c->keys[i].role;
        keys[n].account_id = c->keys[i].account_id;
        n++;
    }
    if (n == 0) {
        /* No key configured: one administrator key, printed by the binary, so that a
         * zero-config start can use the API at once. */
        e = mockca_cc_key_generate(m->cc_key);
        if (e != MC_OK)
            return e;
        keys[0].key = m->cc_key;
        keys[0].role = "administrator";
        keys[0].account_id = 1;
        n = 1;
    }
    cc.dns_server = m->dns_addr;
    cc.http_port = c->http_port != 0 ? c->http_port : m->cfg.http_port;
    cc.dcv_timeout_ms = c->dcv_timeout_ms;
    cc.acme_directory_url = m->dir_url;
    cc.rate_short_limit = c->rl_short.count;
    cc.rate_short_window_ms = c->rl_short.window_s * 1000;
    cc.rate_long_limit = c->rl_long.count;
    cc.rate_long_window_ms = c->rl_long.window_s * 1000;
    cc.auto_approve = c->auto_approve;
    cc.max_orders = c->max_orders > 0 ? (size_t)c->max_orders : 0;
    cc.retention_s = c->retention_s;
    cc.max_cert_days = c->max_cert_days;
    cc.keys = keys;
    cc.nkeys = n;
    e = cc_new(&cc, m->ca, m->clock, &m->cc);
    if (e != MC_OK) {
        log_msg(LOGL_ERROR, "mockca.certcentral", "err=%s", mc_strerror(e));
        return e;
    }
    snprintf(m->cc_url, sizeof(m->cc_url), "%s%s", m->base_url, CC_PREFIX);
    return MC_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

enum mc_err mockca_start(struct mockca_config *cfg, struct mockca **out)
{
    struct mockca *m = NULL;
    struct store_config sc;
    struct http_server_config hc;
    char bind[MOCKCA_HOST_MAX], host[MOCKCA_HOST_MAX + 2];
    uint16_t port;
    enum mc_err e = MC_ERR_NOMEM;
    int w;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        mockca_config_free(cfg);
        memset(cfg, 0, sizeof(*cfg));
        return MC_ERR_NOMEM;
    }
    m->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    atomic_init(&m->ready, false);
    atomic_init(&m->recording, false);
    pthread_mutex_init(&m->rec_mu, NULL);
    pthread_mutex_init(&m->rng_mu, NULL);
    pthread_mutex_init(&m->sweep_mu, NULL);
    {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&m->sweep_cv, &attr);
        pthread_condattr_destroy(&attr);
    }

    m->clock = clock_new();
    if (m->clock == NULL)
        goto fail;
    /* One seed for the run: the fault engine's, printed, so a run replays. */
    m->faults = fault_engine_new(m->cfg.fault_seed, m->clock);
    if (m->faults == NULL)
        goto fail;
    prng_seed(&m->rng, fault_engine_seed(m->faults));
    {
        char ferr[256] = "";
        e = afault_load_config(m, ferr, sizeof(ferr)); /* config "faults", MOCKCA_FAULTS */
        if (e != MC_OK) {
            log_msg(LOGL_ERROR, "mockca.faults", "err=%s", ferr);
            goto fail;
        }
    }
    memset(&sc, 0, sizeof(sc));
    sc.clock = m->clock;
    sc.retention_ms = m->cfg.retention_s * 1000;
    sc.order_lifetime_ms = m->cfg.order_lifetime_s * 1000;
    sc.authz_lifetime_ms = m->cfg.authz_lifetime_s * 1000;
    sc.valid_authz_lifetime_ms = m->cfg.valid_authz_lifetime_s * 1000;
    sc.shuffle = m->cfg.shuffle;
    sc.rand64 = mockca_rand_cb;
    sc.rand_ctx = m;
    e = store_new(&sc, &m->store);
    if (e != MC_OK)
        goto fail;
    e = MC_ERR_NOMEM;
    m->nonces = nonce_store_new(0, 0, m->clock);
    if (m->nonces == NULL)
        goto fail;
    m->limits = ratelimit_new(m->clock);
    if (m->limits == NULL)
        goto fail;
    e = mockca_tls(m);
    if (e != MC_OK)
        goto fail;
    e = mockca_dns(m);
    if (e != MC_OK)
        goto fail;
    m->va.dns_server = m->dns_addr;
    m->va.http_port = m->cfg.http_port;
    m->va.tls_port = m->cfg.tls_port;

    /* The ACME listener: bound first, since base_url (and so every URL, the CA's OCSP
     * and CRL ones included) needs its port; it answers 503 until ready. */
    e = mockca_addr(m->cfg.listen_addr != NULL ? m->cfg.listen_addr : "127.0.0.1:14000", bind,
                    sizeof(bind), host, sizeof(host), &port);
    if (e != MC_OK)
        goto fail;
    wfe_check_config(m);
    wfe_server_config(m, bind, port, &hc);
    e = mockca_acme_config(m, &hc);
    if (e != MC_OK)
        goto fail;
    e = http_server_start(&hc, &m->acme);
    if (e != MC_OK) {
        log_msg(LOGL_ERROR, "mockca.listen", "addr=%s err=%s", m->cfg.listen_addr, mc_strerror(e));
        goto fail;
    }
    e = MC_ERR_INVALID;
    w = snprintf(m->base_url, sizeof(m->base_url), "https://%s:%u", host,
                 (unsigned)http_server_port(m->acme));
    if (w < 0 || (size_t)w >= sizeof(m->base_url))
        goto fail;
    snprintf(m->dir_url, sizeof(m->dir_url), "%s%s", m->base_url, ACME_PATH_DIRECTORY);
    snprintf(m->account_prefix, sizeof(m->account_prefix), "%s%s", m->base_url, ACME_PATH_ACCOUNT);
    e = cconf_new(m->dir_url, fault_engine_seed(m->faults), m->clock, m->cfg.conformance_strict,
                  &m->cconf);
    if (e != MC_OK)
        goto fail;
    m->check.grader = m->cconf;
    e = mockca_new_ca(m);
    if (e != MC_OK)
        goto fail;
    e = mockca_cc_new(m);
    if (e != MC_OK)
        goto fail;
    e = mockca_vaq(m);
    if (e != MC_OK)
        goto fail;
    {
        struct issueq_config ic;
        memset(&ic, 0, sizeof(ic));
        afault_issueq_config(m, &ic); /* stuck_processing */
        e = issueq_new(&ic, &m->issueq);
    }
    if (e != MC_OK)
        goto fail;
    e = mockca_mgmt(m);
    if (e != MC_OK) {
        log_msg(LOGL_ERROR, "mockca.listen", "addr=%s err=%s", m->cfg.mgmt_addr, mc_strerror(e));
        goto fail;
    }
    e = mockca_sweeper_start(m);
    if (e != MC_OK)
        goto fail;
    atomic_store(&m->ready, true);
    log_msg(LOGL_INFO, "mockca.start", "directory=%s certcentral=%s mgmt=%s dns=%s seed=%llu",
            m->dir_url, m->cc_url, m->mgmt_url[0] != '\0' ? m->mgmt_url : "off", m->dns_addr,
            (unsigned long long)fault_engine_seed(m->faults));
    *out = m;
    return MC_OK;
fail:
    mockca_stop(m);
    return e;
}

void mockca_stop(struct mockca *m)
{
    if (m == NULL)
        return;
    atomic_store(&m->ready, false);
    mockca_sweeper_stop(m); /* first: it reads the store and the CA */
    http_server_stop(m->mgmt);
    http_server_stop(m->acme);
    /* After the listeners: no hook can record any more. */
    mockca_transcript_close(m, NULL, NULL);
    pthread_mutex_destroy(&m->rec_mu);
    vaq_free(m->vaq); /* after the listener: no handler can queue a job any more */
    issueq_free(m->issueq); /* before the CA and the store its jobs use */
    cc_free(m->cc); /* after both listeners (ACME and management call it), before its CA */
    cconf_free(m->cconf); /* after the listeners and vaq, the only ones that report to it */
    free(m->acme_routes);
    ca_free(m->ca);
    dnsmock_stop(m->dns);
    tls_identity_clear(&m->tls);
    ratelimit_free(m->limits);
    nonce_store_free(m->nonces);
    store_free(m->store);
    fault_engine_free(m->faults);
    clock_free(m->clock);
    pthread_mutex_destroy(&m->rng_mu);
    pthread_cond_destroy(&m->sweep_cv);
    pthread_mutex_destroy(&m->sweep_mu);
    mockca_config_free(&m->cfg);
    OPENSSL_cleanse(m->cc_key, sizeof(m->cc_key));
    free(m);
}

/* ---- accessors ------------------------------------------------------------------------- */

const char *mockca_directory_url(const struct mockca *m)
{
    return m->dir_url;
}

const char *mockca_mgmt_url(const struct mockca *m)
{
    return m->mgmt_url;
}

const char *mockca_tls_root_pem(const struct mockca *m)
{
    return m->tls.root_pem;
}

enum mc_err mockca_root_pem(const struct mockca *m, size_t chain, char **pem)
{
    return ca_root_pem(m->ca, chain, pem);
}

const char *mockca_dns_addr(const struct mockca *m)
{
    return m->dns_addr;
}

struct dnsmock *mockca_dnsmock(struct mockca *m)
{
    return m->dns;
}

uint64_t mockca_fault_seed(const struct mockca *m)
{
    return fault_engine_seed(m->faults);
}

const char *mockca_cc_url(const struct mockca *m)
{
    return m->cc_url;
}

const char *mockca_cc_api_key(const struct mockca *m)
{
    return m->cc_key[0] != '\0' ? m->cc_key : NULL;
}

struct cc_server *mockca_cc(struct mockca *m)
{
    return m->cc;
}

struct mc_clock *mockca_clock(struct mockca *m)
{
    return m->clock;
}

/* ---- capabilities, faults and queries -------------------------------------------------- */

/* Extended as features land (the faults work adds "acme-faults", "certcentral-faults"). */
static const char *const mockca_caps[] = {
    "transcript",  "scenarios",          "dns-faults",
    "acme-faults", "certcentral-faults", "client-conformance", NULL};

enum mc_err mockca_conformance_must_failures(struct mockca *m, size_t *n)
{
    struct report_totals t;

    if (m == NULL || m->cconf == NULL || n == NULL)
        return MC_ERR_STATE;
    report_totals(cconf_report(m->cconf), &t);
    *n = t.must_fail;
    return MC_OK;
}

enum mc_err mockca_conformance_write(struct mockca *m, const char *dir)
{
    static const struct {
        enum cconf_form form;
        const char *name;
    } files[] = {
        {CCONF_JSON, "conformance.json"},
        {CCONF_JUNIT, "conformance.junit.xml"},
        {CCONF_HTML, "conformance.html"},
    };
    char path[4096];

    if (m == NULL || m->cconf == NULL || dir == NULL)
        return MC_ERR_STATE;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int w = snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        if (w < 0 || (size_t)w >= sizeof(path))
            return MC_ERR_TOO_BIG;
        enum mc_err e = cconf_write(m->cconf, files[i].form, path);
        if (e != MC_OK)
            return e;
    }
    return MC_OK;
}

const char *const *mockca_capabilities(size_t *n)
{
    if (n != NULL)
        *n = sizeof(mockca_caps) / sizeof(mockca_caps[0]) - 1;
    return mockca_caps;
}

bool mockca_has_capability(const char *name)
{
    for (size_t i = 0; mockca_caps[i] != NULL; i++)
        if (strcmp(mockca_caps[i], name) == 0)
            return true;
    return false;
}

enum mc_err mockca_fault_add(struct mockca *m, const char *server, const cJSON *match,
                             const cJSON *action, uint64_t *id, char *err, size_t errn)
{
    return afault_add(m->faults, server, match, action, id, err, errn);
}

enum mc_err mockca_fault_fired(struct mockca *m, uint64_t id, uint64_t *fired)
{
    return afault_fired(m->faults, id, fired);
}

void mockca_order_info_clear(struct mockca_order_info *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_names; i++)
        free(o->names[i]);
    free(o->names);
    free(o->replaces);
    memset(o, 0, sizeof(*o));
}

enum mc_err mockca_order_info(struct mockca *m, const char *order_id, struct mockca_order_info *out)
{
    struct order_snap o;
    enum mc_err e;

    memset(out, 0, sizeof(*out));
    memset(&o, 0, sizeof(o));
    e = store_order_get(m->store, order_id, &o);
    if (e != MC_OK)
        return e;
    snprintf(out->status, sizeof(out->status), "%s", order_status_name(o.status));
    snprintf(out->account_id, sizeof(out->account_id), "%s", o.account_id);
    e = MC_ERR_NOMEM;
    if (o.idents.n > 0) {
        out->names = calloc(o.idents.n, sizeof(*out->names));
        if (out->names == NULL)
            goto out;
    }
    for (size_t i = 0; i < o.idents.n; i++) {
        out->names[i] = strdup(o.idents.v[i].value);
        if (out->names[i] == NULL)
            goto out;
        out->n_names++;
    }
    if (o.replaces != NULL) {
        out->replaces = strdup(o.replaces);
        if (out->replaces == NULL)
            goto out;
    }
    if (o.cert_serial != NULL) {
        enum ca_status st = CA_STATUS_UNKNOWN;
        int reason = 0;
        int64_t at = 0;
        snprintf(out->serial, sizeof(out->serial), "%s", o.cert_serial);
        if (ca_status(m->ca, o.cert_serial, &st, &reason, &at) == MC_OK)
            out->revoked = st == CA_STATUS_REVOKED;
    }
    e = MC_OK;
out:
    order_snap_clear(&o);
    if (e != MC_OK)
        mockca_order_info_clear(out);
    return e;
}

enum mc_err mockca_account_status(struct mockca *m, const char *account_id, char *status, size_t n)
{
    struct account_snap a;
    enum mc_err e;

    memset(&a, 0, sizeof(a));
    e = store_account_get(m->store, account_id, &a);
    if (e != MC_OK)
        return e;
    snprintf(status, n, "%s", acct_status_name(a.status));
    account_snap_clear(&a);
    return MC_OK;
}
