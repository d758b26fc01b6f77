/* problem.h: ACME problem types (RFC 8555 section 6.7, RFC 9773 for alreadyReplaced, the
 * profiles draft for invalidProfile) with the HTTP status each is sent with by default, and
 * the error value every ACME check returns: a type, a status and a detail. */
#ifndef MOCKCA_ACME_PROBLEM_H
#define MOCKCA_ACME_PROBLEM_H

#include <stddef.h>

enum acme_problem {
    ACME_P_NONE = 0,
    ACME_P_ACCOUNT_DOES_NOT_EXIST,
    ACME_P_ALREADY_REPLACED,
    ACME_P_ALREADY_REVOKED,
    ACME_P_BAD_CSR,
    ACME_P_BAD_NONCE,
    ACME_P_BAD_PUBLIC_KEY,
    ACME_P_BAD_REVOCATION_REASON,
    ACME_P_BAD_SIGNATURE_ALGORITHM,
    ACME_P_CAA,
    ACME_P_COMPOUND,
    ACME_P_CONNECTION,
    ACME_P_DNS,
    ACME_P_EXTERNAL_ACCOUNT_REQUIRED,
    ACME_P_INCORRECT_RESPONSE,
    ACME_P_INVALID_CONTACT,
    ACME_P_INVALID_PROFILE,
    ACME_P_MALFORMED,
    ACME_P_ORDER_NOT_READY,
    ACME_P_RATE_LIMITED,
    ACME_P_REJECTED_IDENTIFIER,
    ACME_P_SERVER_INTERNAL,
    ACME_P_TLS,
    ACME_P_UNAUTHORIZED,
    ACME_P_UNSUPPORTED_CONTACT,
    ACME_P_UNSUPPORTED_IDENTIFIER,
    ACME_P_USER_ACTION_REQUIRED,
    /* Not in RFC 8555's table, but what Pebble and Boulder send (403) to a newAccount that
     * does not agree to the terms of service; appended so earlier values keep their
     * numbers. */
    ACME_P_AGREEMENT_REQUIRED,
    ACME_P_COUNT
};

/* "urn:ietf:params:acme:error:malformed" etc.; "" for ACME_P_NONE or out of range. */
const char *acme_problem_urn(enum acme_problem p);
/* The short name after the URN prefix ("malformed"), for logs and reports. */
const char *acme_problem_name(enum acme_problem p);
/* The status a problem is sent with unless a check says otherwise, as Pebble and Boulder
 * send them: 403 for unauthorized, caa, orderNotReady (RFC 8555 section 7.4),
 * userActionRequired, agreementRequired and compound; 409 alreadyReplaced; 429 rateLimited; 500
 * serverInternal; 400 for every other type (accountDoesNotExist included). */
int acme_problem_status(enum acme_problem p);
/* Parses a URN or a short name; ACME_P_NONE when unknown. */
enum acme_problem acme_problem_parse(const char *s);

#define ACME_DETAIL_MAX 512

/* What every ACME check produces when it refuses: the type, the HTTP status it is sent
 * with (a check may differ from the default: 415 malformed for a wrong Content-Type, 413
 * for a body over the cap, 409 for keyChange to a key in use), and a detail for people. */
struct acme_error {
    enum acme_problem type;
    int status;
    char detail[ACME_DETAIL_MAX];
};

/* Fills e with type, its default status (or status when non-zero) and a printf detail.
 * Returns e->type, so a check can `return acme_error_set(...)` where it returns a problem. */
enum acme_problem acme_error_set(struct acme_error *e, enum acme_problem type, int status,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
