/* lineage.c: a certificate's files on disk (lineage.h). */
#include "client/lineage.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/renew.h"
#include "client/wire.h"
#include "common/ari.h"
#include "common/file.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

#define LINEAGE_NAME_MAX 64
#define LINEAGE_META_MAX (64 * 1024)
#define LINEAGE_META_DEPTH 8
#define LINEAGE_LIST_MAX 10000 /* a state directory bigger than this is not ours */
#define LINEAGE_PATH_MAX 4096

bool lineage_name_ok(const char *name)
{
    size_t n;

    if (name == NULL)
        return false;
    n = strlen(name);
    /* No leading dot: keeps ".", "..", and hidden or temporary files out. */
    if (n == 0 || n > LINEAGE_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* dir/name[/file] into a new string; MC_ERR_TOO_BIG past LINEAGE_PATH_MAX. */
static enum mc_err path_of(const char *dir, const char *name, const char *file, char **out)
{
    char *p = NULL;
    int n;

    *out = NULL;
    if (file != NULL)
        n = asprintf(&p, "%s/%s/%s", dir, name, file);
    else
        n = asprintf(&p, "%s/%s", dir, name);
    if (n < 0)
        return MC_ERR_NOMEM;
    if (n > LINEAGE_PATH_MAX) {
        free(p);
        return MC_ERR_TOO_BIG;
    }
    *out = p;
    return MC_OK;
}

/* mkdir 0700 unless it exists as a directory. Only the last component: the state directory
 * and its parent are the caller's (or created one level at a time by lineage_write). */
static enum mc_err mkdir_0700(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) == 0)
        return MC_OK;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return MC_OK;
    log_msg(LOGL_ERROR, "lineage.mkdir", "path=%s errno=%d", path, errno);
    return MC_ERR_IO;
}

/* Creates every missing component of path with mode 0700 (like mkdir -p). */
static enum mc_err mkdirs_0700(const char *path)
{
    char *p = strdup(path);
    enum mc_err err = MC_OK;

    if (p == NULL)
        return MC_ERR_NOMEM;
    for (char *q = p + 1; *q != '\0'; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        err = mkdir_0700(p);
        *q = '/';
        if (err != MC_OK)
            goto out;
    }
    err = mkdir_0700(p);
out:
    free(p);
    return err;
}

static enum mc_err write_text(const char *dir, const char *name, const char *file, const char *text,
                              mode_t mode)
{
    char *path = NULL;
    enum mc_err err = path_of(dir, name, file, &path);

    if (err == MC_OK)
        err = file_write_atomic(path, text, strlen(text), mode);
    free(path);
    return err;
}

/* The contents of file in lineage name under dir, at most max bytes, new in *text. */
static enum mc_err read_text(const char *dir, const char *name, const char *file, size_t max,
                             char **text, size_t *len)
{
    char *path = NULL;
    enum mc_err err = path_of(dir, name, file, &path);

    if (err == MC_OK)
        err = file_read_all(path, max, text, len);
    free(path);
    return err;
}

static enum mc_err append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *b = realloc(*buf, *len + n + 1);

    if (b == NULL)
        return MC_ERR_NOMEM;
    memcpy(b + *len, s, n + 1);
    *buf = b;
    *len += n;
    return MC_OK;
}

static enum mc_err meta_text(const cJSON *meta, char **out)
{
    *out = NULL;
    if (meta == NULL || !cJSON_IsObject(meta))
        return MC_ERR_INVALID;
    /* Indented: people read meta.json. */
    *out = cJSON_Print(meta);
    return *out == NULL ? MC_ERR_NOMEM : MC_OK;
}

