/* csr.h: identifiers, and building and reading PKCS#10 certificate signing requests. */
#ifndef MC_CSR_H
#define MC_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"

#define IDENT_MAX_LEN 253
#define IDENT_MAX_COUNT 100

enum ident_type { IDENT_DNS = 1, IDENT_IP };

struct ident {
    enum ident_type type;
    char *value; /* DNS: lowercase, no trailing dot; IP: inet_ntop's canonical text */
};

struct ident_list {
    struct ident *v;
    size_t n;
};

/* Appends a copy of value, normalized as above. MC_ERR_INVALID for a DNS name that is not
 * LDH labels (a leading "*." wildcard label is allowed) or an IP that does not parse;
 * MC_ERR_LIMIT past IDENT_MAX_COUNT. */
MC_MUST_CHECK enum mc_err ident_list_add(struct ident_list *l, enum ident_type type,
                                         const char *value);
void ident_list_free(struct ident_list *l); /* frees the items; *l is zeroed; NULL ok */
/* True if both lists hold the same identifiers, in any order, ignoring duplicates. */
bool ident_list_same_set(const struct ident_list *a, const struct ident_list *b);
/* Appends the DNS and IP entries of a subjectAltName (gens) to l, normalized as by
 * ident_list_add. Other name types are skipped when skip_other, else MC_ERR_INVALID;
 * MC_ERR_INVALID also for an IP that is not 4 or 16 bytes or a DNS name with a NUL or
 * that ident_list_add refuses. The one reader of SANs for csr_read and x509_sans. */
MC_MUST_CHECK enum mc_err ident_list_add_general_names(struct ident_list *l,
                                                       const GENERAL_NAMES *gens, bool skip_other);

/* Builds and signs (with key, SHA-256; Ed25519 needs no digest) a CSR with subject CN cn
 * (may be NULL) and a subjectAltName of sans (DNS and IP entries; at least one), plus the
 * TLS Feature extension status_request when must_staple (RFC 7633). */
MC_MUST_CHECK enum mc_err csr_build(EVP_PKEY *key, const char *cn, const struct ident_list *sans,
                                    bool must_staple, X509_REQ **out);

/* Parses DER (as carried base64url-encoded in an ACME finalize request). */
MC_MUST_CHECK enum mc_err csr_parse_der(const uint8_t *der, size_t n, X509_REQ **out);
/* csr_parse_der for a caller that reads the CSR only through csr_read (a CA's finalize):
 * the public key is left encoded, not decoded (X509_REQ_get0_pubkey returns NULL), since
 * OpenSSL 3.0's key decoder costs more than all the rest of parsing and reading a CSR;
 * csr_read imports it with x509_pubkey_decode. The X509_REQ carries a library context
 * without algorithms: give it to csr_read, csr_to_der, X509_REQ_get_* readers and
 * X509_REQ_free, not to functions that verify or sign with its own context. */
MC_MUST_CHECK enum mc_err csr_parse_der_keyless(const uint8_t *der, size_t n, X509_REQ **out);
/* DER encoding, new buffer (caller frees). */
MC_MUST_CHECK enum mc_err csr_to_der(X509_REQ *req, uint8_t **der, size_t *n);

/* What a CA needs from a CSR. */
struct csr_info {
    char *cn;              /* subject CN or NULL */
    struct ident_list sans; /* DNS and IP SANs, normalized */
    EVP_PKEY *key;         /* the public key, a new reference */
    bool must_staple;
};
/* Checks the CSR's self-signature (MC_ERR_VERIFY) and reads it into *out. MC_ERR_INVALID
 * for a SAN extension that does not parse or a SAN of a type other than DNS or IP, or a
 * key that does not decode. */
MC_MUST_CHECK enum mc_err csr_read(X509_REQ *req, struct csr_info *out);
void csr_info_free(struct csr_info *info); /* NULL ok */

#endif
