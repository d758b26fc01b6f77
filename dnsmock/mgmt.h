/* mgmt.h: the management API (plain HTTP, loopback by default). Every challtestsrv
 * endpoint with the same paths, JSON bodies and semantics, plus dnsmock's own: zones,
 * NS/SOA, mode, DNS fault rules, reset. The table of endpoints is in mgmt.c and README. */
#ifndef DNSMOCK_MGMT_H
#define DNSMOCK_MGMT_H

#include "common/err.h"
#include "common/http.h"

struct dnsmock;

MC_MUST_CHECK enum mc_err mgmt_start(struct dnsmock *d, const char *addr,
                                     struct http_server **out);

#endif
