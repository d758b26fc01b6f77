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

    /* Listeners (NULL when disabled). */
    struct dns_server *dns;
    struct http_server *mgmt;
    struct http_server *http01;
    struct tlsalpn_responder *tlsalpn;

    char dns_addr_text[80];
    char mgmt_url[96];
};

#endif
