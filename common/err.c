#include "common/err.h"

const char *mc_strerror(enum mc_err err)
{
    switch (err) {
    case MC_OK: return "ok";
    case MC_ERR_NOMEM: return "out of memory";
    case MC_ERR_INVALID: return "malformed input";
    case MC_ERR_TOO_BIG: return "input too large";
    case MC_ERR_UNSUPPORTED: return "unsupported";
    case MC_ERR_MISMATCH: return "mismatch";
    case MC_ERR_VERIFY: return "verification failed";
    case MC_ERR_CRYPTO: return "cryptographic library error";
    case MC_ERR_IO: return "I/O error";
    case MC_ERR_NOT_FOUND: return "not found";
    case MC_ERR_EXISTS: return "already exists";
    case MC_ERR_STATE: return "wrong state";
    case MC_ERR_TIMEOUT: return "timed out";
    case MC_ERR_LIMIT: return "limit reached";
    case MC_ERR_PROBLEM: return "refused by the peer";
    }
    return "unknown error";
}
