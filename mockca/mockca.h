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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "mockca/config.h"

struct mockca;
struct dnsmock;
struct cc_server;
struct mc_clock;

/* Called after every recorded exchange with its transcript record (transcript.h; borrowed,
 * valid during the call only), on the listener's worker thread: keep it short and
 * thread-safe. */
typedef void (*mockca_observer_fn)(void *ctx, const cJSON *rec);

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

/* ---- recording, capabilities and queries (for the scenario runner, mockca/run.h) ---- */

/* Starts writing every exchange of the ACME/CertCentral and management listeners to a
 * transcript (transcript.h) at path (truncated), or to fd (left open), bounded to
 * max_bytes (0: TR_DEFAULT_MAX_BYTES). Replaces an open transcript. MC_ERR_IO when path
 * cannot be opened. */
MC_MUST_CHECK enum mc_err mockca_transcript_open(struct mockca *m, const char *path,
                                                 size_t max_bytes);
MC_MUST_CHECK enum mc_err mockca_transcript_fd(struct mockca *m, int fd, size_t max_bytes);
/* Stops recording (waits for a record being written), appends the dropped count if any,
 * closes. *written and *dropped (either may be NULL) get the counts. No-op when closed. */
void mockca_transcript_close(struct mockca *m, size_t *written, size_t *dropped);
/* Sets (fn non-NULL) or clears the observer. */
void mockca_set_observer(struct mockca *m, mockca_observer_fn fn, void *ctx);

/* What this build of mockca can do, as stable names, so that a scenario that needs more
 * (fixtures/scenarios "requires") is reported SKIP rather than run and misjudged:
 * "transcript", "scenarios", "dns-faults" (the embedded dnsmock's fault engine) and, once
 * the ACME and CertCentral front ends consult the fault engine, "acme-faults" and
 * "certcentral-faults". NULL-terminated static array; *n (may be NULL) gets the count. */
const char *const *mockca_capabilities(size_t *n);
bool mockca_has_capability(const char *name);

/* The client-conformance grader (mockca/cconf.h): how many MUST requirements the clients
 * in front of this mockca have failed so far (*n), and its report written to dir as
 * conformance.json, conformance.junit.xml and conformance.html (common/report.h). */
MC_MUST_CHECK enum mc_err mockca_conformance_must_failures(struct mockca *m, size_t *n);
MC_MUST_CHECK enum mc_err mockca_conformance_write(struct mockca *m, const char *dir);

/* The run's clock (freeze, set, advance: common/clock.h). */
struct mc_clock *mockca_clock(struct mockca *m);

/* Adds one fault rule to the front end named by server ("acme" or "certcentral"): match
 * in common/fault.h's JSON form, action in that front end's action form. Until the front
 * ends consult the engine (capability "acme-faults"), MC_ERR_UNSUPPORTED. DNS rules go to
 * the embedded dnsmock's management API (/add-dns-fault). Message in err on failure. */
MC_MUST_CHECK enum mc_err mockca_fault_add(struct mockca *m, const char *server,
                                           const cJSON *match, const cJSON *action,
                                           uint64_t *id, char *err, size_t errn);
/* How often rule id of the ACME/CertCentral engine fired. MC_ERR_NOT_FOUND for no such rule. */
MC_MUST_CHECK enum mc_err mockca_fault_fired(struct mockca *m, uint64_t id, uint64_t *fired);

/* A read-only view of an ACME order, for judging expectations. */
struct mockca_order_info {
    char status[16];       /* "pending", "ready", "processing", "valid", "invalid" */
    char account_id[32];
    char **names;          /* identifier values as ordered ("*.example.com" kept) */
    size_t n_names;
    char *replaces;        /* ARI certificate id (RFC 9773) or NULL */
    char serial[72];       /* hex, "" until valid */
    bool revoked;          /* the certificate is revoked at the CA */
};
/* Fills *out for order id (the last path segment of its URL). MC_ERR_NOT_FOUND for an
 * unknown (or swept) order. Release with mockca_order_info_clear. */
MC_MUST_CHECK enum mc_err mockca_order_info(struct mockca *m, const char *order_id,
                                            struct mockca_order_info *out);
void mockca_order_info_clear(struct mockca_order_info *o); /* NULL ok */
/* The RFC's status name of account id ("valid", "deactivated", "revoked") into status
 * (size n). MC_ERR_NOT_FOUND for an unknown account. */
MC_MUST_CHECK enum mc_err mockca_account_status(struct mockca *m, const char *account_id,
                                                char *status, size_t n);

#endif
