/* dnsmock.c: lifecycle of an in-process dnsmock: state first, then listeners; stop in
 * the reverse order, so no handler ever runs against freed state. */
#include "dnsmock/dnsmock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/http.h"
#include "common/log.h"
#include "dnsmock/dnsserver.h"
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
    cfg->default_ipv4 = "127.0.0.1";
    cfg->default_ipv6 = "::1";
}

static bool dm_enabled(const char *addr)
{
    return addr != NULL && addr[0] != '\0';
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

enum mc_err dnsmock_start(const struct dnsmock_config *cfg, struct dnsmock **out)
{
    enum mc_err err = MC_ERR_NOMEM;
    struct dnsmock *d = NULL;
    char where[96];
    *out = NULL;

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

    if (dm_enabled(cfg->dns_addr)) {
        err = dns_server_start(d, cfg->dns_addr, dm_udp_threads(cfg->udp_threads), &d->dns);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "dns.listen", "addr=%s error=%s", cfg->dns_addr,
                    log_quote(mc_strerror(err), where, sizeof(where)));
            goto fail;
        }
        dm_reach_addr(cfg->dns_addr, dns_server_port(d->dns), d->dns_addr_text,
                      sizeof(d->dns_addr_text));
        log_msg(LOGL_INFO, "dns.listen", "addr=%s proto=udp+tcp", d->dns_addr_text);
    }
    if (dm_enabled(cfg->mgmt_addr)) {
        err = mgmt_start(d, cfg->mgmt_addr, &d->mgmt);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "mgmt.listen", "addr=%s error=%s", cfg->mgmt_addr,
                    log_quote(mc_strerror(err), where, sizeof(where)));
            goto fail;
        }
        char reach[72]; /* "[" + 63-byte host + "]:65535" */
        dm_reach_addr(cfg->mgmt_addr, http_server_port(d->mgmt), reach, sizeof(reach));
        snprintf(d->mgmt_url, sizeof(d->mgmt_url), "http://%s", reach);
        log_msg(LOGL_INFO, "mgmt.listen", "url=%s", d->mgmt_url);
    }
    if (dm_enabled(cfg->http01_addr)) {
        err = http01_responder_start(d, cfg->http01_addr, &d->http01);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "http01.listen", "addr=%s error=%s", cfg->http01_addr,
                    log_quote(mc_strerror(err), where, sizeof(where)));
            goto fail;
        }
        dm_reach_addr(cfg->http01_addr, http_server_port(d->http01), where, sizeof(where));
        log_msg(LOGL_INFO, "http01.listen", "addr=%s", where);
    }
    if (dm_enabled(cfg->tlsalpn01_addr)) {
        err = tlsalpn_responder_start(d, cfg->tlsalpn01_addr, &d->tlsalpn);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "tlsalpn01.listen", "addr=%s error=%s", cfg->tlsalpn01_addr,
                    log_quote(mc_strerror(err), where, sizeof(where)));
            goto fail;
        }
        dm_reach_addr(cfg->tlsalpn01_addr, tlsalpn_responder_port(d->tlsalpn), where,
                      sizeof(where));
        log_msg(LOGL_INFO, "tlsalpn01.listen", "addr=%s", where);
    }
    log_msg(LOGL_INFO, "dnsmock.start", "fault_seed=%" PRIu64 " mode=%s tsig_keys=%zu",
            fault_engine_seed(d->faults), d->strict ? "strict" : "compat",
            tsig_keyring_count(d->tsig));
    *out = d;
    return MC_OK;

fail:
    if (err == MC_OK)
        err = MC_ERR_NOMEM;
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
    d->dns = NULL;
    d->mgmt = NULL;
    d->http01 = NULL;
    d->tlsalpn = NULL;

    tsig_keyring_free(d->tsig);
    fault_engine_free(d->faults);
    history_free(d->history);
    chal_store_free(d->chals);
    zone_store_free(d->zones);
    if (d->own_clock)
        clock_free(d->clock);
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

uint64_t dnsmock_fault_seed(const struct dnsmock *d)
{
    return fault_engine_seed(d->faults);
}

struct zone_store *dnsmock_zones(struct dnsmock *d)
{
    return d->zones;
}
