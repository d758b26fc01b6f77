/* x509.h: reading certificates, and the one certificate the shared layer makes: the
 * self-signed tls-alpn-01 validation certificate (RFC 8737 section 3). */
#ifndef MC_X509_H
#define MC_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/csr.h"
#include "common/err.h"

/* DNS and IP subjectAltNames, normalized as in csr.h, into *out (ident_list_free). */
MC_MUST_CHECK enum mc_err x509_sans(X509 *cert, struct ident_list *out);
/* Serial number as lowercase hex without separators or leading zeros, new string. */
MC_MUST_CHECK enum mc_err x509_serial_hex(X509 *cert, char **out);
/* Authority Key Identifier keyIdentifier bytes, new buffer. MC_ERR_NOT_FOUND if absent. */
MC_MUST_CHECK enum mc_err x509_aki(X509 *cert, uint8_t **out, size_t *n);
/* Subject Key Identifier bytes, new buffer. MC_ERR_NOT_FOUND if absent. */
MC_MUST_CHECK enum mc_err x509_ski(X509 *cert, uint8_t **out, size_t *n);
/* notBefore and notAfter as Unix seconds. */
MC_MUST_CHECK enum mc_err x509_validity(X509 *cert, int64_t *not_before, int64_t *not_after);

/* The id-pe-acmeIdentifier OID of RFC 8737. */
#define X509_OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"

/* Makes the tls-alpn-01 certificate for ident (a DNS name or an IP) and key_authorization
 * (RFC 8555 section 8.1): self-signed by a new P-256 key, a SAN of ident only, and the
 * critical acmeIdentifier extension holding the SHA-256 of key_authorization as an ASN.1
 * OCTET STRING. *key and *cert are new. */
MC_MUST_CHECK enum mc_err x509_make_tlsalpn01(const struct ident *ident,
                                              const char *key_authorization, EVP_PKEY **key,
                                              X509 **cert);
/* Reads the acmeIdentifier extension of cert into out (32 bytes). MC_ERR_NOT_FOUND if
 * absent, MC_ERR_INVALID if not critical or not a 32-byte OCTET STRING. */
MC_MUST_CHECK enum mc_err x509_acme_identifier(X509 *cert, uint8_t out[32]);

#endif
