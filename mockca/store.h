/* store.h: mockca's ACME objects and their state machines (RFC 8555 section 7.1.6):
 * accounts, orders, authorizations, challenges and issued certificates.
 *
 * One mutex guards the store. Readers get snapshots (copies the caller owns), so nothing
 * handed out can change or vanish under a handler; writers call transition functions that
 * check the current state and refuse an illegal move with MC_ERR_STATE, so a handler
 * cannot put an object into a state the RFC does not allow. Derived states follow at once:
 * the last authorization of an order turning valid makes the order ready; any turning
 * invalid, expired or deactivated makes a pending order invalid.
 *
 * Time comes from the clock. Expiry is applied lazily, whenever an object is read or
 * changed, and by store_sweep: a pending authorization past its expiry becomes expired, a
 * pending or ready order past its expiry becomes invalid. Retention: an object in a final
 * state (and its children) is dropped retention_ms after its last change; store_sweep
 * drops them, so a long run's memory levels off. Ids are 16 random bytes in base64url.
 *
 * Details the handlers rely on:
 * - An order made invalid by expiry, by an authorization that expired or was deactivated,
 *   or by its account's deactivation carries an error of type ACME_P_NONE with only a
 *   detail ("order expired"), as Pebble does; send "error" only when the type is set. A
 *   failed challenge's error is carried to its orders with its type.
 * - Valid authorizations expire too, valid_authz_lifetime_ms after validation; an expired
 *   or deactivated authorization makes pending and ready orders invalid.
 * - IP identifiers are never offered dns-01 or dns-account-01 (RFC 8738 section 7);
 *   wildcards only the DNS types.
 * - Besides the codes each function names: MC_ERR_NOT_FOUND for an unknown id,
 *   MC_ERR_INVALID for arguments out of range, and MC_ERR_UNSUPPORTED from
 *   store_order_new / store_authz_new when no offered type can prove an identifier
 *   (nothing is created then).
 * - store_account_find_by_key finds deactivated accounts too: check the status. */
#ifndef MOCKCA_STORE_H
#define MOCKCA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/clock.h"
#include "common/csr.h"
#include "common/err.h"
#include "mockca/acme/problem.h"

#define STORE_ID_LEN 22
#define STORE_MAX_CONTACTS 8
#define STORE_MAX_CHALLENGES 4 /* per authorization: http-01, dns-01, tls-alpn-01, dns-account-01 */
#define STORE_MAX_OBJECTS 1000000 /* of each kind; MC_ERR_LIMIT past it */

enum acct_status { ACCT_VALID = 1, ACCT_DEACTIVATED, ACCT_REVOKED };
enum order_status { ORDER_PENDING = 1, ORDER_READY, ORDER_PROCESSING, ORDER_VALID, ORDER_INVALID };
enum authz_status {
    AUTHZ_PENDING = 1,
    AUTHZ_VALID,
    AUTHZ_INVALID,
    AUTHZ_DEACTIVATED,
    AUTHZ_EXPIRED,
    AUTHZ_REVOKED,
};
enum chall_status { CHALL_PENDING = 1, CHALL_PROCESSING, CHALL_VALID, CHALL_INVALID };
enum chall_type { CHALL_HTTP01 = 1, CHALL_DNS01, CHALL_TLSALPN01, CHALL_DNSACCOUNT01 };

/* The RFC's names: "valid", "pending", "http-01", ... */
const char *acct_status_name(enum acct_status s);
const char *order_status_name(enum order_status s);
const char *authz_status_name(enum authz_status s);
const char *chall_status_name(enum chall_status s);
const char *chall_type_name(enum chall_type t);

struct store_config {
    const struct mc_clock *clock;  /* borrowed; NULL: real time */
    int64_t order_lifetime_ms;     /* pending/ready orders expire; 0: 24 h (Pebble) */
    int64_t authz_lifetime_ms;     /* pending authorizations expire; 0: 1 h (Pebble) */
    int64_t valid_authz_lifetime_ms; /* valid authorizations, for reuse; 0: 30 days */
    int64_t retention_ms;          /* final objects kept this long; 0: 24 h */
    /* Pebble's shuffling: with shuffle and rand64 set, a new order's identifiers and
     * authorizations, and a new authorization's challenges, are put in an order drawn from
     * rand64 (called under the store's lock; seeded by the caller so a run replays). */
    bool shuffle;
    uint64_t (*rand64)(void *ctx);
    void *rand_ctx;
};

