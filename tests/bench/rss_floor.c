/* rss_floor.c: the least a process can be that links mockca's mandated libraries (see
 * rss_floor.sh, which builds and measures it). It links OpenSSL (libssl, libcrypto),
 * libmicrohttpd (and so GnuTLS), ldns and cJSON, and does the minimum mockca does with
 * them at start-up: initialise OpenSSL, generate one P-256 key and a self-signed
 * certificate, start ONE libmicrohttpd daemon with TLS on 127.0.0.1 port 0 with its
 * internal polling thread. Then it prints "ready PORT" and sleeps until killed. ldns and
 * cJSON are only asked for their version, so they are mapped in (and their relocations
 * and constructors run) as they are in mockca, but do no work. Not a test.
 *
 *   cc -O2 -o rss_floor rss_floor.c $(pkg-config --cflags --libs openssl libmicrohttpd \
 *      ldns libcjson)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ldns/ldns.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    static const char ok[] = "ok\n";
    struct MHD_Response *r;
    enum MHD_Result rc;
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    r = MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* The PEM text of what write() writes, as a new NUL-terminated string. */
static char *pem_of(EVP_PKEY *k, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *out = NULL;
    long n;
    if (b == NULL)
        return NULL;
    if ((k != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) ||
        (x != NULL && PEM_write_bio_X509(b, x) == 1)) {
        n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        if (out != NULL) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return out;
}

int main(void)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    X509_NAME *name;
    char *key_pem = NULL, *cert_pem = NULL;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    sigset_t none;

    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) !=
        1)
        return 1;
    key = EVP_EC_gen("P-256");
    x = X509_new();
    if (key == NULL || x == NULL)
        return 1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        return 1;
    key_pem = pem_of(key, NULL);
    cert_pem = pem_of(NULL, x);
    if (key_pem == NULL || cert_pem == NULL)
        return 1;
    /* One daemon, TLS, its own polling thread, loopback, port 0: mockca's listener shape
     * (mockca adds epoll and runs four listeners and more threads). */
    {
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(0x7f000001);
        a.sin_port = 0;
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0,
                             NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, &a,
                             MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
                             MHD_OPTION_END);
    }
    if (d == NULL) {
        fprintf(stderr, "rss_floor: MHD_start_daemon failed\n");
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("ready %u (ldns %s, cJSON %s, %s, libmicrohttpd %s)\n",
           info != NULL ? (unsigned)info->port : 0u, ldns_version(), cJSON_Version(),
           OpenSSL_version(OPENSSL_VERSION), MHD_get_version());
    fflush(stdout);
    sigemptyset(&none);
    for (;;)
        sigsuspend(&none); /* until a signal's default action ends the process */
}
