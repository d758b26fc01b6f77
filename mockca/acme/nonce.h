/* nonce.h: anti-replay nonces (RFC 8555 section 6.5). Each nonce is 128 random bits
 * (RAND_bytes) in base64url, valid once, for a bounded time, and the store holds a bounded
 * number: past the capacity the oldest unused nonce is forgotten (and then refused as
 * badNonce, which a client must handle by retrying with the nonce of that response).
 * Thread-safe; every lookup and insert is O(1). */
#ifndef MOCKCA_ACME_NONCE_H
#define MOCKCA_ACME_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/err.h"

#define NONCE_LEN 22 /* base64url of 16 bytes */
#define NONCE_DEFAULT_CAPACITY 100000
#define NONCE_DEFAULT_TTL_MS (60 * 60 * 1000)

struct nonce_store;

/* capacity 0: NONCE_DEFAULT_CAPACITY; ttl_ms 0: NONCE_DEFAULT_TTL_MS; clock borrowed (NULL:
 * real time). NULL when out of memory. */
struct nonce_store *nonce_store_new(size_t capacity, int64_t ttl_ms, const struct mc_clock *clock);
void nonce_store_free(struct nonce_store *ns); /* NULL ok */

/* A fresh nonce into out (NONCE_LEN characters and a NUL). MC_ERR_CRYPTO if the random
 * generator fails. */
MC_MUST_CHECK enum mc_err nonce_issue(struct nonce_store *ns, char out[NONCE_LEN + 1]);
/* Consumes nonce: MC_OK the first time for a nonce this store issued within its TTL;
 * MC_ERR_NOT_FOUND for anything else (unknown, used, expired, evicted, malformed). */
MC_MUST_CHECK enum mc_err nonce_redeem(struct nonce_store *ns, const char *nonce);
size_t nonce_store_count(struct nonce_store *ns); /* unused nonces held now */

#endif