struct store;

MC_MUST_CHECK enum mc_err store_new(const struct store_config *cfg, struct store **out);
void store_free(struct store *st); /* NULL ok */

/* ---- snapshots (caller frees with the matching _clear) ------------------------------ */

struct account_snap {
    char id[STORE_ID_LEN + 1];
    enum acct_status status;
    EVP_PKEY *key;                 /* new reference */
    char *contacts[STORE_MAX_CONTACTS];
    size_t n_contacts;
    bool tos_agreed;
    char *eab_kid;                 /* NULL when none */
    int64_t created_ms;
};
void account_snap_clear(struct account_snap *a);

struct challenge_snap {
    char id[STORE_ID_LEN + 1];
    char authz_id[STORE_ID_LEN + 1];
    enum chall_type type;
    enum chall_status status;
    char token[64];                /* 32 random bytes, base64url (RFC 8555 section 8.1) */
    int64_t validated_ms;          /* when it became valid; 0 before */
    struct acme_error error;       /* when invalid */
};

struct authz_snap {
    char id[STORE_ID_LEN + 1];
    char account_id[STORE_ID_LEN + 1];
    struct ident ident;            /* value owned by the snapshot; no "*." for wildcards */
    bool wildcard;
    enum authz_status status;
    int64_t expires_ms;
    struct challenge_snap challenges[STORE_MAX_CHALLENGES];
    size_t n_challenges;
};
void authz_snap_clear(struct authz_snap *a);

struct order_snap {
    char id[STORE_ID_LEN + 1];
    char account_id[STORE_ID_LEN + 1];
    enum order_status status;
    struct ident_list idents;      /* as requested, wildcards with their "*." */
    char (*authz_ids)[STORE_ID_LEN + 1];
    size_t n_authz;
    int64_t expires_ms;
    int64_t not_before, not_after; /* Unix seconds; 0 when not requested */
    char *profile;                 /* NULL when none */
    char *replaces;                /* ARI certificate id (RFC 9773), NULL when none */
    char *cert_serial;             /* hex, once valid */
    struct acme_error error;       /* when invalid */
    int64_t created_ms;
};
void order_snap_clear(struct order_snap *o);

/* ---- accounts --------------------------------------------------------------------------- */

/* Creates a valid account for key (a reference is taken). MC_ERR_EXISTS, with the existing
 * account's id in existing_id, when an account already has this key (RFC 8555 section
 * 7.3.1: the server returns that one). contacts are copied; eab_kid may be NULL. */
MC_MUST_CHECK enum mc_err store_account_new(struct store *st, EVP_PKEY *key,
                                            const char *const *contacts, size_t n_contacts,
                                            bool tos_agreed, const char *eab_kid,
                                            char id_out[STORE_ID_LEN + 1],
                                            char existing_id[STORE_ID_LEN + 1]);
MC_MUST_CHECK enum mc_err store_account_get(struct store *st, const char *id,
                                            struct account_snap *out);
/* Finds the account holding key (compared as public keys). MC_ERR_NOT_FOUND if none. */
MC_MUST_CHECK enum mc_err store_account_find_by_key(struct store *st, EVP_PKEY *key,
                                                    char id_out[STORE_ID_LEN + 1]);
/* Replaces the contacts (valid accounts only: MC_ERR_STATE otherwise). */
MC_MUST_CHECK enum mc_err store_account_set_contacts(struct store *st, const char *id,
                                                     const char *const *contacts, size_t n);
/* valid -> deactivated (RFC 8555 section 7.3.6); its pending authorizations become
 * deactivated and its pending or ready orders invalid. MC_ERR_STATE if not valid. */
