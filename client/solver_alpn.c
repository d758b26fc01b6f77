/* solver_alpn.c: the tls-alpn-01 standalone solver (RFC 8737). A TLS server of its own
 * (OpenSSL): one thread accepts with a bounded poll so that solver_free stops it within a
 * poll interval; each connection is handshaken on a short-lived thread with socket
 * timeouts. The certificate is chosen by SNI in the servername callback: the identifier's
 * name, or for an IP the reverse-mapping name (RFC 8738 section 6). The ALPN callback
 * accepts only "acme-tls/1": RFC 8737 section 3 has the validation handshake offer only
 * that protocol, and a server that answered it with an ordinary certificate would prove
 * nothing. */
#include "client/solver_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/x509.h"

#define SVA_POLL_MS 100    /* how long solver_free may wait for the accept thread */
#define SVA_IO_TIMEOUT_S 5 /* a handshake that stalls longer is dropped */
#define SVA_MAX_CONNS 64   /* handshakes at once; more are closed at accept */
#define SVA_SNI_MAX 80     /* 32 nibbles * 2 + "ip6.arpa" fits; names are checked */
#define SVA_NAME_MAX (SV_NAME_MAX + 1)

static const unsigned char sva_alpn[] = "acme-tls/1";

struct sva_cert {
    X509 *cert;
    EVP_PKEY *key;
};

struct sva {
    int lfd;
    pthread_t accept_th;
    bool started;
    atomic_bool stop;
    SSL_CTX *ctx;
    struct sv_table *certs; /* SNI name -> identifier value, data struct sva_cert */
    pthread_mutex_t mu;     /* guards conns and nconns */
    pthread_cond_t idle;
    int conns[SVA_MAX_CONNS]; /* -1: free slot */
    int nconns;
};

struct sva_conn {
    struct sva *a;
    int fd;
    int slot;
};

static void sva_cert_free(void *p)
{
    struct sva_cert *c = p;
    if (c == NULL)
        return;
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    free(c);
}

/* The SNI a validating CA sends for id: the DNS name, or the reverse-mapping name of an
 * IP (RFC 8738 section 6: "4.3.2.1.in-addr.arpa", nibbles under ip6.arpa). */
static enum mc_err sva_sni_name(const struct ident *id, char *out, size_t n)
{
    uint8_t b[16];
    static const char hex[] = "0123456789abcdef";
    if (id->type == IDENT_DNS) {
        size_t len = strlen(id->value);
        if (len + 1 > n)
            return MC_ERR_TOO_BIG;
        for (size_t i = 0; i <= len; i++)
            out[i] = (char)tolower((unsigned char)id->value[i]);
        return MC_OK;
    }
    if (inet_pton(AF_INET, id->value, b) == 1) {
        if ((size_t)snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]) >= n)
            return MC_ERR_TOO_BIG;
        return MC_OK;
    }
    if (inet_pton(AF_INET6, id->value, b) == 1) {
        size_t o = 0;
        if (n < 16 * 4 + sizeof "ip6.arpa")
            return MC_ERR_TOO_BIG;
        for (int i = 15; i >= 0; i--) {
            out[o++] = hex[b[i] & 15];
            out[o++] = '.';
            out[o++] = hex[b[i] >> 4];
            out[o++] = '.';
        }
        memcpy(out + o, "ip6.arpa", sizeof "ip6.arpa");
        return MC_OK;
    }
    return MC_ERR_INVALID;
}

/* ---- the TLS callbacks --------------------------------------------------------------- */

struct sva_pick {
    SSL *ssl;
    bool ok;
};

/* Runs under the table's lock: the certificate cannot be freed while it is being used. */
static void sva_use_cert(void *arg, const char *key, const char *value, void *data)
{
    struct sva_pick *p = arg;
    struct sva_cert *c = data;
    (void)key;
    (void)value;
    p->ok = c != NULL && SSL_use_certificate(p->ssl, c->cert) == 1 &&
            SSL_use_PrivateKey(p->ssl, c->key) == 1;
}

static int sva_servername(SSL *ssl, int *al, void *arg)
{
    struct sva *a = arg;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char name[SVA_NAME_MAX];
    struct sva_pick pick = {ssl, false};
    size_t n;

    /* RFC 8737 section 3: the CA always sends SNI; without it there is nothing to pick. */
    if (sni == NULL || (n = strnlen(sni, sizeof name)) == 0 || n >= sizeof name)
        goto refuse;
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)tolower((unsigned char)sni[i]);
    if (name[n - 1] == '.')
        name[n - 1] = '\0';
    if (!sv_table_with(a->certs, name, sva_use_cert, &pick) || !pick.ok)
        goto refuse;
    log_msg(LOGL_DEBUG, "solver.alpn.sni", "name=%s", name);
    return SSL_TLSEXT_ERR_OK;
