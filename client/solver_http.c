/* solver_http.c: the http-01 solvers (RFC 8555 section 8.3). Standalone: a built-in HTTP
 * server (common/http.h over libmicrohttpd, a worker pool, so that certcli bench's workers
 * can share one) answering GET /.well-known/acme-challenge/{token} with the key
 * authorization. Webroot: files under WEBROOT/.well-known/acme-challenge/ for a web
 * server that is already running. Both also serve files that are no ACME challenge
 * (solver_file_present: DigiCert's /.well-known/pki-validation/fileauth.txt). */
#include "client/solver_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/http.h"
#include "common/log.h"

/* One polling thread, which multiplexes every connection (epoll): a challenge answer is a
 * table lookup, so more threads add no capacity, and with a pool every thread's epoll holds
 * the listening socket, so each validation's connect woke all of them to race for one
 * accept (3 of 4 lost with EAGAIN; about a tenth of certcli bench's CPU went to that). */
#define SVH_THREADS 1
#define SVH_PATH_MAX 4096
#define SVH_WELL_KNOWN "/.well-known/acme-challenge"
#define SVH_PKI_PREFIX "/.well-known/pki-validation/"
#define SVH_MAX_SEGMENTS 4

/* ---- generic files: checks -------------------------------------------------------------- */

bool sv_url_path_ok(const char *p)
{
    static const char prefix[] = "/.well-known/";
    size_t n, seg = 0, nseg = 0;
    if (p == NULL)
        return false;
    n = strnlen(p, SV_FILE_PATH_MAX + 1);
    if (n > SV_FILE_PATH_MAX || strncmp(p, prefix, sizeof prefix - 1) != 0)
        return false;
    for (size_t i = sizeof prefix - 1; i <= n; i++) {
        char c = p[i];
        if (c == '/' || c == '\0') {
            if (seg == 0 || ++nseg > SVH_MAX_SEGMENTS)
                return false;
            seg = 0;
            continue;
        }
        /* No segment starts with '.': neither ".." nor a hidden file can be named. */
        if (seg == 0 && c == '.')
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
        seg++;
    }
    return nseg >= 1;
}

bool sv_file_content_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_FILE_MAX + 1);
    if (n == 0 || n > SV_FILE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f)
            return false;
    }
    return true;
}

/* ---- standalone ---------------------------------------------------------------------- */

struct svh_standalone {
    struct http_server *server;
    struct sv_table *tokens; /* token -> key authorization */
    struct sv_table *files;  /* url path -> content (solver_file_present) */
};

/* Runs on the server's workers, several at once: the table has its own lock. */
static void svh_serve(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct svh_standalone *st = ctx;
    char *ka = NULL;
    const char *token = req->nparams == 1 ? req->params[0] : NULL;
    enum mc_err err = MC_ERR_NOT_FOUND;

    /* An unknown or malformed token is a 404 like any other path: nothing to reveal. */
    if (token != NULL && sv_token_ok(token))
        err = sv_table_get(st->tokens, token, &ka);
    if (err == MC_OK) {
        /* RFC 8555 section 8.3: the body is the key authorization; text/plain is what
         * the CAs and other clients send (Content-Type is not checked by the VA). */
        err = http_response_body(resp, 200, "text/plain", ka, strlen(ka));
    } else if (err == MC_ERR_NOT_FOUND) {
        err = http_response_error(resp, 404, "no such challenge");
    }
    if (err != MC_OK) {
        /* Nothing better to send when even the error body cannot be made: the layer
         * answers a status without a body. */
        resp->status = 500;
    }
    log_msg(LOGL_DEBUG, "solver.http.request", "method=%s path=%s remote=%s status=%d", req->method,
            req->path, req->remote_addr, resp->status);
    free(ka);
}

/* The generic files, by their whole path (the table has its own lock). */
static void svh_serve_file(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct svh_standalone *st = ctx;
    char *body = NULL;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (sv_url_path_ok(req->path))
        err = sv_table_get(st->files, req->path, &body);
    if (err == MC_OK)
        err = http_response_body(resp, 200, "text/plain", body, strlen(body));
    else if (err == MC_ERR_NOT_FOUND)
        err = http_response_error(resp, 404, "no such file");
    if (err != MC_OK)
        resp->status = 500;
    log_msg(LOGL_DEBUG, "solver.http.request", "method=%s path=%s remote=%s status=%d", req->method,
            req->path, req->remote_addr, resp->status);
    free(body);
}

