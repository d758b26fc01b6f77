/* dnsmock.h: the in-process API of dnsmock, an authoritative DNS server with a management
 * API that is a drop-in for pebble-challtestsrv's, RFC 2136 updates with TSIG, DNS fault
 * injection, http-01 (plain and over TLS) / tls-alpn-01 responders, and DNS over HTTPS.
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

/* The most addresses one listener's comma-separated list may hold. */
#define DNSMOCK_MAX_ADDRS 4

struct dnsmock_config {
    /* Listener addresses as "host:port", "[v6]:port" or ":port" (all interfaces, as Go
     * reads it for challtestsrv's flags). Each may be a comma-separated list of at most
     * DNSMOCK_MAX_ADDRS addresses, one listener per address (challtestsrv's bind lists;
     * spaces and empty entries are skipped; more is MC_ERR_INVALID); the accessors below
     * report the first. NULL or "" disables that listener. */
    const char *dns_addr;       /* UDP and TCP; default "127.0.0.1:8053" */
    const char *mgmt_addr;      /* plain HTTP; default "127.0.0.1:8055" */
    const char *http01_addr;    /* default "127.0.0.1:5002" */
    const char *tlsalpn01_addr; /* default "127.0.0.1:5001" */
    /* http-01 over TLS (challtestsrv's -https01): the same tokens and history (HTTPS true),
     * no redirects, with the self-signed certificate dnsmock makes at start (P-256, SANs
     * localhost, 127.0.0.1 and ::1; dnsmock_tls_cert_pem). Default "127.0.0.1:5003". */
    const char *https01_addr;
    /* DNS over HTTPS (RFC 8484): POST and GET /dns-query, answered as over TCP. Default ""
     * (off); challtestsrv's -doh. */
    const char *doh_addr;
    /* Paths of PEM files: the DoH listener's certificate (chain) and private key. Both or
     * neither; neither: the generated self-signed certificate. */
    const char *doh_cert_pem;
    const char *doh_key_pem;
    const char *default_ipv4; /* answer for any A query in compat mode; "" none; "127.0.0.1" */
    const char *default_ipv6; /* same for AAAA; default "::1" as challtestsrv */
    bool strict;              /* strict zones (NXDOMAIN, NODATA + SOA) instead of compat */
    unsigned udp_threads;     /* 0: one per core, at most 4 */
    const struct dnsmock_tsig_key *tsig_keys; /* RFC 2136 update keys */
    size_t ntsig_keys;
    bool allow_unsigned_updates; /* accept UPDATE without TSIG (off by default) */
    uint64_t fault_seed;         /* 0: a seed from the OS; dnsmock_fault_seed() tells it */
    struct mc_clock *clock;      /* borrowed; NULL: dnsmock makes its own */
    unsigned history_max;        /* entries kept per history kind; 0: 10000 */
};

struct dnsmock;
struct zone_store;

/* The documented defaults above. */
void dnsmock_config_init(struct dnsmock_config *cfg);

/* Starts every listener that cfg names. MC_ERR_IO when an address cannot be bound (errno
 * kept) or a DoH certificate file cannot be read, MC_ERR_INVALID for an address (or a list
 * of more than DNSMOCK_MAX_ADDRS), IP or TSIG key that does not parse, or only one of
 * doh_cert_pem / doh_key_pem; MC_ERR_CRYPTO for a DoH certificate and key that do not
 * load or match. The config is copied; *out is new (dnsmock_stop). */
MC_MUST_CHECK enum mc_err dnsmock_start(const struct dnsmock_config *cfg, struct dnsmock **out);
/* Stops every listener, waits for running handlers, frees. NULL ok. */
void dnsmock_stop(struct dnsmock *d);

/* "127.0.0.1:PORT" of the DNS listener (UDP and TCP share the port), or "" if none. */
const char *dnsmock_addr(const struct dnsmock *d);
uint16_t dnsmock_dns_port(const struct dnsmock *d);
/* "http://127.0.0.1:PORT" of the management API, or "" if none. */
const char *dnsmock_mgmt_url(const struct dnsmock *d);
uint16_t dnsmock_http01_port(const struct dnsmock *d);    /* 0 if none */
uint16_t dnsmock_tlsalpn01_port(const struct dnsmock *d); /* 0 if none */
uint16_t dnsmock_https01_port(const struct dnsmock *d);   /* 0 if none */
uint16_t dnsmock_doh_port(const struct dnsmock *d);       /* 0 if none */
/* "https://127.0.0.1:PORT/dns-query" of the DoH listener, or "" if none. */
const char *dnsmock_doh_url(const struct dnsmock *d);
/* The PEM of the self-signed certificate made at start for https01 (and DoH without a
 * configured certificate), for clients that want to verify against it; "" when no
 * listener needed one. Valid until dnsmock_stop. */
const char *dnsmock_tls_cert_pem(const struct dnsmock *d);
uint64_t dnsmock_fault_seed(const struct dnsmock *d);

/* The record store, for in-process users (mockca's embedded DNS, tests). Thread-safe. */
struct zone_store *dnsmock_zones(struct dnsmock *d);

#endif