refuse:
    log_msg(LOGL_INFO, "solver.alpn.sni", "name=%s reason=\"no challenge for this name\"",
            sni != NULL ? sni : "(none)");
    *al = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int sva_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                           const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    /* in is a list of length-prefixed protocol names (RFC 7301 section 3.1). */
    for (unsigned int i = 0; i < inlen;) {
        unsigned int l = in[i];
        if (i + 1 + l > inlen)
            break;
        if (l == sizeof sva_alpn - 1 && memcmp(in + i + 1, sva_alpn, l) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)l;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + l;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

/* ---- connections --------------------------------------------------------------------- */

static void *sva_conn_run(void *arg)
{
    struct sva_conn *c = arg;
    struct sva *a = c->a;
    struct timeval tv = {SVA_IO_TIMEOUT_S, 0};
    SSL *ssl = NULL;
    sigset_t pipe_set;
    int r;

    /* A peer that hangs up mid-handshake must not kill the process with SIGPIPE: blocked
     * here, a write fails with EPIPE instead (the signal stays pending on this thread,
     * which ends soon). */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    (void)pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    /* Blocking I/O bounded by socket timeouts; solver_free shuts the socket down to cut a
     * handshake short. */
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssl = SSL_new(a->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
        log_openssl_errors(LOGL_WARN, "solver.alpn.ssl");
        goto out;
    }
    r = SSL_accept(ssl);
    if (r == 1) {
        log_msg(LOGL_DEBUG, "solver.alpn.handshake", "result=ok");
        /* The CA reads the certificate and goes; a close_notify is all that is left. */
        (void)SSL_shutdown(ssl);
    } else {
        log_msg(LOGL_DEBUG, "solver.alpn.handshake", "result=failed ssl_error=%d",
                SSL_get_error(ssl, r));
        ERR_clear_error(); /* a refused handshake is this server's normal "no" */
    }
out:
    SSL_free(ssl);
    pthread_mutex_lock(&a->mu);
    close(c->fd);
    a->conns[c->slot] = -1;
    a->nconns--;
    pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->mu);
    free(c);
    /* OpenSSL keeps per-thread state; this thread ends here. */
    OPENSSL_thread_stop();
    return NULL;
}

static void sva_start_conn(struct sva *a, int fd)
{
    struct sva_conn *c = NULL;
    pthread_t th;
    pthread_attr_t attr;
    int slot = -1;
    bool started = false;

    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < SVA_MAX_CONNS && slot < 0; i++)
        if (a->conns[i] < 0)
            slot = i;
    if (slot >= 0) {
        a->conns[slot] = fd;
        a->nconns++;
    }
    pthread_mutex_unlock(&a->mu);
    if (slot < 0) {
        log_msg(LOGL_WARN, "solver.alpn.busy", "conns=%d", SVA_MAX_CONNS);
        close(fd);
        return;
    }
    c = malloc(sizeof *c);
    if (c != NULL) {
        c->a = a;
        c->fd = fd;
        c->slot = slot;
        if (pthread_attr_init(&attr) == 0) {
            (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&th, &attr, sva_conn_run, c) == 0)
                started = true;
            pthread_attr_destroy(&attr);
        }
    }
    if (!started) {
        /* No thread: undo the slot here. */
        free(c);
        pthread_mutex_lock(&a->mu);
        close(fd);
        a->conns[slot] = -1;
        a->nconns--;
        pthread_cond_broadcast(&a->idle);
        pthread_mutex_unlock(&a->mu);
    }
}

static void *sva_accept_run(void *arg)
{
    struct sva *a = arg;
    while (!atomic_load(&a->stop)) {
        struct pollfd p = {a->lfd, POLLIN, 0};
        int fd, r = poll(&p, 1, SVA_POLL_MS);
        if (r <= 0)
            continue;
        fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue; /* EAGAIN after a peer gave up, EMFILE: try again next round */
        sva_start_conn(a, fd);
    }
    return NULL;
}

/* ---- the solver ---------------------------------------------------------------------- */

static enum mc_err sva_listen(struct sva *a, const char *addr, uint16_t port, uint16_t *bound)
{
    struct addrinfo hints, *ai = NULL;
    char ports[8];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1, fd = -1;
    enum mc_err err = MC_ERR_IO;

    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ports, sizeof ports, "%u", (unsigned)port);
    if (getaddrinfo(addr, ports, &hints, &ai) != 0 || ai == NULL) {
        err = MC_ERR_INVALID;
        goto out;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto out;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        goto out;
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    a->lfd = fd;
    fd = -1;
    err = MC_OK;
out:
    if (err != MC_OK)
        log_msg(LOGL_ERROR, "solver.alpn.listen", "addr=%s port=%u errno=%d", addr, (unsigned)port,
                errno);
    if (fd >= 0)
        close(fd);
    if (ai != NULL)
        freeaddrinfo(ai);
    return err;
}

