/* history.h: challtestsrv's request histories (DNS queries, http-01 requests, tls-alpn-01
 * handshakes), kept per host and bounded: the oldest entries go first once a kind holds
 * its maximum. Thread-safe. The JSON of each entry is challtestsrv's, so scripts that read
 * /dns-request-history and friends work unchanged. */
#ifndef DNSMOCK_HISTORY_H
#define DNSMOCK_HISTORY_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

enum history_kind { HISTORY_DNS = 0, HISTORY_HTTP, HISTORY_TLSALPN, HISTORY_KINDS };

struct history;

struct history *history_new(unsigned max_per_kind); /* NULL when out of memory */
void history_free(struct history *h); /* NULL ok */

/* Recorders; host/qname in any form (normalized inside). Failures to record are dropped
 * silently: history must never break an answer. */
void history_add_dns(struct history *h, const char *qname, uint16_t qtype, uint16_t qclass);
void history_add_http(struct history *h, const char *host, const char *method, const char *url,
                      const char *user_agent, int tls, const char *server_name);
void history_add_tlsalpn(struct history *h, const char *server_name);

/* A new JSON array of host's entries of that kind, oldest first (challtestsrv's form);
 * caller frees. NULL when out of memory. */
cJSON *history_get(struct history *h, enum history_kind kind, const char *host);
/* Drops host's entries of that kind. */
void history_clear(struct history *h, enum history_kind kind, const char *host);
void history_clear_all(struct history *h);

#endif
