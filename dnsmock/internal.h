/* internal.h: the state every dnsmock module shares. Not for users of the library: they
 * see only dnsmock.h. */
#ifndef DNSMOCK_INTERNAL_H
#define DNSMOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/fault.h"
#include "common/http.h"
#include "dnsmock/dnsmock.h"

struct dns_server;
struct chal_store;
struct history;
struct tlsalpn_responder;
struct tsig_keyring;

struct dnsmock {
    /* Configuration, copied at start; initial defaults are kept for /reset. */
    char *default_ipv4;
    char *default_ipv6;
    bool strict;
    bool allow_unsigned_updates;

    /* State, each thread-safe on its own. */
    struct mc_clock *clock;
    bool own_clock;
    struct zone_store *zones;
    struct chal_store *chals;
    struct history *history;
    struct fault_engine *faults;
    struct tsig_keyring *tsig;

    /* Listeners (NULL when disabled). The named field holds the first address of a
     * listener's list, the one the accessors report; *_more the rest, in list order. */
    struct dns_server *dns;
    struct http_server *mgmt;
    struct http_server *http01;
    struct tlsalpn_responder *tlsalpn;
    struct http_server *https01;
    struct http_server *doh;
    struct dns_server *dns_more[DNSMOCK_MAX_ADDRS - 1];
    struct http_server *mgmt_more[DNSMOCK_MAX_ADDRS - 1];
    struct http_server *http01_more[DNSMOCK_MAX_ADDRS - 1];
    struct tlsalpn_responder *tlsalpn_more[DNSMOCK_MAX_ADDRS - 1];
    struct http_server *https01_more[DNSMOCK_MAX_ADDRS - 1];
    struct http_server *doh_more[DNSMOCK_MAX_ADDRS - 1];

    /* The self-signed certificate and key made at start for the TLS listeners, or NULL. */
    char *tls_cert_pem;
    char *tls_key_pem;

    char dns_addr_text[80];
    char mgmt_url[96];
    char doh_url[112];
};

#endif
