/* lineage.h: where a certificate lives on disk. A lineage is DIR/NAME/ holding cert.pem
 * (the leaf), chain.pem (the rest), fullchain.pem (both), privkey.pem (0600) and
 * meta.json; every file is written atomically (temp, fsync, rename), the key first and
 * meta.json last, so a reader never sees a certificate without its key. meta.json:
 *   {"name", "directory", "account", "identifiers": [{"type","value"}...], "key_type",
 *    "profile", "preferred_chain", "challenge", "issued_at", "not_before", "not_after",
 *    "serial", "ari_id", "order_url", "cert_url", "ari": {"start","end",
 *    "explanation_url","next_check"}}  (times in RFC 3339) */
#ifndef CERTCLI_LINEAGE_H
#define CERTCLI_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/csr.h"
#include "common/err.h"

/* NAME must be 1..64 characters of [A-Za-z0-9._-], not starting with '.'. */
bool lineage_name_ok(const char *name);

/* Writes the files of lineage NAME under dir (created 0700 as needed). chain_pem is the
 * full chain, leaf first; key may be NULL (a user-supplied CSR: no privkey.pem, and an old
 * one is removed). meta is written as given (the caller builds it; lineage_meta_new starts
 * one). MC_ERR_INVALID for a bad name, chain or meta; MC_ERR_MISMATCH when key is not the
 * leaf's. */
MC_MUST_CHECK enum mc_err lineage_write(const char *dir, const char *name, const char *chain_pem,
                                        EVP_PKEY *key, const cJSON *meta);
/* Reads back the leaf, the key (NULL when there is no privkey.pem) and meta; any out
 * pointer may be NULL when the caller does not want it (all are checked still).
 * MC_ERR_NOT_FOUND when the lineage does not exist (or lacks cert.pem or meta.json: an
 * interrupted first write); MC_ERR_MISMATCH when privkey.pem is not the leaf's key. */
MC_MUST_CHECK enum mc_err lineage_read(const char *dir, const char *name, X509 **leaf,
                                       EVP_PKEY **key, cJSON **meta);
/* Rewrites only meta.json (the ARI state after a check that renewed nothing). */
MC_MUST_CHECK enum mc_err lineage_write_meta(const char *dir, const char *name, const cJSON *meta);
/* The names of every lineage under dir, sorted; new array of new strings. */
MC_MUST_CHECK enum mc_err lineage_list(const char *dir, char ***names, size_t *n);
void lineage_free_names(char **names, size_t n);

/* What lineage_meta_new puts in meta.json besides what it reads from the leaf (not_before,
 * not_after, serial, ari_id). Every string may be NULL (written as null). */
struct lineage_meta_in {
    const char *name, *directory, *account;
    const struct ident_list *idents;   /* required */
    const char *key_type, *profile, *preferred_chain, *challenge;
    int64_t issued_at;                 /* Unix seconds; 0: null */
    X509 *leaf;                        /* required */
    const char *order_url, *cert_url;
};
/* A new meta object in the layout above, with an empty "ari" member (caller deletes).
 * MC_ERR_INVALID without leaf or idents. */
MC_MUST_CHECK enum mc_err lineage_meta_new(const struct lineage_meta_in *in, cJSON **out);
/* Replaces meta's "ari" member: times in Unix seconds (0: null), URL may be NULL. */
MC_MUST_CHECK enum mc_err lineage_meta_set_ari(cJSON *meta, int64_t start, int64_t end,
                                               const char *explanation_url,
                                               int64_t next_check);
/* Reads meta's "ari" member back (absent members: 0 / NULL); *explanation_url is a new
 * string or NULL. MC_ERR_INVALID for a member of the wrong type or a bad time. */
MC_MUST_CHECK enum mc_err lineage_meta_get_ari(const cJSON *meta, int64_t *start, int64_t *end,
                                               char **explanation_url, int64_t *next_check);

#endif
