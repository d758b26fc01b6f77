/* mgmt.h: mockca's management listener (HTTPS, the ACME listener's TLS identity), Pebble's
 * management API plus ours. Every path, method and answer:
 *
 * Pebble's (wfe/wfe.go; same paths, bodies, Content-Types and status codes):
 *   GET /roots/N              root of chain N, PEM (application/pem-certificate-chain)
 *   GET /intermediates/N      issuing intermediate of chain N, PEM
 *   GET /root-keys/N          the root's private key, PEM (application/x-pem-file)
 *   GET /intermediate-keys/N  the issuing intermediate's private key, PEM
 *       N is a chain index (0 = default chain, 1.. = PEBBLE_ALTERNATE_ROOTS); each answer
 *       carries Link rel="alternate" to the same resource of every other chain. An index
 *       that is not a number or names no chain: 404, as Pebble.
 *   GET /cert-status-by-serial/HEX   {"Status": "Valid"|"Revoked", or ours "Expired" (past
 *       notAfter on the virtual clock, until the CA prunes it an hour later), "Serial": lowercase hex
 *       without leading zeros, "Certificate": the leaf PEM, and when revoked "Reason" (RFC
 *       5280 code) and "RevokedAt" (Go's time.String form, "2006-01-02 15:04:05 +0000
 *       UTC")}. HEX that is not hex: 400; a serial mockca did not issue (or whose entry
 *       was dropped after expiry): 404. The leaf PEM is "" once the store's retention
 *       dropped it while the CA still knows its status.
 *   POST /set-renewal-info/   {"Certificate": leaf PEM, "ARIResponse": a renewalInfo
 *       document as a JSON string} (member names without case, as Go's decoder): sets the
 *       certificate's ARI window and explanationURL (ari_set_window). 200 with an empty
 *       body; 400 for a body, PEM or ARIResponse that does not parse (the window needs
 *       RFC 3339 start < end); 404 for a certificate the store does not hold.
 * Ours:
 *   GET /clock    {"now_ms": N, "now": "RFC 3339", "frozen": bool}: the one clock every
 *       part of mockca (and the embedded dnsmock) reads.
 *   POST /clock   a JSON object with any of "set_ms" (epoch ms), "advance_ms" (may be
 *       negative), "freeze": true, "resume": true, "reset": true (back to real time),
 *       applied in that order; answers as GET. 400 for an empty object, an unknown
 *       member, a wrong type, or freeze with resume.
 *   POST /sweep   one housekeeping pass now (store_sweep and ca_prune, which a thread also
 *       runs every sweepIntervalSeconds of real time): {"dropped": N, "pruned": N, and the
 *       store's counts "accounts", "orders", "authzs", "challenges", "certs", and
 *       "registry", "nonces", "heapInUse", "heapFree"}.
 *   GET|POST /cc/...  CertCentral's test controls (mockca/cc/cc.h, cc_mgmt_handle), JSON
 *       in and out, errors in CertCentral's envelope: POST /cc/api-keys {"role", "key"?,
 *       "account_id"?} -> 201 {"key", "role", "account_id"}; POST /cc/email-dcv/approve
 *       {"order_id", "dns_name"} or {"domain_id"}; GET /cc/emails; POST
 *       /cc/organization/ID/validation {"type": "ov"|"ev", "status"}; POST /cc/sweep. */
#ifndef MOCKCA_MGMT_H
#define MOCKCA_MGMT_H

#include <stdint.h>

#include "common/http.h"

struct mockca;

/* Fills *out for m's management listener: the route table above (ctx m), m's TLS identity,
 * bind address (borrowed) and port as given, a small worker pool. The caller starts it. */
void mgmt_server_config(struct mockca *m, const char *bind_addr, uint16_t port,
                        struct http_server_config *out);

#endif