MC_MUST_CHECK enum mc_err store_account_deactivate(struct store *st, const char *id);
/* Section 7.3.5: MC_ERR_EXISTS (with that account's id in holder) when another account, or
 * this one, already holds new_key; else the key is replaced. */
MC_MUST_CHECK enum mc_err store_account_rollover(struct store *st, const char *id,
                                                 EVP_PKEY *new_key,
                                                 char holder[STORE_ID_LEN + 1]);
/* Ids of the account's orders, newest first, from offset, at most max (paging for the
 * orders list, section 7.1.2.1); *total is the count. Caller frees *ids. */
MC_MUST_CHECK enum mc_err store_account_orders(struct store *st, const char *id, size_t offset,
                                               size_t max, char (**ids)[STORE_ID_LEN + 1],
                                               size_t *n, size_t *total);

/* ---- orders and authorizations ------------------------------------------------------- */

struct order_request {
    const struct ident_list *idents; /* DNS (wildcards allowed) and IP; at least one */
    int64_t not_before, not_after;   /* 0: none */
    const char *profile;             /* NULL: none */
    const char *replaces;            /* NULL: none */
    const enum chall_type *types;    /* challenge types offered per authorization */
    size_t n_types;                  /* (a wildcard gets dns-01 and dns-account-01 only) */
    unsigned reuse_pct;              /* chance (0..100) to reuse a valid authorization of
                                        this account for the same identifier */
    uint64_t (*rand64)(void *ctx);   /* the reuse draw; NULL: never reuse */
    void *rand_ctx;
};

/* Creates a pending order for account id with one authorization per identifier (new, or
 * reused valid ones per reuse_pct: an order whose authorizations are all reused is ready
 * at once). Duplicated identifiers are kept once. MC_ERR_STATE for an account that is not
 * valid. */
MC_MUST_CHECK enum mc_err store_order_new(struct store *st, const char *account_id,
                                          const struct order_request *req,
                                          char id_out[STORE_ID_LEN + 1]);
MC_MUST_CHECK enum mc_err store_order_get(struct store *st, const char *id,
                                          struct order_snap *out);
/* ready -> processing (finalize accepted). MC_ERR_STATE otherwise (the handler answers
 * orderNotReady for pending, and per RFC 8555 section 7.4 for the others). */
MC_MUST_CHECK enum mc_err store_order_begin_finalize(struct store *st, const char *id);
/* processing -> valid with the certificate's serial. */
MC_MUST_CHECK enum mc_err store_order_complete(struct store *st, const char *id,
                                               const char *cert_serial);
/* pending/ready/processing -> invalid with err. */
MC_MUST_CHECK enum mc_err store_order_fail(struct store *st, const char *id,
                                           const struct acme_error *err);

/* A pre-authorization (section 7.4.1, newAuthz): one pending authorization for ident. */
MC_MUST_CHECK enum mc_err store_authz_new(struct store *st, const char *account_id,
                                          const struct ident *ident,
                                          const enum chall_type *types, size_t n_types,
                                          char id_out[STORE_ID_LEN + 1]);
MC_MUST_CHECK enum mc_err store_authz_get(struct store *st, const char *id,
                                          struct authz_snap *out);
/* pending or valid -> deactivated (section 7.5.2); orders using it follow. */
MC_MUST_CHECK enum mc_err store_authz_deactivate(struct store *st, const char *id);

/* ---- challenges ---------------------------------------------------------------------- */

/* Finds a challenge and its authorization. */
MC_MUST_CHECK enum mc_err store_challenge_get(struct store *st, const char *id,
                                              struct challenge_snap *out);
/* pending -> processing, when the client posts to it and its authorization is pending
 * (section 7.5.1). Posting again to a processing or final challenge is not an error for
 * the client: MC_ERR_STATE tells the handler to answer with the challenge as it is. */
MC_MUST_CHECK enum mc_err store_challenge_begin(struct store *st, const char *id);
/* processing -> valid: the authorization becomes valid (its other challenges stay
 * pending), and its orders follow (ready when all are valid). */
