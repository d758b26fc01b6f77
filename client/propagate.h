/* propagate.h: the DNS side of the dns-01 solvers. prop_wait is the propagation check of
 * solver.h (struct propagation): it asks each authoritative server of the record's zone
 * directly, on the configured port, rather than a recursive resolver (whose cache says
 * nothing about the CA's view) or port 53 always (lego's habit, which makes a test server
 * on another port impossible to check). prop_exchange is the one DNS transport of the
 * client (UDP, then TCP when the answer is truncated), shared with the RFC 2136 solver. */
#ifndef CERTCLI_PROPAGATE_H
#define CERTCLI_PROPAGATE_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <ldns/ldns.h>

#include "client/solver.h"
#include "common/err.h"

#define PROP_MSG_MAX 65535  /* a DNS message over TCP; UDP answers are read into this too */
#define PROP_MAX_SERVERS 16 /* authoritative addresses (and NS names) asked per zone */

/* A server address: "IP", "IP:PORT", "[v6]:PORT" (default_port when none). MC_ERR_INVALID
 * when it does not parse. */
MC_MUST_CHECK enum mc_err prop_parse_addr(const char *s, uint16_t default_port,
                                          struct sockaddr_storage *ss, socklen_t *len);

/* Sends the message wire[0..n) to ss over UDP and waits at most timeout_ms for the answer
 * with the same ID; when that answer has TC set, asks again over TCP (RFC 1035 section
 * 4.2.2, RFC 7766) within the same bound. *out is the raw answer (new, caller frees; the
 * raw bytes are what TSIG verification needs), *outlen its length. MC_ERR_TIMEOUT when no
 * answer came in time, MC_ERR_IO for a socket failure, MC_ERR_INVALID for an answer that
 * is no DNS message or answers another ID. */
MC_MUST_CHECK enum mc_err prop_exchange(const struct sockaddr_storage *ss, socklen_t sslen,
                                        const uint8_t *wire, size_t n, int timeout_ms,
                                        uint8_t **out, size_t *outlen);

/* The same for a query built here: name/type, class IN, RD as given, a random ID (from
 * OpenSSL). *reply is the parsed answer (new, ldns_pkt_free). */
MC_MUST_CHECK enum mc_err prop_query(const struct sockaddr_storage *ss, socklen_t sslen,
                                     const char *name, ldns_rr_type type, bool rd, int timeout_ms,
                                     ldns_pkt **reply);

/* Waits until every authoritative nameserver of the record's zone answers a TXT holding
 * value (other values may be there too). The record's name is fqdn, or the end of the
 * CNAME chain that starts there (the dns-01 delegation `_acme-challenge.example.com CNAME
 * _acme-challenge.delegated.example.net`, which CAs follow), asked link by link of
 * p->resolver, at most 8 links. Zone and servers are looked up through p->resolver (NULL:
 * the first nameserver of /etc/resolv.conf): NS at that name and then each parent until
 * one has an NS set (an SOA in the authority section names the zone directly), then A and
 * AAAA of each NS name (glue used when the resolver gives it). Every address is asked
 * over UDP (TCP on TC=1) on p->auth_port with RD clear, every p->interval_ms until
 * p->timeout_s has passed. A nameserver is ready when one of its addresses answered with
 * the value and none answered without it; an address that does not answer at all (a ::1
 * of a server listening on IPv4 only) does not hold its nameserver back. MC_OK when every
 * nameserver is ready; MC_ERR_INVALID at once, without waiting, for a CNAME loop or a
 * chain longer than 8 links; MC_ERR_TIMEOUT otherwise, after a log line per address with
 * what it last said (NXDOMAIN, SERVFAIL, NODATA, the values it had, or no answer). p must
 * have its defaults filled in (solver.c does); timeout_s 0 means one round. */
MC_MUST_CHECK enum mc_err prop_wait(const struct propagation *p, const char *fqdn,
                                    const char *value);

#endif