static const struct http_route svh_routes[] = {
    {"GET", SVH_WELL_KNOWN "/{}", svh_serve},
    {"HEAD", SVH_WELL_KNOWN "/{}", svh_serve},
    {"GET", SVH_PKI_PREFIX "{}", svh_serve_file},
    {"HEAD", SVH_PKI_PREFIX "{}", svh_serve_file},
};

static enum mc_err svh_present(struct solver *sv, const struct chall_ctx *c)
{
    struct svh_standalone *st = sv->impl;
    return sv_table_put(st->tokens, c->token, c->key_auth, NULL);
}

static enum mc_err svh_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    struct svh_standalone *st = sv->impl;
    /* Cleaning up what is gone already is not a failure: cleanup runs on every path. */
    (void)sv_table_del(st->tokens, c->token);
    return MC_OK;
}

static void svh_destroy(struct solver *sv)
{
    struct svh_standalone *st = sv->impl;
    if (st == NULL)
        return;
    http_server_stop(st->server); /* first: no handler may run on a freed table */
    sv_table_free(st->tokens);
    sv_table_free(st->files);
    free(st);
    sv->impl = NULL;
}

static const struct solver_ops svh_ops = {svh_present, svh_cleanup, svh_destroy};

static enum mc_err svh_file_present(struct solver *sv, const char *url_path, const char *content)
{
    struct svh_standalone *st = sv->impl;
    /* The built-in server routes one folder only; anything else would be a 404 to the CA. */
    if (strncmp(url_path, SVH_PKI_PREFIX, strlen(SVH_PKI_PREFIX)) != 0 ||
        strchr(url_path + strlen(SVH_PKI_PREFIX), '/') != NULL)
        return MC_ERR_UNSUPPORTED;
    return sv_table_put(st->files, url_path, content, NULL);
}

static enum mc_err svh_file_cleanup(struct solver *sv, const char *url_path)
{
    struct svh_standalone *st = sv->impl;
    (void)sv_table_del(st->files, url_path);
    return MC_OK;
}

static const struct solver_gen_ops svh_gen_ops = {NULL, NULL, svh_file_present, svh_file_cleanup};

enum mc_err sv_http_standalone_init(struct solver *sv)
{
    enum mc_err err;
    struct svh_standalone *st = NULL;
    struct http_server_config hc;

    st = calloc(1, sizeof *st);
    if (st == NULL)
        return MC_ERR_NOMEM;
    err = sv_table_new(NULL, &st->tokens);
    if (err == MC_OK)
        err = sv_table_new(NULL, &st->files);
    if (err != MC_OK)
        goto out;
    memset(&hc, 0, sizeof hc);
    hc.bind_addr = sv->cfg.address;
    hc.port = sv->cfg.port;
    hc.routes = svh_routes;
    hc.nroutes = sizeof svh_routes / sizeof svh_routes[0];
    hc.ctx = st;
    hc.max_body = 1024; /* a challenge request has no body */
    hc.threads = SVH_THREADS;
    err = http_server_start(&hc, &st->server);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.http.listen", "addr=%s port=%u err=\"%s\"", sv->cfg.address,
                (unsigned)sv->cfg.port, mc_strerror(err));
        goto out;
    }
    sv->port = http_server_port(st->server);
    log_msg(LOGL_INFO, "solver.http.listen", "addr=%s port=%u", sv->cfg.address,
            (unsigned)sv->port);
    sv->impl = st;
    sv->ops = &svh_ops;
    sv->gen = &svh_gen_ops;
    st = NULL;
out:
    if (st != NULL) {
        sv_table_free(st->tokens);
        sv_table_free(st->files);
        free(st);
    }
    return err;
}

/* ---- webroot ------------------------------------------------------------------------- */

struct svh_webroot {
    struct sv_table *files; /* token -> path written */
    struct sv_table *gfiles; /* url path -> path written (solver_file_present) */
    /* Folders solver_file_present created, removed again (when empty) at the end,
     * deepest first. */
    char *made_dirs[SVH_MAX_SEGMENTS + 1];
    size_t n_made_dirs;
    char dir[SVH_PATH_MAX]; /* WEBROOT/.well-known/acme-challenge */
    /* The directories this solver created, removed again (when empty) at the end so that
     * a webroot is left as it was found. */
    bool made_well_known, made_challenge;
    pthread_mutex_t mu;
};

