/* b64url.h: base64url without padding (RFC 4648 section 5, as RFC 7515 section 2 uses it). */
#ifndef MC_B64URL_H
#define MC_B64URL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Length of the encoding of n bytes, without padding and without the NUL. */
size_t b64url_encoded_len(size_t n);

/* Encodes in[0..n) into a new NUL-terminated string in *out (caller frees).
 * in may be NULL when n is 0 (gives ""). */
MC_MUST_CHECK enum mc_err b64url_encode(const uint8_t *in, size_t n, char **out);

/* Decodes exactly in[0..n) (in need not be NUL-terminated) into a new buffer in *out
 * (caller frees; one extra NUL byte is appended but not counted in *outlen).
 * Strict: MC_ERR_INVALID for '=' padding, '+', '/', whitespace or any other foreign
 * character, a length of 1 mod 4, or non-zero unused bits in the last character
 * (so each byte string has exactly one accepted encoding). */
MC_MUST_CHECK enum mc_err b64url_decode(const char *in, size_t n, uint8_t **out, size_t *outlen);

/* True if s[0..n) uses only the base64url alphabet (A-Z a-z 0-9 - _). Used to check
 * tokens before they reach a file name, a URL or a hook (RFC 8555 section 8.1). */
int b64url_is_alphabet(const char *s, size_t n);

#endif
