/* npool.h: the bounded nonce pool of a session (RFC 8555 section 6.5). Every server
 * response carries a Replay-Nonce; keeping them means a signed POST almost never needs its
 * own HEAD newNonce. Bounded (the oldest is dropped when full, because older nonces are
 * the likeliest to have expired server-side) and FIFO on take. Nonces are validated before
 * they are kept: base64url characters only (section 6.5.1), 1..NPOOL_MAX_NONCE bytes, so a
 * hostile server cannot smuggle header or JSON syntax into the next request. Not
 * thread-safe: one pool per session, one thread per session. */
#ifndef CERTCLI_NPOOL_H
#define CERTCLI_NPOOL_H

#include <stddef.h>

#include "common/err.h"

#define NPOOL_CAP 16
#define NPOOL_MAX_NONCE 256

struct npool {
    char *items[NPOOL_CAP]; /* ring: items[(head + i) % NPOOL_CAP], i < n */
    size_t head, n;
};

/* Empties p (no allocation). */
void npool_init(struct npool *p);
/* Frees every nonce held and empties p; NULL ok. */
void npool_clear(struct npool *p);

/* Copies nonce[0..len) into the pool (need not be NUL-terminated). When the pool is full
 * the oldest nonce is dropped to make room. MC_ERR_INVALID for an empty nonce or one with
 * a character outside the base64url alphabet, MC_ERR_TOO_BIG above NPOOL_MAX_NONCE;
 * MC_ERR_NOMEM. The pool is unchanged on error. */
MC_MUST_CHECK enum mc_err npool_put(struct npool *p, const char *nonce, size_t len);
/* Takes the oldest nonce: *out is a new string (caller frees), removed from the pool.
 * MC_ERR_NOT_FOUND when the pool is empty (the caller then fetches one with HEAD
 * newNonce). */
MC_MUST_CHECK enum mc_err npool_take(struct npool *p, char **out);
size_t npool_count(const struct npool *p);

#endif
