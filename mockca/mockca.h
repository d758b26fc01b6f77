/* mockca.h: the in-process API of mockca, the mock ACME CA.
 *
 *   struct mockca_config cfg;
 *   mockca_config_init(&cfg);                     // Pebble's defaults (config.h)
 *   free(cfg.listen_addr); cfg.listen_addr = strdup("127.0.0.1:0");   // port 0: any free
 *   (the same for mgmt_addr, dns_listen_addr and dns_mgmt_addr, whose defaults are the
 *   binary's fixed ports)
 *   struct mockca *m;
 *   if (mockca_start(&cfg, &m) != MC_OK) ...      // cfg's members now belong to m
 *   puts(mockca_directory_url(m));                // "https://127.0.0.1:40123/dir"
 *   mockca_stop(m);
 *
 * With cfg.dns_server NULL, mockca starts its own dnsmock in-process (DNS and management
 * on cfg.dns_listen_addr and cfg.dns_mgmt_addr; NULL there is loopback port 0), so a mockca
 * alone is a complete offline CA. */
#ifndef MOCKCA_H
#define MOCKCA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "mockca/config.h"

struct mockca;
struct dnsmock;
struct cc_server;

/* Starts the CA, the store, the ACME listener (HTTPS on cfg->listen_addr), the management
 * listener (cfg->mgmt_addr; "" disables it) and, when cfg->dns_server is NULL, an embedded
 * dnsmock. Takes ownership of every member of *cfg and zeroes it, on success and on
 * failure. MC_ERR_IO when an address cannot be bound. *out is new (mockca_stop). */
MC_MUST_CHECK enum mc_err mockca_start(struct mockca_config *cfg, struct mockca **out);
/* Stops every listener and worker (bounded waits), frees everything. NULL ok. */
void mockca_stop(struct mockca *m);

const char *mockca_directory_url(const struct mockca *m); /* "https://127.0.0.1:PORT/dir" */
const char *mockca_mgmt_url(const struct mockca *m);      /* "https://127.0.0.1:PORT" or "" */
/* The root the listeners' TLS certificate chains to (generated at start), PEM; NULL when
 * the user supplied the certificate. Clients trust this to talk to mockca. */
const char *mockca_tls_root_pem(const struct mockca *m);
/* The issuing root of chain (0 = the default chain), PEM, new string: what a client
 * verifies issued certificates against (Pebble's /roots/N). */
MC_MUST_CHECK enum mc_err mockca_root_pem(const struct mockca *m, size_t chain, char **pem);
/* "127.0.0.1:PORT" of the DNS server validations ask: the embedded dnsmock's or
 * cfg->dns_server. */
const char *mockca_dns_addr(const struct mockca *m);
/* The embedded dnsmock (to set records in-process), or NULL when an external DNS server
 * was configured. */
struct dnsmock *mockca_dnsmock(struct mockca *m);
/* The run's seed (cfg.fault_seed, or the one drawn at start): faults and Pebble's random
 * knobs replay from it. */
uint64_t mockca_fault_seed(const struct mockca *m);

/* The base URL of the CertCentral Services API v2 on the ACME listener,
 * "https://127.0.0.1:PORT/services/v2/" (requests carry an API key in X-DC-DEVKEY). */
const char *mockca_cc_url(const struct mockca *m);
/* The administrator API key mockca_start generated because cfg.cc named none (32
 * characters, A-Z and 0-9), or NULL when keys were configured. The binary prints it. */
const char *mockca_cc_api_key(const struct mockca *m);
/* The CertCentral front end (mockca/cc/cc.h) for in-process calls such as cc_add_api_key,
 * cc_approve_email and cc_org_validate. */
struct cc_server *mockca_cc(struct mockca *m);

#endif
