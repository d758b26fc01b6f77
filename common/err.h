/* err.h: the one error type of the shared layer and of dnsmock. Every fallible
 * function returns an enum mc_err; results go through out parameters. */
#ifndef MC_ERR_H
#define MC_ERR_H

#define MC_MUST_CHECK __attribute__((warn_unused_result))

enum mc_err {
    MC_OK = 0,
    MC_ERR_NOMEM,       /* an allocation failed */
    MC_ERR_INVALID,     /* malformed input (syntax, encoding, wrong JSON type) */
    MC_ERR_TOO_BIG,     /* input over its cap (body, depth, PEM, name, count) */
    MC_ERR_UNSUPPORTED, /* well-formed, but an algorithm, key type or feature we do not take */
    MC_ERR_MISMATCH,    /* two inputs that must agree do not (alg vs key, SANs vs order) */
    MC_ERR_VERIFY,      /* a signature or MAC did not verify */
    MC_ERR_CRYPTO,      /* OpenSSL failed for a reason other than the input */
    MC_ERR_IO,          /* a file or socket call failed; errno is kept */
    MC_ERR_NOT_FOUND,   /* no such object, member or file */
    MC_ERR_EXISTS,      /* the object already exists */
    MC_ERR_STATE,       /* the object is in the wrong state for this call */
    MC_ERR_TIMEOUT,     /* a bounded wait ran out */
    MC_ERR_LIMIT,       /* a store or rate bound was reached */
    MC_ERR_PROBLEM,     /* a peer refused with an error document (ACME problem, API error) */
};

/* Returns a short static English description of err; never NULL. */
const char *mc_strerror(enum mc_err err);

#endif