/* mkdir with mode 0755 whatever the umask: the web server, often another user, must be
 * able to walk in. *made tells whether it was created here. */
static enum mc_err svh_mkdir(const char *path, bool *made)
{
    if (mkdir(path, 0755) == 0) {
        *made = true;
        if (chmod(path, 0755) != 0)
            return MC_ERR_IO;
        return MC_OK;
    }
    if (errno == EEXIST)
        return MC_OK;
    log_msg(LOGL_ERROR, "solver.webroot.mkdir", "path=%s errno=%d", path, errno);
    return MC_ERR_IO;
}

static enum mc_err svh_webroot_dirs(struct svh_webroot *w, const char *webroot)
{
    enum mc_err err = MC_OK;
    char path[SVH_PATH_MAX];
    bool made = false;
    struct stat st;

    /* The webroot itself must exist: creating it would hide a typo in the config. */
    if (stat(webroot, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_msg(LOGL_ERROR, "solver.webroot", "path=%s reason=\"not a directory\"", webroot);
        return MC_ERR_NOT_FOUND;
    }
    pthread_mutex_lock(&w->mu);
    snprintf(path, sizeof path, "%s/.well-known", webroot);
    err = svh_mkdir(path, &made);
    w->made_well_known = w->made_well_known || made;
    made = false;
    if (err == MC_OK)
        err = svh_mkdir(w->dir, &made);
    w->made_challenge = w->made_challenge || made;
    pthread_mutex_unlock(&w->mu);
    return err;
}

static enum mc_err svw_present(struct solver *sv, const struct chall_ctx *c)
{
    struct svh_webroot *w = sv->impl;
    char path[SVH_PATH_MAX];
    enum mc_err err;

    err = svh_webroot_dirs(w, sv->cfg.webroot);
    if (err != MC_OK)
        return err;
    /* The token was checked (base64url only): it cannot climb out of the directory. */
    if ((size_t)snprintf(path, sizeof path, "%s/%s", w->dir, c->token) >= sizeof path)
        return MC_ERR_TOO_BIG;
    /* 0644: the web server, usually another user, reads it. */
    err = file_write_atomic(path, c->key_auth, strlen(c->key_auth), 0644);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.webroot.write", "path=%s err=\"%s\"", path, mc_strerror(err));
        return err;
    }
    err = sv_table_put(w->files, c->token, path, NULL);
    if (err != MC_OK)
        (void)unlink(path);
    return err;
}

static enum mc_err svw_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    struct svh_webroot *w = sv->impl;
    char path[SVH_PATH_MAX];
    enum mc_err err = MC_OK;

    /* Absent from the table is fine (a cleanup after a failed present); the file is
     * removed by its name either way. */
    (void)sv_table_del(w->files, c->token);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", w->dir, c->token) >= sizeof path)
        return MC_ERR_TOO_BIG;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_msg(LOGL_WARN, "solver.webroot.unlink", "path=%s errno=%d", path, errno);
        err = MC_ERR_IO;
    }
    return err;
}

static void svw_destroy(struct solver *sv)
{
    struct svh_webroot *w = sv->impl;
    char *key = NULL, *path = NULL, wk[SVH_PATH_MAX];
    void *data = NULL;
    if (w == NULL)
        return;
    while (sv_table_pop(w->files, &key, &path, &data)) {
        (void)unlink(path);
        free(key);
        free(path);
    }
    while (w->gfiles != NULL && sv_table_pop(w->gfiles, &key, &path, &data)) {
        (void)unlink(path);
        free(key);
        free(path);
    }
    /* Deepest first, each only if empty (rmdir refuses otherwise). */
    for (size_t i = w->n_made_dirs; i > 0; i--) {
        (void)rmdir(w->made_dirs[i - 1]);
        free(w->made_dirs[i - 1]);
    }
    /* rmdir fails on a directory someone else put files in: then it stays. */
    if (w->made_challenge)
        (void)rmdir(w->dir);
    if (w->made_well_known) {
        snprintf(wk, sizeof wk, "%s/.well-known", sv->cfg.webroot);
        (void)rmdir(wk);
    }
    sv_table_free(w->files);
    sv_table_free(w->gfiles);
    pthread_mutex_destroy(&w->mu);
    free(w);
    sv->impl = NULL;
}

