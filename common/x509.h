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

/* Fills pub, the SubjectPublicKeyInfo of a certificate or CSR being built (from
 * X509_get_X509_PUBKEY or X509_REQ_get_X509_PUBKEY), with key's public key (RFC 5280
 * section 4.1.2.7): EC keys on a named curve (RFC 5480) and Ed25519 (RFC 8410) straight
 * from the key's parameters, any other type through i2d_PUBKEY. Unlike X509_PUBKEY_set it
 * does not also keep a decoded copy of the key in pub: in OpenSSL 3.0 that copy costs an
 * encoder and a decoder run (a tenth of an issuance's CPU, both in mockca's leaf and in the
 * client's CSR), and signing needs only the encoding. So X509_get0_pubkey and
 * X509_REQ_get0_pubkey return NULL for the object built (x509_pubkey_decode, or parsing its
 * DER, gives the key); what is signed and written is the same as with X509_PUBKEY_set. */
MC_MUST_CHECK enum mc_err x509_pubkey_encode(X509_PUBKEY *pub, EVP_PKEY *key);
/* The key encoded in pub, *out new; MC_ERR_INVALID when it does not decode. EC keys on a
 * named curve (the point checked to be on it), Ed25519 and RSA are imported from their
 * parameters, other types through d2i_PUBKEY. For an object filled by x509_pubkey_encode
 * or parsed by csr_parse_der_keyless. */
MC_MUST_CHECK enum mc_err x509_pubkey_decode(X509_PUBKEY *pub, EVP_PKEY **out);

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
