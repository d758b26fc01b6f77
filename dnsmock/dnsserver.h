/* dnsserver.h: the UDP and TCP listeners (RFC 1035 section 4.2, RFC 7766) on one port. */
#ifndef DNSMOCK_DNSSERVER_H
#define DNSMOCK_DNSSERVER_H

#include <stdint.h>

#include "common/err.h"

struct dnsmock;
struct dns_server;

#define DNS_TCP_MAX_CONNS 128
#define DNS_TCP_IDLE_MS 10000

/* Binds UDP and TCP on addr ("host:port"; port 0 picks one free for both) and starts
 * udp_threads UDP workers (SO_REUSEPORT) and a TCP acceptor. Every message goes to
 * dns_handle_message. TCP connections carry several length-prefixed messages, are closed
 * after DNS_TCP_IDLE_MS idle, and at most DNS_TCP_MAX_CONNS are open at once.
 * *out is new (dns_server_stop). */
MC_MUST_CHECK enum mc_err dns_server_start(struct dnsmock *d, const char *addr,
                                           unsigned udp_threads, struct dns_server **out);
uint16_t dns_server_port(const struct dns_server *s);
/* Stops every thread (bounded wait), closes every socket, frees. NULL ok. */
void dns_server_stop(struct dns_server *s);

#endif