enum mc_err lineage_write(const char *dir, const char *name, const char *chain_pem, EVP_PKEY *key,
                          const cJSON *meta)
{
    STACK_OF(X509) *certs = NULL;
    char *leaf = NULL, *rest = NULL, *full = NULL, *one = NULL, *mtext = NULL, *path = NULL;
    size_t rest_len = 0, full_len = 0;
    enum mc_err err;

    if (dir == NULL || chain_pem == NULL || !lineage_name_ok(name))
        return MC_ERR_INVALID;
    err = meta_text(meta, &mtext);
    if (err != MC_OK)
        goto out;
    /* Parsed and written back out, so the files hold certificates and nothing else a
     * server may have put between them. */
    err = pem_read_certs(chain_pem, strlen(chain_pem), &certs);
    if (err != MC_OK)
        goto out;
    if (key != NULL && EVP_PKEY_eq(key, X509_get0_pubkey(sk_X509_value(certs, 0))) != 1) {
        err = MC_ERR_MISMATCH;
        goto out;
    }
    err = pem_write_cert(sk_X509_value(certs, 0), &leaf);
    if (err != MC_OK)
        goto out;
    err = append(&full, &full_len, leaf);
    if (err != MC_OK)
        goto out;
    rest = strdup("");
    if (rest == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    for (int i = 1; i < sk_X509_num(certs); i++) {
        err = pem_write_cert(sk_X509_value(certs, i), &one);
        if (err != MC_OK)
            goto out;
        err = append(&rest, &rest_len, one);
        if (err == MC_OK)
            err = append(&full, &full_len, one);
        free(one);
        one = NULL;
        if (err != MC_OK)
            goto out;
    }
    err = mkdirs_0700(dir);
    if (err != MC_OK)
        goto out;
    err = path_of(dir, name, NULL, &path);
    if (err != MC_OK)
        goto out;
    err = mkdir_0700(path);
    if (err != MC_OK)
        goto out;
    free(path);
    path = NULL;
    /* Key first, meta last (lineage.h): a reader that sees the new leaf sees its key. */
    if (key != NULL) {
        err = path_of(dir, name, "privkey.pem", &path);
        if (err != MC_OK)
            goto out;
        err = key_save(path, key);
        if (err != MC_OK)
            goto out;
        free(path);
        path = NULL;
    }
    err = write_text(dir, name, "cert.pem", leaf, 0644);
    if (err == MC_OK)
        err = write_text(dir, name, "chain.pem", rest, 0644);
    if (err == MC_OK)
        err = write_text(dir, name, "fullchain.pem", full, 0644);
    if (err == MC_OK)
        err = write_text(dir, name, "meta.json", mtext, 0644);
    if (err != MC_OK)
        goto out;
    if (key == NULL) {
        /* A CSR-supplied certificate has no key of ours: an older key left behind would
         * not match the new leaf. */
        err = path_of(dir, name, "privkey.pem", &path);
        if (err != MC_OK)
            goto out;
        if (unlink(path) != 0 && errno != ENOENT) {
            err = MC_ERR_IO;
            goto out;
        }
    }
    err = MC_OK;
out:
    sk_X509_pop_free(certs, X509_free);
    free(leaf);
    free(rest);
    free(full);
    free(one);
    free(mtext);
    free(path);
    return err;
}

enum mc_err lineage_read(const char *dir, const char *name, X509 **leaf, EVP_PKEY **key,
                         cJSON **meta)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    cJSON *m = NULL;
    struct stat st;
    enum mc_err err;

    if (leaf != NULL)
        *leaf = NULL;
    if (key != NULL)
        *key = NULL;
    if (meta != NULL)
        *meta = NULL;
    if (dir == NULL || !lineage_name_ok(name))
        return MC_ERR_INVALID;
    err = path_of(dir, name, NULL, &path);
    if (err != MC_OK)
        goto out;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    err = read_text(dir, name, "cert.pem", PEM_MAX_LEN, &text, &len);
    if (err != MC_OK)
        goto out;
    err = pem_read_cert(text, len, &x);
    if (err != MC_OK)
        goto out;
    free(path);
    path = NULL;
    err = path_of(dir, name, "privkey.pem", &path);
    if (err != MC_OK)
        goto out;
    err = key_load(path, &k);
    if (err == MC_ERR_NOT_FOUND) {
        k = NULL; /* a lineage from a user-supplied CSR */
    } else if (err != MC_OK) {
        goto out;
    } else if (EVP_PKEY_eq(k, X509_get0_pubkey(x)) != 1) {
        /* Someone replaced one file but not the other: never hand out a pair that a
         * server would refuse at its first handshake. */
        log_msg(LOGL_ERROR, "lineage.key_mismatch", "name=%s", name);
        err = MC_ERR_MISMATCH;
        goto out;
    }
    free(text);
    text = NULL;
    err = read_text(dir, name, "meta.json", LINEAGE_META_MAX, &text, &len);
    if (err != MC_OK)
        goto out;
    err = json_parse(text, len, LINEAGE_META_MAX, LINEAGE_META_DEPTH, &m);
    if (err != MC_OK)
        goto out;
    if (!cJSON_IsObject(m)) {
        err = MC_ERR_INVALID;
        goto out;
    }
    if (leaf != NULL) {
        *leaf = x;
        x = NULL;
    }
    if (key != NULL) {
        *key = k;
        k = NULL;
    }
    if (meta != NULL) {
        *meta = m;
        m = NULL;
    }
    err = MC_OK;
out:
    X509_free(x);
    EVP_PKEY_free(k);
    cJSON_Delete(m);
    free(text);
    free(path);
    return err;
}

