/* tlscert.h: the TLS identity of mockca's listeners. By default a test root and a leaf for
 * the listener's names are generated at start, so a client needs to trust one root file
 * (which the server writes out and prints); a user-supplied certificate and key are taken
 * instead when given (Pebble's "certificate" and "privateKey"). Not the issuing CA: that is
 * ca.h's, and its roots are what /roots/N serves. */
#ifndef MOCKCA_TLSCERT_H
#define MOCKCA_TLSCERT_H

#include <stddef.h>

#include "common/err.h"

struct tls_identity {
    char *cert_pem; /* the leaf, then any intermediates */
    char *key_pem;  /* PKCS#8 */
    char *root_pem; /* the generated root; NULL for a loaded identity */
};
void tls_identity_clear(struct tls_identity *t); /* frees and zeroes; NULL ok */

/* Generates a P-256 root ("mockca test TLS root <random>", 10 years) and a P-256 leaf it
 * signs for names (DNS names and IP addresses as text; at least one, at most 16), valid
 * from one hour ago for 2 years, EKU serverAuth, SANs exactly names. MC_ERR_INVALID for a
 * name that is neither. */
MC_MUST_CHECK enum mc_err tlscert_generate(const char *const *names, size_t n,
                                           struct tls_identity *out);
/* Loads a PEM certificate chain and key from files and checks that the key matches the
 * first certificate (MC_ERR_MISMATCH otherwise); root_pem stays NULL. */
MC_MUST_CHECK enum mc_err tlscert_load(const char *cert_file, const char *key_file,
                                       struct tls_identity *out);

#endif