MC_MUST_CHECK enum mc_err store_challenge_succeed(struct store *st, const char *id);
/* processing -> invalid with err: the authorization becomes invalid, its pending orders
 * invalid with the error. */
MC_MUST_CHECK enum mc_err store_challenge_fail(struct store *st, const char *id,
                                               const struct acme_error *err);

/* ---- issued certificates --------------------------------------------------------------- */

#define STORE_SERIAL_MAX 64 /* hex serial; ca_issue's 16-byte serials need 32 */

/* What the certificate download needs: who may fetch it and the leaf itself. */
struct cert_snap {
    char serial[STORE_SERIAL_MAX + 1]; /* lowercase hex, as ca_issue writes it */
    char account_id[STORE_ID_LEN + 1];
    char order_id[STORE_ID_LEN + 1];
    char *leaf_pem;                    /* owned by the snapshot */
    int64_t issued_ms;
};
void cert_snap_clear(struct cert_snap *c);

/* Registers an issued leaf (PEM copied) under its serial, for download by the account that
 * ordered it. Entries are dropped by store_sweep retention_ms after issuance, as a valid
 * order is. MC_ERR_EXISTS for a serial already held, MC_ERR_INVALID for a serial that is
 * empty, over STORE_SERIAL_MAX or not hex, MC_ERR_LIMIT at STORE_MAX_OBJECTS entries. */
MC_MUST_CHECK enum mc_err store_cert_add(struct store *st, const char *serial_hex,
                                         const char *account_id, const char *order_id,
                                         const char *leaf_pem);
MC_MUST_CHECK enum mc_err store_cert_get(struct store *st, const char *serial_hex,
                                         struct cert_snap *out);

/* ---- revocation and renewal information (RFC 8555 section 7.6, RFC 9773) ------------- */

/* Whether account_id holds a valid, unexpired authorization for ident (RFC 8555 section
 * 7.6: such an account may revoke a certificate for it). DNS values compare without case;
 * a "*." value is matched by an authorization (wildcard or not) of its base name. *out is
 * false for an unknown account. MC_ERR_INVALID for a bad argument. */
MC_MUST_CHECK enum mc_err store_account_authorized(struct store *st, const char *account_id,
                                                   const struct ident *ident, bool *out);

/* Marks serial as replaced by an order of account_id (RFC 9773 section 5), checking and
 * setting in one step so that two concurrent orders cannot both replace it:
 * MC_ERR_NOT_FOUND for a serial not held, MC_ERR_MISMATCH when another account ordered it,
 * MC_ERR_EXISTS when it is already replaced. */
MC_MUST_CHECK enum mc_err store_cert_mark_replaced(struct store *st, const char *serial_hex,
                                                   const char *account_id);
/* Undoes store_cert_mark_replaced (the replacing order could not be created). */
void store_cert_unmark_replaced(struct store *st, const char *serial_hex);

/* What ARI needs beyond cert_snap. */
struct cert_ari {
    bool window_set;           /* a window set by store_cert_set_window */
    int64_t start, end;        /* Unix seconds */
    char *explanation;         /* owned; NULL when none */
    bool replaced;
};
void cert_ari_clear(struct cert_ari *a); /* NULL ok */

/* Sets the suggested renewal window of serial (Unix seconds, start < end) and its
 * explanationURL (copied; NULL: none); start == end == 0 clears it. MC_ERR_NOT_FOUND for a
 * serial not held, MC_ERR_INVALID for end <= start or an explanation over 1024 chars. */
MC_MUST_CHECK enum mc_err store_cert_set_window(struct store *st, const char *serial_hex,
                                                int64_t start, int64_t end,
                                                const char *explanation);
MC_MUST_CHECK enum mc_err store_cert_ari(struct store *st, const char *serial_hex,
                                         struct cert_ari *out);

/* ---- housekeeping -------------------------------------------------------------------- */

/* Applies expiry and drops objects past retention. Returns how many objects were dropped. */
size_t store_sweep(struct store *st);

struct store_counts {
    size_t accounts, orders, authzs, challenges, certs;
};
void store_counts(struct store *st, struct store_counts *out);

#endif
