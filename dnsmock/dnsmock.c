/* dnsmock.c: lifecycle of an in-process dnsmock: state first, then listeners (each of up
 * to DNSMOCK_MAX_ADDRS addresses per listener); stop in the reverse order, so no handler
 * ever runs against freed state. */
#include "dnsmock/dnsmock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/file.h"
#include "common/http.h"
#include "common/log.h"
#include "common/pem.h"
#include "dnsmock/dnsserver.h"
#include "dnsmock/doh.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"
#include "dnsmock/mgmt.h"
#include "dnsmock/responders.h"
#include "dnsmock/update.h"
#include "dnsmock/zone.h"

#define DNSMOCK_HISTORY_DEFAULT 10000
#define DNSMOCK_UDP_THREADS_MAX 4

void dnsmock_config_init(struct dnsmock_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->dns_addr = "127.0.0.1:8053";
    cfg->mgmt_addr = "127.0.0.1:8055";
    cfg->http01_addr = "127.0.0.1:5002";
    cfg->tlsalpn01_addr = "127.0.0.1:5001";
    cfg->https01_addr = "127.0.0.1:5003";
    cfg->doh_addr = "";
    cfg->default_ipv4 = "127.0.0.1";
    cfg->default_ipv6 = "::1";
}

#define DM_ADDR_MAX 80 /* "[" + 63-byte host + "]:65535" fits */

/* A listener's addresses: challtestsrv's comma-separated bind list, split. */
struct dm_addrs {
    char v[DNSMOCK_MAX_ADDRS][DM_ADDR_MAX];
    size_t n;
};

/* Splits list at commas, trimming spaces and skipping empty entries as challtestsrv's
 * flag parsing does, so "" and " , " disable the listener. MC_ERR_INVALID for more than
 * DNSMOCK_MAX_ADDRS entries or one too long to be an address. */
static enum mc_err dm_split_addrs(const char *list, struct dm_addrs *out)
{
    const char *p = list;

    out->n = 0;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        const char *stop = end != NULL ? end : p + strlen(p);
        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if (stop > p) {
            size_t len = (size_t)(stop - p);
            if (out->n == DNSMOCK_MAX_ADDRS || len >= DM_ADDR_MAX)
                return MC_ERR_INVALID;
            memcpy(out->v[out->n], p, len);
            out->v[out->n][len] = '\0';
            out->n++;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return MC_OK;
}

/* The address a local client reaches a listener bound to addr at: a wildcard bind
 * (":PORT", 0.0.0.0, ::) is reached on loopback. IPv6 goes in brackets. */
static void dm_reach_addr(const char *addr, uint16_t port, char *out, size_t n)
{
    char host[64] = "";
    uint16_t ignored;
    if (http_split_hostport(addr, host, sizeof(host), &ignored) != MC_OK || host[0] == '\0' ||
        strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, sizeof(host), "::1");
    if (strchr(host, ':') != NULL)
        snprintf(out, n, "[%s]:%u", host, (unsigned)port);
    else
        snprintf(out, n, "%s:%u", host, (unsigned)port);
}

static unsigned dm_udp_threads(unsigned asked)
{
    if (asked > 0)
        return asked;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > DNSMOCK_UDP_THREADS_MAX)
        n = DNSMOCK_UDP_THREADS_MAX;
    return (unsigned)n;
}

enum dm_kind { DM_DNS = 0, DM_MGMT, DM_HTTP01, DM_TLSALPN01, DM_HTTPS01, DM_DOH, DM_KINDS };

static const char *const dm_kind_name[DM_KINDS] = {"dns",       "mgmt",    "http01",
                                                   "tlsalpn01", "https01", "doh"};

/* Starts listener i (0: the first address, the one the accessors report) of kind on addr
 * and logs where it is reached. */
