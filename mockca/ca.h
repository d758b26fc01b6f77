/* ca.h: mockca's certificate authority. It holds one or more root chains (the default
 * chain plus Pebble's "alternate roots"), issues leaf certificates under the default
 * chain's issuing intermediate, keeps the revocation registry, and answers OCSP (RFC 6960)
 * and CRL (RFC 5280) requests from it. Thread-safe. All times come from the clock.
 *
 * Chains: chain i is root_i -> intermediate_i,k-1 -> ... -> intermediate_i,0 -> leaf, with
 * k = chain_length intermediates: Pebble's PEBBLE_CHAIN_LENGTH meaning (ca/ca.go newChain:
 * the number of intermediates, at least 1, so the leaf is never signed by a root). Every
 * chain's issuing intermediate (number 0) has the same subject name, key and SKI, each
 * chain certifying it under its own root (no cross-signing), so one leaf verifies under
 * every chain: that is what lets an ACME server offer alternate chains (RFC 8555 section
 * 7.4.2, Link rel="alternate"). */
#ifndef MOCKCA_CA_H
#define MOCKCA_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/csr.h"
#include "common/err.h"
#include "common/keys.h"

#define CA_MAX_CHAINS 8
#define CA_MAX_CHAIN_LENGTH 8
#define CA_MAX_CERTS 1000000 /* live (unexpired) leaves; expired ones are pruned */

/* RFC 5280 section 5.3.1 reason codes; 7 is unused. */
enum ca_reason {
    CA_REASON_UNSPECIFIED = 0,
    CA_REASON_KEY_COMPROMISE = 1,
    CA_REASON_CA_COMPROMISE = 2,
    CA_REASON_AFFILIATION_CHANGED = 3,
    CA_REASON_SUPERSEDED = 4,
    CA_REASON_CESSATION_OF_OPERATION = 5,
    CA_REASON_CERTIFICATE_HOLD = 6,
    CA_REASON_REMOVE_FROM_CRL = 8,
    CA_REASON_PRIVILEGE_WITHDRAWN = 9,
    CA_REASON_AA_COMPROMISE = 10,
};

enum ca_status { CA_STATUS_UNKNOWN = 0, CA_STATUS_GOOD, CA_STATUS_REVOKED };

struct ca_config {
    enum key_type key_type;       /* CA keys; 0: KEY_EC_P256 */
    unsigned chain_length;        /* intermediates per chain (PEBBLE_CHAIN_LENGTH); 0: 1 */
    unsigned alternate_roots;     /* extra chains; 0: none */
    const char *root_cert_pem;    /* optional: use this root (and its key) for chain 0 */
    const char *root_key_pem;
    const char *name_prefix;      /* subject CN prefix; NULL: "mockca" */
    const char *ocsp_url;         /* AIA OCSP URL in leaves; NULL: none */
    const char *issuer_url;       /* AIA caIssuers URL in leaves; NULL: none */
    const char *crl_url;          /* CRL distribution point in leaves; NULL: none */
    const struct mc_clock *clock; /* borrowed; NULL: real time */
};

struct ca;

MC_MUST_CHECK enum mc_err ca_new(const struct ca_config *cfg, struct ca **out);
void ca_free(struct ca *ca); /* NULL ok */

size_t ca_chain_count(const struct ca *ca); /* 1 + alternate_roots */
/* PEM of chain's root, or of its intermediate number i (0 = the issuing one, as Pebble's
 * /intermediates/N serves; chain_length - 1 = the one issued by the root); and their
 * private keys (Pebble's management API serves these). New strings. MC_ERR_NOT_FOUND for
 * an index out of range. */
MC_MUST_CHECK enum mc_err ca_root_pem(const struct ca *ca, size_t chain, char **pem);
MC_MUST_CHECK enum mc_err ca_root_key_pem(const struct ca *ca, size_t chain, char **pem);
MC_MUST_CHECK enum mc_err ca_intermediate_pem(const struct ca *ca, size_t chain, size_t i,
                                              char **pem);
MC_MUST_CHECK enum mc_err ca_intermediate_key_pem(const struct ca *ca, size_t chain, size_t i,
                                                  char **pem);

struct ca_issue_request {
    EVP_PKEY *public_key;            /* the subject key (from the CSR) */
    const struct ident_list *sans;   /* DNS and IP names, at least one */
    const char *common_name;         /* NULL: none, unless promote_cn */
    bool promote_cn;                 /* CN := the first DNS SAN of 64 chars or fewer */
    bool must_staple;                /* copy the TLS Feature status_request extension */
    int64_t not_before;              /* Unix seconds; 0: an hour before now (backdated) */
    int64_t not_after;               /* Unix seconds; 0: validity from the requested
                                        not_before, or from now when that is defaulted */
    int64_t validity;                /* seconds; 0: 90 days */
};

