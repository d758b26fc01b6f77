/* dnsmock.h: the in-process API of dnsmock, an authoritative DNS server with a management
 * API that is a drop-in for pebble-challtestsrv's, RFC 2136 updates with TSIG, DNS fault
 * injection, and http-01 / tls-alpn-01 responders.
 *
 *   struct dnsmock_config cfg;
 *   dnsmock_config_init(&cfg);            // the documented defaults (DESIGN.md)
 *   cfg.dns_addr = "127.0.0.1:0";        // port 0: the kernel picks
 *   struct dnsmock *d;
 *   if (dnsmock_start(&cfg, &d) != MC_OK) ...
 *   printf("%s\n", dnsmock_addr(d));      // "127.0.0.1:40123"
 *   dnsmock_stop(d);
 */
#ifndef DNSMOCK_H
#define DNSMOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/err.h"

struct dnsmock_tsig_key {
    const char *name;      /* key name, e.g. "update-key." */
    const char *algorithm; /* "hmac-sha256" (also hmac-sha1, hmac-sha384, hmac-sha512) */
    const char *secret;    /* standard base64, as BIND key files and nsupdate -y write it */
};

struct dnsmock_config {
    /* Listener addresses as "host:port", "[v6]:port" or ":port" (all interfaces, as Go
     * reads it for challtestsrv's flags). NULL or "" disables that listener. */
    const char *dns_addr;       /* UDP and TCP; default "127.0.0.1:8053" */
    const char *mgmt_addr;      /* plain HTTP; default "127.0.0.1:8055" */
    const char *http01_addr;    /* default "127.0.0.1:5002" */
    const char *tlsalpn01_addr; /* default "127.0.0.1:5001" */
    const char *default_ipv4;   /* answer for any A query in compat mode; "" none; "127.0.0.1" */
    const char *default_ipv6;   /* same for AAAA; default "::1" as challtestsrv */
    bool strict;                /* strict zones (NXDOMAIN, NODATA + SOA) instead of compat */
    unsigned udp_threads;       /* 0: one per core, at most 4 */
    const struct dnsmock_tsig_key *tsig_keys; /* RFC 2136 update keys */
    size_t ntsig_keys;
    bool allow_unsigned_updates; /* accept UPDATE without TSIG (off by default) */
    uint64_t fault_seed;        /* 0: a seed from the OS; dnsmock_fault_seed() tells it */
    struct mc_clock *clock;     /* borrowed; NULL: dnsmock makes its own */
    unsigned history_max;       /* entries kept per history kind; 0: 10000 */
};

struct dnsmock;
struct zone_store;

/* The documented defaults above. */
void dnsmock_config_init(struct dnsmock_config *cfg);

/* Starts every listener that cfg names. MC_ERR_IO when an address cannot be bound (errno
 * kept), MC_ERR_INVALID for an address, IP or TSIG key that does not parse. The config is
 * copied; *out is new (dnsmock_stop). */
MC_MUST_CHECK enum mc_err dnsmock_start(const struct dnsmock_config *cfg, struct dnsmock **out);
/* Stops every listener, waits for running handlers, frees. NULL ok. */
void dnsmock_stop(struct dnsmock *d);

/* "127.0.0.1:PORT" of the DNS listener (UDP and TCP share the port), or "" if none. */
const char *dnsmock_addr(const struct dnsmock *d);
uint16_t dnsmock_dns_port(const struct dnsmock *d);
/* "http://127.0.0.1:PORT" of the management API, or "" if none. */
const char *dnsmock_mgmt_url(const struct dnsmock *d);
uint16_t dnsmock_http01_port(const struct dnsmock *d);   /* 0 if none */
uint16_t dnsmock_tlsalpn01_port(const struct dnsmock *d); /* 0 if none */
uint64_t dnsmock_fault_seed(const struct dnsmock *d);

/* The record store, for in-process users (mockca's embedded DNS, tests). Thread-safe. */
struct zone_store *dnsmock_zones(struct dnsmock *d);

#endif