static enum mc_err dm_start_one(struct dnsmock *d, enum dm_kind kind, size_t i, const char *addr,
                                unsigned udp_threads, const char *cert, const char *key)
{
    char event[32], reach[DM_ADDR_MAX], q[96];
    uint16_t port = 0;
    enum mc_err err = MC_ERR_INVALID;

    switch (kind) {
    case DM_DNS: {
        struct dns_server **slot = i == 0 ? &d->dns : &d->dns_more[i - 1];
        err = dns_server_start(d, addr, udp_threads, slot);
        if (err == MC_OK)
            port = dns_server_port(*slot);
        break;
    }
    case DM_TLSALPN01: {
        struct tlsalpn_responder **slot = i == 0 ? &d->tlsalpn : &d->tlsalpn_more[i - 1];
        err = tlsalpn_responder_start(d, addr, slot);
        if (err == MC_OK)
            port = tlsalpn_responder_port(*slot);
        break;
    }
    case DM_MGMT:
    case DM_HTTP01:
    case DM_HTTPS01:
    case DM_DOH: {
        struct http_server **slot = NULL;
        if (kind == DM_MGMT) {
            slot = i == 0 ? &d->mgmt : &d->mgmt_more[i - 1];
            err = mgmt_start(d, addr, slot);
        } else if (kind == DM_HTTP01) {
            slot = i == 0 ? &d->http01 : &d->http01_more[i - 1];
            err = http01_responder_start(d, addr, slot);
        } else if (kind == DM_HTTPS01) {
            slot = i == 0 ? &d->https01 : &d->https01_more[i - 1];
            err = https01_responder_start(d, addr, cert, key, slot);
        } else {
            slot = i == 0 ? &d->doh : &d->doh_more[i - 1];
            err = doh_start(d, addr, cert, key, slot);
        }
        if (err == MC_OK)
            port = http_server_port(*slot);
        break;
    }
    case DM_KINDS:
        break;
    }
    snprintf(event, sizeof(event), "%s.listen", dm_kind_name[kind]);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, event, "addr=%s error=%s", log_quote(addr, reach, sizeof(reach)),
                log_quote(mc_strerror(err), q, sizeof(q)));
        return err;
    }
    dm_reach_addr(addr, port, reach, sizeof(reach));
    if (i == 0 && kind == DM_DNS)
        snprintf(d->dns_addr_text, sizeof(d->dns_addr_text), "%s", reach);
    if (i == 0 && kind == DM_MGMT)
        snprintf(d->mgmt_url, sizeof(d->mgmt_url), "http://%s", reach);
    if (i == 0 && kind == DM_DOH)
        snprintf(d->doh_url, sizeof(d->doh_url), "https://%s" DOH_PATH, reach);
    log_msg(LOGL_INFO, event, "addr=%s%s", reach, kind == DM_DNS ? " proto=udp+tcp" : "");
    return MC_OK;
}

/* The DoH certificate and key from the files the config names. */
static enum mc_err dm_read_doh_pair(const struct dnsmock_config *cfg, char **cert, char **key)
{
    size_t len;
    char qc[160], qk[160];
    enum mc_err err;

    err = file_read_all(cfg->doh_cert_pem, PEM_MAX_LEN, cert, &len);
    if (err == MC_OK)
        err = file_read_all(cfg->doh_key_pem, PEM_MAX_LEN, key, &len);
    if (err != MC_OK)
        log_msg(LOGL_ERROR, "doh.cert", "cert=%s key=%s error=%s",
                log_quote(cfg->doh_cert_pem, qc, sizeof(qc)),
                log_quote(cfg->doh_key_pem, qk, sizeof(qk)), mc_strerror(err));
    return err == MC_ERR_NOT_FOUND ? MC_ERR_IO : err;
}

enum mc_err dnsmock_start(const struct dnsmock_config *cfg, struct dnsmock **out)
{
    enum mc_err err = MC_ERR_NOMEM;
    struct dnsmock *d = NULL;
    struct dm_addrs addrs[DM_KINDS];
    const char *lists[DM_KINDS];
    char *doh_cert = NULL, *doh_key = NULL;
    bool doh_own_pair;
    char where[96];
    *out = NULL;