/* Issues a leaf: a 16-byte positive serial that looks random (126 bits, a keyed
 * permutation of a sequence number and the notAfter; see ca.c); subject CN as asked; SANs; EKU serverAuth
 * and clientAuth; KU digitalSignature (+ keyEncipherment for RSA keys); basicConstraints
 * CA:FALSE critical; SKI and AKI; AIA OCSP and caIssuers and CRL DP when configured; TLS
 * Feature when must_staple. Records it as good. MC_ERR_INVALID when not_after <= not_before
 * or not_after <= now
 * or no SANs; MC_ERR_LIMIT when CA_MAX_CERTS unexpired leaves are counted. *leaf is new; *serial_hex
 * (lowercase, x509_serial_hex form) is new. */
MC_MUST_CHECK enum mc_err ca_issue(struct ca *ca, const struct ca_issue_request *req, X509 **leaf,
                                   char **serial_hex);
/* ca_issue for a caller that only stores the leaf: *leaf_pem (one PEM block ending in a
 * newline) and *serial_hex are new. The leaf is built without a decoded copy of the subject
 * key (x509_pubkey_encode), which in OpenSSL 3.0 is most of what ca_issue spends besides
 * the signature; the certificate is the same. */
MC_MUST_CHECK enum mc_err ca_issue_pem(struct ca *ca, const struct ca_issue_request *req,
                                       char **leaf_pem, char **serial_hex);
/* The PEM chain for download: leaf then the intermediates of chain (issuing first), no
 * root (RFC 8555 section 9.1). New string. */
MC_MUST_CHECK enum mc_err ca_chain_pem(const struct ca *ca, X509 *leaf, size_t chain, char **pem);
/* The same chain from the leaf's PEM as stored at issuance (one CERTIFICATE block ending in
 * a newline, not parsed again: the download path is hot), the intermediates' PEM cached at
 * ca_new. New string. MC_ERR_INVALID when leaf_pem is empty or lacks its final newline,
 * MC_ERR_NOT_FOUND for a chain out of range. */
MC_MUST_CHECK enum mc_err ca_chain_pem_text(const struct ca *ca, const char *leaf_pem, size_t chain,
                                            char **pem);

/* Marks serial revoked at the clock's now with reason. MC_ERR_NOT_FOUND for a serial this
 * CA did not issue, MC_ERR_EXISTS if already revoked, MC_ERR_INVALID for reason 7 or > 10. */
MC_MUST_CHECK enum mc_err ca_revoke(struct ca *ca, const char *serial_hex, int reason);
/* Status of serial; reason and revoked_at (Unix seconds) are set when revoked (either may
 * be NULL). A serial this CA did not issue, or whose certificate expired more than an hour
 * ago, is CA_STATUS_UNKNOWN with MC_OK (the status is kept while the certificate is
 * unexpired, and dropped after, unlike Pebble, which keeps it forever); MC_ERR_INVALID for
 * a serial that is not hex. */
MC_MUST_CHECK enum mc_err ca_status(struct ca *ca, const char *serial_hex, enum ca_status *status,
                                    int *reason, int64_t *revoked_at);
/* The notAfter (Unix seconds) of a certificate this CA issued, until an hour after it.
 * MC_ERR_NOT_FOUND for a serial it did not issue or one expired longer ago. */
MC_MUST_CHECK enum mc_err ca_not_after(struct ca *ca, const char *serial_hex, int64_t *not_after);

/* Answers a DER OCSPRequest (RFC 6960 section 4.1) with a DER OCSPResponse signed by the
 * issuing intermediate of chain 0: good / revoked (with time, and reason unless
 * unspecified) / unknown per CertID, thisUpdate now, nextUpdate now + 1 h (producedAt is
 * OpenSSL's real time); the nonce extension echoed. A request that
 * does not parse gets a malformedRequest response (still MC_OK: the caller sends it);
 * a CertID of another issuer gets unknown. */
MC_MUST_CHECK enum mc_err ca_ocsp_respond(struct ca *ca, const uint8_t *req, size_t n,
                                          uint8_t **resp, size_t *resp_len);
/* A DER CRL (v2, RFC 5280 section 5) signed by the issuing intermediate of chain 0: every
 * revoked serial still in the registry (ca_prune drops it an hour after expiry) with its
 * reason code (absent for unspecified, section 5.3.1); thisUpdate now, nextUpdate now +
 * 1 h; a CRL number that grows with each revocation and each prune that changes the list;
 * AKI. */
MC_MUST_CHECK enum mc_err ca_crl_der(struct ca *ca, uint8_t **der, size_t *n);

/* Forgets certificates that expired more than one hour before now (their revocation
 * entries too), so a long run's registry stays bounded. Returns how many. The registry
 * costs nothing per good certificate (the serial encodes what its status needs, see
 * ca.c), an entry per revoked one, and a counter per notAfter second. */
size_t ca_prune(struct ca *ca);
/* How many certificates the registry counts now (issued and not yet pruned). 0 for NULL. */
size_t ca_registry_count(struct ca *ca);

#endif