enum mc_err lineage_write_meta(const char *dir, const char *name, const cJSON *meta)
{
    char *path = NULL, *mtext = NULL;
    struct stat st;
    enum mc_err err;

    if (dir == NULL || !lineage_name_ok(name))
        return MC_ERR_INVALID;
    err = meta_text(meta, &mtext);
    if (err != MC_OK)
        goto out;
    err = path_of(dir, name, NULL, &path);
    if (err != MC_OK)
        goto out;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    err = write_text(dir, name, "meta.json", mtext, 0644);
out:
    free(mtext);
    free(path);
    return err;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum mc_err lineage_list(const char *dir, char ***names, size_t *n)
{
    DIR *d = NULL;
    char **v = NULL;
    size_t cnt = 0;
    char *path = NULL;
    struct dirent *e;
    struct stat st;
    enum mc_err err = MC_OK;

    if (names == NULL || n == NULL || dir == NULL)
        return MC_ERR_INVALID;
    *names = NULL;
    *n = 0;
    d = opendir(dir);
    if (d == NULL) {
        /* No state directory yet: no lineages. */
        return errno == ENOENT ? MC_OK : MC_ERR_IO;
    }
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                err = MC_ERR_IO;
            break;
        }
        if (!lineage_name_ok(e->d_name))
            continue;
        /* Only folders with a meta.json: the state directory also holds accounts/. */
        err = path_of(dir, e->d_name, "meta.json", &path);
        if (err != MC_OK)
            goto out;
        bool is_lineage = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        free(path);
        path = NULL;
        if (!is_lineage)
            continue;
        if (cnt == LINEAGE_LIST_MAX) {
            err = MC_ERR_LIMIT;
            goto out;
        }
        char **nv = realloc(v, (cnt + 1) * sizeof *v);
        if (nv == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        v = nv;
        v[cnt] = strdup(e->d_name);
        if (v[cnt] == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        cnt++;
    }
    if (err != MC_OK)
        goto out;
    if (cnt > 0)
        qsort(v, cnt, sizeof *v, cmp_names);
    *names = v;
    *n = cnt;
    v = NULL;
    cnt = 0;
out:
    if (d != NULL)
        closedir(d);
    lineage_free_names(v, cnt);
    free(path);
    return err;
}

void lineage_free_names(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- metadata --------------------------------------------------------------------- */

static enum mc_err add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *x = v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull();
    if (x == NULL || !cJSON_AddItemToObject(o, k, x)) {
        cJSON_Delete(x);
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static enum mc_err add_time(cJSON *o, const char *k, int64_t t)
{
    char buf[32];
    return add_str(o, k, t > 0 ? renew_format_rfc3339(t, buf, sizeof buf) : NULL);
}

enum mc_err lineage_meta_new(const struct lineage_meta_in *in, cJSON **out)
{
    cJSON *m = NULL, *ids = NULL, *id = NULL;
    char *serial = NULL, *ari_id = NULL;
    int64_t nb = 0, na = 0;
    enum mc_err err;

    if (in == NULL || out == NULL || in->leaf == NULL || in->idents == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    m = cJSON_CreateObject();
    ids = cJSON_CreateArray();
    if (m == NULL || ids == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = x509_validity(in->leaf, &nb, &na);
    if (err != MC_OK)
        goto out;
    err = x509_serial_hex(in->leaf, &serial);
    if (err != MC_OK)
        goto out;
    err = ari_cert_id(in->leaf, &ari_id);
    if (err == MC_ERR_NOT_FOUND)
        ari_id = NULL; /* no AKI: no ARI for this one */
    else if (err != MC_OK)
        goto out;
    for (size_t i = 0; i < in->idents->n; i++) {
        id = cJSON_CreateObject();
        if (id == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        err = add_str(id, "type", in->idents->v[i].type == IDENT_IP ? "ip" : "dns");
        if (err == MC_OK)
            err = add_str(id, "value", in->idents->v[i].value);
        if (err != MC_OK)
            goto out;
        cJSON_AddItemToArray(ids, id);
        id = NULL;
    }
    err = add_str(m, "name", in->name);
    if (err == MC_OK)
        err = add_str(m, "directory", in->directory);
    if (err == MC_OK)
        err = add_str(m, "account", in->account);
    if (err == MC_OK) {
        cJSON_AddItemToObject(m, "identifiers", ids);
        ids = NULL;
        err = add_str(m, "key_type", in->key_type);
    }
    if (err == MC_OK)
        err = add_str(m, "profile", in->profile);
    if (err == MC_OK)
        err = add_str(m, "preferred_chain", in->preferred_chain);
    if (err == MC_OK)
        err = add_str(m, "challenge", in->challenge);
    if (err == MC_OK)
        err = add_time(m, "issued_at", in->issued_at);
    if (err == MC_OK)
        err = add_time(m, "not_before", nb);
    if (err == MC_OK)
        err = add_time(m, "not_after", na);
    if (err == MC_OK)
        err = add_str(m, "serial", serial);
    if (err == MC_OK)
        err = add_str(m, "ari_id", ari_id);
    if (err == MC_OK)
        err = add_str(m, "order_url", in->order_url);
    if (err == MC_OK)
        err = add_str(m, "cert_url", in->cert_url);
    if (err == MC_OK)
        err = lineage_meta_set_ari(m, 0, 0, NULL, 0);
    if (err != MC_OK)
        goto out;
    *out = m;
    m = NULL;
out:
    cJSON_Delete(m);
    cJSON_Delete(ids);
    cJSON_Delete(id);
    free(serial);
    free(ari_id);
    return err;
}

enum mc_err lineage_meta_set_ari(cJSON *meta, int64_t start, int64_t end,
                                 const char *explanation_url, int64_t next_check)
{
    cJSON *a = NULL;
    enum mc_err err;

    if (meta == NULL || !cJSON_IsObject(meta))
        return MC_ERR_INVALID;
    a = cJSON_CreateObject();
    if (a == NULL)
        return MC_ERR_NOMEM;
    err = add_time(a, "start", start);
    if (err == MC_OK)
        err = add_time(a, "end", end);
    if (err == MC_OK)
        err = add_str(a, "explanation_url", explanation_url);
    if (err == MC_OK)
        err = add_time(a, "next_check", next_check);
    if (err != MC_OK) {
        cJSON_Delete(a);
        return err;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "ari");
    cJSON_AddItemToObject(meta, "ari", a);
    return MC_OK;
}

/* A time member: absent or null is 0, an RFC 3339 string its value, else invalid. */
static enum mc_err get_time(const cJSON *o, const char *k, int64_t *out)
{
    const char *s = NULL;
    enum mc_err err = json_get_string(o, k, &s);

    *out = 0;
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (err != MC_OK)
        return err;
    return wire_rfc3339(s, out);
}

enum mc_err lineage_meta_get_ari(const cJSON *meta, int64_t *start, int64_t *end,
                                 char **explanation_url, int64_t *next_check)
{
    const cJSON *a = NULL;
    const char *ex = NULL;
    enum mc_err err;

    *start = *end = *next_check = 0;
    *explanation_url = NULL;
    err = json_get_object(meta, "ari", &a);
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (err != MC_OK)
        return err;
    err = get_time(a, "start", start);
    if (err == MC_OK)
        err = get_time(a, "end", end);
    if (err == MC_OK)
        err = get_time(a, "next_check", next_check);
    if (err != MC_OK)
        return err;
    err = json_get_string(a, "explanation_url", &ex);
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (err != MC_OK)
        return err;
    *explanation_url = strdup(ex);
    return *explanation_url == NULL ? MC_ERR_NOMEM : MC_OK;
}