    /* Every list is checked before anything starts, so a bad one binds nothing. */
    lists[DM_DNS] = cfg->dns_addr;
    lists[DM_MGMT] = cfg->mgmt_addr;
    lists[DM_HTTP01] = cfg->http01_addr;
    lists[DM_TLSALPN01] = cfg->tlsalpn01_addr;
    lists[DM_HTTPS01] = cfg->https01_addr;
    lists[DM_DOH] = cfg->doh_addr;
    for (int k = 0; k < DM_KINDS; k++) {
        if (dm_split_addrs(lists[k], &addrs[k]) != MC_OK) {
            log_msg(LOGL_ERROR, "dnsmock.config",
                    "error=\"bad address list\" listener=%s max=%d value=%s", dm_kind_name[k],
                    DNSMOCK_MAX_ADDRS, log_quote(lists[k], where, sizeof(where)));
            return MC_ERR_INVALID;
        }
    }
    doh_own_pair = cfg->doh_cert_pem != NULL && cfg->doh_cert_pem[0] != '\0';
    if (doh_own_pair != (cfg->doh_key_pem != NULL && cfg->doh_key_pem[0] != '\0')) {
        log_msg(LOGL_ERROR, "dnsmock.config", "error=\"DoH certificate and key go together\"");
        return MC_ERR_INVALID;
    }

    d = calloc(1, sizeof(*d));
    if (d == NULL)
        goto fail;
    d->default_ipv4 = strdup(cfg->default_ipv4 != NULL ? cfg->default_ipv4 : "");
    d->default_ipv6 = strdup(cfg->default_ipv6 != NULL ? cfg->default_ipv6 : "");
    d->strict = cfg->strict;
    d->allow_unsigned_updates = cfg->allow_unsigned_updates;
    if (d->default_ipv4 == NULL || d->default_ipv6 == NULL)
        goto fail;

    if (cfg->clock != NULL) {
        d->clock = cfg->clock;
    } else {
        d->clock = clock_new();
        d->own_clock = true;
        if (d->clock == NULL)
            goto fail;
    }
    d->zones = zone_store_new();
    d->chals = chal_store_new();
    d->history = history_new(cfg->history_max > 0 ? cfg->history_max : DNSMOCK_HISTORY_DEFAULT);
    d->faults = fault_engine_new(cfg->fault_seed, d->clock);
    if (d->zones == NULL || d->chals == NULL || d->history == NULL || d->faults == NULL)
        goto fail;
    zone_set_mode(d->zones, cfg->strict ? ZONE_MODE_STRICT : ZONE_MODE_COMPAT);
    err = zone_set_default_ipv4(d->zones, d->default_ipv4);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "dnsmock.config", "error=\"bad default IPv4\" value=%s",
                d->default_ipv4);
        goto fail;
    }
    err = zone_set_default_ipv6(d->zones, d->default_ipv6);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "dnsmock.config", "error=\"bad default IPv6\" value=%s",
                d->default_ipv6);
        goto fail;
    }
    err = tsig_keyring_new(cfg->tsig_keys, cfg->ntsig_keys, &d->tsig);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "dnsmock.config", "error=\"bad TSIG key\" reason=%s",
                log_quote(mc_strerror(err), where, sizeof(where)));
        goto fail;
    }

    /* TLS material: the user's DoH pair, and one self-signed pair for whichever TLS
     * listener has no other (challtestsrv makes its HTTPS certificate at start too). */
    if (addrs[DM_DOH].n > 0 && doh_own_pair) {
        err = dm_read_doh_pair(cfg, &doh_cert, &doh_key);
        if (err != MC_OK)
            goto fail;
    }
    if (addrs[DM_HTTPS01].n > 0 || (addrs[DM_DOH].n > 0 && !doh_own_pair)) {
        err = responder_selfsigned_pem(&d->tls_cert_pem, &d->tls_key_pem);
        if (err != MC_OK)
            goto fail;
    }

    for (int k = 0; k < DM_KINDS; k++) {
        const char *cert = k == DM_DOH && doh_own_pair ? doh_cert : d->tls_cert_pem;
        const char *key = k == DM_DOH && doh_own_pair ? doh_key : d->tls_key_pem;
        for (size_t i = 0; i < addrs[k].n; i++) {
            err = dm_start_one(d, (enum dm_kind)k, i, addrs[k].v[i],
                               dm_udp_threads(cfg->udp_threads), cert, key);
            if (err != MC_OK)
                goto fail;
        }
    }
    log_msg(LOGL_INFO, "dnsmock.start", "fault_seed=%" PRIu64 " mode=%s tsig_keys=%zu",
            fault_engine_seed(d->faults), d->strict ? "strict" : "compat",
            tsig_keyring_count(d->tsig));
    free(doh_cert);
    free(doh_key);
    *out = d;
    return MC_OK;

