/* keys.h: the key types the suite takes, and generating, loading and saving keys. */
#ifndef MC_KEYS_H
#define MC_KEYS_H

#include <openssl/evp.h>

#include "common/err.h"

enum key_type {
    KEY_RSA2048 = 1,
    KEY_RSA3072,
    KEY_RSA4096,
    KEY_RSA8192,
    KEY_EC_P256,
    KEY_EC_P384,
    KEY_EC_P521,
    KEY_ED25519,
};

/* Names: "rsa2048" "rsa3072" "rsa4096" "rsa8192" "ec256" "ec384" "ec521" "ed25519";
 * also "p256" "p384" "p521" (case-insensitive). MC_ERR_UNSUPPORTED otherwise. */
MC_MUST_CHECK enum mc_err key_type_parse(const char *name, enum key_type *out);
const char *key_type_name(enum key_type t); /* the first spelling above */

MC_MUST_CHECK enum mc_err key_generate(enum key_type t, EVP_PKEY **out);

/* Classifies an existing key. RSA of any size in [2048, 8192] that is a multiple of 8 is
 * reported as the nearest named size at or below it (RSA 2056 -> KEY_RSA2048), so callers
 * that only need "RSA, acceptable" can use it; MC_ERR_UNSUPPORTED for RSA outside that
 * range, other curves, DSA, X25519 etc. */
MC_MUST_CHECK enum mc_err key_classify(EVP_PKEY *key, enum key_type *out);
/* Bits of an RSA key, or the curve size in bits. */
int key_bits(EVP_PKEY *key);

/* Loads a PEM private key (PKCS#8, or the traditional RSA/EC forms). */
MC_MUST_CHECK enum mc_err key_load(const char *path, EVP_PKEY **out);
/* Saves as PKCS#8 PEM, atomically, mode 0600. */
MC_MUST_CHECK enum mc_err key_save(const char *path, EVP_PKEY *key);

#endif
