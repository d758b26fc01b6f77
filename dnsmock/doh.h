/* doh.h: DNS over HTTPS (RFC 8484) on the http layer over TLS: POST /dns-query with an
 * application/dns-message body, and GET /dns-query?dns=<base64url of the message>, each
 * answered through dns_handle_message as over TCP (no truncation). */
#ifndef DNSMOCK_DOH_H
#define DNSMOCK_DOH_H

#include "common/err.h"
#include "common/http.h"

struct dnsmock;

/* The largest DNS message a DoH request may carry (a DNS message's own limit, as over
 * TCP); a larger one gets 413. */
#define DOH_MAX_MESSAGE 65535
#define DOH_PATH "/dns-query"

/* Starts a DoH listener on addr ("host:port") with cert_pem and key_pem (PEM text, copied).
 * Answers: 200 application/dns-message with Cache-Control max-age = the smallest TTL of the
 * answer and authority records (0 with none; an SOA counts with the smaller of its TTL and
 * MINIMUM, RFC 2308); 415 for a POST whose Content-Type is not application/dns-message; 400
 * for a missing or malformed dns parameter, an empty body, a message shorter than a DNS
 * header or a response (QR=1); 413 over DOH_MAX_MESSAGE. A DNS fault applies as over TCP:
 * an rcode fault answers 200 with that rcode, "delay" holds the answer, "drop" closes the
 * connection without an answer. *out is new (http_server_stop). */
MC_MUST_CHECK enum mc_err doh_start(struct dnsmock *d, const char *addr, const char *cert_pem,
                                    const char *key_pem, struct http_server **out);

#endif