fail:
    if (err == MC_OK)
        err = MC_ERR_NOMEM;
    free(doh_cert);
    free(doh_key);
    dnsmock_stop(d);
    return err;
}

void dnsmock_stop(struct dnsmock *d)
{
    if (d == NULL)
        return;
    /* Listeners first: after these return no handler can touch the state below. */
    dns_server_stop(d->dns);
    http_server_stop(d->mgmt);
    http_server_stop(d->http01);
    tlsalpn_responder_stop(d->tlsalpn);
    http_server_stop(d->https01);
    http_server_stop(d->doh);
    d->dns = NULL;
    d->mgmt = NULL;
    d->http01 = NULL;
    d->tlsalpn = NULL;
    d->https01 = NULL;
    d->doh = NULL;
    for (size_t i = 0; i < DNSMOCK_MAX_ADDRS - 1; i++) {
        dns_server_stop(d->dns_more[i]);
        http_server_stop(d->mgmt_more[i]);
        http_server_stop(d->http01_more[i]);
        tlsalpn_responder_stop(d->tlsalpn_more[i]);
        http_server_stop(d->https01_more[i]);
        http_server_stop(d->doh_more[i]);
        d->dns_more[i] = NULL;
        d->mgmt_more[i] = NULL;
        d->http01_more[i] = NULL;
        d->tlsalpn_more[i] = NULL;
        d->https01_more[i] = NULL;
        d->doh_more[i] = NULL;
    }

    tsig_keyring_free(d->tsig);
    fault_engine_free(d->faults);
    history_free(d->history);
    chal_store_free(d->chals);
    zone_store_free(d->zones);
    if (d->own_clock)
        clock_free(d->clock);
    free(d->tls_cert_pem);
    free(d->tls_key_pem);
    free(d->default_ipv4);
    free(d->default_ipv6);
    free(d);
}

const char *dnsmock_addr(const struct dnsmock *d)
{
    return d->dns_addr_text;
}

uint16_t dnsmock_dns_port(const struct dnsmock *d)
{
    return d->dns != NULL ? dns_server_port(d->dns) : 0;
}

const char *dnsmock_mgmt_url(const struct dnsmock *d)
{
    return d->mgmt_url;
}

uint16_t dnsmock_http01_port(const struct dnsmock *d)
{
    return d->http01 != NULL ? http_server_port(d->http01) : 0;
}

uint16_t dnsmock_tlsalpn01_port(const struct dnsmock *d)
{
    return d->tlsalpn != NULL ? tlsalpn_responder_port(d->tlsalpn) : 0;
}

uint16_t dnsmock_https01_port(const struct dnsmock *d)
{
    return d->https01 != NULL ? http_server_port(d->https01) : 0;
}

uint16_t dnsmock_doh_port(const struct dnsmock *d)
{
    return d->doh != NULL ? http_server_port(d->doh) : 0;
}

const char *dnsmock_doh_url(const struct dnsmock *d)
{
    return d->doh_url;
}

const char *dnsmock_tls_cert_pem(const struct dnsmock *d)
{
    return d->tls_cert_pem != NULL ? d->tls_cert_pem : "";
}

uint64_t dnsmock_fault_seed(const struct dnsmock *d)
{
    return fault_engine_seed(d->faults);
}

struct zone_store *dnsmock_zones(struct dnsmock *d)
{
    return d->zones;
}