static const struct solver_ops svw_ops = {svw_present, svw_cleanup, svw_destroy};

/* Creates the folders of url_path under the webroot (0755, recorded when made here). */
static enum mc_err svw_file_dirs(struct solver *sv, struct svh_webroot *w, const char *url_path)
{
    char path[SVH_PATH_MAX];
    struct stat st;
    enum mc_err err = MC_OK;
    size_t base;

    if (stat(sv->cfg.webroot, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_msg(LOGL_ERROR, "solver.webroot", "path=%s reason=\"not a directory\"", sv->cfg.webroot);
        return MC_ERR_NOT_FOUND;
    }
    if ((size_t)snprintf(path, sizeof path, "%s%s", sv->cfg.webroot, url_path) >= sizeof path)
        return MC_ERR_TOO_BIG;
    base = strlen(sv->cfg.webroot);
    pthread_mutex_lock(&w->mu);
    /* Each '/' after the webroot ends a folder; the last segment is the file. */
    for (size_t i = base + 1; path[i] != '\0' && err == MC_OK; i++) {
        if (path[i] != '/')
            continue;
        bool made = false;
        path[i] = '\0';
        err = svh_mkdir(path, &made);
        if (err == MC_OK && made && w->n_made_dirs < SVH_MAX_SEGMENTS + 1) {
            w->made_dirs[w->n_made_dirs] = strdup(path);
            if (w->made_dirs[w->n_made_dirs] != NULL)
                w->n_made_dirs++;
        }
        path[i] = '/';
    }
    pthread_mutex_unlock(&w->mu);
    return err;
}

static enum mc_err svw_file_present(struct solver *sv, const char *url_path, const char *content)
{
    struct svh_webroot *w = sv->impl;
    char path[SVH_PATH_MAX];
    enum mc_err err = svw_file_dirs(sv, w, url_path);
    if (err != MC_OK)
        return err;
    /* url_path was checked (sv_url_path_ok): no "..", no hidden segment. */
    if ((size_t)snprintf(path, sizeof path, "%s%s", sv->cfg.webroot, url_path) >= sizeof path)
        return MC_ERR_TOO_BIG;
    err = file_write_atomic(path, content, strlen(content), 0644);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.webroot.write", "path=%s err=\"%s\"", path, mc_strerror(err));
        return err;
    }
    err = sv_table_put(w->gfiles, url_path, path, NULL);
    if (err != MC_OK)
        (void)unlink(path);
    return err;
}

static enum mc_err svw_file_cleanup(struct solver *sv, const char *url_path)
{
    struct svh_webroot *w = sv->impl;
    char path[SVH_PATH_MAX];
    (void)sv_table_del(w->gfiles, url_path);
    if ((size_t)snprintf(path, sizeof path, "%s%s", sv->cfg.webroot, url_path) >= sizeof path)
        return MC_ERR_TOO_BIG;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_msg(LOGL_WARN, "solver.webroot.unlink", "path=%s errno=%d", path, errno);
        return MC_ERR_IO;
    }
    return MC_OK;
}

static const struct solver_gen_ops svw_gen_ops = {NULL, NULL, svw_file_present, svw_file_cleanup};

enum mc_err sv_http_webroot_init(struct solver *sv)
{
    enum mc_err err;
    struct svh_webroot *w = NULL;

    if (sv->cfg.webroot == NULL || sv->cfg.webroot[0] == '\0')
        return MC_ERR_INVALID;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return MC_ERR_NOMEM;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return MC_ERR_NOMEM;
    }
    if ((size_t)snprintf(w->dir, sizeof w->dir, "%s" SVH_WELL_KNOWN, sv->cfg.webroot) >=
        sizeof w->dir - SV_TOKEN_MAX - 2) {
        err = MC_ERR_TOO_BIG;
        goto out;
    }
    err = sv_table_new(NULL, &w->files);
    if (err == MC_OK)
        err = sv_table_new(NULL, &w->gfiles);
    if (err != MC_OK)
        goto out;
    sv->impl = w;
    sv->ops = &svw_ops;
    sv->gen = &svw_gen_ops;
    sv->port = 0;
    w = NULL;
out:
    if (w != NULL) {
        sv_table_free(w->files);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
    return err;
}
