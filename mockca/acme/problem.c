/* problem.c: the ACME problem type table. */
#include "mockca/acme/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ACME_URN_PREFIX "urn:ietf:params:acme:error:"

/* Each row names the type once; the URN is the same literal with the prefix pasted on. */
#define ACME_PROBLEM(name, status) {name, ACME_URN_PREFIX name, status}

static const struct {
    const char *name;
    const char *urn;
    int status;
} acme_problems[ACME_P_COUNT] = {
    [ACME_P_NONE] = {"", "", 0},
    [ACME_P_ACCOUNT_DOES_NOT_EXIST] = ACME_PROBLEM("accountDoesNotExist", 400),
    [ACME_P_ALREADY_REPLACED] = ACME_PROBLEM("alreadyReplaced", 409),
    [ACME_P_ALREADY_REVOKED] = ACME_PROBLEM("alreadyRevoked", 400),
    [ACME_P_BAD_CSR] = ACME_PROBLEM("badCSR", 400),
    [ACME_P_BAD_NONCE] = ACME_PROBLEM("badNonce", 400),
    [ACME_P_BAD_PUBLIC_KEY] = ACME_PROBLEM("badPublicKey", 400),
    [ACME_P_BAD_REVOCATION_REASON] = ACME_PROBLEM("badRevocationReason", 400),
    [ACME_P_BAD_SIGNATURE_ALGORITHM] = ACME_PROBLEM("badSignatureAlgorithm", 400),
    [ACME_P_CAA] = ACME_PROBLEM("caa", 403),
    [ACME_P_COMPOUND] = ACME_PROBLEM("compound", 403),
    [ACME_P_CONNECTION] = ACME_PROBLEM("connection", 400),
    [ACME_P_DNS] = ACME_PROBLEM("dns", 400),
    [ACME_P_EXTERNAL_ACCOUNT_REQUIRED] = ACME_PROBLEM("externalAccountRequired", 400),
    [ACME_P_INCORRECT_RESPONSE] = ACME_PROBLEM("incorrectResponse", 400),
    [ACME_P_INVALID_CONTACT] = ACME_PROBLEM("invalidContact", 400),
    [ACME_P_INVALID_PROFILE] = ACME_PROBLEM("invalidProfile", 400),
    [ACME_P_MALFORMED] = ACME_PROBLEM("malformed", 400),
    [ACME_P_ORDER_NOT_READY] = ACME_PROBLEM("orderNotReady", 403),
    [ACME_P_RATE_LIMITED] = ACME_PROBLEM("rateLimited", 429),
    [ACME_P_REJECTED_IDENTIFIER] = ACME_PROBLEM("rejectedIdentifier", 400),
    [ACME_P_SERVER_INTERNAL] = ACME_PROBLEM("serverInternal", 500),
    [ACME_P_TLS] = ACME_PROBLEM("tls", 400),
    [ACME_P_UNAUTHORIZED] = ACME_PROBLEM("unauthorized", 403),
    [ACME_P_UNSUPPORTED_CONTACT] = ACME_PROBLEM("unsupportedContact", 400),
    [ACME_P_UNSUPPORTED_IDENTIFIER] = ACME_PROBLEM("unsupportedIdentifier", 400),
    [ACME_P_USER_ACTION_REQUIRED] = ACME_PROBLEM("userActionRequired", 403),
    [ACME_P_AGREEMENT_REQUIRED] = ACME_PROBLEM("agreementRequired", 403),
};

const char *acme_problem_name(enum acme_problem p)
{
    if (p <= ACME_P_NONE || p >= ACME_P_COUNT)
        return "";
    return acme_problems[p].name;
}

const char *acme_problem_urn(enum acme_problem p)
{
    if (p <= ACME_P_NONE || p >= ACME_P_COUNT)
        return "";
    return acme_problems[p].urn;
}

int acme_problem_status(enum acme_problem p)
{
    if (p <= ACME_P_NONE || p >= ACME_P_COUNT)
        return 500;
    return acme_problems[p].status;
}

enum acme_problem acme_problem_parse(const char *s)
{
    if (s == NULL)
        return ACME_P_NONE;
    if (strncmp(s, ACME_URN_PREFIX, strlen(ACME_URN_PREFIX)) == 0)
        s += strlen(ACME_URN_PREFIX);
    for (int p = ACME_P_NONE + 1; p < ACME_P_COUNT; p++)
        if (strcmp(s, acme_problems[p].name) == 0)
            return (enum acme_problem)p;
    return ACME_P_NONE;
}

enum acme_problem acme_error_set(struct acme_error *e, enum acme_problem type, int status,
                                 const char *fmt, ...)
{
    va_list ap;
    e->type = type;
    e->status = status != 0 ? status : acme_problem_status(type);
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    return type;
}
