/* ari.h: the certificate identifier of ACME Renewal Information (RFC 9773 section 4.1),
 * shared by the server (renewalInfo URLs, "replaces") and the client (asking for a window,
 * filling "replaces"). The identifier is base64url(AKI keyIdentifier) "." base64url(serial),
 * the serial as the octets of its DER INTEGER value (a leading 0x00 kept when the high bit
 * of the first octet is set), no padding. */
#ifndef MC_ARI_H
#define MC_ARI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/err.h"

#define ARI_ID_MAX 256 /* longer identifiers are refused as malformed */

/* The identifier of cert, new string. MC_ERR_NOT_FOUND when it has no AKI keyIdentifier. */
MC_MUST_CHECK enum mc_err ari_cert_id(X509 *cert, char **out);

/* Splits an identifier into its AKI and serial octets (new buffers). MC_ERR_INVALID when
 * it is not two non-empty strict base64url parts around one '.', is over ARI_ID_MAX, or the
 * serial octets are not a valid positive DER INTEGER value (a needless leading 0x00, or a
 * high bit set without one). */
MC_MUST_CHECK enum mc_err ari_parse_id(const char *id, uint8_t **aki, size_t *aki_len,
                                       uint8_t **serial, size_t *serial_len);

/* Serial octets as x509_serial_hex writes them: lowercase hex, no leading zeros. */
MC_MUST_CHECK enum mc_err ari_serial_hex(const uint8_t *serial, size_t n, char **hex);

#endif