static enum mc_err sva_present(struct solver *sv, const struct chall_ctx *c)
{
    struct sva *a = sv->impl;
    struct sva_cert *ce = NULL;
    char sni[SVA_NAME_MAX];
    enum mc_err err;

    err = sva_sni_name(c->ident, sni, sizeof sni);
    if (err != MC_OK)
        return err;
    ce = calloc(1, sizeof *ce);
    if (ce == NULL)
        return MC_ERR_NOMEM;
    /* RFC 8737 section 3: a SAN of the identifier only and the critical acmeIdentifier
     * extension over SHA-256(key authorization), self-signed. */
    err = x509_make_tlsalpn01(c->ident, c->key_auth, &ce->key, &ce->cert);
    if (err != MC_OK) {
        sva_cert_free(ce);
        return err;
    }
    /* One challenge per name at a time: a newer one replaces an older one. */
    return sv_table_put(a->certs, sni, c->ident->value, ce);
}

static enum mc_err sva_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    struct sva *a = sv->impl;
    char sni[SVA_NAME_MAX];
    enum mc_err err = sva_sni_name(c->ident, sni, sizeof sni);
    if (err != MC_OK)
        return err;
    (void)sv_table_del(a->certs, sni);
    return MC_OK;
}

static void sva_free_state(struct sva *a)
{
    if (a == NULL)
        return;
    if (a->started) {
        atomic_store(&a->stop, true);
        pthread_join(a->accept_th, NULL);
    }
    /* Cut running handshakes short and wait for their threads: they use ctx and certs. */
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < SVA_MAX_CONNS; i++)
        if (a->conns[i] >= 0)
            (void)shutdown(a->conns[i], SHUT_RDWR);
    while (a->nconns > 0)
        pthread_cond_wait(&a->idle, &a->mu);
    pthread_mutex_unlock(&a->mu);
    if (a->lfd >= 0)
        close(a->lfd);
    SSL_CTX_free(a->ctx);
    sv_table_free(a->certs);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static void sva_destroy(struct solver *sv)
{
    sva_free_state(sv->impl);
    sv->impl = NULL;
}

static const struct solver_ops sva_ops = {sva_present, sva_cleanup, sva_destroy};

enum mc_err sv_alpn_init(struct solver *sv)
{
    enum mc_err err;
    struct sva *a = NULL;
    uint16_t port = 0;

    a = calloc(1, sizeof *a);
    if (a == NULL)
        return MC_ERR_NOMEM;
    a->lfd = -1;
    for (int i = 0; i < SVA_MAX_CONNS; i++)
        a->conns[i] = -1;
    atomic_init(&a->stop, false);
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        free(a);
        return MC_ERR_NOMEM;
    }
    if (pthread_cond_init(&a->idle, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        free(a);
        return MC_ERR_NOMEM;
    }
    err = sv_table_new(sva_cert_free, &a->certs);
    if (err != MC_OK)
        goto out;
    a->ctx = SSL_CTX_new(TLS_server_method());
    if (a->ctx == NULL || SSL_CTX_set_min_proto_version(a->ctx, TLS1_2_VERSION) != 1) {
        log_openssl_errors(LOGL_ERROR, "solver.alpn.ctx");
        err = MC_ERR_CRYPTO;
        goto out;
    }
    SSL_CTX_set_tlsext_servername_callback(a->ctx, sva_servername);
    SSL_CTX_set_tlsext_servername_arg(a->ctx, a);
    SSL_CTX_set_alpn_select_cb(a->ctx, sva_alpn_select, a);
    /* Each validation is a fresh handshake: no session state to keep. */
    SSL_CTX_set_session_cache_mode(a->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(a->ctx, SSL_OP_NO_TICKET);
    err = sva_listen(a, sv->cfg.address, sv->cfg.port, &port);
    if (err != MC_OK)
        goto out;
    if (pthread_create(&a->accept_th, NULL, sva_accept_run, a) != 0) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    a->started = true;
    log_msg(LOGL_INFO, "solver.alpn.listen", "addr=%s port=%u", sv->cfg.address, (unsigned)port);
    sv->port = port;
    sv->impl = a;
    sv->ops = &sva_ops;
    a = NULL;
out:
    sva_free_state(a);
    return err;
}
